/**
 * The VlmApi implementation. It runs in the worker in the app, and directly
 * (or over a MessageChannel) in Node tests, so it takes the GPU entry point as
 * an argument instead of reading navigator.gpu.
 */
import { Rng } from '../data/random';
import { acquireGpu, adapterName, type Gpu } from '../webgpu/device';
import { elementwise } from '../webgpu/kernels/elementwise';
import { elementwiseRef } from '../webgpu/reference/elementwise';
import { GpuRuntime } from '../webgpu/runtime';
import { worstElement } from '../webgpu/verify/compare';
import { runKernel } from '../webgpu/verify/run-kernel';
import { TOLERANCE } from '../webgpu/verify/tolerance';
import type {
  CachedModel,
  ChatImage,
  ChatReply,
  ChatRequest,
  GroundReply,
  DownloadProgress,
  DownloadRequest,
  DocumentAnswer,
  DocumentEvent,
  DocumentFile,
  DocumentQuestion,
  DocumentResult,
  EvalQuestionsReply,
  EvalQuestionsRequest,
  EvaluationEvent,
  EvaluationRequest,
  EvaluationResult,
  SavedEvaluation,
  UnfinishedEvaluation,
  GoldenCheckResult,
  GpuInfo,
  GpuMemory,
  JobOptions,
  GroundedObject,
  ImageSize,
  KernelCheckResult,
  LoadedModel,
  LoadModelOptions,
  ModelListing,
  OcrDocumentOptions,
  OcrImageInput,
  PageResult,
  ReadImage,
  SelfTestResult,
  VlmApi,
} from './api';
import type { AdapterState, FinetuneDataset, FinetuneEvent, FinetuneRunInfo, FinetuneSettings, GenerateRequest, LoraGradientCheck, PeftFiles, TeacherEvent, TeacherRequest } from './finetune-api';
import { finetuneGenerate } from './jobs/finetune-generate';
import { teacherWrite } from './jobs/teacher';
import type { LlavaRecord } from '../data/llava';
import { FINETUNE_DB, FINETUNE_STORE } from './jobs/finetune/checkpoint-store';
import { FinetuneService } from './jobs/finetune/finetune-service';
import { nativeFinetuneModel } from './jobs/finetune/native-model';
import { loadedLoraGradientCheck } from './jobs/lora-gradient-check';
import { groundingQuestion, parseGrounding } from '../models/grounding';
import { askDocument } from './jobs/document-question';
import type { DocumentJobs, PageReader } from './jobs/documents';
import { florenceReader } from './jobs/florence-ocr';
import { runKernelChecks } from './jobs/kernel-checks';
import { evalQuestions } from './jobs/eval-questions';
import { EvaluationJob } from './jobs/evaluate';
import { JobQueue } from './jobs/job-queue';
import { MODELS_BASE, ModelSession } from './jobs/model-session';
import { ModelLibrary } from './cache/model-library';
import type { ProgressFn } from './cache/progress';
import { prepareTransformersFiles } from './cache/transformers-files';
import type { TjsDtype } from '../models/transformers/families';
import { WeightCache } from './cache/weight-cache';
import { idbKv, memoryKv, type KvStore } from './cache/kv';
import { VlmError } from './errors';

/** f32 addition is exact to rounding on both sides; allow one ulp-scale slack. */
const SELF_TEST_TOLERANCE = TOLERANCE.f32Exact;
const SAMPLE = 4;
/** Finished evaluations live in their own database, apart from the weights. */
const EVALUATIONS_DB = 'webvlm-evaluations';
const EVALUATIONS_STORE = 'runs';

/** A Comlink proxy returns a promise per call; progress must not wait on the page. */
function fireAndForget(onProgress?: (progress: DownloadProgress) => void): ProgressFn | undefined {
  return onProgress && ((p) => void onProgress(p));
}

export class Engine implements VlmApi {
  private started: Promise<GpuRuntime> | null = null;
  /** pdf.js and the OCR models load on first use: most sessions never open a document. */
  private documentJobs: Promise<DocumentJobs> | null = null;
  private readonly model = new ModelSession(() => this.runtime());
  /** Every job that uses the model or the GPU goes through here (see job-queue.ts for who waits and who is refused). */
  private readonly jobs = new JobQueue();
  /** The load under way or waiting, so the same load asked twice runs once. */
  private pendingLoad: { key: string; done: Promise<LoadedModel> } | null = null;
  private readonly library: ModelLibrary;
  private readonly evaluation: EvaluationJob;
  /** LoRA runs and the loaded model's adapter (jobs/finetune/). */
  private readonly finetune: FinetuneService;

