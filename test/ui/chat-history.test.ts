/**
 * The chat history's storage as the page uses it: idb-keyval on
 * fake-indexeddb (structured clones, real transactions) and Node's
 * BroadcastChannel, so two stores over one database behave as two tabs.
 */
import 'fake-indexeddb/auto';
import { createStore, entries, get, setMany } from 'idb-keyval';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRequest, type Conversation, type ImageFile, type Turn } from '../../src/ui/chat/conversation';
import { HistoryStore, type HistoryChange } from '../../src/ui/chat/history-store';

let dbCount = 0;
const open: HistoryStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

/** A database of its own per test, and stores over it that are closed afterwards. */
function database(): { name: string; tab: (streamSaveMs?: number) => HistoryStore } {
  dbCount += 1;
  const name = `chat-history-test-${dbCount}`;
  return {
    name,
    tab: (streamSaveMs = 500) => {
      const s = new HistoryStore({ dbName: name, streamSaveMs });
      open.push(s);
      return s;
    },
  };
}

const raw = (name: string) => createStore(name, 'history');
const image = (id: string, byte: number): ImageFile => ({ id, name: `${id}.png`, type: 'image/png', bytes: new Uint8Array([byte, byte, byte]).buffer });
const record = (turn: unknown, at: number, seq = 0, group = (turn as { id: string }).id) => ({ format: 2, turn, at, group, seq });
const ids = (c: Conversation) => c.turns.map((t) => t.id);

/** The next change another tab announces to `store`. */
function heard(store: HistoryStore, kind: HistoryChange['kind']): Promise<HistoryChange> {
  return new Promise((resolve) => {
    const off = store.onChange((change) => {
      if (change.kind !== kind) return;
      off();
      resolve(change);
    });
  });
}

/** What a page does on Send: a question with its images and an empty streaming answer. */
function ask(c: Conversation, id: string, text: string, files: ImageFile[] = []): { answer: Extract<Turn, { role: 'assistant' }> } {
  for (const f of files) c.images.set(f.id, f);
  c.turns.push({ role: 'user', id, text, imageIds: files.map((f) => f.id) });
  const answer = { role: 'assistant' as const, id: `${id}-answer`, text: '', finish: 'streaming' as const as Extract<Turn, { role: 'assistant' }>['finish'] };
  c.turns.push(answer);
  return { answer };
}

describe('a damaged history', () => {
  it('repairs what keeps its meaning, drops the rest, lists neither half-read, and the next send works', async () => {
    const db = database();
    await setMany(
      [
        ['turn:u1', record({ role: 'user', id: 'u1', text: 'What colour?', imageIds: ['a'] }, 1)],
        ['turn:r1', record({ role: 'assistant', id: 'r1', text: 'red', finish: 'exploded', stats: { newTokens: 'many' } }, 1, 1, 'u1')],
        // No text: nothing honest to show or send.
        ['turn:u2', record({ role: 'user', id: 'u2', imageIds: ['a'] }, 2)],
        // The bug this guards: imageIds missing made every later request throw until Clear.
        ['turn:u3', record({ role: 'user', id: 'u3', text: 'And now?', imageIds: 'a' }, 3)],
        ['turn:u4', 'not a record'],
        ['turn:u5', record({ role: 'user', id: 'elsewhere', text: 'key and id disagree', imageIds: [] }, 4)],
        ['turn:u6', record({ role: 'robot', id: 'u6', text: 'beep' }, 5)],
        ['image:a', image('a', 7)],
      ],
      raw(db.name),
    );
    const { conversation, notices } = await db.tab().load();
    expect(ids(conversation)).toEqual(['u1', 'r1', 'u3']);
    expect(conversation.turns[1]).toEqual({ role: 'assistant', id: 'r1', text: 'red', finish: 'cancelled' });
    expect(conversation.turns[2]).toEqual({ role: 'user', id: 'u3', text: 'And now?', imageIds: [] });
    expect(notices.join(' ')).toMatch(/damaged: 2 turns repaired, 4 turns too damaged to show removed/);

    // The next send builds its request and is saved beside the rest.
    ask(conversation, 'u7', 'How many objects?');
    const request = buildRequest(conversation);
    expect(request.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'user']);
    expect(request.images.map((i) => new Uint8Array(i.bytes)[0])).toEqual([7]);

    // The repairs were written back and the dropped records deleted: a later load is clean.
    const again = await db.tab().load();
    expect(again.notices).toEqual([]);
    expect(ids(again.conversation)).toEqual(['u1', 'r1', 'u3']);
    expect((await entries(raw(db.name))).map(([k]) => k).sort()).toEqual(['image:a', 'turn:r1', 'turn:u1', 'turn:u3']);
  });

  it('shows an image that cannot be read as missing, and still sends the turn', async () => {
    const db = database();
    await setMany([['turn:u1', record({ role: 'user', id: 'u1', text: 'What colour?', imageIds: ['a', 'b'] }, 1)], ['image:a', { id: 'a', bytes: 'garbage' }], ['image:b', image('b', 2)]], raw(db.name));
    const { conversation, notices } = await db.tab().load();
    expect([...conversation.images.keys()]).toEqual(['b']);
    expect(notices).toEqual(['1 saved image could not be read and was removed.']);
    expect(buildRequest(conversation).images).toHaveLength(1);
    expect(await get('image:a', raw(db.name))).toBeUndefined();
  });
});

