import { startEngine } from '../worker/client';
import { VlmError } from '../worker/errors';
import { h } from './dom';
import { documentsPage } from './documents-page';
import { kernelChecksPanel } from './kernel-checks-panel';
import { noWebGpuNotice } from './no-webgpu';
import { selfTestPanel } from './self-test-panel';
import { showAdapter, showUnavailable } from './status-bar';

const GPU_CODES = new Set(['no-webgpu', 'no-adapter', 'device-failed']);

type View = 'gpu' | 'documents';

/**
 * Two views in one page, switched by the header tabs and the URL hash
 * (#documents), so a link or a reload lands on the same view. The Documents
 * view is built on first visit; both share the one engine worker.
 */
function setUpViews(root: HTMLElement, api: ReturnType<typeof startEngine>['api']): HTMLElement {
  const gpu = h('div', { 'data-testid': 'gpu-view' });
  const docs = h('div', { 'data-testid': 'documents-view', hidden: '' });
  root.replaceChildren(gpu, docs);
  const tabs = document.querySelectorAll<HTMLAnchorElement>('[data-view]');
  const show = (view: View) => {
    if (view === 'documents' && docs.childElementCount === 0) docs.append(documentsPage(api));
    gpu.hidden = view !== 'gpu';
    docs.hidden = view !== 'documents';
    for (const t of tabs) t.setAttribute('aria-current', t.dataset.view === view ? 'page' : 'false');
  };
  const fromHash = (): View => (location.hash === '#documents' ? 'documents' : 'gpu');
  window.addEventListener('hashchange', () => show(fromHash()));
  show(fromHash());
  return gpu;
}

async function boot(): Promise<void> {
  const root = document.getElementById('app');
  const bar = document.getElementById('status-bar');
  if (!root || !bar) throw new Error('index.html is missing #app or #status-bar');
  const { api } = startEngine();
  // The worker API on window: for the devtools console, scripts and the e2e specs.
  (window as unknown as { vlm: typeof api }).vlm = api;
  const app = setUpViews(root, api);
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
