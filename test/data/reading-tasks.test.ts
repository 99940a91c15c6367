import { describe, expect, it } from 'vitest';
import type { ChartMeta } from '../../src/data/charts';
import { glyphAdvance, runBox } from '../../src/data/font';
import { getPixel, sameRgb } from '../../src/data/raster';
import type { Raster } from '../../src/data/raster';
import { taskSamples } from '../../src/data/split';
import type { TaskName } from '../../src/data/tasks/registry';
import type { ImageMeta } from '../../src/data/tasks/types';
import type { TextRun } from '../../src/data/font';
import { readText } from './pixels';

function qa(task: TaskName, n = 60, seed = 2): { q: string; a: string; raster: Raster; meta: ImageMeta }[] {
  return [...taskSamples(task, n, seed)].map((s) => {
    const img = s.images[0];
    if (!img) throw new Error('no image');
    return { q: s.conversations[0]?.value ?? '', a: s.conversations[1]?.value ?? '', raster: img.raster, meta: img.meta };
  });
}

/** The run's text as read from the pixels; the cell just after it must hold no letter or digit (no text glued on). */
function readRun(r: Raster, run: TextRun): string {
  const text = readText(r, run.x, run.y, run.scale, run.colour, run.text.length);
  const after = runBox(run).x2 + 1;
  if (after + glyphAdvance(run.scale) <= r.width) {
    expect(readText(r, after, run.y, run.scale, run.colour, 1), `${text} is followed by more text`).not.toMatch(/[A-Za-z0-9]/);
  }
  return text;
}

describe('OCR', () => {
  it('answers with the text that can be read from the pixels at the recorded place', () => {
    for (const { q, a, raster, meta } of qa('ocr', 150)) {
      if (meta.kind !== 'text') throw new Error('expected a text image');
      expect(q).toBe('<image>\nWhat does the text say?');
      expect(readRun(raster, meta.run)).toBe(a);
      const box = runBox(meta.run);
      expect(box.x1 >= 0 && box.y1 >= 0 && box.x2 <= raster.width && box.y2 <= raster.height).toBe(true);
    }
  });
});

describe('documents', () => {
  it('title and date answers are printed on the page', () => {
    for (const { a, raster, meta } of qa('doc-title')) {
      if (meta.kind !== 'document') throw new Error('expected a document');
      expect(readRun(raster, meta.title)).toBe(a);
    }
    for (const { a, raster, meta } of qa('doc-date')) {
      if (meta.kind !== 'document') throw new Error('expected a document');
      expect(a).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(readRun(raster, meta.dateRun)).toBe(`Date: ${a}`);
      for (const line of meta.lines) expect(readRun(raster, line)).toBe(line.text);
    }
  });

  it('table answers are the cell printed in the named row and column', () => {
    for (const { q, a, raster, meta } of qa('doc-table')) {
      if (meta.kind !== 'document') throw new Error('expected a document');
      const m = /^<image>\nWhat is the (\w+) of (\w+) in the table\?$/.exec(q);
      expect(m, q).not.toBeNull();
      const runs = meta.table.runs;
      const header = runs[0]?.map((r) => readRun(raster, r)) ?? [];
      const col = header.indexOf(m?.[1] ?? '');
      const row = runs.findIndex((r, i) => i > 0 && r[0] && readRun(raster, r[0]) === m?.[2]);
      expect(col).toBeGreaterThan(0);
      expect(row).toBeGreaterThan(0);
      const cell = runs[row]?.[col];
      expect(cell && readRun(raster, cell)).toBe(a);
    }
  });

  it('are larger pages than scenes', () => {
    const raster = qa('doc-title', 1)[0]?.raster;
    expect([raster?.width, raster?.height]).toEqual([192, 256]);
  });
});

/** Bar lengths measured from the pixels: the run of bar-coloured pixels through the bar's middle. */
function measuredLength(r: Raster, meta: ChartMeta, bar: ChartMeta['bars'][number]): number {
  const colour = getPixel(r, bar.bbox.x1, bar.bbox.y1);
  const vertical = meta.chartType === 'bar';
  let n = 0;
  if (vertical) {
    const x = Math.floor((bar.bbox.x1 + bar.bbox.x2) / 2);
    for (let y = 0; y < r.height; y++) n += sameRgb(getPixel(r, x, y), colour) ? 1 : 0;
  } else {
    const y = Math.floor((bar.bbox.y1 + bar.bbox.y2) / 2);
    for (let x = 0; x < r.width; x++) n += sameRgb(getPixel(r, x, y), colour) ? 1 : 0;
  }
  return n;
}

describe('bar charts', () => {
  it('draw bars whose lengths are proportional to the printed values', () => {
    for (const { raster, meta } of qa('chart-value', 80)) {
      if (meta.kind !== 'chart') throw new Error('expected a chart');
      const max = Math.max(...meta.bars.map((b) => b.value));
      const longest = Math.max(...meta.bars.map((b) => measuredLength(raster, meta, b)));
      for (const b of meta.bars) {
        expect(readRun(raster, b.valueRun)).toBe(String(b.value));
        expect(readRun(raster, b.labelRun)).toBe(b.label);
        expect(Math.abs(measuredLength(raster, meta, b) - (longest * b.value) / max)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('answer the type, the highest bar, its value and a named bar value from what is drawn', () => {
    const types = new Set<string>();
    for (const { a, meta } of qa('chart-type')) {
      if (meta.kind !== 'chart') throw new Error('expected a chart');
      expect(a).toBe(meta.chartType === 'bar' ? 'bar chart' : 'horizontal bar chart');
      types.add(a);
    }
    expect(types.size).toBe(2);
    for (const task of ['chart-highest', 'chart-max-value'] as const) {
      for (const { a, raster, meta } of qa(task)) {
        if (meta.kind !== 'chart') throw new Error('expected a chart');
        const lengths = meta.bars.map((b) => measuredLength(raster, meta, b));
        const top = meta.bars[lengths.indexOf(Math.max(...lengths))];
        expect(lengths.filter((l) => l === Math.max(...lengths)).length).toBe(1);
        expect(a).toBe(task === 'chart-highest' ? top?.label : String(top?.value));
      }
    }
    for (const { q, a, raster, meta } of qa('chart-value')) {
      if (meta.kind !== 'chart') throw new Error('expected a chart');
      const label = /^<image>\nWhat is the value of (\w+)\?$/.exec(q)?.[1];
      const bar = meta.bars.find((b) => readRun(raster, b.labelRun) === label);
      expect(bar && readRun(raster, bar.valueRun)).toBe(a);
    }
  });
});
