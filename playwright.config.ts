import { defineConfig } from '@playwright/test';
import { chromiumPath, QUIET_FLAGS, WEBGPU_FLAGS } from './e2e/chromium';

const PORT = Number(process.env.E2E_PORT ?? 5199);

export default defineConfig({
  testDir: 'e2e',
  // SwiftShader shares two cores with the dev server: one test at a time.
  workers: 1,
  // One retry in CI absorbs a rare timing flake on a loaded machine; a retried test is still reported as flaky.
  retries: process.env.CI ? 1 : 0,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  reporter: process.env.CI ? [['list']] : [['list'], ['html', { open: 'never' }]],
  outputDir: 'test-results',
  webServer: {
    command: `npx vite --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
  },
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: chromiumPath(),
      args: [...WEBGPU_FLAGS, ...QUIET_FLAGS],
    },
  },
});
