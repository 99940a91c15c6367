import * as Comlink from 'comlink';
import { startEngine } from '../worker/client';
import { VlmError } from '../worker/client';
import { chatPage, type ChatPage } from './chat/chat-page';
import { h } from './dom';
import { documentsPage, type DocumentsPage } from './documents-page';
import { engineNotice } from './engine-notice';
import { evaluatePage, type EvaluatePage } from './evaluate-page';
import { finetunePage, type FinetunePage } from './finetune/finetune-page';
import { kernelChecksPanel } from './kernel-checks-panel';
import { noWebGpuNotice } from './no-webgpu';
import { selfTestPanel } from './self-test-panel';
import { showAdapter, showEngineRestarted, showEngineStopped, showUnavailable } from './status-bar';

const GPU_CODES = new Set(['no-webgpu', 'no-adapter', 'device-failed']);

type View = 'chat' | 'gpu' | 'documents' | 'evaluate' | 'finetune' | 'bench';

const VIEWS: readonly View[] = ['chat', 'gpu', 'documents', 'evaluate', 'finetune', 'bench'];

/**
 * Views in one page, switched by the header tabs and the URL hash (#chat,
 * #gpu, #documents, #evaluate, #finetune, #bench), so a link or a reload lands on the same view;
 * Chat is the default. Chat, Documents, Evaluate, Fine-tune and Benchmark are built on first visit
 * (the Chat view then loads the bundled model); all share the one engine
 * worker. The Benchmark view's code is fetched only when its tab is opened.
 * Notices that concern every view (no WebGPU) go above the views.
 */
interface Views {
  gpu: HTMLElement;
  notices: HTMLElement;
  /** The engine worker died: views that show a loaded model forget it (asking the fresh worker, if one was started). */
  engineStopped(message: string, restarted: boolean): void;
  /** Loads Chat's model again (the one the dead worker held), opening Chat if it was never opened. */
  reloadModel(): void;
}

function setUpViews(root: HTMLElement, api: ReturnType<typeof startEngine>['api']): Views {
  const notices = h('div', { class: 'notices' });
  const chat = h('div', { 'data-testid': 'chat-view', hidden: '' });
  const gpu = h('div', { 'data-testid': 'gpu-view', hidden: '' });
  const docs = h('div', { 'data-testid': 'documents-view', hidden: '' });
  const evaluate = h('div', { 'data-testid': 'evaluate-view', hidden: '' });
  const finetune = h('div', { 'data-testid': 'finetune-view', hidden: '' });
  const bench = h('div', { 'data-testid': 'bench-view', hidden: '' });
  root.replaceChildren(notices, chat, gpu, docs, evaluate, finetune, bench);
  const tabs = document.querySelectorAll<HTMLAnchorElement>('[data-view]');
  let chatView: ChatPage | null = null;
  let docsView: DocumentsPage | null = null;
  let evalView: EvaluatePage | null = null;
  let finetuneView: FinetunePage | null = null;
  let benchStarted = false;
  const show = (view: View) => {
    if (view === 'documents' && !docsView) {
      docsView = documentsPage(api);
      docs.append(docsView.element);
    }
    if (view === 'chat' && !chatView) {
      chatView = chatPage(api);
      chat.append(chatView.element);
    }
    if (view === 'evaluate' && !evalView) {
      evalView = evaluatePage(api);
      evaluate.append(evalView.element);
    }
    if (view === 'finetune' && !finetuneView) {
      finetuneView = finetunePage(api);
      finetune.append(finetuneView.element);
    }
    if (view === 'bench' && !benchStarted) {
      benchStarted = true;
      void mountBenchView(bench, api);
    }
    chat.hidden = view !== 'chat';
    gpu.hidden = view !== 'gpu';
    docs.hidden = view !== 'documents';
    evaluate.hidden = view !== 'evaluate';
    finetune.hidden = view !== 'finetune';
    bench.hidden = view !== 'bench';
    if (view === 'chat') chatView?.activate();
    if (view === 'documents') docsView?.activate();
    if (view === 'evaluate') evalView?.activate();
    if (view === 'finetune') finetuneView?.activate();
    for (const t of tabs) t.setAttribute('aria-current', t.dataset.view === view ? 'page' : 'false');
  };
  const fromHash = (): View => VIEWS.find((v) => location.hash === `#${v}`) ?? 'chat';
  window.addEventListener('hashchange', () => show(fromHash()));
  show(fromHash());
  return {
    gpu,
    notices,
    engineStopped(message, restarted) {
      chatView?.engineStopped(message);
      if (!restarted) return;
      // Documents and Evaluate read the loaded model again (none, now) as when they are shown.
      docsView?.activate();
      evalView?.activate();
      finetuneView?.activate();
    },
    reloadModel() {
      if (chatView) chatView.reloadModel();
      // Chat's first visit loads its model.
      else location.hash = '#chat';
    },
  };
}

