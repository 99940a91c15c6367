import type { KernelCheckResult } from '../worker/api';
import type { VlmClient } from '../worker/client';
import { h } from './dom';

function resultRow(r: KernelCheckResult): HTMLElement {
  return h(
    'tr',
    { 'data-testid': 'kernel-check-row' },
    h('td', { style: 'text-align:left' }, r.name),
    h('td', {}, r.maxError.toExponential(2)),
    h('td', {}, r.tolerance.toExponential(0)),
    h('td', {}, r.ms.toFixed(0)),
    h('td', { class: r.passed ? 'ok' : 'bad', 'data-testid': 'kernel-check-verdict' }, r.passed ? 'pass' : 'FAIL'),
  );
}

/** A button that runs the kernel subset in the worker and tabulates the errors. */
export function kernelChecksPanel(api: VlmClient): HTMLElement {
  const button = h('button', { type: 'button', 'data-testid': 'run-kernel-checks' }, 'Run kernel checks');
  const status = h('p', { 'data-testid': 'kernel-checks-status' }, 'Matmul, attention and a backward pass against CPU references, on this GPU.');
  const body = h('tbody', {});
  const table = h(
    'table',
    { class: 'numbers', hidden: '' },
    h('thead', {}, h('tr', {}, h('th', {}, 'kernel'), h('th', {}, 'max error'), h('th', {}, 'tolerance'), h('th', {}, 'ms'), h('th', {}, ''))),
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
        const failed = results.filter((r) => !r.passed).length;
        status.textContent = failed === 0 ? `All ${results.length} checks passed.` : `${failed} of ${results.length} checks failed.`;
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
