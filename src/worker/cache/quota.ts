/**
 * Room for a download. navigator.storage.estimate() says how much this origin
 * may still store; a model that will not fit is refused before its first byte,
 * with the numbers, instead of failing gigabytes in with a QuotaExceededError.
 */

/** The part of StorageManager the cache uses; persist() exists only in pages, not workers. */
export interface StorageLike {
  estimate(): Promise<{ usage?: number; quota?: number }>;
  persist?(): Promise<boolean>;
  persisted?(): Promise<boolean>;
}

export class StorageQuotaError extends Error {
  override readonly name = 'StorageQuotaError';
  constructor(
    readonly model: string,
    readonly needed: number,
    readonly available: number,
    readonly quota: number,
    readonly usage: number,
    readonly advice = 'delete cached models or free disk space',
  ) {
    super(`${model} needs ${formatBytes(needed)} more storage but only ${formatBytes(available)} is available (this site may use ${formatBytes(quota)} and uses ${formatBytes(usage)}); ${advice}`);
  }
}

/**
 * The browser refused a write (QuotaExceededError) in the middle of a
 * download: the estimate said it would fit, but other sites, other tabs or
 * the disk took the room. The half-written file is dropped and the message
 * says which cached models could make room.
 */
export class StorageFullError extends Error {
  override readonly name = 'StorageFullError';
  constructor(
    /** "<model>/<file>" */
    readonly file: string,
    advice = 'delete cached models or free disk space',
  ) {
    super(`the browser refused to store more of ${file} (QuotaExceededError: this site's storage is full); nothing half-written is kept; ${advice}`);
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** The storage of this context, when it has one (a page or a worker; not Node). */
export function defaultStorage(): StorageLike | undefined {
  const nav = (globalThis as { navigator?: { storage?: StorageLike } }).navigator;
  return nav?.storage && typeof nav.storage.estimate === 'function' ? nav.storage : undefined;
}

/** Throws StorageQuotaError when `needed` more bytes will not fit; silent when the browser cannot say. */
export async function checkQuota(storage: StorageLike | undefined, model: string, needed: number): Promise<void> {
  if (!storage || needed <= 0) return;
  const { usage = 0, quota } = await storage.estimate();
  if (quota === undefined) return;
  const available = Math.max(0, quota - usage);
  if (needed > available) throw new StorageQuotaError(model, needed, available, quota, usage);
}

/**
 * Asks once (per store) that the browser not evict the weights under storage
 * pressure. Only pages have persist(); a worker skips it and the page asks
 * (client.ts requestPersistentStorage).
 */
export class PersistenceRequest {
  private asked: Promise<boolean> | null = null;

  constructor(private readonly storage: StorageLike | undefined) {}

  request(): Promise<boolean> {
    this.asked ??= (async () => {
      const s = this.storage;
      if (!s?.persist) return false;
      if (s.persisted && (await s.persisted())) return true;
      return s.persist().catch(() => false);
    })();
    return this.asked;
  }
}
