/**
 * An optional file the server does not have (a 404 for chat_template.json in
 * a repo that keeps its template in tokenizer_config.json) is recorded as
 * absent, so a model whose every file is cached loads without asking again:
 * offline, or behind a login page that answers 200 for every URL. A new
 * revision asks again (the file may have been added); deleting the model
 * forgets the record.
 */
import { describe, expect, it } from 'vitest';
import { withHubListing } from '../../src/worker/cache/hub-api';
import { memoryKv } from '../../src/worker/cache/kv';
import { WeightCache, type ModelPlan } from '../../src/worker/cache/weight-cache';

const CONFIG = new TextEncoder().encode('{"model_type": "llava"}');
const LOGIN = new TextEncoder().encode('<!DOCTYPE html><html><body>Sign in to the network</body></html>');

/** A server with config.json only; `portal` makes every answer a 200 login page. */
function server() {
  const state = { portal: false, log: [] as string[] };
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const name = url.slice(url.lastIndexOf('/') + 1);
    state.log.push(`${init?.method ?? 'GET'} ${name}`);
    if (state.portal) return new Response(init?.method === 'HEAD' ? null : LOGIN, { status: 200, headers: { 'content-type': 'text/html', 'content-length': String(LOGIN.length) } });
    if (name !== 'config.json') return new Response('not found', { status: 404 });
    return new Response(init?.method === 'HEAD' ? null : CONFIG, { status: 200, headers: { 'content-type': 'application/json', 'content-length': String(CONFIG.length), etag: '"c1"' } });
  }) as typeof fetch;
  return { state, fetchFn };
}

const plan = (revision?: string): ModelPlan => ({
  model: 'org/newer-repo',
  baseUrl: 'https://hub.test/org/newer-repo/resolve/main/',
  files: [{ name: 'config.json' }, { name: 'chat_template.json', optional: true }],
  ...(revision ? { revision } : {}),
});

describe('optional files the server lacks', () => {
  it('are asked for once: a later ensure (even behind a login page) asks nothing and the cache reads as it was', async () => {
    const { state, fetchFn } = server();
    const cache = new WeightCache({ kv: memoryKv(), fetchFn, storage: undefined, retryDelayMs: 0, progressIntervalMs: 0, maxAttempts: 2 });
    await cache.ensure(plan());
    expect(state.log).toContain('HEAD chat_template.json');
    expect([...(await cache.cachedNames('org/newer-repo'))]).toEqual(['config.json']);
    expect(await cache.store.isAbsent({ model: 'org/newer-repo', name: 'chat_template.json' })).toBe(true);

    state.log.length = 0;
    state.portal = true;
    await cache.ensure(plan());
    expect(state.log).toEqual([]);
    const bytes = await cache.read({ model: 'org/newer-repo', name: 'config.json' }, `${plan().baseUrl}config.json`);
    expect(new TextDecoder().decode(bytes)).toContain('llava');
  });

  it("that the hub's listing lacks are recorded absent with no request, and not asked for behind a login page", async () => {
    const { state, fetchFn } = server();
    const cache = new WeightCache({ kv: memoryKv(), fetchFn, storage: undefined, retryDelayMs: 0, progressIntervalMs: 0, maxAttempts: 2 });
    const listed = withHubListing(plan(), { revision: 'ccc', files: new Map([['config.json', { size: CONFIG.length }]]) });
    expect(listed.files.find((f) => f.name === 'chat_template.json')).toMatchObject({ optional: true, absent: true });
    await cache.ensure(listed);
    expect(state.log).toEqual(['GET config.json']);
    state.log.length = 0;
    state.portal = true;
    await cache.ensure(plan());
    expect(state.log).toEqual([]);
  });

  it('are asked for again at a new revision, and forgotten with the model', async () => {
    const { state, fetchFn } = server();
    const cache = new WeightCache({ kv: memoryKv(), fetchFn, storage: undefined, retryDelayMs: 0, progressIntervalMs: 0, maxAttempts: 2 });
    await cache.ensure(plan('aaa'));
    state.log.length = 0;
    await cache.ensure(plan('aaa'));
    expect(state.log).toEqual([]);
    await cache.ensure(plan('bbb'));
    expect(state.log).toEqual(['HEAD chat_template.json']);
    await cache.store.deleteModel('org/newer-repo');
    expect(await cache.store.isAbsent({ model: 'org/newer-repo', name: 'chat_template.json' })).toBe(false);
  });

  it('a required file that 404s still fails the download, and nothing is recorded for it', async () => {
    const { fetchFn } = server();
    const cache = new WeightCache({ kv: memoryKv(), fetchFn, storage: undefined, retryDelayMs: 0, progressIntervalMs: 0, maxAttempts: 2 });
    const required = { ...plan(), files: [{ name: 'config.json' }, { name: 'tokenizer.json' }] };
    await expect(cache.ensure(required)).rejects.toThrow(/tokenizer\.json.*404/);
    expect(await cache.store.isAbsent({ model: 'org/newer-repo', name: 'tokenizer.json' })).toBe(false);
  });
});
