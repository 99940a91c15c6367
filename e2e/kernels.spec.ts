import { expect, test } from '@playwright/test';

test('every registry kernel matches its CPU reference inside the worker', async ({ page }) => {
  await page.goto('/#gpu');
  await page.getByTestId('run-kernel-checks').click();
  await expect(page.getByTestId('kernel-checks-status')).toHaveText(/checks passed|checks failed|could not run/, { timeout: 100_000 });
  const kernels = await page.getByTestId('kernel-check-kernel').allTextContents();
  for (const name of ['matmul', 'matmulQuant', 'attention', 'attentionBackwardQ', 'attentionBackwardKv', 'rmsNorm', 'topK', 'adamw', 'sumSquares']) {
    expect(kernels, `a row for ${name}`).toContain(name);
  }
  const verdicts = await page.getByTestId('kernel-check-verdict').allTextContents();
  expect(verdicts.length).toBe(kernels.length);
  const rows = kernels.map((k, i) => `${k}=${verdicts[i]}`).join(', ');
  // SwiftShader has no shader-f16: the f16 kernel shows as not supported, never as passed.
  expect(verdicts.every((v) => v === 'pass' || v === 'not supported on this adapter'), `verdicts: ${rows}`).toBe(true);
  const f16 = kernels.indexOf('matmulF16');
  expect(f16, 'a row for matmulF16').toBeGreaterThanOrEqual(0);
  await expect(page.getByTestId('kernel-checks-status')).toHaveText(/^All \d+ checks passed( \(\d+ not supported on this adapter\))?\.$/);
});