  /** `weights`: the weight cache (IndexedDB in a browser, a Map in Node unless a test passes one). */
  constructor(
    private readonly getGpu: () => GPU | undefined,
    weights: WeightCache = new WeightCache(),
    evaluations: KvStore = typeof indexedDB === 'undefined' ? memoryKv() : idbKv(EVALUATIONS_DB, EVALUATIONS_STORE),
    checkpoints: KvStore = typeof indexedDB === 'undefined' ? memoryKv() : idbKv(FINETUNE_DB, FINETUNE_STORE),
  ) {
    this.library = new ModelLibrary(weights, () => this.adapterFeatures(), MODELS_BASE);
    this.evaluation = new EvaluationJob({
      chat: (request) => this.model.chat(request),
      stopChat: () => this.model.stopChat(),
      loaded: () => this.model.info(),
      store: evaluations,
    });
    this.finetune = new FinetuneService({ jobs: this.jobs, model: () => nativeFinetuneModel(this.model.info(), this.model.nativeVlm(), this.model.chatModel()), loaded: () => this.model.info(), checkpoints });
  }

  private async adapterFeatures(): Promise<ReadonlySet<string>> {
    const { features } = (await this.runtime()).gpu.report;
    return new Set(Object.entries(features).flatMap(([name, has]) => (has ? [name] : [])));
  }

  async info(): Promise<GpuInfo> {
    const runtime = await this.runtime();
    return { report: runtime.gpu.report, name: adapterName(runtime.gpu.report) };
  }

  async selfTest(n = 1000, seed = 1): Promise<SelfTestResult> {
    if (!Number.isInteger(n) || n < 1) throw new VlmError('bad-input', `selfTest needs a positive element count, got ${n}`);
    const runtime = await this.runtime();
    const rng = new Rng(seed);
    const a = rng.floats(n);
    const b = rng.floats(n);
    const t0 = performance.now();
    const [gpu = new Float32Array()] = await runKernel(runtime, elementwise, [{ data: a, shape: [n] }, { data: b, shape: [n] }], [{ shape: [n] }], { op: 'add', n });
    const ms = performance.now() - t0;
    const cpu = elementwiseRef('add', a, b);
    const maxAbsError = worstElement(gpu, cpu, 'absolute').absError;
    const head = (x: Float32Array) => Array.from(x.subarray(0, SAMPLE));
    return {
      kernel: 'elementwise.add',
      n,
      maxAbsError,
      tolerance: SELF_TEST_TOLERANCE,
      passed: maxAbsError <= SELF_TEST_TOLERANCE,
      sample: { a: head(a), b: head(b), gpu: head(gpu), cpu: head(cpu) },
      ms,
    };
  }

  async kernelChecks(): Promise<KernelCheckResult[]> {
    return runKernelChecks(await this.runtime());
  }

