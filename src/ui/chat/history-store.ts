/**
 * The conversation kept across reloads, in IndexedDB (idb-keyval) in a
 * database of its own, apart from the model weight cache.
 *
 * One record per turn and one per image, each keyed by its id, so a save
 * writes only the turns that changed (a streaming answer rewrites one small
 * record, never the photos) and never overwrites a turn it did not write.
 *
 * Several tabs share one conversation:
 * - every tab lists every stored turn, exchanges in the order they began;
 *   a tab tells the others what it wrote (BroadcastChannel) and they re-read;
 * - a tab writes and deletes only its own turns; another tab's turns are
 *   shown as stored and only Clear removes them;
 * - Clear removes the turns the tab shows, in every tab (each is told and
 *   says so), except an answer another tab is still writing, which stays there
 *   with its question; an image is deleted only when no stored turn refers to it;
 * - an answer is saved as it streams (saveSoon); one whose page went away
 *   mid-answer is shown as 'interrupted' with the text saved so far.
 *
 * What load finds damaged is repaired where the meaning survives and removed
 * where it does not, and never listed half-read; records of an older format
 * are migrated (format 1) or removed, records of a newer one left alone;
 * each case comes back as a notice for the page to show.
 */
import { createStore, getMany, promisifyRequest, type UseStore } from 'idb-keyval';
import type { Conversation, ImageFile, Turn } from './conversation';
import { comparePlaces, FORMAT, imageKey, isImageFile, IMAGE_PREFIX, LEGACY_TURNS_KEY, migrateLegacy, readRecord, referencedImages, turnKey, TURN_PREFIX, type Place, type TurnRecord } from './history-records';
import { loadNotices, type LoadCounts } from './history-notices';

/** What another tab did: wrote or deleted its own turns, cleared turns, or went away mid-answer. */
export type HistoryChange = { kind: 'saved'; ids: string[] } | { kind: 'cleared'; turns: string[]; images: string[] } | { kind: 'closed'; ids: string[] };

export interface LoadedHistory {
  conversation: Conversation;
  /** Sentences for the person: what was repaired, removed or left alone while reading. */
  notices: string[];
}

export interface HistoryStoreOptions {
  dbName?: string;
  /** How often a streaming answer is written at most. */
  streamSaveMs?: number;
}

const STORE_NAME = 'history';
const range = (prefix: string) => IDBKeyRange.bound(prefix, `${prefix}\uffff`);

/** Everything stored under the turn prefix, with the old single record if it is still there. */
interface Stored {
  entries: [string, unknown][];
  legacy: unknown;
}

function isChange(v: unknown): v is HistoryChange {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const ids = (x: unknown) => Array.isArray(x) && x.every((i) => typeof i === 'string');
  return ((o.kind === 'saved' || o.kind === 'closed') && ids(o.ids)) || (o.kind === 'cleared' && ids(o.turns) && ids(o.images));
}

