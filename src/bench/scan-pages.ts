/**
 * The scan layout of bench:ocr: short pages as people photograph and scan
 * them (a bold heading, prose, two lines of code) in the DejaVu fonts Debian
 * ships, at small print (x-height 6-12 px), each put through one kind of
 * damage from scan-degrade.ts, or all of them mildly ('camera'). One seed
 * gives the same pages, pixel for pixel, in every run.
 */
import { Rng } from '../data/random';
import { BODY_WORDS, TITLE_FIRST, TITLE_SECOND } from '../data/words';
import type { Point, RgbaImage } from '../ocr/types';
import { addNoise, gaussianBlur, lightAndShadow, warpPage } from './scan-degrade';

export const DEGRADATIONS = ['shadow', 'blur', 'low-res', 'jpeg', 'noise', 'skew', 'perspective', 'camera'] as const;
export type Degradation = (typeof DEGRADATIONS)[number];

const FONTS = ['DejaVu Serif', 'DejaVu Sans', 'DejaVu Sans Mono'] as const;
/** DejaVu's x-height as a fraction of the font size (1120 / 2048 units in Sans; Serif is close). */
const X_HEIGHT_EM = 0.545;
/** The flat page is drawn this many times larger, then sampled down through the view. */
const SUPERSAMPLE = 2;

const CODE_LINES = [
  'const total = items.reduce((a, b) => a + b, 0);',
  'for (let i = 0; i < rows.length; i++) {',
  'if (width > 32 && height < 4096) return;',
  'def scale(x, y=1.5): return x * y',
  'print(f"{name}: {count} items")',
  'let ok = map.get(key) ?? [];',
  'SELECT id, name FROM users WHERE age > 30;',
  'x = np.zeros((3, 48, 320), dtype=float)',
];

/** How one page is damaged; numbers are drawn per page from the degradation's ranges. */
interface Damage {
  xHeight: number;
  /** Degrees. */
  skew: number;
  /** Corner displacement as a fraction of the page's short side. */
  perspective: number;
  gradient: number;
  /** Light kept under the shadow (1: no shadow). */
  shadow: number;
  blur: number;
  noise: number;
  /** JPEG quality 0..1, or null for a lossless PNG. */
  jpeg: number | null;
}

function damageFor(kind: Degradation, rng: Rng): Damage {
  const d: Damage = { xHeight: rng.uniform(8, 12), skew: 0, perspective: 0, gradient: 0, shadow: 1, blur: 0, noise: 0, jpeg: null };
  const sign = rng.chance(0.5) ? -1 : 1;
  switch (kind) {
    case 'shadow':
      // As in a small phone photo of a book page: a deep shadow over the right and lower part, slightly soft.
      return { ...d, xHeight: rng.uniform(6.5, 9), gradient: rng.uniform(0.25, 0.4), shadow: rng.uniform(0.22, 0.35), blur: 0.6 };
    case 'blur':
      return { ...d, blur: rng.uniform(0.9, 1.3) };
    case 'low-res':
      return { ...d, xHeight: rng.uniform(6, 7) };
    case 'jpeg':
      return { ...d, xHeight: rng.uniform(7, 10), jpeg: rng.uniform(0.2, 0.35) };
    case 'noise':
      return { ...d, noise: rng.uniform(12, 18) };
    case 'skew':
      return { ...d, skew: sign * rng.uniform(2, 5) };
    case 'perspective':
      return { ...d, skew: sign * rng.uniform(0, 1.5), perspective: rng.uniform(0.03, 0.05) };
    case 'camera':
      return { xHeight: rng.uniform(7, 10), skew: sign * rng.uniform(0.5, 3), perspective: rng.uniform(0.01, 0.025), gradient: rng.uniform(0.1, 0.2), shadow: rng.uniform(0.55, 0.7), blur: rng.uniform(0.5, 0.8), noise: rng.uniform(4, 8), jpeg: rng.uniform(0.5, 0.7) };
  }
}

export interface ScanLine {
  text: string;
  kind: 'heading' | 'body' | 'code';
}

/** A heading, 5-7 prose lines and two code lines. */
export function scanLines(rng: Rng): ScanLine[] {
  const lines: ScanLine[] = [{ text: `${rng.pick(TITLE_FIRST)} ${rng.pick(TITLE_SECOND)}`, kind: 'heading' }];
  const body = rng.int(5, 7);
  for (let i = 0; i < body; i++) {
    const words = Array.from({ length: rng.int(5, 8) }, () => rng.pick(BODY_WORDS));
    if (rng.chance(0.4)) words.splice(rng.int(1, words.length - 1), 0, `${rng.int(2, 999)}`);
    const s = words.join(' ');
    lines.push({ text: `${s.charAt(0).toUpperCase()}${s.slice(1)}${rng.chance(0.7) ? '.' : ','}`, kind: 'body' });
  }
  const code = rng.shuffle(CODE_LINES).slice(0, 2);
  for (const text of code) lines.push({ text, kind: 'code' });
  return lines;
}

export interface ScanPage {
  name: string;
  degradation: Degradation;
  font: string;
  xHeight: number;
  lines: string[];
  /** Pixels as the file holds them (after JPEG, for JPEG pages). */
  image: RgbaImage;
  /** The file: PNG, or JPEG for the JPEG-damaged pages. */
  bytes: Uint8Array;
  mime: 'image/png' | 'image/jpeg';
}

function fontOf(line: ScanLine, body: string, px: number): string {
  if (line.kind === 'heading') return `bold ${Math.round(px * 1.35 * SUPERSAMPLE)}px ${body === 'DejaVu Sans Mono' ? 'DejaVu Sans' : body}`;
  return `${Math.round(px * SUPERSAMPLE)}px ${line.kind === 'code' ? 'DejaVu Sans Mono' : body}`;
}

