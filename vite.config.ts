import { defineConfig } from 'vitest/config';

// Cross-origin isolation (COOP/COEP) gives the page SharedArrayBuffer and
// high-resolution timers, which onnxruntime-web's threaded wasm and our
// benchmarks rely on.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// Dawn's Vulkan backend needs an ICD; Debian's chromium ships SwiftShader's.
const swiftShaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';

export default defineConfig({
  // Caches (lavapipe, training runs) and the Python tools hold many files the app never imports.
  server: { host: '127.0.0.1', headers: isolationHeaders, watch: { ignored: ['**/.cache/**', '**/tools/**', '**/test-results/**'] } },
  preview: { host: '127.0.0.1', headers: isolationHeaders },
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
