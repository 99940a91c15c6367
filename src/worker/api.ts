/**
 * The one typed interface between the page and the engine in the worker.
 * The worker implements it (engine.ts), the page gets it through Comlink
 * (client.ts). Every method may reject with a VlmError ({code, message}).
 */
import type { OcrEngine, PageResult } from '../documents/types';
import type { OcrBackend } from '../ocr/browser-models';
import type { AdapterReport } from '../webgpu/device';
import type { KernelCheckResult } from '../webgpu/verify/run-checks';
import type { DownloadRequest, ModelListing } from './cache/model-library';
import type { DownloadProgress } from './cache/progress';
import type { CachedModel } from './cache/weight-cache';
import type { EngineKind } from '../models/engine';
import type { WeightDType } from '../models/native/weights';
import type { TjsDtype } from '../models/transformers/families';
import type { ChatMessage } from '../models/vlm';
import type { SamplingOptions } from '../models/generation';
import type { GoldenComparison } from '../webgpu/verify/golden';
import type { TaskScore } from '../eval/score-records';

export type { OcrEngine, PageResult, PageSource, TextLine } from '../documents/types';
import type { AnswerLines } from '../documents/answer-lines';
import type { GroundedObject, ImageSize } from '../models/grounding';
export type { AnswerLines } from '../documents/answer-lines';
export type { GroundedObject, ImageSize } from '../models/grounding';
export type { OcrBackend } from '../ocr/browser-models';
export type { DownloadRequest, ModelListing } from './cache/model-library';
export type { DownloadProgress } from './cache/progress';
export type { CachedModel } from './cache/weight-cache';
export type { Capability, ZooDtype, ZooEngine, ZooEntry } from '../models/zoo';
// Declared once, where the engines that use them live; the page sees them here.
export type { EngineKind } from '../models/engine';
export type { WeightDType } from '../models/native/weights';
export type { TjsDtype } from '../models/transformers/families';
/** Weights as loaded: native dtypes (quantized at load) or the transformers engine's ONNX file variants. */
export type ModelDType = WeightDType | TjsDtype;
export type { ChatMessage, ChatPart } from '../models/vlm';
export type { ApiError, ErrorCode } from './errors';
import type { FinetuneApi } from './finetune-api';
import type { EvaluationEvent, EvaluationRequest, EvaluationResult, ReadImage, SavedEvaluation, UnfinishedEvaluation } from './jobs/evaluate-types';
export type * from './jobs/evaluate-types';

export interface GpuInfo {
  report: AdapterReport;
  /** One line for the status bar, e.g. "google swiftshader (software fallback)". */
  name: string;
}

export interface SelfTestResult {
  kernel: string;
  n: number;
  /** Largest |gpu - cpu| over all elements. */
  maxAbsError: number;
  tolerance: number;
  passed: boolean;
  /** The first few elements of each operand and result, for display. */
  sample: { a: number[]; b: number[]; gpu: number[]; cpu: number[] };
  ms: number;
}

/** One row of the GPU check: a registry kernel's case against its CPU twin. */
export type { KernelCheckResult };

/** A file for the documents job; `bytes` is transferred (Comlink.transfer), not copied. */
export interface DocumentFile {
  name: string;
  bytes: ArrayBuffer;
}

export interface OcrDocumentOptions {
  /** Lets cancel(jobId) stop this job; a second job with the same id stops the first. */
  jobId?: string;
  /** 1-based first PDF page to process; with maxPages, a long PDF is read lazily in slices. */
  firstPage?: number;
  /** At most this many pages per call (default 20); the result's nextPage says where to go on. */
  maxPages?: number;
  /** PDF render scale, 1 = 72 dpi (default 2). Boxes are in pixels of the rendered page. */
  scale?: number;
  /** OCR every page, even those with a text layer. */
  forceOcr?: boolean;
  /** Which onnxruntime-web backend runs PP-OCR (default 'auto'). */
  backend?: OcrBackend;
  /**
   * Who reads pages without a text layer (default 'pp-ocr'). 'florence-2' asks
   * the loaded Florence-2 its <OCR_WITH_REGION> task (rejects with 'no-model'
   * when no Florence-2 is loaded); its lines carry no confidence.
   */
  engine?: OcrEngine;
  /** Send each PDF page's image (JPEG) with its page-done event, for display (default true). */
  pageImages?: boolean;
}

/** Progress of ocrDocument, in order: opened, then per page page-started, lines*, page-done. */
export type DocumentEvent =
  | { type: 'opened'; kind: 'pdf' | 'image'; pageCount: number; firstPage: number; lastPage: number }
  | { type: 'page-started'; page: number }
  | { type: 'lines'; page: number; done: number; total: number }
  | { type: 'page-done'; result: PageResult; image: Blob | null };

