import { describe, expect, it } from 'vitest';
import { imageType } from '../../src/ui/chat/attachments';
import { buildRequest, imageForAnswer, liveTurns, type Conversation, type ImageFile, type Turn } from '../../src/ui/chat/conversation';
import { groundingQuestion } from '../../src/models/grounding';

const file = (id: string, byte: number): ImageFile => ({ id, name: `${id}.png`, type: 'image/png', bytes: new Uint8Array([byte, byte]).buffer });

function conversation(turns: Turn[]): Conversation {
  return { turns, images: new Map([file('a', 1), file('b', 2), file('c', 3)].map((f) => [f.id, f])) };
}

describe('the request built from the conversation', () => {
  const turns: Turn[] = [
    { role: 'user', id: 'u1', text: 'What colour is the object?', imageIds: ['a', 'b'] },
    { role: 'assistant', id: 'r1', text: 'red', finish: 'stop' },
    { role: 'user', id: 'u2', text: 'broken', imageIds: ['c'], error: { code: 'bad-image', message: 'c.png could not be decoded' } },
    { role: 'user', id: 'u3', text: 'Describe this image in detail.', imageIds: [] },
    { role: 'assistant', id: 'r3', text: '', finish: 'cancelled' },
    { role: 'user', id: 'u4', text: 'How many objects are there?', imageIds: ['c'] },
    { role: 'assistant', id: 'r4', text: '', finish: 'streaming' },
  ];

  it('sends every live turn in order with all images in order, and leaves out failed turns and empty answers', () => {
    const { messages, images } = buildRequest(conversation(turns));
    expect(messages).toEqual([
      { role: 'user', content: [{ type: 'image' }, { type: 'image' }, { type: 'text', text: 'What colour is the object?' }] },
      { role: 'assistant', content: 'red' },
      { role: 'user', content: [{ type: 'text', text: 'Describe this image in detail.' }] },
      { role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'How many objects are there?' }] },
    ]);
    expect(images.map((i) => [i.name, new Uint8Array(i.bytes)[0]])).toEqual([
      ['a.png', 1],
      ['b.png', 2],
      ['c.png', 3],
    ]);
    expect(liveTurns(turns).map((t) => t.id)).toEqual(['u1', 'r1', 'u3', 'u4']);
  });

  it('copies the image bytes, so transferring them to the worker keeps the page its own', () => {
    const c = conversation(turns);
    const { images } = buildRequest(c);
    expect(images[0]?.bytes).not.toBe(c.images.get('a')?.bytes);
  });

  it('draws boxes over the last image of the question, or the last one before it', () => {
    const c = conversation(turns);
    expect(imageForAnswer(c, 'r1')?.id).toBe('b');
    // r3's question has no image and the failed turn's image is skipped.
    expect(imageForAnswer(c, 'r3')?.id).toBe('b');
    expect(imageForAnswer(c, 'r4')?.id).toBe('c');
    expect(imageForAnswer({ turns: [{ role: 'assistant', id: 'x', text: '', finish: 'stop' }], images: new Map() }, 'x')).toBeNull();
  });
});

describe('the grounding helper', () => {
  it('asks in the template the model was trained on (src/data: "Locate the {colour} {shape}.")', () => {
    expect(groundingQuestion('red circle')).toBe('Locate the red circle.');
    expect(groundingQuestion('  The Blue  Square? ')).toBe('Locate the blue square.');
    expect(groundingQuestion('')).toBeNull();
    expect(groundingQuestion(' . ')).toBeNull();
  });
});

describe('which files count as images', () => {
  it('trusts an image MIME type, falls back to the extension when there is none, and refuses the rest', () => {
    expect(imageType({ name: 'a.png', type: 'image/png' })).toBe('image/png');
    expect(imageType({ name: 'photo.JPG', type: '' })).toBe('image/jpeg');
    expect(imageType({ name: 'notes.txt', type: 'text/plain' })).toBeNull();
    expect(imageType({ name: 'fake.png', type: 'text/plain' })).toBeNull();
    expect(imageType({ name: 'unknown', type: '' })).toBeNull();
  });
});