/** The flat page, SUPERSAMPLE times larger than its final size. */
function drawFlat(lines: readonly ScanLine[], body: string, px: number, ink: string, paper: string): OffscreenCanvas {
  const probe = new OffscreenCanvas(8, 8).getContext('2d') as OffscreenCanvasRenderingContext2D;
  const margin = Math.round(px * 2 * SUPERSAMPLE);
  const advance = lines.map((l) => Math.round((l.kind === 'heading' ? 2.2 : 1.65) * px * SUPERSAMPLE));
  let textWidth = 0;
  for (const l of lines) {
    probe.font = fontOf(l, body, px);
    textWidth = Math.max(textWidth, probe.measureText(l.text).width);
  }
  const round = (v: number) => Math.ceil(v / (2 * SUPERSAMPLE)) * 2 * SUPERSAMPLE;
  const canvas = new OffscreenCanvas(round(textWidth + 2 * margin), round(advance.reduce((a, b) => a + b, 0) + 2 * margin));
  const ctx = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D;
  ctx.fillStyle = paper;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = ink;
  ctx.textBaseline = 'top';
  let y = margin;
  lines.forEach((l, i) => {
    ctx.font = fontOf(l, body, px);
    ctx.fillText(l.text, margin, y);
    y += advance[i] as number;
  });
  return canvas;
}

/** Where the page's corners land: rotated by `skew` degrees about its centre, each corner moved by up to `perspective`. */
function viewCorners(w: number, h: number, d: Damage, rng: Rng): { corners: Point[]; width: number; height: number } {
  const a = (d.skew * Math.PI) / 180;
  const jitter = d.perspective * Math.min(w, h);
  const raw = ([[0, 0], [w, 0], [w, h], [0, h]] as const).map(([x, y]): Point => {
    const dx = x - w / 2;
    const dy = y - h / 2;
    return [dx * Math.cos(a) - dy * Math.sin(a) + rng.uniform(-jitter, jitter), dx * Math.sin(a) + dy * Math.cos(a) + rng.uniform(-jitter, jitter)];
  });
  const pad = Math.round(0.02 * Math.min(w, h)) + 2;
  const minX = Math.min(...raw.map((p) => p[0]));
  const minY = Math.min(...raw.map((p) => p[1]));
  const corners = raw.map((p): Point => [p[0] - minX + pad, p[1] - minY + pad]);
  return { corners, width: Math.ceil(Math.max(...corners.map((p) => p[0])) + pad), height: Math.ceil(Math.max(...corners.map((p) => p[1])) + pad) };
}

async function encode(img: RgbaImage, jpeg: number | null): Promise<{ bytes: Uint8Array; image: RgbaImage }> {
  const canvas = new OffscreenCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D;
  ctx.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
  const blob = await canvas.convertToBlob(jpeg === null ? { type: 'image/png' } : { type: 'image/jpeg', quality: jpeg });
  const bytes = new Uint8Array(await blob.arrayBuffer());
  if (jpeg === null) return { bytes, image: img };
  // The pixels a reader of the JPEG gets, for fixtures and for looking at.
  const bitmap = await createImageBitmap(blob);
  const back = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d') as OffscreenCanvasRenderingContext2D;
  back.drawImage(bitmap, 0, 0);
  const data = back.getImageData(0, 0, bitmap.width, bitmap.height).data;
  return { bytes, image: { width: bitmap.width, height: bitmap.height, data } };
}

/** Page `index` of the scan layout for `seed`: degradations in turn, fonts in turn within each. */
export async function scanPage(seed: number, index: number): Promise<ScanPage> {
  const degradation = DEGRADATIONS[index % DEGRADATIONS.length] as Degradation;
  const font = FONTS[Math.floor(index / DEGRADATIONS.length) % FONTS.length] as string;
  const rng = new Rng(seed * 7919 + index);
  const d = damageFor(degradation, rng);
  const lines = scanLines(rng);
  const px = d.xHeight / X_HEIGHT_EM;
  const inkLevel = rng.int(0, 60);
  const paperLevel = rng.int(215, 250);
  const grey = (v: number) => `rgb(${v}, ${v}, ${Math.max(0, v - 8)})`;
  const flat = drawFlat(lines, font, px, grey(inkLevel), grey(paperLevel));
  const ctx = flat.getContext('2d') as OffscreenCanvasRenderingContext2D;
  const src = ctx.getImageData(0, 0, flat.width, flat.height);
  const view = viewCorners(flat.width / SUPERSAMPLE, flat.height / SUPERSAMPLE, d, rng);
  const img = warpPage(src, SUPERSAMPLE, view.corners, view.width, view.height, rng.int(60, 120));
  if (d.gradient > 0 || d.shadow < 1) lightAndShadow(img, rng, d.gradient, d.shadow);
  if (d.blur > 0) gaussianBlur(img, d.blur);
  if (d.noise > 0) addNoise(img, rng, d.noise);
  const { bytes, image } = await encode(img, d.jpeg);
  const mime = d.jpeg === null ? 'image/png' : 'image/jpeg';
  const name = `scan-${seed}-${index + 1}-${degradation}.${d.jpeg === null ? 'png' : 'jpg'}`;
  return { name, degradation, font, xHeight: d.xHeight, lines: lines.map((l) => l.text), image, bytes, mime };
}

/** Pages per degradation in the bench: one per font. */
export const SCAN_PAGES = DEGRADATIONS.length * FONTS.length;
