/**
 * Where a model's files come from: a URL folder in HF layout (the bundled
 * model under /models/<id>/, a hub mirror, the IndexedDB cache) or, in Node
 * tests, a directory. Every failure names the file.
 */

export type ModelFileProblem = 'missing' | 'malformed' | 'unreachable';

export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
  constructor(
    readonly file: string,
    readonly problem: ModelFileProblem,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

export interface ModelFiles {
  /** Model id, e.g. "webvlm-tiny". */
  readonly id: string;
  bytes(name: string): Promise<ArrayBuffer>;
}

export async function readText(files: ModelFiles, name: string): Promise<string> {
  return new TextDecoder().decode(await files.bytes(name));
}

export async function readJsonFile<T>(files: ModelFiles, name: string): Promise<T> {
  const text = await readText(files, name);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ModelFileError(`${files.id}/${name}`, 'malformed', `is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Files under a URL folder, fetched with `fetchFn` (the cache hook, or plain fetch). */
export function urlModelFiles(id: string, baseUrl: string, fetchFn: typeof fetch = (...a) => fetch(...a)): ModelFiles {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return {
    id,
    async bytes(name) {
      let res: Response;
      try {
        res = await fetchFn(new URL(name, new URL(base, globalThis.location?.href ?? 'http://localhost/')).href);
      } catch (err) {
        throw new ModelFileError(`${id}/${name}`, 'unreachable', `could not be fetched (${err instanceof Error ? err.message : String(err)})`);
      }
      if (res.status === 404) throw new ModelFileError(`${id}/${name}`, 'missing', 'was not found (HTTP 404)');
      if (!res.ok) throw new ModelFileError(`${id}/${name}`, 'unreachable', `could not be fetched (HTTP ${res.status})`);
      return res.arrayBuffer();
    },
  };
}