export interface DocumentResult {
  name: string;
  kind: 'pdf' | 'image';
  pageCount: number;
  pages: PageResult[];
  /** The first page not yet processed, or null when the document is done. */
  nextPage: number | null;
  ms: number;
}

/** Pixels for ocrImage, the ImageData layout; `data.buffer` may be transferred. */
export interface OcrImageInput {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}


export interface LoadModelOptions {
  engine: EngineKind;
  /**
   * Native engine: quantize Linear weights at load (f32, int8, int4).
   * Transformers engine: which ONNX files to fetch (fp32, fp16, q8, q4, q4f16;
   * default the first the model offers on this adapter).
   */
  dtype?: ModelDType;
  /** Where hub models (ids "org/name") come from; default https://huggingface.co. */
  hubUrl?: string;
  /**
   * Transformers engine: run its sessions here instead of the device the
   * adapter suggests (WebGPU on a real GPU, wasm on a software one), e.g. to
   * check WebGPU on SwiftShader. Other engines ignore it.
   */
  device?: 'webgpu' | 'wasm';
}

export interface LoadedModel {
  id: string;
  engine: EngineKind;
  dtype: ModelDType;
  /** Where it runs: 'native' (our WGSL), 'webgpu', or 'wasm' (the transformers engine on a software adapter). */
  device: string;
  contextLength: number;
  imageSize: number;
  loadMs: number;
  /** Task prompts the model answers with buttons of their own (Florence-2's); absent for chat models. */
  tasks?: string[];
  /** A question about a page goes with the page's text before it (askDocument); absent means the image alone. */
  readsPageText?: boolean;
}

/**
 * An image for chat: decoded RGBA pixels (ImageData-like), or the encoded file
 * bytes, which the worker decodes (and scales down if huge). Send with Comlink.transfer.
 */
export type ChatImage =
  | { width: number; height: number; data: Uint8Array | Uint8ClampedArray }
  | { bytes: ArrayBuffer; type: string; name?: string };

/** The generation options the page may set; the stop tokens are the model's, chosen in the worker. */
export type SamplingRequest = Partial<Omit<SamplingOptions, 'stopTokenIds'>>;

export interface ChatRequest {
  messages: ChatMessage[];
  /** One per image part of the messages, in order. */
  images: ChatImage[];
  options?: SamplingRequest;
  /**
   * A new conversation (the Chat view's first turn, as after Clear): the model forgets what it kept
   * from earlier turns (the transformers engine's KV cache), so the answer and its stats are a fresh load's.
   */
  fresh?: boolean;
}

/** Who started an answer: stopChat(jobId) and cancel(jobId) reach this job only, so one view's Stop leaves another's answer alone. */
export interface JobOptions {
  jobId?: string;
}

/** GPU memory of our WGSL runtime (the native engine; ONNX Runtime keeps its own and does not report it). */
export interface GpuMemory {
  /** Bytes of every buffer the runtime holds now, in use or pooled. */
  bytesHeld: number;
  /** The largest bytesHeld since the runtime started. */
  peakBytes: number;
  /** Buffers created since the runtime started. */
  buffersCreated: number;
}

export interface ChatReply {
  text: string;
  finishReason: 'stop' | 'length' | 'cancelled';
  promptTokens: number;
  newTokens: number;
  /** Prompt positions served from the KV cache of the previous turn. */
  reusedPositions: number;
  ttftMs: number;
  tokensPerSecond: number;
  encodeMs: number;
  peakGpuBytes: number;
  /** True when the earlier turns' cache could not be continued, so the whole prompt ran again; absent means false. */
  promptRecomputed?: boolean;
  /** Why the prompt was recomputed. */
  recomputeReason?: string;
  /** A task prompt's post-processed answer (Florence-2): its boxes or quads in image pixels. */
  regions?: TaskRegions;
}

/** What a task prompt's answer names, in pixels of the image it was asked about. */
export interface TaskRegions {
  task: string;
  imageSize: ImageSize;
  /** Labels with boxes, or OCR lines with their quads as polygons. */
  objects: GroundedObject[];
  /** Text tasks (captions, OCR without regions). */
  text?: string;
}

export interface GroundReply {
  /** The question asked (the grounding form the model was trained on). */
  question: string;
  /** The model's raw answer. */
  text: string;
  /** Pixel space of the boxes: the image as decoded. */
  imageSize: { width: number; height: number };
  objects: GroundedObject[];
}

