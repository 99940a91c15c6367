import type { KernelCheckResult } from '../worker/api';
import type { VlmClient } from '../worker/client';
import { h } from './dom';

const NOT_SUPPORTED = 'not supported on this adapter';

function verdict(r: KernelCheckResult): { text: string; cls: string } {
  if (r.skipped) return { text: NOT_SUPPORTED, cls: 'muted' };
  return r.passed ? { text: 'pass', cls: 'ok' } : { text: 'FAIL', cls: 'bad' };
}

function errorCell(r: KernelCheckResult): string {
  if (r.skipped) return '';
  if (r.error) return r.error;
  return r.maxError.toExponential(2);
}

function resultRow(r: KernelCheckResult): HTMLElement {
  const v = verdict(r);
  const where = r.worst && !r.passed && !r.skipped ? `element ${r.worst.index}: got ${r.worst.got}, want ${r.worst.want}` : (r.skipped ?? '');
  return h(
    'tr',
    { 'data-testid': 'kernel-check-row', title: where },
    h('td', { style: 'text-align:left', 'data-testid': 'kernel-check-kernel' }, r.kernel),
    h('td', { style: 'text-align:left' }, r.name),
    h('td', {}, errorCell(r)),
    h('td', { title: r.toleranceName }, r.tolerance.toExponential(0)),
    h('td', {}, r.ms.toFixed(0)),
    h('td', { class: v.cls, 'data-testid': 'kernel-check-verdict' }, v.text),
  );
}

function summary(results: readonly KernelCheckResult[]): string {
  const skipped = results.filter((r) => r.skipped).length;
  const ran = results.length - skipped;
  const failed = results.filter((r) => !r.passed && !r.skipped).length;
  const note = skipped ? ` (${skipped} ${NOT_SUPPORTED})` : '';
  return failed === 0 ? `All ${ran} checks passed${note}.` : `${failed} of ${ran} checks failed${note}.`;
}

/** A button that runs every registry kernel's check cases in the worker and tabulates the errors. */
export function kernelChecksPanel(api: VlmClient): HTMLElement {
  const button = h('button', { type: 'button', 'data-testid': 'run-kernel-checks' }, 'Run kernel checks');
  const status = h('p', { 'data-testid': 'kernel-checks-status' }, 'Every kernel against its CPU reference, on this GPU.');
  const body = h('tbody', {});
  const table = h(
    'table',
    { class: 'numbers', hidden: '' },
    h(
      'thead',
      {},
      h('tr', {}, h('th', {}, 'kernel'), h('th', {}, 'case'), h('th', {}, 'max error'), h('th', {}, 'tolerance'), h('th', {}, 'ms'), h('th', {}, '')),
    ),
    body,
  );
  button.addEventListener('click', () => {
    button.disabled = true;
    status.textContent = 'Running…';
    api
      .kernelChecks()
      .then((results) => {
        body.replaceChildren(...results.map(resultRow));
        table.hidden = false;
        status.textContent = summary(results);
      })
      .catch((err: unknown) => {
        status.textContent = `The checks could not run: ${err instanceof Error ? err.message : String(err)}`;
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  return h('section', { class: 'panel', 'data-testid': 'kernel-checks' }, h('h2', {}, 'Kernel checks'), status, button, table);
}
