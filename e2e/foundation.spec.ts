import { chromium, expect, test } from '@playwright/test';
import { chromiumPath, QUIET_FLAGS } from './chromium';

test('status bar names the WebGPU adapter and the page is cross-origin isolated', async ({ page }) => {
  await page.goto('/#gpu');
  const adapter = page.getByTestId('adapter-name');
  await expect(adapter).toContainText('WebGPU:');
  // Headless Chromium here has SwiftShader, Chromium's software WebGPU adapter.
  await expect(adapter).toContainText(/swiftshader/i);
  expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
});

test('the worker runs a WGSL kernel through Comlink and the page shows the right numbers', async ({ page }) => {
  await page.goto('/#gpu');
  await expect(page.getByTestId('self-test-verdict')).toHaveText('matches the CPU reference');
  const rows = page.getByTestId('self-test-row');
  await expect(rows).toHaveCount(4);
  for (let i = 0; i < 4; i++) {
    const cells = (await rows.nth(i).locator('td').allTextContents()).map(Number);
    const [, a, b, gpu, cpu] = cells as [number, number, number, number, number];
    expect(gpu).toBeCloseTo(a + b, 5);
    expect(gpu).toBe(cpu);
  }
});

test('without the WebGPU flag the page says so and what to do', async ({ baseURL }) => {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: QUIET_FLAGS });
  try {
    const page = await browser.newPage();
    await page.goto(baseURL ?? '/');
    const notice = page.getByTestId('no-webgpu');
    await expect(notice).toBeVisible();
    await expect(notice).toContainText('--enable-unsafe-webgpu');
    await expect(page.getByTestId('adapter-name')).toContainText('WebGPU unavailable');
    await expect(page.getByTestId('self-test')).toHaveCount(0);
  } finally {
    await browser.close();
  }
});
