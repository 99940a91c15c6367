/**
 * Debian's Chromium (or CHROME_PATH) with the flags WebGPU needs headless.
 * Playwright never downloads a browser here; it drives this one.
 */
import { existsSync } from 'node:fs';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string | undefined {
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

/** Flags that keep a headless Chromium quiet on a machine with no outside network. */
export const QUIET_FLAGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu'];
