/**
 * Failures of the document pipeline that a person can act on. The worker maps
 * them to VlmError codes of the same name.
 */
export type OcrErrorCode = 'cancelled' | 'pdf-encrypted' | 'pdf-corrupt' | 'unsupported-file' | 'no-text' | 'ocr-model';

export class OcrError extends Error {
  override readonly name = 'OcrError';
  constructor(
    readonly code: OcrErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new OcrError('cancelled', 'Cancelled.');
}
