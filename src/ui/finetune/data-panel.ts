/**
 * The Data panel: three ways to get training records (load LLaVA JSON,
 * generate, have a teacher write them), the records in a table to review and
 * edit, their counts by task, and downloads as LLaVA JSON (alone or zipped
 * with the images).
 */
import type { FinetuneDataset, VlmClient } from '../../worker/client';
import { h } from '../dom';
import { downloadLlavaJson, downloadLlavaZip } from './downloads';
import { generateSource } from './generate-source';
import { loadSource } from './load-source';
import { recordsTable } from './records-table';
import { teacherSource } from './teacher-source';

export interface DataPanel {
  element: HTMLElement;
  dataset(): FinetuneDataset | null;
}

const SOURCES = [
  ['load', 'Load LLaVA JSON'],
  ['generate', 'Generate'],
  ['teacher', 'Teacher'],
] as const;

function countsByTask(d: FinetuneDataset): string {
  const counts = new Map<string, number>();
  for (const r of d.records) counts.set(r.task ?? 'untagged', (counts.get(r.task ?? 'untagged') ?? 0) + 1);
  return [...counts].map(([task, n]) => `${task} ${n}`).join(' · ');
}

export function dataPanel(api: VlmClient): DataPanel {
  let current: FinetuneDataset | null = null;
  const summary = h('p', { 'data-testid': 'ft-data-summary' }, 'No data yet: load, generate or have a teacher write records.');
  const json = h('button', { type: 'button', class: 'secondary', 'data-testid': 'ft-download-json', disabled: '' }, 'Download LLaVA JSON');
  const zip = h('button', { type: 'button', class: 'secondary', 'data-testid': 'ft-download-zip', disabled: '' }, 'Download JSON + images (zip)');
  const table = recordsTable(() => undefined);
  const loaded = (dataset: FinetuneDataset, note: string) => {
    current = dataset;
    summary.textContent = `${note}: ${dataset.records.length} record(s), ${dataset.images.length} image(s). ${countsByTask(dataset)}`;
    summary.dataset.records = String(dataset.records.length);
    json.disabled = false;
    zip.disabled = false;
    table.show(dataset);
  };
  const panes = { load: loadSource(loaded).element, generate: generateSource(api, loaded).element, teacher: teacherSource(api, loaded).element };
  const choices = SOURCES.map(([key, label]) => {
    const b = h('button', { type: 'button', role: 'tab', class: 'secondary', 'data-testid': `ft-source-${key}-tab`, 'aria-selected': 'false' }, label);
    b.addEventListener('click', () => choose(key));
    return b;
  });
  const choose = (key: keyof typeof panes) => {
    for (const [k, pane] of Object.entries(panes)) pane.hidden = k !== key;
    choices.forEach((b, i) => b.setAttribute('aria-selected', String(SOURCES[i]?.[0] === key)));
  };
  choose('generate');
  json.addEventListener('click', () => current && downloadLlavaJson(current));
  zip.addEventListener('click', () => current && downloadLlavaZip(current));
  const element = h(
    'section',
    { class: 'panel ft-data', 'aria-label': 'Data', 'data-testid': 'ft-data' },
    h('h2', {}, 'Data'),
    h('div', { class: 'toolbar ft-source-tabs', role: 'tablist' }, ...choices),
    ...Object.values(panes),
    summary,
    h('div', { class: 'toolbar' }, json, zip),
    table.element,
  );
  return { element, dataset: () => current };
}
