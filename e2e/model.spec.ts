import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';

/** The page's worker API, for specs: the app exposes it on window as `vlm` for the console and tests. */
async function golden(page: Page, engine: 'native' | 'onnx' | 'transformers', options: { dtype?: 'f32' | 'int8'; device?: 'webgpu' | 'wasm' } = {}) {
  return page.evaluate(
    async ([e, o]) => {
      const api = (window as unknown as { vlm: { goldenCheck: (id: string, o: object) => Promise<{ logitsRelError: number; match: boolean; greedyIds: number[]; goldenIds: number[]; device: string }> } }).vlm;
      return api.goldenCheck('webvlm-tiny', { engine: e, ...o });
    },
    [engine, options] as const,
  );
}

/** The largest |logit| of golden.json's slice: relative error times this is the largest absolute difference. */
const goldenLogitScale = (() => {
  const g = JSON.parse(readFileSync(new URL('../public/models/webvlm-tiny/golden.json', import.meta.url), 'utf8')) as { logits: { values: number[] } };
  return Math.max(...g.logits.values.map(Math.abs));
})();

test.describe('the bundled model in Chromium', () => {
  test.setTimeout(240_000);

  for (const engine of ['native', 'onnx'] as const) {
    test(`${engine} engine matches the PyTorch golden logits and 24 greedy ids`, async ({ page }) => {
      await page.goto('/#gpu');
      await expect(page.getByTestId('adapter-name')).toContainText('WebGPU:');
      const r = await golden(page, engine);
      console.log(`${engine}: logits relative error ${r.logitsRelError.toExponential(2)}`);
      expect(r.logitsRelError).toBeLessThanOrEqual(1e-3);
      expect(r.greedyIds).toEqual(r.goldenIds);
      expect(r.match).toBe(true);
    });
  }

  // SwiftShader is a WebGPU adapter too: the WebGPU run is forced, since the app would choose wasm on it.
  // wasm agrees with PyTorch to 1e-4 in every logit (8.8e-6 measured). ORT's WebGPU kernels on SwiftShader
  // sum in another order: 3.0e-4 at most on logits up to 6.1, so there 1e-4 bounds the error relative to the
  // largest logit (4.9e-5 measured), ten times tighter than the other engines' 1e-3.
  for (const [device, bound] of [['wasm', 1e-4 / goldenLogitScale], ['webgpu', 1e-4]] as const) {
    test(`transformers engine on ${device} matches the PyTorch golden logits and 24 greedy ids`, async ({ page }) => {
      await page.goto('/#gpu');
      await expect(page.getByTestId('adapter-name')).toContainText('WebGPU:');
      const r = await golden(page, 'transformers', { device });
      const absError = r.logitsRelError * goldenLogitScale;
      console.log(`transformers on ${r.device}: logits max |diff| ${absError.toExponential(2)}, relative ${r.logitsRelError.toExponential(2)}`);
      expect(r.device).toBe(device);
      expect(r.logitsRelError).toBeLessThanOrEqual(bound);
      expect(r.greedyIds).toHaveLength(24);
      expect(r.greedyIds).toEqual(r.goldenIds);
      expect(r.match).toBe(true);
    });
  }

  test('native engine with int8 weights keeps the greedy ids', async ({ page }) => {
    await page.goto('/#gpu');
    const r = await golden(page, 'native', { dtype: 'int8' });
    console.log(`native int8: logits relative error ${r.logitsRelError.toExponential(2)}`);
    expect(r.greedyIds).toEqual(r.goldenIds);
  });
});

test('ground(image, phrase) asks the trained grounding question and returns the box in image pixels', async ({ page }) => {
  test.setTimeout(120_000);
  const { encodePng, generateScene } = await import('../src/data/index');
  const { Rng } = await import('../src/data/random');
  const { iou } = await import('../src/models/grounding');
  // The scene the chat spec also uses: one medium red square.
  const scene = generateScene(new Rng(100), { minObjects: 1, maxObjects: 1 });
  const obj = scene.meta.objects[0];
  if (!obj) throw new Error('the scene has no object');
  await page.goto('/#gpu');
  const reply = await page.evaluate(
    async ([png, phrase]) => {
      const api = (window as unknown as { vlm: { loadModel: (id: string, o: object) => Promise<unknown>; ground: (i: object, p: string) => Promise<{ question: string; text: string; imageSize: { width: number }; objects: { label: string; box: { x1: number; y1: number; x2: number; y2: number } }[] }> } }).vlm;
      await api.loadModel('webvlm-tiny', { engine: 'native' });
      const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0)).buffer;
      return api.ground({ bytes, type: 'image/png', name: 'scene.png' }, phrase);
    },
    [Buffer.from(encodePng(scene.raster)).toString('base64'), `the ${obj.colour} ${obj.shape}`] as const,
  );
  expect(reply.question).toBe(`Locate the ${obj.colour} ${obj.shape}.`);
  expect(reply.imageSize.width).toBe(64);
  const found = reply.objects[0];
  expect(found?.label).toBe(`${obj.colour} ${obj.shape}`);
  const overlap = found ? iou(found.box, obj.bbox) : 0;
  console.log(`ground: "${reply.text}" IoU ${overlap.toFixed(3)}`);
  expect(overlap).toBeGreaterThan(0.5);
});
