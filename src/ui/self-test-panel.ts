import type { SelfTestResult } from '../worker/api';
import { h } from './dom';

const fmt = (x: number) => x.toFixed(6);

/** Shows that a WGSL kernel ran in the worker and agreed with the CPU. */
export function selfTestPanel(r: SelfTestResult): HTMLElement {
  const rows = r.sample.a.map((_, i) =>
    h(
      'tr',
      { 'data-testid': 'self-test-row' },
      h('td', {}, i),
      h('td', {}, fmt(r.sample.a[i] ?? NaN)),
      h('td', {}, fmt(r.sample.b[i] ?? NaN)),
      h('td', { 'data-testid': 'gpu-value' }, fmt(r.sample.gpu[i] ?? NaN)),
      h('td', { 'data-testid': 'cpu-value' }, fmt(r.sample.cpu[i] ?? NaN)),
    ),
  );
  return h(
    'section',
    { class: 'panel', 'data-testid': 'self-test' },
    h('h2', {}, 'GPU check'),
    h(
      'p',
      {},
      `Kernel ${r.kernel} on ${r.n} elements in ${r.ms.toFixed(1)} ms: `,
      h(
        'strong',
        { class: r.passed ? 'ok' : 'bad', 'data-testid': 'self-test-verdict' },
        r.passed ? 'matches the CPU reference' : 'DOES NOT match the CPU reference',
      ),
      ` (max |error| ${r.maxAbsError.toExponential(2)}, tolerance ${r.tolerance.toExponential(0)}).`,
    ),
    h(
      'table',
      { class: 'numbers' },
      h('thead', {}, h('tr', {}, h('th', {}, 'i'), h('th', {}, 'a'), h('th', {}, 'b'), h('th', {}, 'GPU a+b'), h('th', {}, 'CPU a+b'))),
      h('tbody', {}, ...rows),
    ),
  );
}
