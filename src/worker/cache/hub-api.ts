/**
 * What the hub says about a repository before a byte of it is fetched: the
 * commit a branch points at and, per file, its size and (for LFS files) its
 * sha256. The hub's /resolve/ answers LFS files with a redirect whose headers
 * (X-Linked-Etag, X-Linked-Size) fetch never shows, so the file's own sha256
 * can only come from here: /api/models/<id>/revision/<rev>?blobs=true.
 * A hub or mirror without this API is used as before, unchecked by it.
 */
import type { ModelPlan } from './weight-cache';

export interface HubFileInfo {
  size: number;
  /** Present for LFS files (weights); small files are plain git blobs. */
  sha256?: string;
}

export interface HubRevision {
  /** The commit sha the branch resolved to. */
  revision: string;
  files: Map<string, HubFileInfo>;
}

/** A slow or silent API must not hold up a load that needs no metadata. */
const API_TIMEOUT_MS = 10_000;

interface Sibling {
  rfilename?: unknown;
  size?: unknown;
  lfs?: { sha256?: unknown; size?: unknown } | null;
}

/** The listing parsed from the API's JSON; null when it is not one. */
export function parseHubRevision(json: unknown): HubRevision | null {
  const body = json as { sha?: unknown; siblings?: unknown } | null;
  if (!body || typeof body.sha !== 'string' || !/^[0-9a-f]{7,64}$/i.test(body.sha) || !Array.isArray(body.siblings)) return null;
  const files = new Map<string, HubFileInfo>();
  for (const s of body.siblings as Sibling[]) {
    if (typeof s?.rfilename !== 'string') continue;
    const lfs = s.lfs && typeof s.lfs.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(s.lfs.sha256) ? s.lfs : null;
    const size = typeof lfs?.size === 'number' ? lfs.size : s.size;
    if (!Number.isInteger(size) || (size as number) < 0) continue;
    files.set(s.rfilename, { size: size as number, ...(lfs ? { sha256: (lfs.sha256 as string).toLowerCase() } : {}) });
  }
  return { revision: body.sha, files };
}

/** The listing of `id` at `revision` from the hub at `hubUrl`; null when the hub has no such API or cannot be reached. */
export async function fetchHubRevision(fetchFn: typeof fetch, hubUrl: string, id: string, revision = 'main'): Promise<HubRevision | null> {
  const url = `${hubUrl.replace(/\/+$/, '')}/api/models/${id}/revision/${encodeURIComponent(revision)}?blobs=true`;
  try {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(API_TIMEOUT_MS) });
    if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) {
      await res.body?.cancel().catch(() => undefined);
      return null;
    }
    return parseHubRevision(await res.json());
  } catch {
    return null;
  }
}

/**
 * The plan with the hub's sizes and sha256s and its commit: a body shorter
 * than the listed size or with another sha256 is never stored. Optional files
 * the listing lacks are marked absent: the cache records them so with no
 * request that can only 404, and does not ask for them on later loads.
 */
export function withHubListing(plan: ModelPlan, listing: HubRevision): ModelPlan {
  const files = plan.files.map((f) => {
    const info = listing.files.get(f.name);
    if (!info) return f.optional ? { ...f, absent: true } : f;
    return { ...f, size: info.size, ...(info.sha256 ? { sha256: info.sha256 } : {}) };
  });
  return { ...plan, files, revision: listing.revision };
}
