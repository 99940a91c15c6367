import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNTIME_ASSETS, runtimeAssetFile } from '../../scripts/vite-runtime-assets';
import { contentSecurityPolicy, headersFile } from '../../scripts/vite-security';

const root = resolve(import.meta.dirname, '../..');

describe('the files libraries fetch at run time', () => {
  it('all exist in the installed packages, so the build can copy them', () => {
    for (const set of RUNTIME_ASSETS) for (const entry of set.entries) expect(existsSync(resolve(root, set.dir, entry)), `${set.dir}/${entry}`).toBe(true);
  });

  it('are served by URL, and nothing outside the listed entries is', () => {
    expect(runtimeAssetFile(root, '/vendor/onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm')).toBe(resolve(root, 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm'));
    expect(runtimeAssetFile(root, '/vendor/pdfjs-dist/standard_fonts/FoxitDingbats.pfb')).toBe(resolve(root, 'node_modules/pdfjs-dist/standard_fonts/FoxitDingbats.pfb'));
    expect(runtimeAssetFile(root, '/vendor/onnxruntime-web/ort.all.mjs')).toBeNull();
    expect(runtimeAssetFile(root, '/vendor/pdfjs-dist/package.json')).toBeNull();
    expect(runtimeAssetFile(root, '/vendor/pdfjs-dist/cmaps/../../../package.json')).toBeNull();
    expect(runtimeAssetFile(root, '/vendor/pdfjs-dist/%2e%2e/%2e%2e/package.json')).toBeNull();
    expect(runtimeAssetFile(root, '/vendor/ocr-models/')).toBeNull();
  });
});

describe('the Content-Security-Policy', () => {
  const directive = (policy: string, name: string) => policy.split('; ').find((d) => d.startsWith(`${name} `));

  it('runs only the app’s own scripts, plus WebAssembly, in dev and in the build', () => {
    for (const mode of ['dev', 'build'] as const) {
      expect(directive(contentSecurityPolicy(mode), 'script-src')).toBe("script-src 'self' 'wasm-unsafe-eval'");
      expect(directive(contentSecurityPolicy(mode), 'object-src')).toBe("object-src 'none'");
    }
  });

  it('lets the build reach the hub and named extra origins only; local hubs only in dev', () => {
    const build = directive(contentSecurityPolicy('build', ['https://mirror.example']), 'connect-src') ?? '';
    expect(build).toContain('https://huggingface.co');
    expect(build).toContain('https://mirror.example');
    expect(build).not.toContain('127.0.0.1');
    expect(directive(contentSecurityPolicy('dev', []), 'connect-src')).toContain('http://127.0.0.1:*');
  });

  it('leaves frame-ancestors out of the <meta> form, and ships every header in _headers', () => {
    expect(contentSecurityPolicy('build', [], true)).not.toContain('frame-ancestors');
    const file = headersFile();
    expect(file.startsWith('/*\n')).toBe(true);
    for (const h of ['Cross-Origin-Opener-Policy: same-origin', 'Cross-Origin-Embedder-Policy: require-corp', "Content-Security-Policy: default-src 'self'", 'frame-ancestors']) expect(file).toContain(h);
  });
});
