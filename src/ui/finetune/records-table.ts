/**
 * The preview of the training records: a thumbnail of each record's first
 * image, its task, the question and the answer, a page at a time. Answers are
 * edited in place (a multi-turn record shows its first exchange; the edit
 * changes that answer), so teacher-written data is reviewed before training
 * or download.
 */
import type { FinetuneDataset, LlavaRecord } from '../../worker/client';
import { h } from '../dom';

export const PAGE_SIZE = 20;

export interface RecordsTable {
  element: HTMLElement;
  /** Shows the data set from its first page; null empties the table. */
  show(dataset: FinetuneDataset | null): void;
}

const IMAGE_TOKEN = /<image>\n?/g;

function firstImage(r: LlavaRecord): string | null {
  if (typeof r.image === 'string') return r.image;
  return r.image?.[0] ?? null;
}

/** A record with its first gpt answer replaced (records are read-only values). */
function withAnswer(r: LlavaRecord, answer: string): LlavaRecord {
  const at = r.conversations.findIndex((t) => t.from === 'gpt');
  return { ...r, conversations: r.conversations.map((t, i) => (i === at ? { ...t, value: answer } : t)) };
}

export function recordsTable(edited: () => void): RecordsTable {
  const body = h('tbody', {});
  const prev = h('button', { type: 'button', class: 'secondary', 'data-testid': 'ft-page-prev' }, '‹ Previous');
  const next = h('button', { type: 'button', class: 'secondary', 'data-testid': 'ft-page-next' }, 'Next ›');
  const pageLine = h('span', { class: 'muted', 'data-testid': 'ft-page' });
  const table = h(
    'table',
    { class: 'ft-records', 'data-testid': 'ft-records' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Image'), h('th', {}, 'Task'), h('th', {}, 'Question'), h('th', {}, 'Answer'))),
    body,
  );
  const element = h('div', { class: 'ft-records-box', hidden: '' }, table, h('div', { class: 'toolbar' }, prev, pageLine, next));
  let dataset: FinetuneDataset | null = null;
  let page = 0;
  // Object URLs of the thumbnails, by image path, revoked when another data set is shown.
  const urls = new Map<string, string>();
  let images = new Map<string, FinetuneDataset['images'][number]>();

  const thumb = (path: string | null): HTMLElement => {
    if (!path) return h('span', { class: 'muted' }, 'no image');
    const img = images.get(path);
    if (!img) return h('span', { class: 'bad', title: path }, 'missing');
    let url = urls.get(path);
    // Typed as the file was given: an <img> shows any raster picture and never runs an SVG's script.
    if (!url) urls.set(path, (url = URL.createObjectURL(new Blob([img.bytes.slice()], { type: 'application/octet-stream' }))));
    return h('img', { src: url, alt: path, title: path, class: 'ft-thumb', loading: 'lazy' });
  };

  const row = (r: LlavaRecord, index: number): HTMLElement => {
    const question = r.conversations.find((t) => t.from === 'human')?.value.replace(IMAGE_TOKEN, '') ?? '';
    const answer = r.conversations.find((t) => t.from === 'gpt')?.value ?? '';
    const turns = r.conversations.length > 2 ? h('span', { class: 'muted' }, ` (+${r.conversations.length / 2 - 1} more turns)`) : null;
    const edit = h('textarea', { rows: '2', class: 'ft-answer', 'data-testid': 'ft-answer', 'aria-label': `Answer of record ${index}` });
    edit.value = answer;
    edit.addEventListener('change', () => {
      if (!dataset) return;
      dataset.records[index] = withAnswer(r, edit.value);
      edited();
    });
    return h('tr', { 'data-testid': 'ft-record', 'data-index': String(index) }, h('td', {}, thumb(firstImage(r))), h('td', {}, r.task ?? ''), h('td', {}, question, turns), h('td', {}, edit));
  };

  const render = () => {
    const records = dataset?.records ?? [];
    const pages = Math.max(1, Math.ceil(records.length / PAGE_SIZE));
    page = Math.min(page, pages - 1);
    const from = page * PAGE_SIZE;
    body.replaceChildren(...records.slice(from, from + PAGE_SIZE).map((r, i) => row(r, from + i)));
    pageLine.textContent = `records ${records.length ? from + 1 : 0}–${Math.min(from + PAGE_SIZE, records.length)} of ${records.length} · page ${page + 1} / ${pages}`;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    element.hidden = records.length === 0;
  };
  prev.addEventListener('click', () => {
    page -= 1;
    render();
  });
  next.addEventListener('click', () => {
    page += 1;
    render();
  });
  return {
    element,
    show(d) {
      for (const u of urls.values()) URL.revokeObjectURL(u);
      urls.clear();
      dataset = d;
      images = new Map((d?.images ?? []).map((i) => [i.path, i]));
      page = 0;
      render();
    },
  };
}
