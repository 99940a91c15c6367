import * as Comlink from 'comlink';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_CONTEXT_LINES } from '../../src/data/tasks/document-context';
import type { ChatReply, ChatRequest } from '../../src/worker/api';
import { VlmError } from '../../src/worker/errors';
import { askDocument, type PageModel } from '../../src/worker/jobs/document-question';
import { wrapEndpoint } from '../../src/worker/client';
import { Engine } from '../../src/worker/engine';

const reply = (text: string): ChatReply => ({ text, finishReason: 'stop', promptTokens: 1, newTokens: 1, reusedPositions: 0, ttftMs: 0, tokensPerSecond: 0, encodeMs: 0, peakGpuBytes: 0 });
const promptOf = (r: ChatRequest) => {
  const c = r.messages[0]?.content;
  return typeof c === 'string' ? c : (c?.find((p) => p.type === 'text') as { text: string }).text;
};
const lines = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`);
/** The bundled model as askDocument sees it: a chat model trained to read page text, 512 positions. */
const reads: PageModel = { questions: 'chat', readsPageText: true, contextLength: 512 };

describe('a question about a page, asked in the worker', () => {
  it('puts the page text first for a model that reads it, and locates the answer on the page', async () => {
    const asked: ChatRequest[] = [];
    const image = { bytes: new ArrayBuffer(4), type: 'image/png' };
    const r = await askDocument(async (req) => (asked.push(req), reply('line 3')), reads, { question: 'Which line?', lines: lines.slice(0, 5), image });
    expect(promptOf(asked[0] as ChatRequest)).toBe('Document text:\nline 1\nline 2\nline 3\nline 4\nline 5\n\nWhich line?');
    expect(asked[0]?.images).toEqual([image]);
    expect(r.context).toEqual({ given: 5, total: 5, limit: MAX_CONTEXT_LINES });
    expect(r.found).toEqual({ lines: [2], match: 'whole' });
  });

  it('halves the page text while the prompt is over the context, and asks with the question alone for a model that does not read text', async () => {
    const given: number[] = [];
    const r = await askDocument(
      async (req) => {
        const n = promptOf(req).split('\n').filter((l) => l.startsWith('line ')).length;
        given.push(n);
        if (n > 10) throw new VlmError('context-length', 'too long');
        return reply('nothing here');
      },
      reads,
      { question: 'Q?', lines, image: null },
    );
    expect(given).toEqual([MAX_CONTEXT_LINES, MAX_CONTEXT_LINES / 2, MAX_CONTEXT_LINES / 4]);
    expect(r.context).toEqual({ given: 10, total: 50, limit: MAX_CONTEXT_LINES });
    expect(r.found.match).toBe('none');
    const plain: ChatRequest[] = [];
    const p = await askDocument(async (req) => (plain.push(req), reply('x')), { ...reads, readsPageText: false }, { question: 'Q?', lines, image: null });
    expect(promptOf(plain[0] as ChatRequest)).toBe('Q?');
    expect(p.context).toBeNull();
    expect(plain[0]?.options?.maxNewTokens).toBe(64);
  });

  it('gives a chat model with a long context room for a longer answer, and refuses free-form questions to a task model, naming its tasks', async () => {
    const asked: ChatRequest[] = [];
    await askDocument(async (req) => (asked.push(req), reply('x')), { ...reads, contextLength: 8192 }, { question: 'Q?', lines, image: null });
    expect(asked[0]?.options?.maxNewTokens).toBe(256);
    const florence: PageModel = { questions: 'tasks', readsPageText: false, contextLength: 1024, tasks: ['<CAPTION>', '<OCR>'] };
    const err = await askDocument(async () => reply('x'), florence, { question: 'Q?', lines, image: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VlmError);
    expect((err as VlmError).code).toBe('bad-input');
    expect((err as VlmError).message).toContain('(<CAPTION>, <OCR>)');
  });
});

describe('the prompts the page asks the worker for, over Comlink', () => {
  // No GPU: none of these needs one, and the page may ask before a model is loaded.
  const channel = new MessageChannel();
  Comlink.expose(new Engine(() => undefined), channel.port1);
  const api = wrapEndpoint(channel.port2);
  afterAll(() => {
    channel.port1.close();
    channel.port2.close();
  });

  it('words the grounding question and parses the boxes of an answer', async () => {
    expect(await api.groundingQuestion('  The Blue  Square? ')).toBe('Locate the blue square.');
    expect(await api.groundingQuestion(' . ')).toBeNull();
    const objects = await api.parseGrounding('<ref>red square</ref><box>(100,200),(300,400)</box>', { width: 640, height: 480 });
    expect(objects).toHaveLength(1);
    expect(objects[0]?.label).toBe('red square');
    expect(objects[0]?.box.x1).toBeCloseTo(64, 5);
    expect(objects[0]?.box.y2).toBeCloseTo(192, 5);
  });

  it('refuses a document question with no model loaded as no-model', async () => {
    const err = await api.askDocument({ question: 'Q?', lines: ['a'], image: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VlmError);
    expect((err as VlmError).code).toBe('no-model');
  });
});
