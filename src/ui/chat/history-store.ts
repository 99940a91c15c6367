/**
 * The conversation kept across reloads in IndexedDB (idb-keyval). The turns
 * are one small record rewritten after each change; every image is its own
 * record, written once, so a long chat about large photos does not rewrite
 * megabytes on every token. A database of its own keeps chat history apart
 * from the model weight cache: clearing one never touches the other.
 */
import { clear, createStore, get, getMany, set, type UseStore } from 'idb-keyval';
import type { Conversation, ImageFile, Turn } from './conversation';

const DB_NAME = 'webvlm-chat';
const STORE_NAME = 'history';
const TURNS_KEY = 'turns';
/** Bump when the stored shape changes; older records are then ignored, not misread. */
const FORMAT = 1;

interface StoredTurns {
  format: number;
  turns: Turn[];
}

const imageKey = (id: string) => `image:${id}`;

function isImageFile(v: unknown): v is ImageFile {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.id === 'string' && typeof o.name === 'string' && typeof o.type === 'string' && o.bytes instanceof ArrayBuffer;
}

export class HistoryStore {
  private store: UseStore | null = null;
  /** Images already in the database, so saves write only new ones. */
  private readonly saved = new Set<string>();
  /** Writes run one after another, so an older snapshot never lands after a newer one. */
  private queue: Promise<void> = Promise.resolve();

  private db(): UseStore {
    this.store ??= createStore(DB_NAME, STORE_NAME);
    return this.store;
  }

  async load(): Promise<Conversation> {
    const stored = (await get<StoredTurns>(TURNS_KEY, this.db())) ?? null;
    if (!stored || stored.format !== FORMAT || !Array.isArray(stored.turns)) return { turns: [], images: new Map() };
    // An answer cut short by a reload mid-stream is what it is: a stopped answer.
    const turns = stored.turns.map((t): Turn => (t.role === 'assistant' && t.finish === 'streaming' ? { ...t, finish: 'cancelled' } : t));
    const ids = turns.flatMap((t) => (t.role === 'user' ? t.imageIds : []));
    const files = ids.length ? await getMany<unknown>(ids.map(imageKey), this.db()) : [];
    const images = new Map<string, ImageFile>();
    for (const f of files) {
      if (!isImageFile(f)) continue;
      images.set(f.id, f);
      this.saved.add(f.id);
    }
    return { turns, images };
  }

  /** Saves a snapshot of the turns as they are now; resolves when it is written. */
  save(conversation: Conversation): Promise<void> {
    const turns = structuredClone(conversation.turns);
    const images = [...conversation.images.values()];
    return this.enqueue(() => this.write(turns, images));
  }

  clear(): Promise<void> {
    return this.enqueue(async () => {
      this.saved.clear();
      await clear(this.db());
    });
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const next = this.queue.then(job);
    // A failed write must not block the ones after it; the caller still sees its own failure.
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async write(turns: Turn[], images: ImageFile[]): Promise<void> {
    const db = this.db();
    for (const file of images) {
      if (this.saved.has(file.id)) continue;
      await set(imageKey(file.id), file, db);
      this.saved.add(file.id);
    }
    await set(TURNS_KEY, { format: FORMAT, turns } satisfies StoredTurns, db);
  }
}
