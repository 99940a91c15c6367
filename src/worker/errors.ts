/**
 * Errors cross the worker boundary as typed `{code, message}` values. Comlink
 * serializes thrown errors with only their message, so both ends install a
 * 'throw' handler that keeps the code; the page then gets a VlmError it can
 * switch on.
 */
import * as Comlink from 'comlink';
import { OcrError, type OcrErrorCode } from '../ocr/errors';
import { GpuUnavailableError } from '../webgpu/device';
import { DeviceLimitError, KernelInputError } from '../webgpu/errors';

export type ErrorCode =
  | 'no-webgpu'
  | 'no-adapter'
  | 'device-failed'
  | 'device-lost'
  | 'bad-input'
  | 'device-limit'
  | 'model-file'
  /** A download would not fit in the storage the browser allows; the message has the numbers. */
  | 'storage-quota'
  /** The model exists but our engines cannot run it (e.g. a transformers.js-only architecture). */
  | 'unsupported-model'
  | 'no-model'
  | 'busy'
  | 'context-length'
  | 'bad-image'
  /** The engine worker died (crashed, was closed or failed to start); a fresh one is started and the model must be loaded again. */
  | 'worker-crashed'
  /** The GPU ran out of memory for a model or a request; the message says what was being allocated. */
  | 'out-of-memory'
  /** A teacher's chat-completions endpoint cannot be used (unreachable, blocked by the page's policy, refused the key); the message names the endpoint. */
  | 'teacher-endpoint'
  | 'internal'
  | OcrErrorCode;

export interface ApiError {
  code: ErrorCode;
  message: string;
}

export class VlmError extends Error implements ApiError {
  override readonly name = 'VlmError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof VlmError) return { code: err.code, message: err.message };
  if (err instanceof OcrError) return { code: err.code, message: err.message };
  if (err instanceof GpuUnavailableError) return { code: err.code, message: err.message };
  if (err instanceof KernelInputError) return { code: 'bad-input', message: err.message };
  if (err instanceof DeviceLimitError) return { code: 'device-limit', message: err.message };
  if (err instanceof Error) return { code: 'internal', message: err.message };
  return { code: 'internal', message: String(err) };
}

interface ThrownValue {
  value: unknown;
}

let installed = false;

/** Idempotent; called at import by both the worker and the client. */
export function installErrorTransfer(): void {
  if (installed) return;
  installed = true;
  const base = Comlink.transferHandlers.get('throw');
  if (!base) throw new Error('comlink has no throw handler to extend');
  Comlink.transferHandlers.set('throw', {
    canHandle: base.canHandle,
    serialize: (thrown) => [toApiError((thrown as ThrownValue).value), []],
    deserialize: (serialized) => {
      const e = serialized as ApiError;
      throw new VlmError(e.code, e.message);
    },
  });
}

installErrorTransfer();
