/**
 * One page with its text on top: the page image, and over it every line as a
 * transparent, absolutely placed span, so a person can select and copy the
 * text where it stands, and search matches light up on the image.
 */
import type { PageResult } from '../worker/api';
import { h } from './dom';

export interface PageViewer {
  element: HTMLElement;
  /** Marks lines containing `query` (case-insensitive); returns how many matched. */
  search(query: string): number;
  /** Marks the lines holding a model's answer (replacing earlier marks) and scrolls the first into view. */
  markAnswer(lines: readonly number[]): void;
}

function lineSpan(page: PageResult, text: string, box: PageResult['lines'][number]['box'], index: number): HTMLElement {
  const pct = (v: number, of: number) => `${((100 * v) / of).toFixed(3)}%`;
  const span = h('span', { class: 'text-line', 'data-testid': 'overlay-line', 'data-line': String(index) }, text);
  span.style.left = pct(box.x, page.width);
  span.style.top = pct(box.y, page.height);
  span.style.width = pct(box.width, page.width);
  span.style.height = pct(box.height, page.height);
  // Font size in container-query units, so the text scales with the page image.
  span.style.fontSize = `${((75 * box.height) / page.width).toFixed(3)}cqw`;
  return span;
}

export function pageViewer(page: PageResult, imageUrl: string | null): PageViewer {
  const overlay = h('div', { class: 'text-overlay', 'data-testid': 'text-overlay' }, ...page.lines.map((l, i) => lineSpan(page, l.text, l.box, i)));
  const image = imageUrl ? h('img', { src: imageUrl, alt: `Page ${page.page}`, class: 'page-image' }) : h('div', { class: 'page-image blank' });
  const frame = h('div', { class: 'page-frame' }, image, overlay);
  frame.style.aspectRatio = `${page.width} / ${page.height}`;
  const conf = (c: number | null) => (page.source !== 'ocr' || c === null ? '' : ` ${(100 * c).toFixed(0)}%`);
  const listItems = page.lines.map((l) => h('li', { 'data-testid': 'ocr-line' }, h('span', { class: 'line-text' }, l.text), h('span', { class: 'muted conf' }, conf(l.confidence))));
  const list = page.lines.length ? h('ol', { class: 'line-list', 'data-testid': 'line-list' }, ...listItems) : h('p', { class: 'bad', 'data-testid': 'no-text' }, 'No text found on this page.');
  const source = page.source === 'text-layer' ? 'text layer of the PDF (no OCR needed)' : page.ocrEngine === 'florence-2' ? `read by Florence-2 OCR in ${(page.ms / 1000).toFixed(1)} s (it gives no confidence per line)` : `read by OCR in ${(page.ms / 1000).toFixed(1)} s`;
  const element = h(
    'div',
    { class: 'page-view', 'data-testid': 'page-view', 'data-source': page.source },
    h('p', { 'data-testid': 'page-source' }, `Page ${page.page}: ${source}, ${page.lines.length} lines.`),
    frame,
    list,
  );
  const spans = [...overlay.children] as HTMLElement[];
  return {
    element,
    search(query) {
      const q = query.trim().toLowerCase();
      let hits = 0;
      page.lines.forEach((l, i) => {
        const hit = q !== '' && l.text.toLowerCase().includes(q);
        if (hit) hits++;
        spans[i]?.classList.toggle('match', hit);
        listItems[i]?.classList.toggle('match', hit);
      });
      return hits;
    },
    markAnswer(lines) {
      const marked = new Set(lines);
      spans.forEach((s, i) => s.classList.toggle('answer', marked.has(i)));
      listItems.forEach((li, i) => li.classList.toggle('answer', marked.has(i)));
      const first = lines[0];
      if (first !== undefined) spans[first]?.scrollIntoView?.({ block: 'nearest' });
    },
  };
}
