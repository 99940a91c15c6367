/**
 * The few key/value operations the weight store needs. In the browser they run
 * on IndexedDB through idb-keyval; in Node tests on a Map. Values are
 * structured-clonable: manifests (plain objects) and chunks (ArrayBuffer).
 */
import { createStore, del, get, keys, set, type UseStore } from 'idb-keyval';

export interface KvStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  keys(): Promise<string[]>;
}

/** The IndexedDB database and object store the app keeps model weights in. */
export const WEIGHTS_DB = 'webvlm-weights';
export const WEIGHTS_STORE = 'files';

export function idbKv(dbName = WEIGHTS_DB, storeName = WEIGHTS_STORE): KvStore {
  // createStore opens lazily, so building the KV never touches IndexedDB by itself.
  let store: UseStore | null = null;
  const s = () => (store ??= createStore(dbName, storeName));
  return {
    get: (key) => get(key, s()),
    set: (key, value) => set(key, value, s()),
    del: (key) => del(key, s()),
    keys: async () => (await keys(s())).map(String),
  };
}

/**
 * A Map with IndexedDB's copy semantics: ArrayBuffers are copied on the way in
 * and out, so a caller that transfers or edits a buffer it read cannot change
 * what is stored (as a structured clone guarantees in IndexedDB).
 */
export function memoryKv(): KvStore & { readonly map: Map<string, unknown> } {
  const map = new Map<string, unknown>();
  const copy = (v: unknown): unknown => (v instanceof ArrayBuffer ? v.slice(0) : structuredClone(v));
  return {
    map,
    get: async (key) => (map.has(key) ? copy(map.get(key)) : undefined),
    set: async (key, value) => {
      map.set(key, copy(value));
    },
    del: async (key) => {
      map.delete(key);
    },
    keys: async () => [...map.keys()],
  };
}

/** IndexedDB where the runtime has it (page, worker), a Map otherwise (Node). */
export function defaultKv(): KvStore {
  return typeof indexedDB === 'undefined' ? memoryKv() : idbKv();
}
