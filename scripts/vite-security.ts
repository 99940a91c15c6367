/**
 * The app's security headers, defined once: a Content-Security-Policy that
 * lets only the app's own scripts run (plus WebAssembly compilation, which
 * onnxruntime-web needs), and the cross-origin isolation (COOP/COEP) that
 * gives ORT's threaded wasm its SharedArrayBuffer.
 *
 * The dev and preview servers send them as headers. The build puts the policy
 * in every page as a <meta> (so a host that sets no headers still enforces it
 * in the pages) and writes a `_headers` file (Netlify / Cloudflare Pages
 * format) with all of them, because COOP and COEP cannot be set by a <meta>.
 *
 * connect-src is fixed when the page is served: it names the Hugging Face hub
 * and its CDNs. A build meant to download from another hub lists that origin
 * in WEBVLM_CONNECT_SRC (space-separated) at build time; the dev server also
 * allows any local origin, where test and mirror hubs run.
 *
 * The Fine-tune view's teacher endpoint (an OpenAI-compatible server the
 * person names) is no exception: its origin must be in WEBVLM_CONNECT_SRC
 * for a build (the dev server already lets 127.0.0.1 and localhost through).
 * connect-src is not widened to every http(s) origin for it: that list is
 * what stops an injected script from sending images or a key anywhere, and a
 * URL typed into the page cannot change a policy fixed when it was served.
 * The teacher's error names WEBVLM_CONNECT_SRC when a request cannot leave.
 */
import type { Plugin } from 'vite';

export const HUB_ORIGINS = ['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co'];
/** Hubs a developer runs on this machine (and the e2e hub server): allowed by the dev server only. */
const LOCAL_ORIGINS = ['http://127.0.0.1:*', 'http://localhost:*'];

export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

export type PolicyMode = 'dev' | 'build';

export function extraConnectOrigins(env: string | undefined = process.env.WEBVLM_CONNECT_SRC): string[] {
  return (env ?? '').split(/\s+/).filter((o) => /^(https?|wss?):\/\/[^\s;,'"]+$/.test(o));
}

/** The policy as one header value; `frame-ancestors` is dropped for a <meta>, which cannot carry it. */
export function contentSecurityPolicy(mode: PolicyMode, extraConnect: readonly string[] = extraConnectOrigins(), forMeta = false): string {
  const connect = ["'self'", 'blob:', 'data:', ...HUB_ORIGINS, ...extraConnect, ...(mode === 'dev' ? [...LOCAL_ORIGINS, 'ws://127.0.0.1:*', 'ws://localhost:*'] : [])];
  const directives: [string, string[]][] = [
    ['default-src', ["'self'"]],
    // No inline script and no eval: a script that slips into the page (an SVG, an injected attribute) cannot run.
    ['script-src', ["'self'", "'wasm-unsafe-eval'"]],
    // ORT and pdf.js start their workers from same-origin files; blob: covers a library that wraps one in a blob.
    ['worker-src', ["'self'", 'blob:']],
    // Vite's dev server injects CSS as <style>, and the views set a few style attributes; styles cannot run script.
    ['style-src', ["'self'", "'unsafe-inline'"]],
    ['img-src', ["'self'", 'blob:', 'data:']],
    ['font-src', ["'self'", 'data:']],
    ['connect-src', connect],
    ['object-src', ["'none'"]],
    ['base-uri', ["'self'"]],
    ['form-action', ["'self'"]],
    ...(forMeta ? [] : ([['frame-ancestors', ["'none'"]]] as [string, string[]][])),
  ];
  return directives.map(([name, values]) => `${name} ${values.join(' ')}`).join('; ');
}

export function securityHeaders(mode: PolicyMode): Record<string, string> {
  return { ...isolationHeaders, 'Content-Security-Policy': contentSecurityPolicy(mode), 'X-Content-Type-Options': 'nosniff' };
}

/** `_headers` for static hosts that read it: every header, on every path. */
export function headersFile(): string {
  const lines = Object.entries(securityHeaders('build')).map(([k, v]) => `  ${k}: ${v}`);
  return `/*\n${lines.join('\n')}\n`;
}

/** Puts the build's policy into every page and writes `_headers` beside them. */
export function buildSecurity(): Plugin {
  return {
    name: 'webvlm-security',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy('build', extraConnectOrigins(), true) }, injectTo: 'head-prepend' }],
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: '_headers', source: headersFile() });
    },
  };
}
