/**
 * Bar charts, vertical or horizontal, with a label under (or beside) every bar
 * and its value printed at the bar's end. Values are distinct so "the highest
 * bar" is always one bar.
 */
import type { TextRun } from './font';
import { drawText, glyphAdvance, textHeight, textWidth } from './font';
import { COLOUR_RGB } from './palette';
import type { Rng } from './random';
import type { Box, Raster, Rgb } from './raster';
import { createRaster, drawLine, fillRect } from './raster';
import type { ColourName, HeldOutMode } from './vocabulary';
import { allowedColours } from './vocabulary';
import type { WordSource } from './real-words';
import { wordLists } from './real-words';

export const CHART_TYPES = ['bar', 'horizontal-bar'] as const;
export type ChartType = (typeof CHART_TYPES)[number];

export interface ChartBar {
  readonly label: string;
  readonly value: number;
  readonly bbox: Box;
  readonly labelRun: TextRun;
  readonly valueRun: TextRun;
}

export interface ChartMeta {
  readonly kind: 'chart';
  readonly width: number;
  readonly height: number;
  readonly chartType: ChartType;
  readonly colour: ColourName;
  readonly bars: readonly ChartBar[];
}

export interface ChartImage {
  readonly raster: Raster;
  readonly meta: ChartMeta;
}

export interface ChartOptions {
  readonly width: number;
  readonly height: number;
  readonly heldOut: HeldOutMode;
  /** Where the bar labels come from. */
  readonly words: WordSource;
}

export const DEFAULT_CHART_OPTIONS: ChartOptions = { width: 160, height: 128, heldOut: 'exclude', words: 'synthetic' };

const PAPER: Rgb = [250, 250, 250];
const INK: Rgb = [20, 20, 20];
const MARGIN = 6;
const MIN_BARS = 3;
const MAX_BARS = 6;
const MAX_VALUE = 99;

interface BarData {
  readonly label: string;
  readonly value: number;
}

/**
 * Labels under vertical bars need a glyph's width of space between them, or
 * two neighbours read as one word; long labels therefore allow fewer bars.
 */
function maxBarsFor(labels: readonly string[], width: number): number {
  const widest = Math.max(...labels.map((l) => textWidth(l, 1)));
  return Math.floor((width - 2 * MARGIN) / (widest + glyphAdvance(1)));
}

function drawBars(rng: Rng, width: number, words: WordSource): BarData[] {
  const set = rng.pick(wordLists(words).chartLabelSets);
  const n = rng.int(MIN_BARS, Math.min(MAX_BARS, set.length, maxBarsFor(set, width)));
  const start = rng.int(0, set.length - n);
  const values = rng.shuffle(Array.from({ length: MAX_VALUE }, (_, i) => i + 1)).slice(0, n);
  return values.map((value, i) => ({ label: set[start + i] as string, value }));
}

function centred(text: string, centre: number): number {
  return Math.round(centre - textWidth(text, 1) / 2);
}

/** Bars rise from a baseline; labels below it, values above each bar. */
function layVertical(r: Raster, data: readonly BarData[], colour: Rgb): ChartBar[] {
  const baseline = r.height - MARGIN - textHeight(1) - 3;
  const top = MARGIN + textHeight(1) + 2;
  const slot = Math.floor((r.width - 2 * MARGIN) / data.length);
  const barWidth = Math.max(4, slot - 8);
  const max = Math.max(...data.map((d) => d.value));
  drawLine(r, MARGIN, baseline, r.width - MARGIN - 1, baseline, INK);
  return data.map((d, i) => {
    const h = Math.max(1, Math.round(((baseline - top) * d.value) / max));
    const x = MARGIN + i * slot + Math.floor((slot - barWidth) / 2);
    fillRect(r, x, baseline - h, barWidth, h, colour);
    const centre = x + barWidth / 2;
    const labelRun: TextRun = { text: d.label, x: centred(d.label, centre), y: baseline + 3, scale: 1, colour: INK };
    const valueText = String(d.value);
    const valueRun: TextRun = {
      text: valueText,
      x: centred(valueText, centre),
      y: baseline - h - textHeight(1) - 1,
      scale: 1,
      colour: INK,
    };
    drawText(r, labelRun);
    drawText(r, valueRun);
    return { ...d, bbox: { x1: x, y1: baseline - h, x2: x + barWidth, y2: baseline }, labelRun, valueRun };
  });
}

/** Bars grow right from an axis; labels left of it, values right of each bar. */
function layHorizontal(r: Raster, data: readonly BarData[], colour: Rgb): ChartBar[] {
  const labelWidth = Math.max(...data.map((d) => textWidth(d.label, 1)));
  const axis = MARGIN + labelWidth + 3;
  const right = r.width - MARGIN - textWidth(String(MAX_VALUE), 1) - 2;
  const slot = Math.floor((r.height - 2 * MARGIN) / data.length);
  const barHeight = Math.max(4, slot - 6);
  const max = Math.max(...data.map((d) => d.value));
  drawLine(r, axis, MARGIN, axis, r.height - MARGIN - 1, INK);
  return data.map((d, i) => {
    const w = Math.max(1, Math.round(((right - axis - 1) * d.value) / max));
    const y = MARGIN + i * slot + Math.floor((slot - barHeight) / 2);
    fillRect(r, axis + 1, y, w, barHeight, colour);
    const textY = Math.round(y + barHeight / 2 - 3.5);
    const labelRun: TextRun = { text: d.label, x: axis - 2 - textWidth(d.label, 1), y: textY, scale: 1, colour: INK };
    const valueRun: TextRun = { text: String(d.value), x: axis + 1 + w + 2, y: textY, scale: 1, colour: INK };
    drawText(r, labelRun);
    drawText(r, valueRun);
    return { ...d, bbox: { x1: axis + 1, y1: y, x2: axis + 1 + w, y2: y + barHeight }, labelRun, valueRun };
  });
}

export function generateBarChart(rng: Rng, options: Partial<ChartOptions> = {}): ChartImage {
  const o = { ...DEFAULT_CHART_OPTIONS, ...options };
  const chartType = rng.pick(CHART_TYPES);
  const colour = rng.pick(allowedColours(o.heldOut));
  const data = drawBars(rng, o.width, o.words);
  const raster = createRaster(o.width, o.height, PAPER);
  const lay = chartType === 'bar' ? layVertical : layHorizontal;
  const bars = lay(raster, data, COLOUR_RGB[colour]);
  return { raster, meta: { kind: 'chart', width: o.width, height: o.height, chartType, colour, bars } };
}
