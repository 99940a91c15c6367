/**
 * Document pages: a title, a date, a few lines of body text and a small table,
 * in the 1x font on a 192 x 256 page. At that size a 64 x 64 view cannot read
 * them: they exist to exercise the high-resolution (AnyRes) path.
 */
import type { TextRun } from './font';
import { drawText, glyphAdvance, textHeight, textWidth } from './font';
import type { Rng } from './random';
import type { Raster, Rgb } from './raster';
import { createRaster, drawLine, strokeRect } from './raster';
import type { WordLists, WordSource } from './real-words';
import { wordLists } from './real-words';

export interface DocumentTable {
  readonly columns: readonly string[];
  /** rows[i][0] is the row's item name; the other cells are numbers as text. */
  readonly rows: readonly (readonly string[])[];
  /** The text run of every cell, header row first (same shape as [columns, ...rows]). */
  readonly runs: readonly (readonly TextRun[])[];
}

export interface DocumentMeta {
  readonly kind: 'document';
  readonly width: number;
  readonly height: number;
  readonly title: TextRun;
  /** ISO date as printed, e.g. 2024-03-15. */
  readonly date: string;
  /** The printed date line, "Date: " followed by the date. */
  readonly dateRun: TextRun;
  readonly lines: readonly TextRun[];
  readonly table: DocumentTable;
}

export interface DocumentImage {
  readonly raster: Raster;
  readonly meta: DocumentMeta;
}

export interface DocumentOptions {
  readonly width: number;
  readonly height: number;
  /** Where the title, body, item and header words come from. */
  readonly words: WordSource;
}

export const DEFAULT_DOCUMENT_OPTIONS: DocumentOptions = { width: 192, height: 256, words: 'synthetic' };

const PAPER: Rgb = [252, 252, 248];
const INK: Rgb = [20, 20, 30];
const RULE: Rgb = [90, 90, 90];
const MARGIN = 8;
const LINE_GAP = 3;
const CELL_PAD = 3;
const ROW_HEIGHT = textHeight(1) + 2 * CELL_PAD - 1;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function drawDate(rng: Rng): string {
  return `${rng.int(2019, 2026)}-${pad2(rng.int(1, 12))}-${pad2(rng.int(1, 28))}`;
}

function drawTitle(rng: Rng, maxWidth: number, words: WordLists): string {
  for (;;) {
    const first = rng.pick(words.titleFirst);
    const second = rng.pick(words.titleSecond);
    const t = `${first} ${second}`;
    if (first !== second && textWidth(t, 2) <= maxWidth) return t;
  }
}

/** A sentence of body words that fits the line, capitalised, with a full stop. */
function drawSentence(rng: Rng, maxChars: number, body: readonly string[]): string {
  const words: string[] = [];
  let len = 0;
  for (;;) {
    const w = rng.pick(body);
    if (len + w.length + (words.length > 0 ? 1 : 0) + 1 > maxChars) break;
    len += w.length + (words.length > 0 ? 1 : 0);
    words.push(w);
  }
  const s = words.join(' ');
  return `${s.charAt(0).toUpperCase()}${s.slice(1)}.`;
}

function drawTableContent(rng: Rng, words: WordLists): { columns: string[]; rows: string[][] } {
  const columns = ['Item', ...rng.shuffle(words.tableColumns).slice(0, 2)];
  const items = rng.shuffle(words.tableItems).slice(0, rng.int(3, 4));
  const rows = items.map((item) => [item, String(rng.int(1, 999)), String(rng.int(1, 999))]);
  return { columns, rows };
}

const COLUMN_WIDTHS = [60, 48, 48] as const;

/** Draws the grid and the cell text with the top-left corner at (x, y). */
function layTable(r: Raster, x: number, y: number, content: { columns: string[]; rows: string[][] }): DocumentTable {
  const all = [content.columns, ...content.rows];
  const width = COLUMN_WIDTHS.reduce((a, b) => a + b, 0);
  const height = all.length * ROW_HEIGHT + 1;
  strokeRect(r, x, y, width, height, RULE);
  for (let i = 1; i < all.length; i++) drawLine(r, x, y + i * ROW_HEIGHT, x + width - 1, y + i * ROW_HEIGHT, RULE);
  let cx = x;
  for (let j = 0; j < COLUMN_WIDTHS.length - 1; j++) {
    cx += COLUMN_WIDTHS[j] as number;
    drawLine(r, cx, y, cx, y + height - 1, RULE);
  }
  const runs = all.map((row, i) => {
    let colX = x;
    return row.map((text, j) => {
      const run: TextRun = { text, x: colX + CELL_PAD, y: y + i * ROW_HEIGHT + CELL_PAD, scale: 1, colour: INK };
      colX += COLUMN_WIDTHS[j] as number;
      drawText(r, run);
      return run;
    });
  });
  return { columns: content.columns, rows: content.rows, runs };
}

export function generateDocument(rng: Rng, options: Partial<DocumentOptions> = {}): DocumentImage {
  const o = { ...DEFAULT_DOCUMENT_OPTIONS, ...options };
  const words = wordLists(o.words);
  const raster = createRaster(o.width, o.height, PAPER);
  const textArea = o.width - 2 * MARGIN;
  const title: TextRun = { text: drawTitle(rng, textArea, words), x: MARGIN, y: MARGIN, scale: 2, colour: INK };
  drawText(raster, title);
  const date = drawDate(rng);
  let y = title.y + textHeight(2) + 6;
  const dateRun: TextRun = { text: `Date: ${date}`, x: MARGIN, y, scale: 1, colour: INK };
  drawText(raster, dateRun);
  y += textHeight(1) + 4;
  drawLine(raster, MARGIN, y, o.width - MARGIN - 1, y, RULE);
  y += 6;
  const maxChars = Math.floor((textArea + 1) / glyphAdvance(1));
  const lines: TextRun[] = [];
  for (let i = rng.int(3, 6); i > 0; i--) {
    const run: TextRun = { text: drawSentence(rng, maxChars, words.body), x: MARGIN, y, scale: 1, colour: INK };
    drawText(raster, run);
    lines.push(run);
    y += textHeight(1) + LINE_GAP;
  }
  const table = layTable(raster, MARGIN, y + 6, drawTableContent(rng, words));
  const last = table.runs[table.runs.length - 1]?.[0];
  if (!last || last.y + ROW_HEIGHT > o.height) throw new Error(`document: page ${o.width}x${o.height} is too small`);
  return { raster, meta: { kind: 'document', width: o.width, height: o.height, title, date, dateRun, lines, table } };
}
