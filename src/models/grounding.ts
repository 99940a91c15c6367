/**
 * Grounding output of the model families we run, parsed into boxes in image
 * pixels. Model text is untrusted and often cut off mid-box (max tokens, a
 * Stop press), so parsing never throws: whatever can be read is returned, and
 * a result built from incomplete text is marked partial.
 *
 *   Qwen-VL   <ref>cat</ref><box>(x1,y1),(x2,y2)</box>          0..1000 per axis
 *   Qwen2-VL  <|object_ref_start|>cat<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>
 *   Florence-2  cat<loc_12><loc_40><loc_300><loc_500>          bins 0..999; more than
 *             four locs (pairs) is a polygon; <sep> splits polygons of one label
 */

export type GroundingFormat = 'qwen-vl' | 'qwen2-vl' | 'florence2';

export interface PixelBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface GroundedObject {
  label: string;
  box: PixelBox;
  /** Florence-2 polygons, in pixels. */
  polygon?: [number, number][];
  /** Built from text that was cut off or malformed. */
  partial: boolean;
}

export interface ImageSize {
  width: number;
  height: number;
}

const QWEN_SCALE = 1000;
const FLORENCE_BINS = 1000;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Qwen scales both axes to 0..1000; corners may come in any order. */
function qwenBox(nums: number[], size: ImageSize): PixelBox {
  const [a = 0, b = 0, c = 0, d = 0] = nums.map((n) => clamp(n, 0, QWEN_SCALE));
  const sx = size.width / QWEN_SCALE;
  const sy = size.height / QWEN_SCALE;
  return { x1: Math.min(a, c) * sx, y1: Math.min(b, d) * sy, x2: Math.max(a, c) * sx, y2: Math.max(b, d) * sy };
}