describe('a change of format', () => {
  it('migrates the old single record, a malformed turn in it dropped, and the next send works', async () => {
    const db = database();
    await setMany(
      [
        ['turns', { format: 1, turns: [{ role: 'user', id: 'u1', text: 'What colour?', imageIds: ['a'] }, { role: 'assistant', id: 'r1', text: 'red', finish: 'stop' }, { role: 'user', id: 'u2' }, { role: 'user', id: 'u3', text: 'Shape?', imageIds: [] }, { role: 'assistant', id: 'r3', text: 'squ', finish: 'streaming' }]}],
        ['image:a', image('a', 1)],
      ],
      raw(db.name),
    );
    const { conversation, notices } = await db.tab().load();
    expect(ids(conversation)).toEqual(['u1', 'r1', 'u3', 'r3']);
    expect(conversation.turns[3]).toMatchObject({ text: 'squ', finish: 'interrupted' });
    expect(conversation.images.get('a')?.name).toBe('a.png');
    expect(notices.join(' ')).toMatch(/1 turn too damaged to show removed/);
    expect(await get('turns', raw(db.name))).toBeUndefined();

    // New turns go after the migrated ones, and a later load reads format 2 alone.
    const tab = db.tab();
    const reread = await tab.load();
    ask(reread.conversation, 'u4', 'Count?');
    expect(() => buildRequest(reread.conversation)).not.toThrow();
    await tab.save(reread.conversation);
    expect(ids((await db.tab().load()).conversation)).toEqual(['u1', 'r1', 'u3', 'r3', 'u4', 'u4-answer']);
  });

  it('removes an unreadable old format with a notice, and leaves a newer one alone', async () => {
    const db = database();
    const newer = { format: 3, turn: { kind: 'whatever a later version writes' } };
    await setMany(
      [
        ['turns', { format: 0, list: [] }],
        ['turn:old', { format: 1, turn: { role: 'user', id: 'old', text: 'hi', imageIds: [] } }],
        ['turn:new', newer],
        ['turn:u1', record({ role: 'user', id: 'u1', text: 'kept', imageIds: [] }, 1)],
      ],
      raw(db.name),
    );
    const { conversation, notices } = await db.tab().load();
    expect(ids(conversation)).toEqual(['u1']);
    expect(notices).toEqual(['Part of the saved conversation was in a format this version cannot read and was removed.', '1 turn saved by a newer version of this app is kept but not shown here.']);
    expect((await entries(raw(db.name))).map(([k]) => k).sort()).toEqual(['turn:new', 'turn:u1']);
    expect(await get('turn:new', raw(db.name))).toEqual(newer);
  });
});

describe('two tabs', () => {
  it('interleaved saves keep both tabs\' turns and images, and each tab hears the other', async () => {
    const db = database();
    const [a, b] = [db.tab(), db.tab()];
    const ca = (await a.load()).conversation;
    const cb = (await b.load()).conversation;
    const qa = ask(ca, 'qa', 'A asks', [image('ia', 1)]);
    await a.save(ca);
    const qb = ask(cb, 'qb', 'B asks', [image('ib', 2)]);
    const bHeard = heard(b, 'saved');
    await b.save(cb);
    qa.answer.text = 'red';
    qa.answer.finish = 'stop';
    await a.save(ca);
    qb.answer.text = 'blue';
    qb.answer.finish = 'stop';
    await b.save(cb);

    const fresh = (await db.tab().load()).conversation;
    expect(ids(fresh)).toEqual(['qa', 'qa-answer', 'qb', 'qb-answer']);
    expect(fresh.turns.map((t) => t.text)).toEqual(['A asks', 'red', 'B asks', 'blue']);
    expect([...fresh.images.keys()].sort()).toEqual(['ia', 'ib']);

    // B re-reads on A's news: A's exchange appears, B's own turns stay the same objects.
    await b.refresh(cb, await bHeard);
    expect(ids(cb)).toEqual(['qa', 'qa-answer', 'qb', 'qb-answer']);
    expect(cb.turns[3]).toBe(qb.answer);
    expect(new Uint8Array(cb.images.get('ia')?.bytes ?? new ArrayBuffer(0))[0]).toBe(1);
  });

  it('a Clear removes what that tab shows, everywhere, and never an image another tab\'s turn still needs', async () => {
    const db = database();
    const [a, b] = [db.tab(), db.tab()];
    const ca = (await a.load()).conversation;
    const cb = (await b.load()).conversation;
    ask(ca, 'qa', 'A asks', [image('ia', 1)]);
    await a.save(ca);
    // B has not heard of A's turn yet and saves its own; A clears what A shows.
    ask(cb, 'qb', 'B asks', [image('ib', 2)]);
    await b.save(cb);
    const bHeard = heard(b, 'cleared');
    await a.clear(ca);
    const stored = (await db.tab().load()).conversation;
    expect(ids(stored)).toEqual(['qb', 'qb-answer']);
    expect([...stored.images.keys()]).toEqual(['ib']);

    // B is told, and keeps its own turns, which A never showed.
    const change = await bHeard;
    expect(change).toEqual({ kind: 'cleared', turns: ['qa', 'qa-answer'], images: ['ia'] });
    await b.refresh(cb, change);
    expect(ids(cb)).toEqual(['qb', 'qb-answer']);
  });

  it('a Clear in one tab while the other is answering keeps that exchange and its image', async () => {
    const db = database();
    const [a, b] = [db.tab(), db.tab()];
    const ca = (await a.load()).conversation;
    const cb = (await b.load()).conversation;
    ask(cb, 'qb', 'B asks', [image('ib', 2)]);
    const aHeard = heard(a, 'saved');
    await b.save(cb);
    await a.refresh(ca, await aHeard);
    expect(ca.turns[1]).toMatchObject({ id: 'qb-answer', finish: 'streaming' });

    const bHeard = heard(b, 'cleared');
    await a.clear(ca);
    expect((await db.tab().load()).conversation.turns).toEqual([]);
    await b.refresh(cb, await bHeard);
    // B wrote its exchange again, image included.
    const stored = (await db.tab().load()).conversation;
    expect(ids(stored)).toEqual(['qb', 'qb-answer']);
    expect([...stored.images.keys()]).toEqual(['ib']);
  });
});