/** A question about one page of a document (askDocument). */
export interface DocumentQuestion {
  question: string;
  /** The page's text lines in reading order (OCR or text layer). */
  lines: string[];
  /** The page image (encoded bytes, or decoded pixels), asked about with the question; send with Comlink.transfer. */
  image: ChatImage | null;
}

export interface DocumentAnswer {
  text: string;
  finishReason: ChatReply['finishReason'];
  /**
   * How much of the page text went in before the question: `given` of `total`
   * lines, at most `limit`; null when the model is asked with the image alone.
   */
  context: { given: number; total: number; limit: number } | null;
  /** The page lines that hold the answer (indices into the question's lines). */
  found: AnswerLines;
}

/** The golden comparison (logits error, greedy ids, match) for one engine and weight type. */
export interface GoldenCheckResult extends GoldenComparison {
  engine: EngineKind;
  dtype: WeightDType;
  /** Where it ran (LoadedModel.device): 'native', 'webgpu' or 'wasm'. */
  device: string;
}

export interface EvalQuestionsRequest {
  /** A seed the model never trained on. */
  seed: number;
  count: number;
  /** Task names of src/data (default: the four single-answer VQA tasks). */
  tasks?: string[];
  /**
   * Only questions about the held-out concept (the star shape, the colour
   * purple: named in the question or the answer), drawn from scenes that all
   * hold one: what a LoRA taught from `--held-out focus` data is scored on.
   */
  concept?: boolean;
}

export interface EvalQuestionsReply {
  seed: number;
  /** Exact-match accuracy over all questions. */
  accuracy: number;
  /** Per question, in the split's order; `id` is the record id eval.py's answers file uses. */
  results: { id: string; task: string; question: string; expected: string; answer: string; correct: boolean; parsed: string; score: number }[];
  /** Per task, by eval.py's metric for it (POPE F1, exact match, boxes at IoU > 0.5, CER): its Tally's numbers. */
  scores: Record<string, TaskScore>;
}

