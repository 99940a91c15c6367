/**
 * Data from the synthetic generator, made in the worker: a count per task,
 * the held-out concept option ("focus": a star or something purple in every
 * scene, the shape and colour the bundled model never saw) and a seed.
 */
import * as Comlink from 'comlink';
import type { FinetuneDataset, VlmClient } from '../../worker/client';
import { describeError, toTurnError } from '../chat/error-text';
import { h } from '../dom';

/** The generator's scene tasks offered here (names as the generator and the eval call them). */
const TASKS: { task: string; label: string; count: number }[] = [
  { task: 'describe', label: 'Describe', count: 4 },
  { task: 'vqa-colour', label: 'Colour', count: 4 },
  { task: 'vqa-shape', label: 'Shape', count: 4 },
  { task: 'vqa-count', label: 'Count', count: 0 },
  { task: 'vqa-position', label: 'Position', count: 0 },
  { task: 'grounding', label: 'Grounding', count: 0 },
  { task: 'multi-turn', label: 'Multi-turn', count: 0 },
];

const MAX_PER_TASK = 10_000;

export function generateSource(api: VlmClient, loaded: (dataset: FinetuneDataset, note: string) => void) {
  const counts = TASKS.map((t) => h('input', { type: 'number', min: '0', max: String(MAX_PER_TASK), step: '1', value: String(t.count), 'data-task': t.task, 'data-testid': `ft-gen-count-${t.task}`, 'aria-label': `${t.label} records` }));
  const heldOut = h(
    'select',
    { 'data-testid': 'ft-gen-held-out', 'aria-label': 'Held-out concept' },
    h('option', { value: 'focus' }, 'focus: a star or purple in every scene (teach the held-out concept)'),
    h('option', { value: 'include' }, 'include: every shape and colour may appear'),
    h('option', { value: 'exclude' }, 'exclude: no star, no purple (the base training data)'),
  );
  const seed = h('input', { type: 'number', min: '0', step: '1', value: '1', 'data-testid': 'ft-gen-seed', 'aria-label': 'Seed' });
  const go = h('button', { type: 'button', 'data-testid': 'ft-generate' }, 'Generate');
  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'ft-gen-status' });
  const element = h(
    'div',
    { class: 'ft-source', 'data-testid': 'ft-source-generate' },
    h('div', { class: 'ft-grid' }, ...TASKS.map((t, i) => h('label', { class: 'field ft-field' }, t.label, counts[i] ?? null))),
    h('div', { class: 'toolbar' }, h('label', { class: 'field' }, 'Held-out concept', heldOut), h('label', { class: 'field' }, 'Seed', seed), go),
    status,
  );

  const read = (): Record<string, number> | string => {
    const out: Record<string, number> = {};
    for (const input of counts) {
      const n = Number(input.value);
      const label = input.getAttribute('aria-label') ?? '';
      if (!Number.isInteger(n) || n < 0 || n > MAX_PER_TASK) return `${label} must be a whole number from 0 to ${MAX_PER_TASK} (got "${input.value}").`;
      if (n > 0) out[input.dataset.task ?? ''] = n;
    }
    return Object.keys(out).length > 0 ? out : 'Set a count above 0 for at least one task.';
  };

  go.addEventListener('click', () => {
    const request = read();
    const seedValue = Number(seed.value);
    if (typeof request === 'string' || !Number.isInteger(seedValue) || seedValue < 0) {
      status.className = 'bad';
      status.textContent = typeof request === 'string' ? request : 'Seed must be a whole number of 0 or more.';
      return;
    }
    go.disabled = true;
    status.className = 'muted';
    status.textContent = 'Generating…';
    const mode = heldOut.value as 'focus' | 'include' | 'exclude';
    const onProgress = Comlink.proxy((done: number, total: number) => {
      status.textContent = `Generating… ${done} / ${total}`;
    });
    api
      .finetuneGenerate({ counts: request, heldOut: mode, seed: seedValue }, onProgress)
      .then((dataset) => {
        // The data summary below says what was made; this line only clears the progress.
        status.textContent = '';
        loaded(dataset, `Generated (${mode}, seed ${seedValue})`);
      })
      .catch((err: unknown) => {
        const d = describeError(toTurnError(err));
        status.className = 'bad';
        status.textContent = `${d.headline} ${d.detail} ${d.advice}`;
      })
      .finally(() => {
        go.disabled = false;
      });
  });
  return { element };
}