/** The Benchmark view, imported on first visit: it brings onnxruntime-web and the kernel cases into the page. */
async function mountBenchView(host: HTMLElement, api: ReturnType<typeof startEngine>['api']): Promise<void> {
  host.replaceChildren(h('p', { class: 'panel' }, 'Loading the benchmark…'));
  try {
    const { benchView } = await import('../bench/bench-view');
    host.replaceChildren(benchView(api));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    host.replaceChildren(h('section', { class: 'panel notice' }, h('h2', {}, 'The benchmark failed to load'), h('p', {}, message)));
  }
}

/** The adapter in the status bar and the GPU check; false when the engine worker died meanwhile (worth a retry). */
async function describeEngine(api: ReturnType<typeof startEngine>['api'], bar: HTMLElement, app: HTMLElement, notices: HTMLElement): Promise<boolean> {
  try {
    const info = await api.info();
    showAdapter(bar, info);
    app.replaceChildren(selfTestPanel(await api.selfTest()), kernelChecksPanel(api));
    return true;
  } catch (err) {
    if (err instanceof VlmError && GPU_CODES.has(err.code)) {
      showUnavailable(bar, err.code);
      notices.replaceChildren(noWebGpuNotice(err.code, err.message));
      return true;
    }
    const message = err instanceof Error ? err.message : String(err);
    app.replaceChildren(h('section', { class: 'panel notice', 'data-testid': 'engine-error' }, h('h2', {}, 'The engine failed'), h('p', {}, message)));
    return !(err instanceof VlmError && err.code === 'worker-crashed');
  }
}

/**
 * When the engine worker dies the supervisor starts a fresh one: the status
 * bar and a notice say what happened and offer to load the model again;
 * Chat's picker forgets the model. Pending calls end with 'worker-crashed'
 * in each view by themselves. The GPU check is redone once a fresh worker is
 * up if the first one died before it finished.
 */
function superviseEngine(engine: ReturnType<typeof startEngine>, bar: HTMLElement, views: Views): void {
  let described = describeEngine(engine.api, bar, views.gpu, views.notices);
  engine.supervisor.onCrash((report) => {
    showEngineStopped(bar, report.kind === 'failed-to-start', report.restarted);
    views.notices.replaceChildren(engineNotice(report, views.reloadModel));
    views.engineStopped(report.message, report.restarted);
  });
  engine.supervisor.onReady(() => {
    showEngineRestarted(bar);
    void described.then((done) => {
      if (!done) described = describeEngine(engine.api, bar, views.gpu, views.notices);
    });
  });
}

function boot(): void {
  const root = document.getElementById('app');
  const bar = document.getElementById('status-bar');
  if (!root || !bar) throw new Error('index.html is missing #app or #status-bar');
  const engine = startEngine();
  // The worker API on window, and the worker alive now: for the devtools console, scripts and the e2e specs.
  (window as unknown as { vlm: typeof engine.api }).vlm = engine.api;
  // Callbacks handed to window.vlm from a script (progress, training events) must be wrapped by this.
  (window as unknown as { vlmProxy: typeof Comlink.proxy }).vlmProxy = Comlink.proxy;
  Object.defineProperty(window, 'vlmWorker', { configurable: true, get: () => engine.supervisor.worker });
  superviseEngine(engine, bar, setUpViews(root, engine.api));
}

boot();
