/**
 * Worker errors in words a person can act on: what went wrong (the worker's
 * own message, which names the file or the limit) and what to do next.
 */
import { VlmError } from '../../worker/client';
import type { TurnError } from './conversation';

const ADVICE: Record<string, string> = {
  'context-length': 'Shorten the question, send fewer images, or clear the conversation to start afresh.',
  'bad-image': 'Remove that picture and attach a PNG, JPEG or WebP image instead.',
  'no-model': 'Choose a model above and press Load, then ask again.',
  'model-file': 'The model could not be read. Press Load to try again, or pick another model or engine.',
  busy: 'Wait for it to finish, or press Stop in the view that started it, then ask again.',
  'no-webgpu': 'This browser has no WebGPU; the GPU check tab says how to turn it on.',
  'no-adapter': 'No GPU adapter is available; the GPU check tab says what to try.',
  'device-failed': 'The GPU would not start; the GPU check tab says what to try.',
  'device-lost': 'The GPU was reset. Press Load to load the model again.',
  'storage-quota': 'Delete cached models (under "Cached models"), or free disk space, then try again.',
  'unsupported-model': 'Pick the bundled model, or a model the list does not grey out.',
  'worker-crashed': 'Your conversation and cached models are kept. Press Load to load the model again.',
  'out-of-memory': 'Close other GPU-heavy tabs, pick int8 or int4 weights or a smaller model, then press Load.',
  'device-limit': 'This GPU is too small for the request; try int8 or int4 weights or a smaller image.',
  'teacher-endpoint': 'Check the endpoint URL, the model name and the key. An endpoint on another origin must be listed in WEBVLM_CONNECT_SRC when the app is built, or the page may not reach it.',
};

export function toTurnError(err: unknown): TurnError {
  if (err instanceof VlmError) return { code: err.code, message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

/** Headline for an error code, shown before the worker's message. */
const HEADLINES: Record<string, string> = {
  'context-length': 'Too long for the model.',
  'bad-image': 'An image could not be used.',
  'no-model': 'No model is loaded.',
  'model-file': 'The model files could not be loaded.',
  busy: 'The model is busy.',
  'storage-quota': 'Not enough storage for this model.',
  'unsupported-model': 'This app cannot run that model yet.',
  'worker-crashed': 'The engine stopped.',
  'out-of-memory': 'The GPU ran out of memory.',
  'device-lost': 'The GPU was reset.',
  'teacher-endpoint': 'The teacher endpoint could not be used.',
};

export function describeError(e: TurnError): { headline: string; detail: string; advice: string } {
  return {
    headline: HEADLINES[e.code] ?? 'Something went wrong.',
    detail: e.message,
    advice: ADVICE[e.code] ?? 'Try again; if it keeps failing, reload the page.',
  };
}
