import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TASK_OPTIONS, encodePng, taskSamples } from '../../src/data';
import { checkLlavaRecord } from '../../src/data/llava';
import { VlmError } from '../../src/worker/errors';
import type { FinetuneImage, TeacherEvent, TeacherRequest } from '../../src/worker/finetune-api';
import { objectName, teacherWrite } from '../../src/worker/jobs/teacher';
import { completionsUrl, retryAfterMs } from '../../src/worker/jobs/teacher-endpoint';
import { cannedAnswer, startOpenAiServer, type OpenAiServer } from '../helpers/openai-server';

/** A folder of three scene pictures. */
const images: FinetuneImage[] = [...taskSamples('describe', 3, 7, { ...DEFAULT_TASK_OPTIONS, heldOut: 'include' })].map((s, i) => ({
  path: `photos/img-${i}.png`,
  type: 'image/png',
  bytes: encodePng(s.images[0]?.raster ?? (() => { throw new Error('no image'); })()),
}));

let server: OpenAiServer;
beforeAll(async () => {
  server = await startOpenAiServer();
});
afterAll(async () => {
  await server.close();
});

function request(over: Partial<TeacherRequest> = {}, timeoutMs?: number): TeacherRequest {
  return {
    images,
    tasks: ['detailed-description', 'count'],
    source: { kind: 'endpoint', url: server.baseUrl, model: 'teacher-vl', apiKey: 'sk-test', ...(timeoutMs ? { timeoutMs } : {}) },
    ...over,
  };
}

async function run(req: TeacherRequest) {
  const events: TeacherEvent[] = [];
  server.log.length = 0;
  const records = await teacherWrite(req, (e) => events.push(e), { baseDelayMs: 5 });
  return { records, events };
}

