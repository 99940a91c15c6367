import * as Comlink from 'comlink';
import { afterAll, describe, expect, it } from 'vitest';
import { wrapEndpoint } from '../../src/worker/client';
import { Engine } from '../../src/worker/engine';
import { VlmError } from '../../src/worker/errors';
import { isEmptyQuestion } from '../../src/worker/jobs/model-session';

// No GPU is needed: an empty question is refused before a model is looked for.
const channel = new MessageChannel();
Comlink.expose(new Engine(() => undefined), channel.port1);
const api = wrapEndpoint(channel.port2);

afterAll(() => {
  channel.port1.close();
  channel.port2.close();
});

describe('an empty question', () => {
  it('is a last user message with no words and no image', () => {
    expect(isEmptyQuestion([{ role: 'user', content: '  \n' }])).toBe(true);
    expect(isEmptyQuestion([{ role: 'user', content: [{ type: 'text', text: ' ' }] }])).toBe(true);
    expect(isEmptyQuestion([])).toBe(true);
    expect(isEmptyQuestion([{ role: 'user', content: 'What colour?' }, { role: 'assistant', content: 'red' }, { role: 'user', content: [] }])).toBe(true);
    expect(isEmptyQuestion([{ role: 'user', content: [{ type: 'image' }] }])).toBe(false);
    expect(isEmptyQuestion([{ role: 'user', content: [{ type: 'text', text: 'What colour?' }] }])).toBe(false);
  });

  it("is refused by the worker's chat as bad-input with a clear message, before anything else", async () => {
    const err = await api.chat({ messages: [{ role: 'user', content: [{ type: 'text', text: '   ' }] }], images: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VlmError);
    expect((err as VlmError).code).toBe('bad-input');
    expect((err as VlmError).message).toContain('The message is empty');
    // A real question gets past the check (and here meets the missing model).
    const next = await api.chat({ messages: [{ role: 'user', content: 'What colour?' }], images: [] }).catch((e: unknown) => e);
    expect((next as VlmError).code).toBe('no-model');
  });
});
