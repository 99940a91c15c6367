import { startEngine } from '../worker/client';
import { VlmError } from '../worker/errors';
import { h } from './dom';
import { kernelChecksPanel } from './kernel-checks-panel';
import { noWebGpuNotice } from './no-webgpu';
import { selfTestPanel } from './self-test-panel';
import { showAdapter, showUnavailable } from './status-bar';

const GPU_CODES = new Set(['no-webgpu', 'no-adapter', 'device-failed']);

async function boot(): Promise<void> {
  const app = document.getElementById('app');
  const bar = document.getElementById('status-bar');
  if (!app || !bar) throw new Error('index.html is missing #app or #status-bar');
  const { api } = startEngine();
  try {
    const info = await api.info();
    showAdapter(bar, info);
    app.replaceChildren(selfTestPanel(await api.selfTest()), kernelChecksPanel(api));
  } catch (err) {
    if (err instanceof VlmError && GPU_CODES.has(err.code)) {
      showUnavailable(bar, err.code);
      app.replaceChildren(noWebGpuNotice(err.code, err.message));
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    app.replaceChildren(h('section', { class: 'panel notice', 'data-testid': 'engine-error' }, h('h2', {}, 'The engine failed'), h('p', {}, message)));
  }
}

void boot();