/** The fine-tune methods (data, training runs, the adapter) are declared in finetune-api.ts. */
export interface VlmApi extends FinetuneApi {
  /** Acquire the GPU (once) and describe it. */
  info(): Promise<GpuInfo>;
  /** Run one small kernel on seeded data and compare it with its CPU reference. */
  selfTest(n?: number, seed?: number): Promise<SelfTestResult>;
  /** Run every registry kernel's check cases against their CPU references; f16 cases are skipped without shader-f16. */
  kernelChecks(): Promise<KernelCheckResult[]>;
  /**
   * Load a model on an engine; replaces the loaded one. Files come through the
   * IndexedDB weight cache: the bundled model (and any id without an org) from
   * /models/<id>/, hub ids ("org/name") from <hubUrl>/<id>/resolve/main/,
   * downloaded once (quota checked first, resumable) with progress through
   * onProgress (a Comlink.proxy). Rejects with 'unsupported-model' for models
   * our engines cannot run, 'storage-quota', 'out-of-memory' when the GPU
   * cannot hold it, or 'model-file' naming the file. Loads run one after
   * another; a load of the same model and options as one under way shares it.
   */
  loadModel(id: string, options: LoadModelOptions, onProgress?: (progress: DownloadProgress) => void): Promise<LoadedModel>;
  /** The model zoo with what is cached; dtypes only those this adapter can run. */
  listModels(): Promise<ModelListing[]>;
  /** Models in the weight cache: complete files, bytes, and bytes of unfinished downloads. */
  cacheList(): Promise<CachedModel[]>;
  /** Deletes a model's cached files (complete and unfinished); returns the bytes freed. */
  cacheDelete(id: string): Promise<number>;
  /** Downloads a zoo model's files into the cache without loading it (also models only transformers.js runs). */
  downloadModel(id: string, request?: DownloadRequest, onProgress?: (progress: DownloadProgress) => void): Promise<CachedModel>;
  /** The loaded model, or null. */
  loadedModel(): Promise<LoadedModel | null>;
  /**
   * Answer a conversation about images; text pieces stream through onText (a
   * Comlink.proxy). Rejects with 'busy' at once while another answer, an
   * evaluation, a document being read or a model load holds the model or the
   * GPU (the message says which and what to do); see jobs/job-queue.ts.
   */
  chat(request: ChatRequest, onText?: (piece: string) => void, options?: JobOptions): Promise<ChatReply>;
  /** Where is `phrase` in the image? Boxes parsed from the model's answer, in image pixels. 'busy' as chat. */
  ground(image: ChatImage, phrase: string, options?: JobOptions): Promise<GroundReply>;
  /**
   * The question that asks the loaded model where `phrase` is, in the words it
   * was trained on; null when the phrase is empty.
   */
  groundingQuestion(phrase: string): Promise<string | null>;
  /** Boxes in an answer (any grounding format our models write), in pixels of an image of `imageSize`. */
  parseGrounding(text: string, imageSize: ImageSize): Promise<GroundedObject[]>;
  /**
   * Answer a question about one page: for a model that reads page text as
   * context (the 'document-text' capability) the lines go first, cut from the
   * end while the prompt is too long for its context. Streams through onText;
   * the answer's lines are located on the page. Rejects with 'bad-input' for a
   * model that answers only its task prompts (Florence-2), naming them.
   */
  askDocument(request: DocumentQuestion, onText?: (piece: string) => void, options?: JobOptions): Promise<DocumentAnswer>;
  /**
   * Stop the answer started with this jobId (it ends with finishReason
   * 'cancelled', also while the prompt and images are still being read);
   * without an id, whichever answer runs. False if none was running.
   */
  stopChat(jobId?: string): Promise<boolean>;
  /** Frees every GPU buffer the model held; waits for a load under way, stops an answer or evaluation using the model. */
  unloadModel(): Promise<void>;
  /** GPU bytes held by our runtime now and at most: flat over load/unload cycles. */
  gpuMemory(): Promise<GpuMemory>;
  /** Answer freshly generated questions with the loaded model and score them against the generator's answers. */
  evalQuestions(request: EvalQuestionsRequest, onProgress?: (done: number, total: number) => void): Promise<EvalQuestionsReply>;
  /**
   * Run a benchmark (synthetic POPE, COCO POPE over the user's images, or a
   * LLaVA-JSON file) with the loaded model, scoring each answer as it comes.
   * `readImage` and `onEvent` are Comlink.proxy callbacks; images are read one
   * question at a time. Rejects with 'bad-input' (a malformed file with its
   * line, no matching image), 'no-model', or 'busy' while another runs. A run
   * stopped early (stopEvaluation, model unloaded) resolves with what was
   * scored and `stopped` saying why. The last ten runs are kept
   * (savedEvaluations), and the answers of a running one are saved as it goes.
   */
  evaluate(request: EvaluationRequest, readImage?: ReadImage, onEvent?: (event: EvaluationEvent) => void): Promise<EvaluationResult>;
  /** Stop the running evaluation; false when none runs. */
  stopEvaluation(): Promise<boolean>;
  /** The last finished or stopped evaluation, kept across reloads; null when none. */
  lastEvaluation(): Promise<EvaluationResult | null>;
  /** The kept runs, newest first, as the list of runs shows them. */
  savedEvaluations(): Promise<SavedEvaluation[]>;
  /** One kept run in full; null when it is gone. */
  savedEvaluation(id: string): Promise<EvaluationResult | null>;
  /** Forget a kept run; false when there was none of that id. */
  deleteEvaluation(id: string): Promise<boolean>;
  /** The run a reload cut short (its answers so far are kept); null when none, or while one runs. */
  unfinishedEvaluation(): Promise<UnfinishedEvaluation | null>;
  /**
   * Finish the unfinished run: the same questions, those answered skipped, on
   * the same model (else 'bad-input'). A run over the user's files needs them
   * picked again: `imageNames` and `readImage` as for evaluate.
   */
  resumeEvaluation(imageNames: string[], readImage?: ReadImage, onEvent?: (event: EvaluationEvent) => void): Promise<EvaluationResult>;
  /** Load id on an engine and compare its first-step logits and greedy ids with the model's golden.json. */
  goldenCheck(id: string, options: LoadModelOptions): Promise<GoldenCheckResult>;
  /**
   * OCR one image (PP-OCRv4 on onnxruntime-web). Rejects with 'no-text' when
   * nothing is found, 'cancelled' after cancel(jobId).
   */
  ocrImage(image: OcrImageInput, options?: Pick<OcrDocumentOptions, 'jobId' | 'backend' | 'engine'>): Promise<PageResult>;
  /**
   * Text of a PDF, PNG, JPEG or WebP file, page by page: a PDF page's text
   * layer where it has one, OCR otherwise. `onEvent` (a Comlink.proxy) hears
   * progress and every finished page. Rejects with 'unsupported-file',
   * 'pdf-encrypted', 'pdf-corrupt', 'no-text' or 'cancelled'.
   */
  ocrDocument(file: DocumentFile, options?: OcrDocumentOptions, onEvent?: (event: DocumentEvent) => void): Promise<DocumentResult>;
  /** Stops the job started with this id (a document, an answer), running or waiting its turn; false when there is none. */
  cancel(jobId: string): Promise<boolean>;
}
