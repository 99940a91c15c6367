import { describe, expect, it } from 'vitest';
import { detectGroundingFormat, iou, keepQwenGroundingTokens, parseGrounding, type GroundedObject } from '../../src/models/grounding';

const SIZE = { width: 200, height: 100 };

interface Row {
  name: string;
  text: string;
  want: { label: string; box: [number, number, number, number]; partial: boolean; polygonPoints?: number }[];
}

const florenceX = (bin: number) => ((bin + 0.5) / 1000) * 200;
const florenceY = (bin: number) => ((bin + 0.5) / 1000) * 100;

const ROWS: Row[] = [
  { name: 'qwen-vl one box', text: '<ref>red circle</ref><box>(100,200),(500,900)</box>', want: [{ label: 'red circle', box: [20, 20, 100, 90], partial: false }] },
  {
    name: 'qwen-vl two refs, swapped corners',
    text: 'Here: <ref>a</ref><box>(0,0),(1000,1000)</box> and <ref>b</ref><box>(500,500),(250,250)</box>.',
    want: [
      { label: 'a', box: [0, 0, 200, 100], partial: false },
      { label: 'b', box: [50, 25, 100, 50], partial: false },
    ],
  },
  {
    name: 'qwen-vl one ref, two boxes',
    text: '<ref>square</ref><box>(0,0),(100,100)</box><box>(900,900),(1000,1000)</box>',
    want: [
      { label: 'square', box: [0, 0, 20, 10], partial: false },
      { label: 'square', box: [180, 90, 200, 100], partial: false },
    ],
  },
  { name: 'qwen-vl cut off inside the box', text: '<ref>cat</ref><box>(100,100),(300,4', want: [{ label: 'cat', box: [20, 0.4, 60, 10], partial: true }] },
  { name: 'qwen-vl cut off before the second corner', text: '<ref>cat</ref><box>(100,100),(', want: [] },
  { name: 'qwen-vl coordinates past 1000 are clamped', text: '<ref>x</ref><box>(-5,0),(1200,1000)</box>', want: [{ label: 'x', box: [0, 0, 200, 100], partial: false }] },
  { name: 'qwen-vl unclosed ref', text: '<ref>dangling', want: [] },
  {
    name: 'qwen2-vl',
    text: '<|object_ref_start|>blue square<|object_ref_end|><|box_start|>(250,0),(750,500)<|box_end|><|im_end|>',
    want: [{ label: 'blue square', box: [50, 0, 150, 50], partial: false }],
  },
  { name: 'qwen2-vl box without a ref', text: '<|box_start|>(0,0),(500,500)<|box_end|>', want: [{ label: '', box: [0, 0, 100, 50], partial: false }] },
  {
    name: 'florence-2 two objects',
    text: 'car<loc_10><loc_20><loc_300><loc_400>person<loc_500><loc_0><loc_999><loc_999>',
    want: [
      { label: 'car', box: [florenceX(10), florenceY(20), florenceX(300), florenceY(400)], partial: false },
      { label: 'person', box: [florenceX(500), florenceY(0), florenceX(999), florenceY(999)], partial: false },
    ],
  },
  {
    name: 'florence-2 polygon',
    text: 'road<loc_0><loc_0><loc_100><loc_0><loc_100><loc_50>',
    want: [{ label: 'road', box: [florenceX(0), florenceY(0), florenceX(100), florenceY(50)], partial: false, polygonPoints: 3 }],
  },
  {
    name: 'florence-2 two polygons split by <sep>',
    text: 'lake<loc_0><loc_0><loc_10><loc_0><loc_10><loc_10><sep><loc_50><loc_50><loc_60><loc_50><loc_60><loc_60>',
    want: [{ label: 'lake', box: [florenceX(0), florenceY(0), florenceX(60), florenceY(60)], partial: false, polygonPoints: 6 }],
  },
  { name: 'florence-2 cut off after three locs', text: 'dog<loc_1><loc_2><loc_3>', want: [] },
  {
    name: 'florence-2 cut off mid-polygon',
    text: 'dog<loc_1><loc_2><loc_3><loc_4><loc_5>',
    want: [{ label: 'dog', box: [florenceX(1), florenceY(2), florenceX(3), florenceY(4)], partial: true, polygonPoints: 2 }],
  },
  { name: 'plain text', text: 'There is no box here.', want: [] },
  { name: 'empty', text: '', want: [] },
];