/** The numbers inside one box body "(x1,y1),(x2,y2)"; fewer than four means it was cut off. */
function boxNumbers(body: string): number[] {
  return [...body.matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
}

function parseQwenFamily(text: string, size: ImageSize, tags: { refOpen: string; refClose: string; boxOpen: string; boxClose: string }): GroundedObject[] {
  const out: GroundedObject[] = [];
  let label = '';
  let pos = 0;
  while (pos < text.length) {
    const refAt = text.indexOf(tags.refOpen, pos);
    const boxAt = text.indexOf(tags.boxOpen, pos);
    if (refAt < 0 && boxAt < 0) break;
    if (refAt >= 0 && (boxAt < 0 || refAt < boxAt)) {
      const start = refAt + tags.refOpen.length;
      const end = text.indexOf(tags.refClose, start);
      label = (end < 0 ? text.slice(start) : text.slice(start, end)).trim();
      pos = end < 0 ? text.length : end + tags.refClose.length;
      continue;
    }
    const start = boxAt + tags.boxOpen.length;
    const end = text.indexOf(tags.boxClose, start);
    const body = end < 0 ? text.slice(start) : text.slice(start, end);
    const nums = boxNumbers(body);
    // A box needs two corners; with fewer numbers nothing can be drawn.
    if (nums.length >= 4) out.push({ label, box: qwenBox(nums, size), partial: end < 0 || nums.length !== 4 });
    pos = end < 0 ? text.length : end + tags.boxClose.length;
  }
  return out;
}

/** Centre of a Florence-2 location bin, in pixels. */
function florenceCoord(bin: number, extent: number): number {
  return ((clamp(bin, 0, FLORENCE_BINS - 1) + 0.5) / FLORENCE_BINS) * extent;
}

function florenceObject(label: string, runs: number[][], size: ImageSize, cut: boolean): GroundedObject | null {
  const usable = runs.filter((r) => r.length >= 4);
  if (usable.length === 0) return null;
  const first = usable[0] as number[];
  const odd = usable.some((r) => r.length % 2 !== 0);
  if (usable.length === 1 && first.length === 4) {
    const [a = 0, b = 0, c = 0, d = 0] = first;
    const box = { x1: florenceCoord(Math.min(a, c), size.width), y1: florenceCoord(Math.min(b, d), size.height), x2: florenceCoord(Math.max(a, c), size.width), y2: florenceCoord(Math.max(b, d), size.height) };
    return { label, box, partial: cut };
  }
  const polygon: [number, number][] = [];
  for (const run of usable) {
    for (let i = 0; i + 1 < run.length; i += 2) polygon.push([florenceCoord(run[i] as number, size.width), florenceCoord(run[i + 1] as number, size.height)]);
  }
  const xs = polygon.map((p) => p[0]);
  const ys = polygon.map((p) => p[1]);
  return { label, box: { x1: Math.min(...xs), y1: Math.min(...ys), x2: Math.max(...xs), y2: Math.max(...ys) }, polygon, partial: cut || odd };
}

function parseFlorence(text: string, size: ImageSize): GroundedObject[] {
  const out: GroundedObject[] = [];
  // Tokens: <loc_N>, <sep>, other tags (ignored), and label text between them.
  const tokens = text.match(/<loc_\d+>|<sep>|<\/?[a-z_]+>|[^<]+|</g) ?? [];
  let label = '';
  let runs: number[][] = [];
  const flush = (cut: boolean) => {
    const obj = florenceObject(label, runs, size, cut);
    if (obj) out.push(obj);
    runs = [];
  };
  for (const tok of tokens) {
    const loc = /^<loc_(\d+)>$/.exec(tok);
    if (loc) {
      if (runs.length === 0) runs.push([]);
      (runs[runs.length - 1] as number[]).push(Number(loc[1]));
    } else if (tok === '<sep>') {
      runs.push([]);
    } else if (tok.startsWith('<')) {
      continue;
    } else {
      if (runs.length > 0) flush(false);
      label = tok.trim();
    }
  }
  // Locs still open at the end of the text: an odd count means the answer was cut off mid-point.
  const last = runs[runs.length - 1];
  if (last) flush(last.length % 2 !== 0);
  return out;
}

/** Qwen2-VL's grounding markers are special tokens in its tokenizer: a plain decode drops them and the boxes with them. */
const QWEN2_GROUNDING_TOKENS = new Set(['<|object_ref_start|>', '<|object_ref_end|>', '<|box_start|>', '<|box_end|>', '<|quad_start|>', '<|quad_end|>']);

/** A Qwen2-VL answer decoded with its special tokens, reduced to what a person reads: the grounding markers kept, every other special token dropped. */
export function keepQwenGroundingTokens(decoded: string): string {
  return decoded.replace(/<\|[a-z_]+\|>/g, (t) => (QWEN2_GROUNDING_TOKENS.has(t) ? t : ''));
}

export function detectGroundingFormat(text: string): GroundingFormat | null {
  if (text.includes('<|box_start|>') || text.includes('<|object_ref_start|>')) return 'qwen2-vl';
  if (text.includes('<box>') || text.includes('<ref>')) return 'qwen-vl';
  if (/<loc_\d+>/.test(text)) return 'florence2';
  return null;
}

/** Boxes (and polygons) named in a model's answer, in image pixels; [] when there are none. */
export function parseGrounding(text: string, size: ImageSize, format: GroundingFormat | null = detectGroundingFormat(text)): GroundedObject[] {
  switch (format) {
    case 'qwen-vl':
      return parseQwenFamily(text, size, { refOpen: '<ref>', refClose: '</ref>', boxOpen: '<box>', boxClose: '</box>' });
    case 'qwen2-vl':
      return parseQwenFamily(text, size, { refOpen: '<|object_ref_start|>', refClose: '<|object_ref_end|>', boxOpen: '<|box_start|>', boxClose: '<|box_end|>' });
    case 'florence2':
      return parseFlorence(text, size);
    default:
      return [];
  }
}

/** Intersection over union of two pixel boxes. */
export function iou(a: PixelBox, b: PixelBox): number {
  const iw = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const ih = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = iw * ih;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** The question the bundled model was trained to answer with a box (src/data/tasks/scene-questions.ts); null for an empty phrase. */
export function groundingQuestion(phrase: string): string | null {
  const name = phrase
    .trim()
    .replace(/[.?!]+$/, '')
    .replace(/^(the|a|an)\s+/i, '')
    .replace(/\s+/g, ' ')
    .toLowerCase();
  return name ? `Locate the ${name}.` : null;
}
