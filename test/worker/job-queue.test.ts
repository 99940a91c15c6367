import { describe, expect, it } from 'vitest';
import { JobQueue } from '../../src/worker/jobs/job-queue';
import { VlmError } from '../../src/worker/errors';

/** A job body that runs until the test ends it or its signal aborts; records when it started. */
function gate(log: string[], name: string) {
  let open: (v: string) => void = () => undefined;
  const body = (signal: AbortSignal) =>
    new Promise<string>((resolve) => {
      log.push(`start ${name}`);
      open = (v) => resolve(v);
      signal.addEventListener('abort', () => resolve(`${name} stopped`));
    });
  return { body, finish: (v = name) => open(v) };
}

const codeOf = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e instanceof VlmError ? e.code : String(e)));
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('the worker job queue', () => {
  it('refuses a second answer at once, before either has awaited anything', async () => {
    const q = new JobQueue();
    const log: string[] = [];
    const a = gate(log, 'a');
    const first = q.submit('answer', { id: 'chat-1' }, a.body);
    const second = q.submit('answer', { id: 'chat-2' }, gate(log, 'b').body);
    const refused = await second.catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(VlmError);
    expect((refused as VlmError).code).toBe('busy');
    expect((refused as VlmError).message).toMatch(/^An answer is being generated: /);
    a.finish('red');
    expect(await first).toBe('red');
    expect(log).toEqual(['start a']);
    // Free again once the first is done.
    const third = gate(log, 'c');
    const p = q.submit('answer', {}, third.body);
    await tick();
    third.finish();
    expect(await p).toBe('c');
  });

  it('refuses chat and evaluation while a document is read, and reads a dropped document after the one running', async () => {
    const q = new JobQueue();
    const log: string[] = [];
    const doc1 = gate(log, 'doc1');
    const doc2 = gate(log, 'doc2');
    const r1 = q.submit('ocr', { id: 'doc-1' }, doc1.body);
    const r2 = q.submit('ocr', { id: 'doc-2' }, doc2.body);
    expect(await codeOf(q.submit('answer', {}, async () => 'x'))).toBe('busy');
    expect(await codeOf(q.submit('evaluation', {}, async () => 'x'))).toBe('busy');
    await tick();
    expect(log).toEqual(['start doc1']);
    doc1.finish();
    expect(await r1).toBe('doc1');
    await tick();
    expect(log).toEqual(['start doc1', 'start doc2']);
    doc2.finish();
    expect(await r2).toBe('doc2');
  });

  it('runs loads one after another', async () => {
    const q = new JobQueue();
    const log: string[] = [];
    const l1 = gate(log, 'load1');
    const l2 = gate(log, 'load2');
    const p1 = q.submit('load', {}, l1.body);
    const p2 = q.submit('load', {}, l2.body);
    await tick();
    expect(log).toEqual(['start load1']);
    // An answer is refused while a load runs or waits.
    expect(await codeOf(q.submit('answer', {}, async () => 'x'))).toBe('busy');
    l1.finish();
    await p1;
    await tick();
    expect(log).toEqual(['start load1', 'start load2']);
    l2.finish();
    expect(await p2).toBe('load2');
  });

  it('a load stops the answer using the model, then runs', async () => {
    const q = new JobQueue();
    const log: string[] = [];
    const answer = q.submit('answer', {}, gate(log, 'answer').body);
    const load = gate(log, 'load');
    const loading = q.submit('load', {}, load.body);
    expect(await answer).toBe('answer stopped');
    await tick();
    expect(log).toEqual(['start answer', 'start load']);
    load.finish();
    expect(await loading).toBe('load');
  });

  it('stops only the job of the owner that asks', async () => {
    const q = new JobQueue();
    const log: string[] = [];
    const chat = gate(log, 'chat');
    const answer = q.submit('answer', { id: 'chat-1' }, chat.body);
    expect(q.stop('answer', 'documents-1')).toBe(false);
    expect(q.cancel('documents-1')).toBe(false);
    await tick();
    chat.finish('whole answer');
    expect(await answer).toBe('whole answer');
    const again = q.submit('answer', { id: 'chat-2' }, gate(log, 'chat2').body);
    expect(q.stop('answer', 'chat-2')).toBe(true);
    expect(await again).toBe('chat2 stopped');
  });

  it('drops a waiting job that is cancelled, and runs the next', async () => {
    const q = new JobQueue();
    const log: string[] = [];
    const d1 = gate(log, 'd1');
    const d3 = gate(log, 'd3');
    const p1 = q.submit('ocr', { id: 'd1' }, d1.body);
    const p2 = q.submit('ocr', { id: 'd2' }, gate(log, 'd2').body);
    const p3 = q.submit('ocr', { id: 'd3' }, d3.body);
    expect(q.cancel('d2')).toBe(true);
    expect(await codeOf(p2)).toBe('cancelled');
    d1.finish();
    await p1;
    await tick();
    d3.finish();
    await p3;
    expect(log).toEqual(['start d1', 'start d3']);
  });

  it('a job that throws synchronously frees its turn', async () => {
    const q = new JobQueue();
    expect(
      await codeOf(
        q.submit('answer', {}, () => {
          throw new VlmError('no-model', 'none');
        }),
      ),
    ).toBe('no-model');
    expect(await q.submit('answer', {}, async () => 'next')).toBe('next');
  });
});
