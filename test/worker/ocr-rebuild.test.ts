/**
 * OCR sessions are rebuilt when they stop working (WebGPU sessions die with
 * a lost device): the page is read again with fresh models, and those stay
 * in use for the next page. A cancel or a reading error is not retried.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { LoadedOcrModels } from '../../src/ocr/ort-runner';
import { OcrError } from '../../src/ocr/errors';

const state = vi.hoisted(() => ({ built: 0, released: 0, failNext: [] as (Error | null)[] }));

vi.mock('../../src/ocr/browser-models', () => {
  let current: Promise<LoadedOcrModels> | null = null;
  const build = (): LoadedOcrModels => {
    const id = ++state.built;
    return { id, providers: ['webgpu'], release: async () => void state.released++ } as unknown as LoadedOcrModels;
  };
  return {
    loadBrowserOcr: () => (current ??= Promise.resolve(build())),
    forgetBrowserOcr: async (_backend: string, models: LoadedOcrModels) => {
      if ((await current) === models) current = null;
      await models.release();
    },
  };
});

vi.mock('../../src/ocr/ocr-pipeline', () => ({
  ocrPage: async (models: { id: number }) => {
    const fail = state.failNext.shift();
    if (fail) throw fail;
    return [{ text: `read by models ${models.id}`, box: [0, 0, 1, 1], confidence: 1 }];
  },
}));

// pdf.js needs a browser; these tests read pixels only.
vi.mock('../../src/documents/pdf', () => ({ openPdf: vi.fn(), renderPdfPage: vi.fn() }));

const { DocumentJobs } = await import('../../src/worker/jobs/documents');

const pixels = { width: 2, height: 2, data: new Uint8ClampedArray(16) };

describe('OCR models after a failure', () => {
  beforeEach(() => {
    state.failNext = [];
  });

  it('rebuilds the sessions once and reads the page again; the fresh ones serve the next page', async () => {
    const jobs = new DocumentJobs();
    const builtBefore = state.built;
    state.failNext = [new Error('Device was lost: GPU device lost')];
    const page = await jobs.image(pixels, { backend: 'webgpu' }, new AbortController().signal);
    expect(page.lines.map((l) => l.text)).toEqual([`read by models ${builtBefore + 2}`]);
    expect(state.released).toBeGreaterThanOrEqual(1);
    const next = await jobs.image(pixels, { backend: 'webgpu' }, new AbortController().signal);
    expect(next.lines.map((l) => l.text)).toEqual([`read by models ${builtBefore + 2}`]);
    expect(state.built).toBe(builtBefore + 2);
  });

  it('does not retry a cancel or a reading error', async () => {
    const jobs = new DocumentJobs();
    const builtBefore = state.built;
    state.failNext = [new OcrError('cancelled', 'Cancelled.')];
    await expect(jobs.image(pixels, {}, new AbortController().signal)).rejects.toMatchObject({ code: 'cancelled' });
    expect(state.built).toBe(builtBefore);
  });
});
