/**
 * Florence-2 as a second OCR engine for Documents: the loaded Florence-2 is
 * asked its <OCR_WITH_REGION> task about the page, and the processor's own
 * post-processing of the answer (labels with quads, in page pixels; see
 * florence-answer.ts) becomes the page's lines, each boxed by its quad's
 * bounds and put in reading order like PP-OCR's. Florence-2 scores no line,
 * so the lines carry no confidence.
 */
import type { TextLine } from '../../documents/types';
import { throwIfCancelled } from '../../ocr/errors';
import { readingOrder } from '../../ocr/reading-order';
import type { RgbaImage } from '../../ocr/types';
import type { ChatReply, ChatRequest, GroundedObject, LoadedModel } from '../api';
import { VlmError } from '../errors';
import type { PageReader } from './documents';

export const OCR_TASK = '<OCR_WITH_REGION>';
/** As HF's Florence-2 examples ask: a line costs its words and eight <loc_N> tokens, so a full page needs hundreds. */
const MAX_NEW_TOKENS = 1024;

/** Runs one chat request on the loaded model; the job's signal stops it. */
export type ModelChat = (request: ChatRequest, signal: AbortSignal) => Promise<ChatReply>;

/** The post-processed OCR regions as page lines: text trimmed, box from the quad's bounds, in reading order. */
export function florenceLines(objects: readonly GroundedObject[]): TextLine[] {
  const lines = objects.map(({ label, box }) => ({
    text: label.replace(/\s+/g, ' ').trim(),
    box: { x: box.x1, y: box.y1, width: box.x2 - box.x1, height: box.y2 - box.y1 },
    confidence: null,
  }));
  return readingOrder(lines.filter((l) => l.text !== ''));
}

/** The request that asks Florence-2 to read the page: its OCR-with-regions task and the page pixels, greedy as HF's examples decode. */
export function florenceOcrRequest(image: RgbaImage): ChatRequest {
  return {
    messages: [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: OCR_TASK }] }],
    images: [{ width: image.width, height: image.height, data: image.data }],
    options: { maxNewTokens: MAX_NEW_TOKENS, temperature: 0 },
  };
}

/**
 * A page reader on the loaded model; 'no-model' when what is loaded is not a
 * Florence-2 (only it answers the OCR-with-regions task).
 */
export function florenceReader(loaded: LoadedModel | null, chat: ModelChat): PageReader {
  if (!loaded?.tasks?.includes(OCR_TASK)) {
    const what = loaded ? `${loaded.id} is loaded, which has no OCR-with-regions task` : 'no model is loaded';
    throw new VlmError('no-model', `OCR engine Florence-2 reads pages with a loaded Florence-2, but ${what}. Load Florence-2 in Chat, or choose PP-OCR.`);
  }
  return {
    engine: 'florence-2',
    async read(image, signal) {
      const reply = await chat(florenceOcrRequest(image), signal);
      throwIfCancelled(signal);
      return florenceLines(reply.regions?.objects ?? []);
    },
  };
}
