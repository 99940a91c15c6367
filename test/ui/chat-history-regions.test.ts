/**
 * Florence-2's post-processed answer (labels with boxes, OCR lines with quads)
 * is kept in the chat history, so a reload draws its regions again from the
 * stored numbers rather than from the answer's text, which holds none.
 */
import 'fake-indexeddb/auto';
import { createStore, setMany } from 'idb-keyval';
import { afterEach, describe, expect, it } from 'vitest';
import type { AssistantTurn, Conversation } from '../../src/ui/chat/conversation';
import { HistoryStore } from '../../src/ui/chat/history-store';
import type { TaskRegions } from '../../src/worker/api';

let dbCount = 0;
const open: HistoryStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function tab(name: string): HistoryStore {
  const s = new HistoryStore({ dbName: name });
  open.push(s);
  return s;
}

const OD: TaskRegions = {
  task: '<OD>',
  imageSize: { width: 96, height: 96 },
  objects: [
    { label: 'car', box: { x1: 1.5, y1: 2.25, x2: 40, y2: 60.75 }, partial: false },
    { label: 'door', box: { x1: 10, y1: 12, x2: 20, y2: 30 }, partial: false },
  ],
};
const OCR: TaskRegions = {
  task: '<OCR_WITH_REGION>',
  imageSize: { width: 640, height: 480 },
  objects: [{ label: 'TOTAL 12', box: { x1: 5, y1: 6, x2: 90, y2: 20 }, polygon: [[5, 6], [90, 6], [90, 20], [5, 20]], partial: false }],
  text: 'TOTAL 12',
};

function conversation(regions: TaskRegions[]): Conversation {
  const c: Conversation = { turns: [], images: new Map() };
  regions.forEach((r, i) => {
    c.turns.push({ role: 'user', id: `q${i}`, text: r.task, imageIds: [] });
    c.turns.push({ role: 'assistant', id: `q${i}-answer`, text: r.text ?? 'car<loc_1><loc_2>', finish: 'stop', regions: r });
  });
  return c;
}

const answers = (c: Conversation) => c.turns.filter((t): t is AssistantTurn => t.role === 'assistant');

describe('a Florence-2 answer in the chat history', () => {
  it('comes back after a reload with its boxes, quads, labels, task and image size', async () => {
    const name = `chat-history-regions-${++dbCount}`;
    await tab(name).save(conversation([OD, OCR]));
    const { conversation: back, notices } = await tab(name).load();
    expect(answers(back).map((a) => a.regions)).toEqual([OD, OCR]);
    expect(notices).toEqual([]);
  });

  it('drops regions it cannot read and keeps the answer, counting it as repaired', async () => {
    const name = `chat-history-regions-${++dbCount}`;
    const store = createStore(name, 'history');
    const damaged = { ...OD, objects: [{ label: 'car', box: { x1: 'one', y1: 2, x2: 3, y2: 4 }, partial: false }] };
    const turn = (t: unknown, seq: number) => ({ format: 2, turn: t, at: 1, group: 'q', seq });
    await setMany(
      [
        ['turn:q', turn({ role: 'user', id: 'q', text: '<OD>', imageIds: [] }, 0)],
        ['turn:q-answer', turn({ role: 'assistant', id: 'q-answer', text: 'car', finish: 'stop', regions: damaged }, 1)],
      ],
      store,
    );
    const { conversation: back, notices } = await tab(name).load();
    const [answer] = answers(back);
    expect(answer).toMatchObject({ id: 'q-answer', text: 'car', finish: 'stop' });
    expect(answer?.regions).toBeUndefined();
    expect(notices.join(' ')).toMatch(/repaired/);
  });
});
