/**
 * One suite's panel in the Benchmark view: its controls, Run and Cancel, a
 * progress line, the table as the scripts print it, a chart, and Copy /
 * Download of the same JSON the scripts write.
 */
import { h } from '../ui/dom';
import { benchJson, type BenchTable } from './bench-table';

export interface PanelRun {
  signal: AbortSignal;
  status(text: string): void;
  table(t: BenchTable): void;
  /** The finished (or cancelled) result, offered for Copy and Download. */
  result(value: unknown): void;
}

export interface PanelOptions {
  /** Test ids and the download's file name derive from it: bench-kernel-*, kernel-bench.json. */
  id: string;
  title: string;
  intro: string;
  controls: Node[];
  runLabel: string;
  canvas: HTMLCanvasElement;
  /** Asks the view whether a run may start; returns why not, or null and takes the lock. */
  claim(): string | null;
  release(): void;
  run(r: PanelRun): Promise<void>;
}

/** The table as an HTML table with the same head, cells and notes as the printed one. */
export function tableElement(t: BenchTable, testid: string): HTMLElement {
  const head = h('tr', {}, ...t.head.map((c, i) => h('th', i < t.textColumns ? { class: 'text' } : {}, c)));
  const body = t.body.map((row) => h('tr', { 'data-testid': `${testid}-row` }, ...row.map((c, i) => h('td', i < t.textColumns ? { class: 'text' } : {}, c))));
  return h(
    'div',
    { 'data-testid': testid },
    h('table', { class: 'numbers bench-table' }, h('thead', {}, head), h('tbody', {}, ...body)),
    ...t.notes.map((n) => h('p', { class: 'bench-note' }, n)),
  );
}

function exportButtons(id: string, current: () => string | null, say: (s: string) => void): HTMLElement[] {
  const copy = h('button', { type: 'button', class: 'secondary', 'data-testid': `bench-${id}-copy`, disabled: '' }, 'Copy as JSON');
  const download = h('button', { type: 'button', class: 'secondary', 'data-testid': `bench-${id}-download`, disabled: '' }, 'Download JSON');
  copy.addEventListener('click', () => {
    const text = current();
    if (text === null) return;
    navigator.clipboard.writeText(text).then(
      () => say('Copied the JSON to the clipboard.'),
      (err: unknown) => say(`Could not copy (${err instanceof Error ? err.message : String(err)}); use Download JSON.`),
    );
  });
  download.addEventListener('click', () => {
    const text = current();
    if (text === null) return;
    const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    const a = h('a', { href: url, download: `${id}-bench.json` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  return [copy, download];
}

export function benchPanel(o: PanelOptions): HTMLElement {
  const status = h('p', { class: 'bench-status', 'data-testid': `bench-${o.id}-status`, role: 'status' }, 'Not run yet.');
  const tableHost = h('div', { class: 'bench-table-host' });
  // Hidden until a run has figures: an empty chart is only axes.
  const chartHost = h('div', { class: 'bench-chart', hidden: '' }, o.canvas);
  const run = h('button', { type: 'button', 'data-testid': `bench-run-${o.id}` }, o.runLabel);
  const cancel = h('button', { type: 'button', class: 'secondary', 'data-testid': `bench-cancel-${o.id}`, disabled: '' }, 'Cancel');
  let json: string | null = null;
  const say = (s: string) => (status.textContent = s);
  const exports = exportButtons(o.id, () => json, say);
  let controller: AbortController | null = null;
  cancel.addEventListener('click', () => {
    controller?.abort();
    cancel.disabled = true;
    say(`${status.textContent ?? ''} (cancelling after this step…)`);
  });
  run.addEventListener('click', () => {
    const refused = o.claim();
    if (refused) return say(refused);
    controller = new AbortController();
    run.disabled = true;
    cancel.disabled = false;
    json = null;
    for (const b of exports) b.setAttribute('disabled', '');
    tableHost.replaceChildren();
    const handle: PanelRun = {
      signal: controller.signal,
      status: say,
      table: (t) => {
        tableHost.replaceChildren(tableElement(t, `bench-${o.id}-table`));
        chartHost.hidden = t.body.length === 0;
      },
      result: (value) => {
        json = benchJson(value);
        for (const b of exports) b.removeAttribute('disabled');
      },
    };
    o.run(handle)
      .catch((err: unknown) => say(`The benchmark failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        o.release();
        controller = null;
        run.disabled = false;
        cancel.disabled = true;
      });
  });
  return h(
    'section',
    { class: 'panel bench-panel', 'data-testid': `bench-${o.id}-panel` },
    h('h2', {}, o.title),
    h('p', { class: 'hint' }, o.intro),
    h('div', { class: 'bench-controls' }, ...o.controls, run, cancel, ...exports),
    status,
    tableHost,
    chartHost,
  );
}
