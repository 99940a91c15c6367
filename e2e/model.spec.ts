import { expect, test, type Page } from '@playwright/test';

/** The page's worker API, for specs: the app exposes it on window as `vlm` for the console and tests. */
async function golden(page: Page, engine: 'native' | 'onnx', dtype: 'f32' | 'int8' = 'f32') {
  return page.evaluate(
    async ([e, d]) => {
      const api = (window as unknown as { vlm: { goldenCheck: (id: string, o: object) => Promise<{ logitsRelError: number; match: boolean; greedyIds: number[]; goldenIds: number[] }> } }).vlm;
      return api.goldenCheck('webvlm-tiny', { engine: e, dtype: d });
    },
    [engine, dtype] as const,
  );
}

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

  test('native engine with int8 weights keeps the greedy ids', async ({ page }) => {
    await page.goto('/#gpu');
    const r = await golden(page, 'native', 'int8');
    console.log(`native int8: logits relative error ${r.logitsRelError.toExponential(2)}`);
    expect(r.greedyIds).toEqual(r.goldenIds);
  });
});
