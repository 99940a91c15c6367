/** The deterministic answer to "Extract all dates mentioned.": every date in the pages' text, normalised. */
import { extractDates } from './document-dates';
import type { PageResult } from '../worker/api';
import { h } from './dom';

export function datesTable(pages: readonly PageResult[]): HTMLElement {
  const rows = pages.flatMap((p) => extractDates(p.lines.map((l) => l.text).join('\n')).map((d) => ({ page: p.page, ...d })));
  if (rows.length === 0) return h('p', { 'data-testid': 'dates-result' }, 'No dates found in the text.');
  return h(
    'table',
    { class: 'numbers', 'data-testid': 'dates-result' },
    h('thead', {}, h('tr', {}, h('th', {}, 'date'), h('th', {}, 'as written'), h('th', {}, 'page'))),
    h('tbody', {}, ...rows.map((r) => h('tr', { 'data-testid': 'date-row' }, h('td', {}, r.iso), h('td', { style: 'text-align:left' }, r.text), h('td', {}, r.page)))),
  );
}
