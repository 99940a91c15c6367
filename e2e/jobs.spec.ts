import { expect, test, type Page } from '@playwright/test';
import { encodePng, generateScene } from '../src/data/index';
import { Rng } from '../src/data/random';
import type { VlmApi } from '../src/worker/api';
import { makeDocument, openDocuments, pick } from './documents-helpers';

/**
 * Jobs in the worker take turns: two chats sent together, two loads sent
 * together, a Stop from one view while another view's answer streams, and
 * GPU memory over reloads. Driven through the worker API the views use
 * (window.vlm), from the GPU check view so that Chat's own load stays out.
 */

/** Scenes of one object each (seeds the bundled model answers), as PNG bytes in base64. */
function scenePng(seed: number): string {
  const image = generateScene(new Rng(seed), { minObjects: 1, maxObjects: 1 });
  return Buffer.from(encodePng(image.raster)).toString('base64');
}

type Settled = { ok: true; text: string; finish: string } | { ok: false; code: string; message: string };

async function openApi(page: Page): Promise<void> {
  await page.goto('/#gpu');
  await page.waitForFunction(() => 'vlm' in window);
}

test.describe('jobs in the worker', () => {
  test.setTimeout(180_000);

  test('two chats sent together: one answers as it does alone, the other is refused as busy', async ({ page }) => {
    await openApi(page);
    const r = await page.evaluate(
      async ({ a, b }) => {
        const api = (window as unknown as { vlm: VlmApi }).vlm;
        // Drawn large (2400 px) so that each chat spends a while decoding before it answers, as a photo does.
        const large = async (png: string): Promise<ArrayBuffer> => {
          const small = await createImageBitmap(new Blob([Uint8Array.from(atob(png), (c) => c.charCodeAt(0))], { type: 'image/png' }));
          const canvas = new OffscreenCanvas(2400, 2400);
          const g = canvas.getContext('2d');
          if (!g) throw new Error('no 2d context');
          g.imageSmoothingEnabled = false;
          g.drawImage(small, 0, 0, 2400, 2400);
          return (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer();
        };
        const images = [await large(a), await large(b)];
        const ask = (i: number) =>
          api.chat({
            messages: [{ role: 'user', content: [{ type: 'text', text: 'What colour is the object?' }, { type: 'image' }] }],
            images: [{ bytes: (images[i] as ArrayBuffer).slice(0), type: 'image/png', name: 'scene.png' }],
            options: { maxNewTokens: 16 },
          });
        const settle = (s: PromiseSettledResult<{ text: string; finishReason: string }>): Settled =>
          s.status === 'fulfilled' ? { ok: true, text: s.value.text, finish: s.value.finishReason } : { ok: false, code: String((s.reason as { code?: string }).code), message: String((s.reason as Error).message) };
        await api.loadModel('webvlm-tiny', { engine: 'native' });
        const alone = [(await ask(0)).text, (await ask(1)).text];
        const together = (await Promise.allSettled([ask(0), ask(1)])).map(settle);
        return { alone, together };
      },
      { a: scenePng(100), b: scenePng(101) },
    );
    console.log('alone', r.alone, 'together', r.together);
    expect(r.together.filter((t) => t.ok)).toHaveLength(1);
    r.together.forEach((t, i) => {
      if (t.ok) expect(t.text, `chat ${i + 1}`).toBe(r.alone[i]);
      else {
        expect(t.code).toBe('busy');
        expect(t.message).toMatch(/^An answer is being generated: /);
      }
    });
  });

  test('two loads sent together load the model once; three reloads hold the same GPU bytes', async ({ page }) => {
    await openApi(page);
    const r = await page.evaluate(async () => {
      const api = (window as unknown as { vlm: VlmApi }).vlm;
      const load = () => api.loadModel('webvlm-tiny', { engine: 'native' });
      await load();
      const once = (await api.gpuMemory()).bytesHeld;
      const both = await Promise.allSettled([load(), load()]);
      const afterBoth = (await api.gpuMemory()).bytesHeld;
      const loaded = await api.loadedModel();
      const reloads: number[] = [];
      const peaks: number[] = [];
      for (let i = 0; i < 3; i++) {
        await api.unloadModel();
        await load();
        const m = await api.gpuMemory();
        reloads.push(m.bytesHeld);
        peaks.push(m.peakBytes);
      }
      const reply = await api.chat({ messages: [{ role: 'user', content: 'What colour is the object?' }], images: [], options: { maxNewTokens: 4 } });
      return { once, both: both.map((s) => (s.status === 'fulfilled' ? 'loaded' : String((s.reason as { code?: string }).code))), afterBoth, loaded: loaded?.id, reloads, peaks, answered: reply.newTokens };
    });
    console.log(r);
    expect(r.both[0]).toBe('loaded');
    expect(['loaded', 'busy']).toContain(r.both[1]);
    expect(r.loaded).toBe('webvlm-tiny');
    expect(r.once).toBeGreaterThan(1_000_000);
    expect(Math.abs(r.afterBoth - r.once) / r.once).toBeLessThanOrEqual(0.1);
    for (const held of r.reloads) expect(Math.abs(held - r.once) / r.once).toBeLessThanOrEqual(0.1);
    const [firstPeak = 0, , lastPeak = 0] = r.peaks;
    expect(Math.abs(lastPeak - firstPeak) / firstPeak).toBeLessThanOrEqual(0.1);
    expect(r.answered).toBeGreaterThan(0);
  });

  test("Documents' Stop does not end a Chat answer; Chat's own Stop does", async ({ page }) => {
    await openApi(page);
    const r = await page.evaluate(async () => {
      const api = (window as unknown as { vlm: VlmApi }).vlm;
      await api.loadModel('webvlm-tiny', { engine: 'native' });
      const request = { messages: [{ role: 'user' as const, content: 'What colour is the object?' }], images: [], options: { maxNewTokens: 8 } };
      const alone = await api.chat(request);
      // What the Documents view's Stop sends, while Chat's answer runs.
      const chat = api.chat(request, undefined, { jobId: 'chat-1' });
      const stoppedOther = await api.stopChat('document-question-1');
      const reply = await chat;
      // Chat's own Stop, with its id, still ends its answer.
      const own = api.chat(request, undefined, { jobId: 'chat-2' });
      const stoppedOwn = await api.stopChat('chat-2');
      const ownReply = await own;
      return { alone: alone.text, stoppedOther, text: reply.text, finish: reply.finishReason, stoppedOwn, ownFinish: ownReply.finishReason };
    });
    console.log(r);
    expect(r.stoppedOther).toBe(false);
    expect(r.finish).not.toBe('cancelled');
    expect(r.text).toBe(r.alone);
    expect(r.stoppedOwn).toBe(true);
    expect(r.ownFinish).toBe('cancelled');
  });

  test("a file picked while 'Process more pages' runs is read when that slice ends", async ({ page }) => {
    const long = await makeDocument(page, 'text-pdf', 22, 61);
    const next = await makeDocument(page, 'text-pdf', 1, 62);
    await openDocuments(page);
    await pick(page, 'long.pdf', 'application/pdf', long.buffer);
    await expect(page.getByTestId('more-pages')).toHaveText('Process pages 21-22 of 22', { timeout: 60_000 });
    await page.getByTestId('more-pages').click();
    await pick(page, 'next.pdf', 'application/pdf', next.buffer);
    // The slice ends, then the picked file opens and is read.
    await expect(page.getByTestId('doc-status')).toContainText('next.pdf: 1 page done', { timeout: 60_000 });
    await expect(page.getByTestId('thumbnail')).toHaveCount(1);
  });
});