describe('saving', () => {
  it('deletes an answer the page dropped, even when its first write is still pending (a refused question)', async () => {
    const db = database();
    const tab = db.tab();
    const c = (await tab.load()).conversation;
    ask(c, 'q1', 'What colour?', [image('i1', 1)]);
    const first = tab.save(c);
    // The worker refused the question: the page marks it failed and drops the empty answer, then saves.
    const user = c.turns[0] as Extract<Turn, { role: 'user' }>;
    user.error = { code: 'bad-image', message: 'i1.png could not be decoded' };
    c.turns = c.turns.filter((t) => t.role === 'user');
    await Promise.all([first, tab.save(c)]);
    const { conversation } = await db.tab().load();
    expect(conversation.turns).toEqual([user]);
    expect(conversation.images.has('i1')).toBe(true);
  });
});

describe('an answer saved as it streams', () => {
  it('is written at most once per interval, and after a reload shows the partial text as interrupted and the chat goes on', async () => {
    const db = database();
    const tab = db.tab(30);
    const other = db.tab();
    const c = (await tab.load()).conversation;
    await other.load();
    const { answer } = ask(c, 'q1', 'Describe this image in detail.', [image('i1', 5)]);
    const first = heard(other, 'saved');
    await tab.save(c);
    await first;
    const saves: HistoryChange[] = [];
    other.onChange((change) => saves.push(change));
    const written = heard(other, 'saved');
    for (const piece of ['A ', 'red ', 'square']) {
      answer.text += piece;
      tab.saveSoon(c);
    }
    expect(saves).toEqual([]);
    expect(await written).toEqual({ kind: 'saved', ids: ['q1-answer'] });
    expect(saves).toHaveLength(1);

    // The page reloads mid-answer: nothing more is written by it.
    const reloaded = db.tab();
    const { conversation } = await reloaded.load();
    expect(conversation.turns[1]).toEqual({ role: 'assistant', id: 'q1-answer', text: 'A red square', finish: 'interrupted' });
    expect(conversation.images.has('i1')).toBe(true);
    ask(conversation, 'q2', 'What colour is it?');
    expect(buildRequest(conversation).messages).toEqual([
      { role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'Describe this image in detail.' }] },
      { role: 'assistant', content: 'A red square' },
      { role: 'user', content: [{ type: 'text', text: 'What colour is it?' }] },
    ]);
    await reloaded.save(conversation);
    expect(ids((await db.tab().load()).conversation)).toEqual(['q1', 'q1-answer', 'q2', 'q2-answer']);
  });

  it('another tab shows a live answer as streaming, and as interrupted once its page goes', async () => {
    const db = database();
    const [a, b] = [db.tab(), db.tab()];
    const ca = (await a.load()).conversation;
    const cb = (await b.load()).conversation;
    const { answer } = ask(ca, 'qa', 'Describe');
    answer.text = 'A red';
    const saved = heard(b, 'saved');
    await a.save(ca);
    await b.refresh(cb, await saved);
    expect(cb.turns[1]).toMatchObject({ text: 'A red', finish: 'streaming' });

    const closed = heard(b, 'closed');
    a.close();
    await b.refresh(cb, await closed);
    expect(cb.turns[1]).toMatchObject({ text: 'A red', finish: 'interrupted' });
  });
});
