/** Tasks that read text: OCR of a word, document fields and table cells, bar-chart facts. */
import type { ChartImage, ChartMeta } from '../charts';
import { generateBarChart } from '../charts';
import type { DocumentImage } from '../documents';
import { generateDocument } from '../documents';
import type { Rng } from '../random';
import { generateTextImage } from '../text-images';
import type { DraftBuilder } from './scene-tasks';
import type { GeneratedImage, QA, SampleDraft, TaskOptions } from './types';
import { conversation } from './types';

export const OCR_PROMPT = 'What does the text say?';

function draft(image: GeneratedImage, qa: QA): SampleDraft {
  return { images: [{ raster: image.raster, meta: image.meta }], conversations: conversation([qa]) };
}

export const ocrTask: DraftBuilder = (rng, options) => {
  const img = generateTextImage(rng, { width: options.imageSize, height: options.imageSize, heldOut: options.heldOut });
  return draft(img, { question: OCR_PROMPT, answer: img.meta.text });
};

function documentTask(ask: (doc: DocumentImage, rng: Rng) => QA): DraftBuilder {
  return (rng, options) => {
    const doc = generateDocument(rng, { words: options.words ?? 'synthetic' });
    return draft(doc, ask(doc, rng));
  };
}

export const docTitleTask = documentTask((doc) => ({
  question: 'What is the title of this document?',
  answer: doc.meta.title.text,
}));

export const docDateTask = documentTask((doc) => ({
  question: 'What is the date on this document?',
  answer: doc.meta.date,
}));

/** A numeric cell named by its row's item and its column header. */
export const docTableTask = documentTask((doc, rng) => {
  const { columns, rows } = doc.meta.table;
  const row = rng.pick(rows);
  const col = rng.int(1, columns.length - 1);
  return {
    question: `What is the ${columns[col] ?? ''} of ${row[0] ?? ''} in the table?`,
    answer: row[col] ?? '',
  };
});

const CHART_TYPE_ANSWER: Readonly<Record<ChartMeta['chartType'], string>> = {
  bar: 'bar chart',
  'horizontal-bar': 'horizontal bar chart',
};

function highest(meta: ChartMeta): ChartMeta['bars'][number] {
  return meta.bars.reduce((best, b) => (b.value > best.value ? b : best));
}

function chartTask(ask: (chart: ChartImage, rng: Rng) => QA): DraftBuilder {
  return (rng, options: TaskOptions) => {
    const chart = generateBarChart(rng, { heldOut: options.heldOut, words: options.words ?? 'synthetic' });
    return draft(chart, ask(chart, rng));
  };
}

export const chartTypeTask = chartTask((c) => ({
  question: 'What type of chart is this?',
  answer: CHART_TYPE_ANSWER[c.meta.chartType],
}));

export const chartHighestTask = chartTask((c) => ({
  question: 'Which bar has the highest value?',
  answer: highest(c.meta).label,
}));

export const chartMaxValueTask = chartTask((c) => ({
  question: 'What is the highest value in the chart?',
  answer: String(highest(c.meta).value),
}));

export const chartValueTask = chartTask((c, rng) => {
  const bar = rng.pick(c.meta.bars);
  return { question: `What is the value of ${bar.label}?`, answer: String(bar.value) };
});
