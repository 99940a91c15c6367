/**
 * Where transformers.js finds a model's files. Its env is one global object,
 * so each load sets the fields it needs, runs, and puts them back; loads wait
 * for each other, so two models from different places never see each other's
 * settings. In the browser the worker's weight cache is installed once as
 * env.customCache and serves remote URLs; a local folder (the bundled model
 * under /models/, or a directory in Node tests) is read as local files.
 */
import { env } from '@huggingface/transformers';

export type ModelSource =
  /** A folder holding <repo>/<files>: a URL path in the browser, a directory in Node. */
  | { kind: 'local'; path: string }
  /** A hub: files at <host>/<pathTemplate with {model} and {revision}>/<file>. */
  | { kind: 'remote'; host: string; pathTemplate?: string; revision?: string };

const HUB_TEMPLATE = '{model}/resolve/{revision}/';

type EnvFields = Pick<typeof env, 'allowLocalModels' | 'allowRemoteModels' | 'localModelPath' | 'remoteHost' | 'remotePathTemplate'>;

function settingsFor(source: ModelSource): Partial<EnvFields> {
  if (source.kind === 'local') {
    const path = source.path.endsWith('/') ? source.path : `${source.path}/`;
    return { allowLocalModels: true, allowRemoteModels: false, localModelPath: path };
  }
  const host = source.host.endsWith('/') ? source.host : `${source.host}/`;
  // Local files off: a hub model must never be taken from whatever sits at /models/<id>/ on this origin.
  return { allowLocalModels: false, allowRemoteModels: true, remoteHost: host, remotePathTemplate: source.pathTemplate ?? HUB_TEMPLATE };
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs `load` with env pointing at `source`, one load at a time, and restores env afterwards. */
export function withModelSource<T>(source: ModelSource, load: () => Promise<T>): Promise<T> {
  const run = async (): Promise<T> => {
    const settings = settingsFor(source);
    const keys = Object.keys(settings) as (keyof EnvFields)[];
    const saved = Object.fromEntries(keys.map((k) => [k, env[k]])) as Partial<EnvFields>;
    Object.assign(env, settings);
    try {
      return await load();
    } finally {
      Object.assign(env, saved);
    }
  };
  const next = queue.then(run, run);
  queue = next.catch(() => undefined);
  return next;
}
