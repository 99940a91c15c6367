import { expect, test } from '@playwright/test';

test('matmul, attention and attention backward match their CPU references inside the worker', async ({ page }) => {
  await page.goto('/#gpu');
  await page.getByTestId('run-kernel-checks').click();
  await expect(page.getByTestId('kernel-checks-status')).toHaveText(/checks passed|checks failed|could not run/, { timeout: 90_000 });
  const rows = page.getByTestId('kernel-check-row');
  const names = await rows.locator('td:first-child').allTextContents();
  expect(names.some((n) => n.startsWith('matmul'))).toBe(true);
  expect(names.some((n) => n.startsWith('attention prefill'))).toBe(true);
  expect(names.some((n) => n.startsWith('attention backward'))).toBe(true);
  const verdicts = await page.getByTestId('kernel-check-verdict').allTextContents();
  expect(verdicts.length).toBe(names.length);
  expect(verdicts.every((v) => v === 'pass'), `verdicts: ${names.map((n, i) => `${n}=${verdicts[i]}`).join(', ')}`).toBe(true);
  await expect(page.getByTestId('kernel-checks-status')).toHaveText(/^All \d+ checks passed\.$/);
});
