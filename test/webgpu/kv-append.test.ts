import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { kvAppend } from '../../src/webgpu/kernels/kv-append';
import { kvAppendRef } from '../../src/webgpu/reference/kv-append';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectClose } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

describe('kv-append kernel', () => {
  for (const [batch, tNew, kvHeads, headDim, sCap, pos] of [
    [1, 1, 1, 1, 1, 0],
    [1, 5, 2, 3, 9, 4],
    [2, 3, 3, 7, 6, 2],
    [3, 1, 1, 64, 70, 69],
  ] as const) {
    it(`writes ${tNew} rows at ${pos} of a [${batch},${sCap},${kvHeads},${headDim}] cache and keeps the rest`, async () => {
      const width = kvHeads * headDim;
      const rng = new Rng(batch * 100 + pos);
      // The earlier contents must survive, so the cache starts random, not poisoned.
      const before = rng.floats(batch * sCap * width);
      const rows = rng.floats(batch * tNew * width);
      const cache = rt.upload(before, [batch, sCap, kvHeads, headDim], 'cache');
      const tr = rt.upload(rows, [batch, tNew, kvHeads, headDim], 'rows');
      rt.run(kvAppend, [tr], [cache], { batch, tNew, kvHeads, headDim, sCap, pos });
      const got = await rt.readF32(cache);
      expectClose(got, kvAppendRef(before, rows, batch, tNew, width, sCap, pos), TOLERANCE.f32Exact, 'kv-append');
      rt.release(cache);
      rt.release(tr);
    });
  }

  it('refuses rows that run past the capacity', () => {
    const cache = rt.empty([1, 4, 1, 2], 'f32', 'cache');
    const rows = rt.empty([1, 2, 1, 2], 'f32', 'rows');
    expect(() => rt.run(kvAppend, [rows], [cache], { batch: 1, tNew: 2, kvHeads: 1, headDim: 2, sCap: 4, pos: 3 })).toThrow(KernelInputError);
    expect(() => rt.run(kvAppend, [rows], [cache], { batch: 1, tNew: 2, kvHeads: 1, headDim: 2, sCap: 4, pos: 3 })).toThrow(/kv-append: rows 3\.\.4 do not fit a cache of 4/);
  });
});
