import { defineConfig } from 'vitest/config';
import { runtimeAssets } from './scripts/vite-runtime-assets.ts';
import { buildSecurity, securityHeaders } from './scripts/vite-security.ts';

// Every page gets the Content-Security-Policy and cross-origin isolation
// (COOP/COEP: SharedArrayBuffer and fine timers for ORT's threaded wasm and
// the benchmarks) from scripts/vite-security.ts; the build carries them in a
// <meta> and a _headers file.

// Dawn's Vulkan backend needs an ICD; Debian's chromium ships SwiftShader's.
const swiftShaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';

export default defineConfig({
  // Caches (lavapipe, training runs) and the Python tools hold many files the app never imports.
  server: { host: '127.0.0.1', headers: securityHeaders('dev'), watch: { ignored: ['**/.cache/**', '**/tools/**', '**/test-results/**'] } },
  preview: { host: '127.0.0.1', headers: securityHeaders('build') },
  // Files ORT, the OCR models and pdf.js fetch by URL: served in dev, copied by the build.
  plugins: [runtimeAssets(), buildSecurity()],
  worker: { format: 'es' },
  // The dependency scan starts from the HTML pages and does not enter the
  // engine worker, so these two (imported only there) were found at the
  // first chat and made Vite reload the page mid-run; bundling them up front
  // keeps a fresh server from reloading an open page.
  optimizeDeps: { include: ['@huggingface/transformers', 'fflate'] },
  build: { target: 'es2022' },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Dawn is a native addon; separate processes keep one crash from taking
    // down the other files and avoid sharing it across worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    env: { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? swiftShaderIcd },
  },
});
