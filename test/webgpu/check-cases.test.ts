import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { kernels } from '../../src/webgpu/kernels/registry';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { CHECK_CASES } from '../../src/webgpu/verify/check-cases';
import { runCheckCase } from '../../src/webgpu/verify/run-checks';
import { testRuntime } from '../helpers/gpu';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

const random = (seed: number) => new Rng(seed);

// ggml's test-backend-ops: every kernel in the registry, over its shapes, against its CPU twin.
describe('the GPU check walks the whole registry', () => {
  it('every registry kernel has at least one check case, and nothing else does', () => {
    const names = Object.keys(kernels).sort();
    expect(Object.keys(CHECK_CASES).sort()).toEqual(names);
    expect(names.filter((k) => CHECK_CASES[k as keyof typeof kernels].length === 0)).toEqual([]);
  });

  for (const [kernel, cases] of Object.entries(CHECK_CASES)) {
    it(`${kernel}: every case matches its CPU twin`, async () => {
      for (const c of cases) {
        const r = await runCheckCase(rt, c, random);
        if (r.skipped) {
          // Only a missing device feature may skip a case, and it says so.
          expect(c.requires && !rt.ctx.features[c.requires], `${kernel} ${c.label} skipped: ${r.skipped}`).toBe(true);
          expect(r.passed).toBe(false);
          continue;
        }
        const where = r.worst ? `worst element ${r.worst.index} got ${r.worst.got} want ${r.worst.want}` : (r.error ?? '');
        expect(r.maxError, `${kernel} ${c.label}: ${where}`).toBeLessThanOrEqual(r.tolerance);
        expect(r.passed).toBe(true);
      }
    });
  }
});
