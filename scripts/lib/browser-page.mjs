// Serves the app with Vite and opens one page of it in headless Chromium with
// WebGPU, for benchmark and tool scripts that run inside the browser.
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function findChromium() {
  const path = process.env.CHROME_PATH ?? CANDIDATES.find((p) => existsSync(p));
  if (!path || !existsSync(path)) {
    throw new Error('No Chromium found: install it with "sudo apt-get install -y chromium" or set CHROME_PATH.');
  }
  return path;
}

/**
 * Runs fn(page) on `path` of a fresh dev server; always closes both. The
 * server does not watch the files: an edit elsewhere in the tree during a long
 * run would reload the page and lose it, and a run should measure one version.
 */
export async function withAppPage(path, fn, { port = 5310, log = false } = {}) {
  const server = await createServer({ server: { host: '127.0.0.1', port, strictPort: false, watch: null, hmr: false }, logLevel: 'error' });
  await server.listen();
  const url = new URL(path, server.resolvedUrls?.local[0] ?? `http://127.0.0.1:${port}/`).href;
  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: ['--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (log || m.type() === 'error') console.error(`[page] ${m.text()}`);
    });
    page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
    await page.goto(url);
    return await fn(page);
  } finally {
    await browser.close();
    await server.close();
  }
}

/** Runs one suite of bench.html to its end (options as withAppPage's): the table it printed, the result it left on window and that result's JSON text (the Benchmark view's Download). */
export function runBenchPage(params, options = {}) {
  return withAppPage(`/bench.html?${new URLSearchParams(params)}`, async (page) => {
    await page.waitForFunction(() => window.benchResult || window.benchError, null, { timeout: 30 * 60_000, polling: 1000 });
    const error = await page.evaluate(() => window.benchError);
    if (error) throw new Error(`benchmark failed in the page: ${error}`);
    return {
      table: await page.textContent('#bench-table'),
      result: await page.evaluate(() => window.benchResult),
      json: await page.evaluate(() => window.benchJson),
    };
  }, options);
}
