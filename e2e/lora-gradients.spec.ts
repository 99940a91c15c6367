import { expect, test } from '@playwright/test';

// golden.json's lora batch through the bundled model in the page's worker:
// the loss and every LoRA gradient norm within 1e-3 of PyTorch's.

interface Check {
  loss: number;
  expectedLoss: number;
  maxRelative: number;
  norms: { name: string; got: number; expected: number }[];
}

test("LoRA on the bundled model in Chromium: the loss and all 32 gradient norms match PyTorch's within 1e-3", async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/#gpu');
  await expect(page.getByTestId('adapter-name')).toContainText('WebGPU:');
  const check = await page.evaluate(async () => {
    const api = (window as unknown as { vlm: { loadModel: (id: string, o: object) => Promise<unknown>; loraGradientCheck: () => Promise<Check> } }).vlm;
    await api.loadModel('webvlm-tiny', { engine: 'native' });
    return api.loraGradientCheck();
  });
  console.log(`Chromium: loss ${check.loss} (PyTorch ${check.expectedLoss}), worst relative difference ${check.maxRelative.toExponential(2)}`);
  expect(check.norms).toHaveLength(32);
  for (const n of check.norms) expect(Math.abs(n.got - n.expected) / n.expected, n.name).toBeLessThanOrEqual(1e-3);
  expect(Math.abs(check.loss - check.expectedLoss) / check.expectedLoss).toBeLessThanOrEqual(1e-3);
  expect(check.maxRelative).toBeLessThanOrEqual(1e-3);
});