export class HistoryStore {
  private store: UseStore | null = null;
  private readonly dbName: string;
  private readonly streamSaveMs: number;
  private readonly channel: BroadcastChannel | null;
  private readonly listeners = new Set<(change: HistoryChange) => void>();
  /** Where each known turn sits; new exchanges are placed after every one seen. */
  private readonly placed = new Map<string, Place>();
  private lastAt = 0;
  /** Turns this page created: it alone writes and deletes them. */
  private readonly own = new Set<string>();
  /** Own turns as last written, so an unchanged turn is not written again. */
  private readonly written = new Map<string, string>();
  /** Own turns written or queued to be: one the page drops is deleted by the next save, even while its write is pending. */
  private readonly kept = new Set<string>();
  /** Turns read from storage that another page wrote (or an earlier life of this one). */
  private readonly foreign = new Set<string>();
  /** Images known to be stored, so saves write only new ones. */
  private readonly savedImages = new Set<string>();
  /** Own answers streaming at the last save: other tabs are told when the page goes away. */
  private streaming: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Writes run one after another, so an older snapshot never lands after a newer one. */
  private queue: Promise<void> = Promise.resolve();
  private refreshing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: HistoryStoreOptions = {}) {
    this.dbName = options.dbName ?? 'webvlm-chat';
    this.streamSaveMs = options.streamSaveMs ?? 500;
    this.channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`${this.dbName}-history`) : null;
    this.channel?.addEventListener('message', (e: MessageEvent<unknown>) => {
      if (isChange(e.data)) for (const l of this.listeners) l(e.data);
    });
    if (typeof window !== 'undefined') window.addEventListener('pagehide', () => this.announceGone());
  }

  private db(): UseStore {
    this.store ??= createStore(this.dbName, STORE_NAME);
    return this.store;
  }

  /** Called with each change another tab makes; returns a function that stops listening. */
  onChange(listener: (change: HistoryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async load(): Promise<LoadedHistory> {
    const stored = await this.readAll();
    const counts: LoadCounts = { repaired: 0, removed: 0, old: 0, newer: 0, legacyDiscarded: false, images: 0 };
    const puts: [string, unknown][] = [];
    const deletes: string[] = [];
    const records = new Map<string, TurnRecord>();
    if (stored.legacy !== undefined) {
      const migrated = migrateLegacy(stored.legacy);
      if (migrated) {
        counts.repaired += migrated.repaired;
        counts.removed += migrated.dropped;
        for (const r of migrated.records) puts.push([turnKey(r.turn.id), r]);
        for (const r of migrated.records) records.set(r.turn.id, r);
      } else counts.legacyDiscarded = true;
      deletes.push(LEGACY_TURNS_KEY);
    }
    for (const [key, value] of stored.entries) {
      const read = readRecord(key, value);
      if (read.kind === 'newer') counts.newer += 1;
      else if (read.kind === 'old' || read.kind === 'damaged') {
        counts[read.kind === 'old' ? 'old' : 'removed'] += 1;
        deletes.push(key);
      } else {
        if (read.repaired) puts.push([key, read.record]);
        counts.repaired += read.repaired ? 1 : 0;
        records.set(read.record.turn.id, read.record);
      }
    }
    if (puts.length || deletes.length) await this.commit(puts, deletes);
    // A page that went away mid-answer left it 'streaming'; a tab still writing it says so at its next save.
    const conversation = { turns: this.adopt([...records.values()], () => false), images: new Map<string, ImageFile>() };
    counts.images = await this.loadImages(conversation);
    return { conversation, notices: loadNotices(counts) };
  }

  /** Saves the turns as they are now (only those this page changed); resolves when written. */
  save(conversation: Conversation): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.placeAll(conversation.turns);
    const puts: [string, unknown][] = [];
    const sigs = new Map<string, string>();
    const here = new Set(conversation.turns.map((t) => t.id));
    for (const turn of conversation.turns) {
      if (this.foreign.has(turn.id)) continue;
      this.own.add(turn.id);
      const sig = JSON.stringify(turn);
      if (this.written.get(turn.id) === sig) continue;
      sigs.set(turn.id, sig);
      this.kept.add(turn.id);
      const place = this.placed.get(turn.id) as Place;
      puts.push([turnKey(turn.id), { format: FORMAT, turn: structuredClone(turn), ...place } satisfies TurnRecord]);
      for (const id of turn.role === 'user' ? turn.imageIds : []) {
        const file = conversation.images.get(id);
        if (file && !this.savedImages.has(id)) puts.push([imageKey(id), file]);
      }
    }
    const gone = [...this.kept].filter((id) => !here.has(id));
    for (const id of gone) this.kept.delete(id);
    this.streaming = conversation.turns.filter((t) => t.role === 'assistant' && t.finish === 'streaming' && !this.foreign.has(t.id)).map((t) => t.id);
    if (puts.length === 0 && gone.length === 0) return this.queue;
    return this.enqueue(async () => {
      await this.commit(puts, gone.map(turnKey), gone.length > 0);
      for (const [id, sig] of sigs) this.written.set(id, sig);
      for (const [key] of puts) if (key.startsWith(IMAGE_PREFIX)) this.savedImages.add(key.slice(IMAGE_PREFIX.length));
      for (const id of gone) this.written.delete(id);
      this.post({ kind: 'saved', ids: [...sigs.keys(), ...gone] });
    });
  }

  /** Saves a streaming answer at most every streamSaveMs, so a reload keeps what came so far. */
  saveSoon(conversation: Conversation): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A failed partial save is not reported: the answer's final save tries again and reports.
      this.save(conversation).catch(() => undefined);
    }, this.streamSaveMs);
  }

  /** Deletes the turns the conversation shows, in every tab, and the images no remaining turn refers to. */
  clear(conversation: Conversation): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const ids = conversation.turns.map((t) => t.id);
    return this.enqueue(async () => {
      const images = await this.commit([], ids.map(turnKey), true);
      this.forget(ids, images);
      this.post({ kind: 'cleared', turns: ids, images });
    });
  }

  /**
   * Brings the conversation up to date with what another tab did, in place:
   * own turns stay the same objects (a streaming answer keeps being written
   * into), other tabs' turns are read again, and new images are loaded.
   */
  refresh(conversation: Conversation, change: HistoryChange): Promise<void> {
    // One at a time, in the order the changes came, so an older reading never lands after a newer one.
    const next = this.refreshing.then(() => this.catchUp(conversation, change));
    this.refreshing = next.catch(() => undefined);
    return next;
  }

  private async catchUp(conversation: Conversation, change: HistoryChange): Promise<void> {
    const stored = await this.readAll();
    // From here to the assignment nothing awaits, so a turn the page adds meanwhile is not lost.
    let keepWriting = false;
    if (change.kind === 'cleared') {
      const cleared = new Set(change.turns);
      // The exchange this page is still answering survives another tab's Clear; it is written again below.
      const inFlight = this.inFlight(conversation.turns);
      conversation.turns = conversation.turns.filter((t) => !cleared.has(t.id) || inFlight.has(t.id));
      for (const id of change.images) this.savedImages.delete(id);
      for (const id of inFlight) if (cleared.has(id)) this.written.delete(id);
      // Own turns cleared there but written again since are deleted by this save; kept ones are written again.
      keepWriting = change.turns.some((id) => this.own.has(id));
    }
    // Turns this page did not read from storage are its own, saved or about to be; the rest is read again.
    this.placeAll(conversation.turns);
    const mine = conversation.turns.filter((t) => !this.foreign.has(t.id));
    const memory = new Map(conversation.turns.map((t) => [t.id, t]));
    const records: TurnRecord[] = [];
    for (const [key, value] of stored.entries) {
      const read = readRecord(key, value);
      if (read.kind === 'ok' && !this.own.has(read.record.turn.id)) records.push(read.record);
    }
    const gone = change.kind === 'closed' ? new Set(change.ids) : new Set<string>();
    const live = (id: string) => {
      if (change.kind === 'saved' && change.ids.includes(id)) return true;
      const shown = memory.get(id);
      return shown?.role === 'assistant' && shown.finish === 'streaming' && !gone.has(id);
    };
    const theirs = this.adopt(records, live);
    conversation.turns = [...mine, ...theirs].sort((a, b) => comparePlaces(this.placed.get(a.id) as Place, this.placed.get(b.id) as Place));
    const used = new Set(conversation.turns.flatMap((t) => (t.role === 'user' ? t.imageIds : [])));
    for (const id of conversation.images.keys()) if (!used.has(id)) conversation.images.delete(id);
    await this.loadImages(conversation);
    if (keepWriting) await this.save(conversation);
  }

  /** Stops hearing other tabs (tests; a page keeps its store for its whole life). */
  close(): void {
    if (this.closed) return;
    this.announceGone();
    this.closed = true;
    clearTimeout(this.timer);
    this.channel?.close();
  }

  /** Other tabs show an answer this page was writing as interrupted once the page goes. */
  private announceGone(): void {
    if (this.streaming.length) this.post({ kind: 'closed', ids: this.streaming });
  }

  /** The stored turns as this page shows them, marked as another page's; 'streaming' ones not live are interrupted. */
  private adopt(records: TurnRecord[], live: (id: string) => boolean): Turn[] {
    records.sort(comparePlaces);
    for (const id of this.foreign) this.placed.delete(id);
    this.foreign.clear();
    return records.map((r) => {
      this.foreign.add(r.turn.id);
      this.placed.set(r.turn.id, { at: r.at, group: r.group, seq: r.seq });
      this.lastAt = Math.max(this.lastAt, r.at);
      const t = r.turn;
      return t.role === 'assistant' && t.finish === 'streaming' && !live(t.id) ? { ...t, finish: 'interrupted' } : t;
    });
  }

  /** Own turns of the exchange still being answered: the streaming answer and its question. */
  private inFlight(turns: Turn[]): Set<string> {
    const ids = new Set<string>();
    turns.forEach((t, i) => {
      if (t.role !== 'assistant' || t.finish !== 'streaming' || this.foreign.has(t.id)) return;
      ids.add(t.id);
      const q = turns[i - 1];
      if (q?.role === 'user') ids.add(q.id);
    });
    return ids;
  }

  private placeAll(turns: Turn[]): void {
    turns.forEach((t, i) => {
      if (this.placed.has(t.id)) return;
      const prev = i > 0 ? this.placed.get((turns[i - 1] as Turn).id) : undefined;
      if (t.role === 'assistant' && prev?.seq === 0) {
        this.placed.set(t.id, { ...prev, seq: 1 });
        return;
      }
      this.lastAt = Math.max(Date.now(), this.lastAt + 1);
      this.placed.set(t.id, { at: this.lastAt, group: t.id, seq: t.role === 'user' ? 0 : 1 });
    });
  }

  private forget(ids: string[], images: string[]): void {
    for (const id of ids) {
      this.written.delete(id);
      this.kept.delete(id);
      this.placed.delete(id);
      this.foreign.delete(id);
    }
    for (const id of images) this.savedImages.delete(id);
  }

  /** Reads the images the turns refer to that the conversation lacks; returns how many stored ones were unreadable (and removed). */
  private async loadImages(conversation: Conversation): Promise<number> {
    const ids = [...new Set(conversation.turns.flatMap((t) => (t.role === 'user' ? t.imageIds : [])))].filter((id) => !conversation.images.has(id));
    if (ids.length === 0) return 0;
    const files = await getMany<unknown>(ids.map(imageKey), this.db());
    const bad: string[] = [];
    files.forEach((f, i) => {
      const id = ids[i] as string;
      if (isImageFile(f) && f.id === id) {
        conversation.images.set(id, f);
        this.savedImages.add(id);
      } else if (f !== undefined) bad.push(imageKey(id));
    });
    // The turn then shows the image as missing and is sent without it.
    if (bad.length) await this.commit([], bad);
    return bad.length;
  }

  private readAll(): Promise<Stored> {
    return this.db()('readonly', (store) => {
      const keys = store.getAllKeys(range(TURN_PREFIX));
      const values = store.getAll(range(TURN_PREFIX));
      const legacy = store.get(LEGACY_TURNS_KEY);
      return promisifyRequest(store.transaction).then(() => ({ entries: keys.result.map((k, i): [string, unknown] => [String(k), values.result[i]]), legacy: legacy.result as unknown }));
    });
  }

  /**
   * Puts and deletes in one transaction; with `sweep`, also deletes every image
   * no remaining turn record refers to, and returns their ids. One
   * transaction, so another tab never sees a turn without its images.
   */
  private commit(puts: [string, unknown][], deletes: string[], sweep = false): Promise<string[]> {
    return this.db()('readwrite', (store) => {
      const swept: string[] = [];
      for (const [key, value] of puts) store.put(value, key);
      for (const key of deletes) store.delete(key);
      if (sweep) {
        const records = store.getAll(range(TURN_PREFIX));
        records.onsuccess = () => {
          const refs = new Set(records.result.flatMap(referencedImages));
          const images = store.getAllKeys(range(IMAGE_PREFIX));
          images.onsuccess = () => {
            for (const key of images.result.map(String)) {
              const id = key.slice(IMAGE_PREFIX.length);
              if (refs.has(id)) continue;
              swept.push(id);
              store.delete(key);
            }
          };
        };
      }
      return promisifyRequest(store.transaction).then(() => swept);
    });
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const next = this.queue.then(job);
    // A failed write must not block the ones after it; the caller still sees its own failure.
    this.queue = next.catch(() => undefined);
    return next;
  }

  private post(change: HistoryChange): void {
    if (!this.closed) this.channel?.postMessage(change);
  }
}
