/**
 * A PDF text layer as lines. pdf.js gives text runs (often one per word or
 * per font change) with a transform in PDF units; these are mapped through the
 * page viewport into the same pixel space as the rendered image, and runs on
 * one baseline are joined into lines in reading order.
 */
import { groupRows } from '../ocr/reading-order';
import type { Box } from '../ocr/types';
import type { TextLine } from './types';

/** The part of pdf.js's TextItem we use. */
export interface TextRun {
  str: string;
  /** [a, b, c, d, e, f] in PDF user space (y up). */
  transform: readonly number[];
  width: number;
  height: number;
}

/** Maps PDF user space to viewport pixels (pdf.js viewport.transform). */
export type ViewportTransform = readonly [number, number, number, number, number, number];

function apply(m: ViewportTransform, x: number, y: number): [number, number] {
  return [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];
}

/** The run's box in viewport pixels: from the baseline up by the font height. */
export function runBox(run: TextRun, vt: ViewportTransform): Box {
  const [, , , , e = 0, f = 0] = run.transform;
  const a = run.transform[0] ?? 1;
  const b = run.transform[1] ?? 0;
  const len = Math.hypot(a, b) || 1;
  const [ux, uy] = [a / len, b / len];
  const h = run.height || Math.hypot(run.transform[2] ?? 0, run.transform[3] ?? 0);
  // Descenders reach about a fifth of the font size below the baseline.
  const corners = [
    apply(vt, e - 0.2 * h * -uy, f - 0.2 * h * ux),
    apply(vt, e + run.width * ux - 0.2 * h * -uy, f + run.width * uy - 0.2 * h * ux),
    apply(vt, e + run.width * ux + 0.8 * h * -uy, f + run.width * uy + 0.8 * h * ux),
    apply(vt, e + 0.8 * h * -uy, f + 0.8 * h * ux),
  ];
  const xs = corners.map((c) => c[0]);
  const ys = corners.map((c) => c[1]);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

/**
 * Joins runs into lines. Runs on one row are one line unless a gap wider
 * than two font heights separates them (a column or a table cell boundary).
 */
export function textLayerLines(runs: readonly TextRun[], vt: ViewportTransform): TextLine[] {
  const items = runs.filter((r) => r.str.trim() !== '').map((r) => ({ text: r.str, box: runBox(r, vt) }));
  const lines: TextLine[] = [];
  for (const row of groupRows(items)) {
    let cur: { text: string; box: Box } | null = null;
    for (const item of row) {
      const gap = cur ? item.box.x - (cur.box.x + cur.box.width) : 0;
      if (cur && gap <= 2 * Math.max(cur.box.height, item.box.height)) {
        // pdf.js sometimes carries the space inside a run and sometimes not.
        const sep: string = cur.text.endsWith(' ') || item.text.startsWith(' ') || gap < 0.1 * item.box.height ? '' : ' ';
        const right = Math.max(cur.box.x + cur.box.width, item.box.x + item.box.width);
        const top = Math.min(cur.box.y, item.box.y);
        const bottom = Math.max(cur.box.y + cur.box.height, item.box.y + item.box.height);
        cur = { text: cur.text + sep + item.text, box: { x: cur.box.x, y: top, width: right - cur.box.x, height: bottom - top } };
      } else {
        if (cur) lines.push({ text: cur.text.replace(/\s+/g, ' ').trim(), box: cur.box, confidence: 1 });
        cur = { ...item };
      }
    }
    if (cur) lines.push({ text: cur.text.replace(/\s+/g, ' ').trim(), box: cur.box, confidence: 1 });
  }
  return lines;
}
