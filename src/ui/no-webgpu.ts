import type { ErrorCode } from '../worker/api';
import { h } from './dom';

const HEADLINES: Partial<Record<ErrorCode, string>> = {
  'no-webgpu': 'This browser does not offer WebGPU.',
  'no-adapter': 'WebGPU is switched on, but no GPU adapter is available.',
  'device-failed': 'The GPU refused to start a WebGPU device.',
};

/** The message a person sees instead of a silent failure, with what to do. */
export function noWebGpuNotice(code: ErrorCode, detail: string): HTMLElement {
  return h(
    'section',
    { class: 'panel notice', 'data-testid': 'no-webgpu' },
    h('h2', {}, HEADLINES[code] ?? 'WebGPU could not be started.'),
    h('p', {}, 'Models run on your GPU through WebGPU, so nothing can run until it is available. To fix it:'),
    h(
      'ul',
      {},
      h('li', {}, 'Use a current Chrome, Edge or Chromium (version 113 or later), Safari 26 or later, or Firefox 141 or later on Windows.'),
      h('li', {}, 'On Linux, start Chromium with ', h('code', {}, '--enable-unsafe-webgpu'), ' (or turn on chrome://flags/#enable-unsafe-webgpu) and reload.'),
      h('li', {}, 'Check that hardware acceleration is on in the browser settings and that chrome://gpu lists WebGPU as available.'),
      h('li', {}, 'Open the app over https or from 127.0.0.1/localhost: WebGPU needs a secure context.'),
    ),
    h('p', { class: 'muted' }, `Details: ${detail}`),
  );
}
