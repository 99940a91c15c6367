import { describe, expect, it } from 'vitest';
import { buildEvalExport, csvField, evalExportJson, evalSample, resultsCsv, samplesCsv } from '../../src/eval/export';
import { EvalExportError, readEvalExport } from '../../src/eval/export-reader';
import { RecordScorer } from '../../src/eval/score-records';

/** RFC 4180 read back, so the test checks the quoting by round trip as well as by example. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') field += text[++i];
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endField();
    else if (c === '\r' && text[i + 1] === '\n') {
      endField();
      rows.push(row);
      row = [];
      i++;
    } else field += c;
  }
  return rows;
}

function runExport() {
  const scorer = new RecordScorer();
  const asked = [
    { id: 1, image: 'COCO_val2014_000000310196.jpg', question: 'Is there a snowboard in the image?', response: 'Yes, there is a snowboard.', target: 'yes' },
    { id: 2, image: 'COCO_val2014_000000310196.jpg', question: 'Is there a car in the image?', response: 'No, there is no "car",\r\nreally.', target: 'no' },
  ];
  const samples = asked.map((q, i) => {
    const r = scorer.add({ task: 'pope-random', pred: q.response, gold: q.target });
    return evalSample(i, { question_id: q.id, task: 'pope-random', image: q.image, input: q.question, response: q.response, parsed: r.parsed, target: q.target, metric: r.metric, score: r.score });
  });
  return buildEvalExport({ model: 'webvlm-tiny', engine: 'native' }, scorer.scores(), samples);
}

describe('CSV (RFC 4180)', () => {
  it('quotes fields with commas, quotes, CR or LF, doubling the quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField(0.5)).toBe('0.5');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField('')).toBe('');
  });

  it('writes one CRLF-ended row per record that reads back field for field', () => {
    const e = runExport();
    const csv = samplesCsv(e.samples);
    expect(csv.split('\r\n')[0]).toBe('doc_id,question_id,task,image,input,response,parsed,target,metric,score');
    const rows = parseCsv(csv);
    expect(rows).toHaveLength(3);
    expect(rows[2]).toEqual(['1', '2', 'pope-random', 'COCO_val2014_000000310196.jpg', 'Is there a car in the image?', 'No, there is no "car",\r\nreally.', 'no', 'no', 'f1', '1']);
    const results = parseCsv(resultsCsv(e.results));
    expect(results[0]).toEqual(['task', 'n', 'metric', 'score', 'accuracy', 'precision', 'recall', 'f1', 'yes_ratio', 'tp', 'fp', 'tn', 'fn']);
    expect(results[1]).toEqual(['pope-random', '2', 'f1', '1', '1', '1', '1', '1', '0.5', '1', '0', '1', '0']);
  });
});

describe('JSON export', () => {
  it("carries lmms-eval's record fields and the summary, and reads back equal", () => {
    const e = runExport();
    expect(e.samples[0]).toEqual({
      doc_id: 0,
      question_id: 1,
      task: 'pope-random',
      image: 'COCO_val2014_000000310196.jpg',
      input: 'Is there a snowboard in the image?',
      resps: [['Yes, there is a snowboard.']],
      filtered_resps: ['yes'],
      target: 'yes',
      metric: 'f1',
      score: 1,
    });
    expect(readEvalExport(evalExportJson(e))).toEqual(e);
  });

  type Json = Record<string, unknown>;
  /** The object at a path of keys, for spoiling one field of a parsed export. */
  const at = (o: Json, ...keys: (string | number)[]): Json => keys.reduce<Json>((x, k) => x[k] as Json, o);
  const broken: [string, (o: Json) => void, string][] = [
    ['another format', (o) => (o['format'] = 'lmms-eval'), 'format'],
    ['a newer version', (o) => (o['version'] = 2), 'version'],
    ['a sample without target', (o) => delete at(o, 'samples', 1)['target'], 'samples[1].target'],
    ['an unknown metric', (o) => (at(o, 'results', 'pope-random')['metric'] = 'bleu'), 'results.pope-random.metric'],
    ['a POPE count that is not whole', (o) => (at(o, 'results', 'pope-random', 'pope')['tp'] = 1.5), 'results.pope-random.pope.tp'],
    ['resps not nested', (o) => (at(o, 'samples', 0)['resps'] = ['x']), 'samples[0].resps[0]'],
  ];
  it.each(broken)('%s: the error names the field', (_, spoil, path) => {
    const o = JSON.parse(evalExportJson(runExport())) as Json;
    spoil(o);
    expect(() => readEvalExport(JSON.stringify(o))).toThrow(EvalExportError);
    try {
      readEvalExport(JSON.stringify(o));
    } catch (e) {
      expect((e as EvalExportError).path).toBe(path);
    }
  });

  it('refuses text that is not JSON', () => {
    expect(() => readEvalExport('{"format":')).toThrow(/not JSON/);
  });
});
