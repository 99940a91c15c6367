/**
 * The worker's engine as the page reaches it, for tests on the tiny hub
 * fixtures: the Engine exposed over a MessageChannel, transformers.js reading
 * through the same weight cache as in the worker, and a hub-like server per
 * fixture under its real repo id. Everything is put back after the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Comlink from 'comlink';
import { env } from '@huggingface/transformers';
import { afterAll, beforeAll, expect } from 'vitest';
import { decodePng } from '../../src/data/png';
import { memoryKv } from '../../src/worker/cache/kv';
import { installTransformersCache, transformersCache, type TransformersCacheEnv } from '../../src/worker/cache/transformers-hook';
import { WeightCache } from '../../src/worker/cache/weight-cache';
import { wrapEndpoint, type VlmClient } from '../../src/worker/client';
import { Engine } from '../../src/worker/engine';
import { VlmError } from '../../src/worker/errors';
import { HUB_DIR } from './family-golden';
import { startHubServer, type HubServer } from './hub-server';

export interface HubFixture {
  /** The fixture's folder under test/fixtures/hub. */
  dir: string;
  /** The real repo id it is served under. */
  repo: string;
}

/**
 * Call at the top of a test file: the client is ready at once (calls wait for
 * nothing but the engine); each fixture's server runs from beforeAll on.
 */
export function useHubClient(fixtures: readonly HubFixture[]): { client: VlmClient; hub: (f: HubFixture) => HubServer } {
  const tjsEnv = env as unknown as TransformersCacheEnv;
  const saved = { useCustomCache: tjsEnv.useCustomCache, customCache: tjsEnv.customCache, useBrowserCache: tjsEnv.useBrowserCache };
  const weights = new WeightCache({ kv: memoryKv(), storage: { estimate: async () => ({ usage: 0, quota: 1e9 }) }, retryDelayMs: 0, progressIntervalMs: 0 });
  // As the worker does: whatever transformers.js reads comes through the weight cache.
  installTransformersCache(tjsEnv, transformersCache(weights));
  const channel = new MessageChannel();
  Comlink.expose(new Engine(() => undefined, weights), channel.port1);
  const hubs = new Map<string, HubServer>();

  beforeAll(async () => {
    for (const f of fixtures) hubs.set(f.dir, await startHubServer(join(HUB_DIR, f.dir), f.repo));
  }, 60_000);

  afterAll(async () => {
    Object.assign(tjsEnv, saved);
    channel.port1.close();
    channel.port2.close();
    await Promise.all([...hubs.values()].map((h) => h.close()));
  });

  return {
    client: wrapEndpoint(channel.port2),
    hub: (f) => {
      const h = hubs.get(f.dir);
      if (!h) throw new Error(`no hub server for ${f.dir} (used outside a test?)`);
      return h;
    },
  };
}

/** A fixture's PNG as the RGBA pixels a page sends (the fixtures are RGB: alpha is opaque). */
export function fixtureRgba(dir: string, file = 'golden.png'): { width: number; height: number; data: Uint8ClampedArray } {
  const png = decodePng(new Uint8Array(readFileSync(join(HUB_DIR, dir, file))));
  const data = new Uint8ClampedArray(png.width * png.height * 4);
  for (let i = 0, j = 0; i < data.length; i += 4, j += png.channels) {
    data.set(png.data.subarray(j, j + 3), i);
    data[i + 3] = 255;
  }
  return { width: png.width, height: png.height, data };
}

/** The VlmError a call is refused with (the test fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<VlmError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VlmError);
  return err as VlmError;
}
