/**
 * Documents on the transformers engine, through the worker API as the page
 * uses it, on the tiny hub fixtures served under their real repo ids:
 * Florence-2 as the OCR engine (its <OCR_WITH_REGION> answer, post-processed
 * by its processor, becomes the page's lines in reading order, with no
 * confidence), and a SmolVLM answering a question about a page with the page
 * image and its text in the prompt, as the Chat path answers the same prompt.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/worker/api';
import { documentContextPrompt } from '../../src/data/tasks/document-context';
import { answerBudget } from '../../src/worker/jobs/document-question';
import { florenceLines, florenceReader } from '../../src/worker/jobs/florence-ocr';
import { HUB_DIR } from '../helpers/family-golden';
import { fixtureRgba, rejection, useHubClient } from '../helpers/hub-client';

ort.env.wasm.numThreads = 1;

const FLORENCE = { dir: 'microsoft-tiny-florence2', repo: 'onnx-community/Florence-2-base' };
const SMOL = { dir: 'HuggingFaceTB-tiny-smolvlm', repo: 'HuggingFaceTB/SmolVLM-256M-Instruct' };

const { client, hub } = useHubClient([FLORENCE, SMOL]);

/** PyTorch's post-processed <OCR_WITH_REGION> result for the fixture's 96x96 image. */
function goldenOcr(): { labels: string[]; quad_boxes: number[][] } {
  const golden = JSON.parse(readFileSync(join(HUB_DIR, FLORENCE.dir, 'golden.json'), 'utf8')) as {
    cases: { task: string; post_processed: { image_size: number[]; result: Record<string, { labels: string[]; quad_boxes: number[][] }> }[] }[];
  };
  const post = golden.cases.find((c) => c.task === '<OCR_WITH_REGION>')?.post_processed.find((p) => p.image_size.join('x') === '96x96');
  const result = post?.result['<OCR_WITH_REGION>'];
  if (!result) throw new Error('the Florence-2 golden has no <OCR_WITH_REGION> result at 96x96');
  return result;
}

describe('Florence-2 as the OCR engine', () => {
  it('puts regions in reading order, boxed by their quads, with no confidence', () => {
    const quad = (x1: number, y1: number, x2: number, y2: number): [number, number][] => [[x1, y1], [x2, y1], [x2, y2], [x1, y2]];
    const lines = florenceLines([
      { label: ' second  row ', box: { x1: 10, y1: 50, x2: 90, y2: 60 }, polygon: quad(10, 50, 90, 60), partial: false },
      { label: 'right', box: { x1: 60, y1: 10, x2: 90, y2: 20 }, polygon: quad(60, 10, 90, 20), partial: false },
      { label: 'left', box: { x1: 10, y1: 11, x2: 40, y2: 21 }, polygon: quad(10, 11, 40, 21), partial: false },
      { label: '  ', box: { x1: 0, y1: 0, x2: 1, y2: 1 }, partial: false },
    ]);
    expect(lines).toEqual([
      { text: 'left', box: { x: 10, y: 11, width: 30, height: 10 }, confidence: null },
      { text: 'right', box: { x: 60, y: 10, width: 30, height: 10 }, confidence: null },
      { text: 'second row', box: { x: 10, y: 50, width: 80, height: 10 }, confidence: null },
    ]);
  });

  it("is refused without a loaded Florence-2, then reads the page into the lines of PyTorch's post-processed answer", async () => {
    // The page reader as the documents job runs it (that job's PDF side needs a browser), over the worker's chat.
    const chat = (request: ChatRequest) => client.chat(request);
    const refused = (() => {
      try {
        florenceReader(null, chat);
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(refused).toMatchObject({ code: 'no-model' });
    expect(String(refused)).toContain('choose PP-OCR');

    const loaded = await client.loadModel(FLORENCE.repo, { engine: 'transformers', dtype: 'fp32', hubUrl: hub(FLORENCE).url });
    const reader = florenceReader(loaded, chat);
    expect(reader.engine).toBe('florence-2');
    const page = { lines: await reader.read(fixtureRgba(FLORENCE.dir), new AbortController().signal) };
    // The golden stops after 24 tokens; the OCR reads on, so its lines start with the golden's (here, one).
    const want = goldenOcr();
    const first = want.quad_boxes.map((q, i) => {
      const xs = q.filter((_, k) => k % 2 === 0);
      const ys = q.filter((_, k) => k % 2 === 1);
      return { text: want.labels[i], x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) };
    });
    const got = page.lines.map((l) => ({ text: l.text, ...l.box }));
    for (const w of first) {
      const match = got.find((g) => g.text === w.text && Math.abs(g.x - w.x) < 0.01 && Math.abs(g.y - w.y) < 0.01 && Math.abs(g.width - w.width) < 0.01 && Math.abs(g.height - w.height) < 0.01);
      expect(match, `${JSON.stringify(w)} among ${JSON.stringify(got)}`).toBeDefined();
    }
    expect(page.lines.every((l) => l.confidence === null)).toBe(true);
    console.log(`Florence-2 fixture OCR lines: ${JSON.stringify(got)}`);

    const question = await rejection(client.askDocument({ question: 'What is the title?', lines: page.lines.map((l) => l.text), image: fixtureRgba(FLORENCE.dir) }));
    expect(question.code).toBe('bad-input');
    expect(question.message).toContain('<OCR_WITH_REGION>');
  }, 120_000);
});

describe('a question about a page on a hub chat model', () => {
  it('goes to SmolVLM with the page text before the question and the page image, and answers as the same chat does', async () => {
    await client.loadModel(SMOL.repo, { engine: 'transformers', dtype: 'fp32', hubUrl: hub(SMOL).url });
    const lines = ['Invoice 2024-17', 'Date: 3 March 2024', 'Total: 41.50'];
    const question = 'What is the total?';
    let streamed = '';
    const answer = await client.askDocument({ question, lines, image: fixtureRgba(SMOL.dir) }, Comlink.proxy((p: string) => void (streamed += p)));
    expect(answer.context).toEqual({ given: 3, total: 3, limit: 40 });
    expect(answer.text.length).toBeGreaterThan(0);
    // Streamed (the random model's byte tokens are pieced together differently while streaming, so only its presence is compared).
    await expect.poll(() => streamed.length).toBeGreaterThan(0);
    const same = await client.chat({
      messages: [{ role: 'user', content: [{ type: 'text', text: documentContextPrompt(lines, question) }, { type: 'image' }] }],
      images: [fixtureRgba(SMOL.dir)],
      options: { maxNewTokens: answerBudget(8192) },
    });
    expect(answer.text).toBe(same.text);
  }, 120_000);
});