  loadModel(id: string, options: LoadModelOptions, onProgress?: (progress: DownloadProgress) => void): Promise<LoadedModel> {
    const key = JSON.stringify([id, options.engine, options.dtype ?? 'f32', options.hubUrl ?? '', options.device ?? '']);
    if (this.pendingLoad?.key === key) return this.pendingLoad.done;
    const done = this.jobs.submit('load', {}, async () => {
      // The bundled model (no org/ in its id) is served with the app in transformers.js's layout: nothing to fetch into the cache.
      if (options.engine === 'transformers' && !id.includes('/')) return this.model.loadBundledTransformers(id, options);
      if (options.engine === 'transformers') {
        const request = { features: await this.adapterFeatures().catch(() => new Set<string>()), ...(options.dtype ? { dtype: options.dtype as TjsDtype } : {}), ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}) };
        return this.model.loadTransformers(id, await prepareTransformersFiles(this.library.cache, id, request, fireAndForget(onProgress)), options.device);
      }
      const files = await this.library.filesFor(id, options.engine, options.hubUrl, fireAndForget(onProgress));
      return this.model.load(id, options, files);
    });
    const pending = { key, done };
    this.pendingLoad = pending;
    const clear = () => {
      if (this.pendingLoad === pending) this.pendingLoad = null;
    };
    done.then(clear, clear);
    return done;
  }

  listModels(): Promise<ModelListing[]> {
    return this.library.listModels();
  }

  cacheList(): Promise<CachedModel[]> {
    return this.library.cacheList();
  }

  cacheDelete(id: string): Promise<number> {
    return this.library.cacheDelete(id);
  }

  downloadModel(id: string, request?: DownloadRequest, onProgress?: (progress: DownloadProgress) => void): Promise<CachedModel> {
    return this.library.download(id, request, fireAndForget(onProgress));
  }

  async loadedModel(): Promise<LoadedModel | null> {
    return this.model.info();
  }

  chat(request: ChatRequest, onText?: (piece: string) => void, options: JobOptions = {}): Promise<ChatReply> {
    return this.jobs.submit('answer', { id: options.jobId }, (signal) => this.model.chat(request, onText, signal));
  }

  ground(image: ChatImage, phrase: string, options: JobOptions = {}): Promise<GroundReply> {
    return this.jobs.submit('answer', { id: options.jobId }, (signal) => this.model.ground(image, phrase, signal));
  }

  async groundingQuestion(phrase: string): Promise<string | null> {
    return groundingQuestion(phrase);
  }

  async parseGrounding(text: string, imageSize: ImageSize): Promise<GroundedObject[]> {
    return parseGrounding(text, imageSize);
  }

  askDocument(request: DocumentQuestion, onText?: (piece: string) => void, options: JobOptions = {}): Promise<DocumentAnswer> {
    return this.jobs.submit('answer', { id: options.jobId }, (signal) => askDocument((r) => this.model.chat(r, onText, signal), this.model.pageModel(), request));
  }

  async stopChat(jobId?: string): Promise<boolean> {
    return this.jobs.stop('answer', jobId);
  }

  unloadModel(): Promise<void> {
    return this.jobs.submit('load', {}, () => this.model.unload());
  }

  async gpuMemory(): Promise<GpuMemory> {
    if (!this.started) return { bytesHeld: 0, peakBytes: 0, buffersCreated: 0 };
    const m = (await this.runtime()).memory();
    return { bytesHeld: m.bytesHeld, peakBytes: m.peakBytes, buffersCreated: m.created };
  }

  evalQuestions(request: EvalQuestionsRequest, onProgress?: (done: number, total: number) => void): Promise<EvalQuestionsReply> {
    return this.jobs.submit('answer', {}, (signal) => evalQuestions({ chat: (r) => this.model.chat(r, undefined, signal) }, request, onProgress));
  }

  evaluate(request: EvaluationRequest, readImage?: ReadImage, onEvent?: (event: EvaluationEvent) => void): Promise<EvaluationResult> {
    // A Comlink proxy returns a promise per call; progress must not wait on the page.
    return this.evaluationJob((signal) => this.evaluation.run(request, readImage, onEvent && ((e) => void onEvent(e)), signal));
  }

  /** An evaluation holds the model for its whole run; a load that replaces the model stops it, keeping what was scored. */
  private evaluationJob(run: (signal: AbortSignal) => Promise<EvaluationResult>): Promise<EvaluationResult> {
    return this.jobs.submit('evaluation', {}, (signal) => run(signal));
  }

  async stopEvaluation(): Promise<boolean> {
    return this.evaluation.stop();
  }

  lastEvaluation(): Promise<EvaluationResult | null> {
    return this.evaluation.last();
  }

  savedEvaluations(): Promise<SavedEvaluation[]> {
    return this.evaluation.list();
  }

  savedEvaluation(id: string): Promise<EvaluationResult | null> {
    return this.evaluation.get(id);
  }

  deleteEvaluation(id: string): Promise<boolean> {
    return this.evaluation.delete(id);
  }

  unfinishedEvaluation(): Promise<UnfinishedEvaluation | null> {
    return this.evaluation.unfinished();
  }

  resumeEvaluation(imageNames: string[], readImage?: ReadImage, onEvent?: (event: EvaluationEvent) => void): Promise<EvaluationResult> {
    return this.evaluationJob((signal) => this.evaluation.resume(imageNames, readImage, onEvent && ((e) => void onEvent(e)), signal));
  }

  goldenCheck(id: string, options: LoadModelOptions): Promise<GoldenCheckResult> {
    return this.jobs.submit('load', { needs: ['model', 'gpu'] }, () => this.model.goldenCheck(id, options));
  }

  ocrImage(image: OcrImageInput, options: Pick<OcrDocumentOptions, 'jobId' | 'backend' | 'engine'> = {}): Promise<PageResult> {
    return this.ocrJob(options, async (signal, reader) => (await this.documents()).image(image, options, signal, reader));
  }

  ocrDocument(file: DocumentFile, options: OcrDocumentOptions = {}, onEvent?: (event: DocumentEvent) => void): Promise<DocumentResult> {
    // A Comlink proxy returns a promise; progress is fire-and-forget.
    return this.ocrJob(options, async (signal, reader) => (await this.documents()).run(file, options, (e) => void onEvent?.(e), signal, reader));
  }

  /**
   * Documents wait their turn, in the order they came; a second job with the
   * same id stops the first. Read by Florence-2, a job holds the model too, and
   * the reader is made when its turn comes, from the model loaded then.
   */
  private ocrJob<T>(options: Pick<OcrDocumentOptions, 'jobId' | 'engine'>, run: (signal: AbortSignal, reader?: PageReader) => Promise<T>): Promise<T> {
    const { jobId } = options;
    if (jobId !== undefined) this.jobs.cancel(jobId);
    if (options.engine !== 'florence-2') return this.jobs.submit('ocr', { id: jobId }, (signal) => run(signal));
    return this.jobs.submit('ocr', { id: jobId, needs: ['model', 'gpu'] }, (signal) => run(signal, florenceReader(this.model.info(), (r, s) => this.model.chat(r, undefined, s))));
  }

  finetuneGenerate(request: GenerateRequest, onProgress?: (done: number, total: number) => void): Promise<FinetuneDataset> {
    // CPU work on the generator alone: no model, no GPU, nothing to queue behind.
    return finetuneGenerate(request, onProgress && ((done, total) => void onProgress(done, total)));
  }

  teacherWrite(request: TeacherRequest, onEvent?: (event: TeacherEvent) => void): Promise<LlavaRecord[]> {
    const events = onEvent && ((e: TeacherEvent) => void onEvent(e));
    // An endpoint needs no model and no GPU; the loaded model answers as a chat job, in turn with the others.
    if (request.source.kind === 'endpoint') return teacherWrite(request, events);
    return this.jobs.submit('answer', {}, (signal) => teacherWrite(request, events, { session: this.model, signal }));
  }

  finetuneStart(dataset: FinetuneDataset, settings: FinetuneSettings, onEvent?: (event: FinetuneEvent) => void): Promise<FinetuneRunInfo> {
    return this.finetune.start(dataset, settings, onEvent);
  }

  finetunePause(): Promise<boolean> {
    return this.finetune.pause();
  }

  finetuneCancel(): Promise<boolean> {
    return this.finetune.cancel();
  }

  finetuneResume(onEvent?: (event: FinetuneEvent) => void): Promise<FinetuneRunInfo> {
    return this.finetune.resume(onEvent);
  }

  finetuneSaved(): Promise<FinetuneRunInfo | null> {
    return this.finetune.saved();
  }

  finetuneDiscard(): Promise<void> {
    return this.finetune.discard();
  }

  adapterState(): Promise<AdapterState | null> {
    return this.finetune.state();
  }

  adapterApply(applied: boolean): Promise<AdapterState> {
    return this.finetune.apply(applied);
  }

  adapterMerge(): Promise<AdapterState> {
    return this.finetune.merge();
  }

  adapterExport(): Promise<PeftFiles> {
    return this.finetune.export();
  }

  adapterImport(files: PeftFiles): Promise<AdapterState> {
    return this.finetune.import(files);
  }

  loraGradientCheck(): Promise<LoraGradientCheck> {
    return this.jobs.submit('evaluation', {}, () => loadedLoraGradientCheck(this.model.info(), this.model.nativeVlm(), MODELS_BASE));
  }

  async cancel(jobId: string): Promise<boolean> {
    return this.jobs.cancel(jobId);
  }

  private documents(): Promise<DocumentJobs> {
    this.documentJobs ??= import('./jobs/documents').then((m) => new m.DocumentJobs());
    return this.documentJobs;
  }

  /** The runtime, created on first use and again after a lost device. */
  private runtime(): Promise<GpuRuntime> {
    if (!this.started) {
      const started = acquireGpu(this.getGpu()).then((gpu: Gpu) => {
        void gpu.lost.then(() => {
          if (this.started === started) this.started = null;
        });
        return new GpuRuntime(gpu);
      });
      // A failed start is not cached: the user may enable WebGPU and retry.
      started.catch(() => {
        if (this.started === started) this.started = null;
      });
      this.started = started;
    }
    return this.started;
  }
}
