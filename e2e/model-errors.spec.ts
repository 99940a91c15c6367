import { expect, test, type Page } from '@playwright/test';

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  text?: string;
}

/** Runs fn(api) in the page and reports success or the typed error that crossed from the worker. */
async function attempt(page: Page, body: string, arg: unknown = null): Promise<Outcome> {
  return page.evaluate(
    async ([src, a]) => {
      const api = (window as unknown as { vlm: unknown }).vlm;
      try {
        const fn = new Function('api', 'arg', `return (async () => { ${src} })();`) as (api: unknown, arg: unknown) => Promise<unknown>;
        const r = (await fn(api, a)) as { text?: string } | undefined;
        return { ok: true, text: r?.text };
      } catch (e) {
        const err = e as { code?: string; message?: string };
        return { ok: false, code: err.code, message: err.message };
      }
    },
    [body, arg] as const,
  );
}

const ASK = `[{ role: 'user', content: [{ type: 'text', text: 'What colour is the object?' }, { type: 'image' }] }]`;
const GOOD_IMAGE = `{ width: 64, height: 64, data: new Uint8ClampedArray(64 * 64 * 4).fill(200) }`;

test.describe('bad inputs to the model get clear errors and lose nothing', () => {
  test.setTimeout(180_000);

  test('images: corrupt, empty, zero-sized, huge', async ({ page }) => {
    // The GPU view, not Chat: the Chat view loads the bundled model by itself, which would race these loads.
    await page.goto('/#gpu');
    expect((await attempt(page, `return api.loadModel('webvlm-tiny', { engine: 'native' });`)).ok).toBe(true);

    const corrupt = await attempt(page, `return api.chat({ messages: ${ASK}, images: [{ bytes: new Uint8Array([137, 80, 78, 71, 1, 2, 3]).buffer, type: 'image/png', name: 'broken.png' }], options: { maxNewTokens: 4 } });`);
    expect(corrupt).toMatchObject({ ok: false, code: 'bad-image' });
    expect(corrupt.message).toContain('broken.png could not be decoded');

    const empty = await attempt(page, `return api.chat({ messages: ${ASK}, images: [{ bytes: new ArrayBuffer(0), type: 'image/png', name: 'empty.png' }], options: { maxNewTokens: 4 } });`);
    expect(empty).toMatchObject({ ok: false, code: 'bad-image' });
    expect(empty.message).toContain('empty.png is empty');

    const zero = await attempt(page, `return api.chat({ messages: ${ASK}, images: [{ width: 0, height: 0, data: new Uint8ClampedArray(0) }], options: { maxNewTokens: 4 } });`);
    expect(zero).toMatchObject({ ok: false, code: 'bad-image' });

    // 6000 x 4000 (24 MP) as a real PNG: decoded scaled down, answered, no out-of-memory.
    const huge = await attempt(
      page,
      `const c = new OffscreenCanvas(6000, 4000); const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, 6000, 4000); g.fillStyle = '#f00'; g.fillRect(2000, 1000, 2000, 2000);
       const blob = await c.convertToBlob({ type: 'image/png' });
       return api.chat({ messages: ${ASK}, images: [{ bytes: await blob.arrayBuffer(), type: 'image/png', name: 'huge.png' }], options: { maxNewTokens: 4 } });`,
    );
    expect(huge.ok, huge.message).toBe(true);

    // The model is still loaded and answers after the failures.
    const after = await attempt(page, `return api.chat({ messages: ${ASK}, images: [${GOOD_IMAGE}], options: { maxNewTokens: 4 } });`);
    expect(after.ok, after.message).toBe(true);
  });

  test('a prompt over the context names the limit', async ({ page }) => {
    await page.goto('/#gpu');
    await attempt(page, `return api.loadModel('webvlm-tiny', { engine: 'native' });`);
    const long = await attempt(page, `return api.chat({ messages: [{ role: 'user', content: 'red '.repeat(700) }], images: [], options: { maxNewTokens: 4 } });`);
    expect(long).toMatchObject({ ok: false, code: 'context-length' });
    expect(long.message).toContain('512');
  });

  test('a missing or malformed model file is named', async ({ page }) => {
    await page.goto('/#gpu');
    const missing = await attempt(page, `return api.loadModel('no-such-model', { engine: 'native' });`);
    expect(missing).toMatchObject({ ok: false, code: 'model-file' });
    expect(missing.message).toContain('no-such-model/config.json');

    await page.route('**/models/webvlm-tiny/model.safetensors', (route) => route.fulfill({ status: 200, body: 'this is not a safetensors file' }));
    const malformed = await attempt(page, `return api.loadModel('webvlm-tiny', { engine: 'native' });`);
    expect(malformed).toMatchObject({ ok: false, code: 'model-file' });
    expect(malformed.message).toContain('webvlm-tiny/model.safetensors');

    await page.route('**/models/webvlm-tiny/config.json', (route) => route.fulfill({ status: 200, body: '{"model_type": "llava", ' }));
    const badJson = await attempt(page, `return api.loadModel('webvlm-tiny', { engine: 'onnx' });`);
    expect(badJson).toMatchObject({ ok: false, code: 'model-file' });
    expect(badJson.message).toContain('webvlm-tiny/config.json');
  });
});