describe('teacherWrite against an OpenAI-compatible endpoint', () => {
  it('turns a folder of 3 images and 2 tasks into 6 LLaVA records, each image sent as an image_url data URL with the key', async () => {
    const { records, events } = await run(request());
    expect(records.map((r) => r.id)).toEqual([
      'photos-img-0-detailed-description', 'photos-img-0-count',
      'photos-img-1-detailed-description', 'photos-img-1-count',
      'photos-img-2-detailed-description', 'photos-img-2-count',
    ]);
    for (const r of records) expect(checkLlavaRecord(r)).toEqual(r);
    expect(records[0]).toEqual({
      id: 'photos-img-0-detailed-description',
      image: 'photos/img-0.png',
      conversations: [
        { from: 'human', value: '<image>\nDescribe this image in detail.' },
        { from: 'gpt', value: cannedAnswer('Describe this image in detail.', images[0]?.bytes.length ?? 0) },
      ],
      task: 'detailed-description',
    });
    expect(records[1]?.conversations[1]?.value).toBe('3');
    expect(server.log).toHaveLength(6);
    server.log.forEach((req, i) => {
      expect(req).toMatchObject({ authorization: 'Bearer sk-test', model: 'teacher-vl', imageType: 'image/png', imageBytes: images[Math.floor(i / 2)]?.bytes.length });
      // The instruction for the teacher goes as a system message, not into the data.
      expect(req.system).toMatch(/training data/);
    });
    expect(events.filter((e) => e.kind === 'record').map((e) => (e.kind === 'record' ? [e.done, e.total] : null))).toEqual([[1, 6], [2, 6], [3, 6], [4, 6], [5, 6], [6, 6]]);
  });

  it('retries a 429 after its Retry-After and a 500 with back-off, then carries on', async () => {
    server.script.push({ status: 429, retryAfter: '1' }, { status: 500 });
    const { records, events } = await run(request({ images: images.slice(0, 1) }));
    expect(records).toHaveLength(2);
    const retries = events.filter((e) => e.kind === 'retry');
    expect(retries).toEqual([
      { kind: 'retry', image: 'photos/img-0.png', attempt: 1, reason: expect.stringMatching(/answered 429/) as string, delayMs: 1000 },
      { kind: 'retry', image: 'photos/img-0.png', attempt: 2, reason: expect.stringMatching(/answered 500/) as string, delayMs: 10 },
    ]);
    expect(server.log.map((r) => r.status)).toEqual([429, 500, 200, 200]);
  });

  it('names the image whose request timed out, skips it and writes the others', async () => {
    server.script.push({ status: 'hang' });
    const { records, events } = await run(request({}, 400));
    const failed = events.filter((e) => e.kind === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ kind: 'failed', image: 'photos/img-0.png' });
    expect(failed[0]?.kind === 'failed' && failed[0].reason).toMatch(/^photos\/img-0\.png: no answer from http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions within 0\.4 s/);
    expect(records.map((r) => r.image)).toEqual(['photos/img-1.png', 'photos/img-1.png', 'photos/img-2.png', 'photos/img-2.png']);
    const last = events.filter((e) => e.kind === 'record').at(-1);
    expect(last?.kind === 'record' && [last.done, last.total]).toEqual([6, 6]);
  });

  it('gives up on an image after the retries and names it', async () => {
    server.script.push({ status: 500 }, { status: 500 }, { status: 500 });
    const { records, events } = await run(request({ images: images.slice(0, 2), maxRetries: 2 }));
    expect(events.filter((e) => e.kind === 'retry')).toHaveLength(2);
    expect(events.find((e) => e.kind === 'failed')).toMatchObject({ image: 'photos/img-0.png', reason: expect.stringMatching(/answered 500.*gave up after 2 retries/) as string });
    expect(records.map((r) => r.image)).toEqual(['photos/img-1.png', 'photos/img-1.png']);
  });

  it('writes multi-turn, where-is-X and grounding records', async () => {
    const { records } = await run(request({ images: images.slice(0, 1), tasks: ['conversation', 'where', 'grounding'] }));
    expect(records.map((r) => r.task)).toEqual(['conversation', 'where', 'grounding']);
    expect(records[0]?.conversations.map((t) => t.from)).toEqual(['human', 'gpt', 'human', 'gpt', 'human', 'gpt']);
    // Later turns go with the conversation so far.
    expect(server.log.slice(0, 3).map((r) => r.turns)).toEqual([2, 4, 6]);
    expect(records[1]?.conversations[0]?.value).toBe('<image>\nWhere is the red circle?');
    expect(records[2]?.conversations[1]?.value).toMatch(/^<ref>red circle<\/ref><box>\(100,120\),\(400,460\)<\/box>/);
  });

  it('stops the run when the key is refused, and names the page policy when the endpoint cannot be reached', async () => {
    server.requireKey = 'sk-right';
    try {
      await expect(run(request())).rejects.toMatchObject({ code: 'teacher-endpoint', message: expect.stringMatching(/refused the request \(401\): check the key/) as string });
    } finally {
      server.requireKey = null;
    }
    const closed = await startOpenAiServer();
    await closed.close();
    const err = await run(request({ source: { kind: 'endpoint', url: closed.baseUrl, model: 'm' }, maxRetries: 1 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VlmError);
    expect((err as VlmError).message).toMatch(/could not reach .*WEBVLM_CONNECT_SRC/);
  });
});

describe('teacher helpers', () => {
  it('takes the endpoint as a base URL or the full chat-completions path, http(s) only', () => {
    expect(completionsUrl('http://127.0.0.1:8080/v1/')).toBe('http://127.0.0.1:8080/v1/chat/completions');
    expect(completionsUrl(' https://api.example.com/v1/chat/completions ')).toBe('https://api.example.com/v1/chat/completions');
    expect(() => completionsUrl('file:///etc/passwd')).toThrow(/http or https/);
    expect(() => completionsUrl('localhost:8080')).toThrow(/http or https|not a URL/);
  });

  it('reads Retry-After as seconds or a date, capped', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('86400', now)).toBe(120_000);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });

  it("takes the object's name from the teacher's answer to ask where it is", () => {
    expect(objectName('The red circle.')).toBe('red circle');
    expect(objectName('"A large wooden table near the window"\nIt is brown.')).toBe('large wooden table near the');
  });
});