function summary(o: GroundedObject) {
  return { label: o.label, box: [o.box.x1, o.box.y1, o.box.x2, o.box.y2].map((v) => Math.round(v * 1000) / 1000), partial: o.partial, polygonPoints: o.polygon?.length };
}

describe('grounding parsers', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const got = parseGrounding(row.text, SIZE).map(summary);
      const want = row.want.map((w) => ({ ...w, box: w.box.map((v) => Math.round(v * 1000) / 1000), polygonPoints: w.polygonPoints }));
      expect(got).toEqual(want);
    });
  }

  it('never throws on random junk', () => {
    const pieces = ['<ref>', '</ref>', '<box>', '</box>', '(', ')', ',', '12', '999', '<loc_5>', '<sep>', '<|box_start|>', '<|box_end|>', 'cat', '<'];
    let seed = 1;
    for (let i = 0; i < 500; i++) {
      let text = '';
      for (let j = 0; j < 12; j++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        text += pieces[seed % pieces.length];
      }
      expect(() => parseGrounding(text, SIZE)).not.toThrow();
      for (const o of parseGrounding(text, SIZE)) {
        expect(o.box.x1).toBeGreaterThanOrEqual(0);
        expect(o.box.x2).toBeLessThanOrEqual(SIZE.width);
        expect(o.box.y2).toBeLessThanOrEqual(SIZE.height);
      }
    }
  });

  it('detects the format', () => {
    expect(detectGroundingFormat('<ref>a</ref><box>(1,2),(3,4)</box>')).toBe('qwen-vl');
    expect(detectGroundingFormat('<|box_start|>(1,2),(3,4)<|box_end|>')).toBe('qwen2-vl');
    expect(detectGroundingFormat('a<loc_1><loc_2><loc_3><loc_4>')).toBe('florence2');
    expect(detectGroundingFormat('hello')).toBeNull();
  });

  it('iou', () => {
    expect(iou({ x1: 0, y1: 0, x2: 10, y2: 10 }, { x1: 0, y1: 0, x2: 10, y2: 10 })).toBe(1);
    expect(iou({ x1: 0, y1: 0, x2: 10, y2: 10 }, { x1: 5, y1: 0, x2: 15, y2: 10 })).toBeCloseTo(1 / 3, 10);
    expect(iou({ x1: 0, y1: 0, x2: 1, y2: 1 }, { x1: 2, y1: 2, x2: 3, y2: 3 })).toBe(0);
  });
});

describe("Qwen2-VL's answer as the transformers engine decodes it", () => {
  it("keeps the box markers (special tokens in its tokenizer) and drops the other special tokens, so the boxes can be drawn", async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { AutoTokenizer, env } = await import('@huggingface/transformers');
    const hub = join(process.cwd(), 'test/fixtures/hub');
    Object.assign(env, { allowLocalModels: true, allowRemoteModels: false, localModelPath: `${hub}/` });
    const golden = JSON.parse(readFileSync(join(hub, 'Qwen-tiny-qwen2-vl/golden.json'), 'utf8')) as { tokenizer: { text: string; ids: number[] }[] };
    const boxed = golden.tokenizer.find((c) => c.text.includes('<|box_start|>'));
    if (!boxed) throw new Error('the Qwen2-VL golden has no tokenized box');
    const tokenizer = await AutoTokenizer.from_pretrained('Qwen-tiny-qwen2-vl');
    const imEnd = tokenizer.encode('<|im_end|>', { add_special_tokens: false });
    const ids = [...boxed.ids, ...imEnd];
    // The plain decode loses the markers: nothing to draw.
    expect(parseGrounding(tokenizer.decode(ids, { skip_special_tokens: true }), SIZE)).toEqual([]);
    const text = keepQwenGroundingTokens(tokenizer.decode(ids, { skip_special_tokens: false }));
    expect(text).toBe(boxed.text);
    expect(parseGrounding(text, SIZE)).toEqual([{ label: 'the red square', box: { x1: 2, y1: 2, x2: 60, y2: 40 }, partial: false }]);
  });
});
