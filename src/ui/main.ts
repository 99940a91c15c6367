import { startEngine } from '../worker/client';
import { VlmError } from '../worker/client';
import { chatPage, type ChatPage } from './chat/chat-page';
import { h } from './dom';
import { documentsPage, type DocumentsPage } from './documents-page';
import { kernelChecksPanel } from './kernel-checks-panel';
import { noWebGpuNotice } from './no-webgpu';
import { selfTestPanel } from './self-test-panel';
import { showAdapter, showUnavailable } from './status-bar';

const GPU_CODES = new Set(['no-webgpu', 'no-adapter', 'device-failed']);

type View = 'chat' | 'gpu' | 'documents';

/**
 * Three views in one page, switched by the header tabs and the URL hash
 * (#chat, #gpu, #documents), so a link or a reload lands on the same view;
 * Chat is the default. Chat and Documents are built on first visit (the Chat
 * view then loads the bundled model); all share the one engine worker.
 * Notices that concern every view (no WebGPU) go above the views.
 */
function setUpViews(root: HTMLElement, api: ReturnType<typeof startEngine>['api']): { gpu: HTMLElement; notices: HTMLElement } {
  const notices = h('div', { class: 'notices' });
  const chat = h('div', { 'data-testid': 'chat-view', hidden: '' });
  const gpu = h('div', { 'data-testid': 'gpu-view', hidden: '' });
  const docs = h('div', { 'data-testid': 'documents-view', hidden: '' });
  root.replaceChildren(notices, chat, gpu, docs);
  const tabs = document.querySelectorAll<HTMLAnchorElement>('[data-view]');
  let chatView: ChatPage | null = null;
  let docsView: DocumentsPage | null = null;
  const show = (view: View) => {
    if (view === 'documents' && !docsView) {
      docsView = documentsPage(api);
      docs.append(docsView.element);
    }
    if (view === 'chat' && !chatView) {
      chatView = chatPage(api);
      chat.append(chatView.element);
    }
    chat.hidden = view !== 'chat';
    gpu.hidden = view !== 'gpu';
    docs.hidden = view !== 'documents';
    if (view === 'chat') chatView?.activate();
    if (view === 'documents') docsView?.activate();
    for (const t of tabs) t.setAttribute('aria-current', t.dataset.view === view ? 'page' : 'false');
  };
  const fromHash = (): View => (location.hash === '#documents' ? 'documents' : location.hash === '#gpu' ? 'gpu' : 'chat');
  window.addEventListener('hashchange', () => show(fromHash()));
  show(fromHash());
  return { gpu, notices };
}

async function boot(): Promise<void> {
  const root = document.getElementById('app');
  const bar = document.getElementById('status-bar');
  if (!root || !bar) throw new Error('index.html is missing #app or #status-bar');
  const { api } = startEngine();
  // The worker API on window: for the devtools console, scripts and the e2e specs.
  (window as unknown as { vlm: typeof api }).vlm = api;
  const { gpu: app, notices } = setUpViews(root, api);
  try {
    const info = await api.info();
    showAdapter(bar, info);
    app.replaceChildren(selfTestPanel(await api.selfTest()), kernelChecksPanel(api));
  } catch (err) {
    if (err instanceof VlmError && GPU_CODES.has(err.code)) {
      showUnavailable(bar, err.code);
      notices.replaceChildren(noWebGpuNotice(err.code, err.message));
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    app.replaceChildren(h('section', { class: 'panel notice', 'data-testid': 'engine-error' }, h('h2', {}, 'The engine failed'), h('p', {}, message)));
  }
}

void boot();
