/**
 * The model benchmark on a hub repository instead of the bundled model: the
 * files come from a hub (the real one, or a local server standing in for it
 * with a random-weight checkpoint at a real model's config) through the same
 * weight cache a user's download goes through. SmolVLM (Idefics3) cuts every
 * image into 512 x 512 tiles plus a global view, so encode time is also given
 * per tile; the tile count is what our own processor makes of the bench image.
 */
import { parseIdefics3Preprocessor, preprocessIdefics3 } from '../models/idefics3-processing';
import { hubBaseUrl } from '../models/zoo';
import type { ChatImage, EngineKind } from '../worker/api';

/** What real_size.json (written beside a random checkpoint by tools/families/smolvlm_real_size.py) says of it. */
export interface HubCheckpoint {
  standsInFor: string;
  randomWeights: boolean;
  layers: { vision: number; text: number };
  realLayers: { vision: number; text: number };
  /** Fewer layers than the real model (same per-layer shapes): times scale with depth, memory does not quite. */
  depthCut: boolean;
  parameters: number;
  /** Bytes of the weights as f32, as the native engine holds them without shader-f16 or quantization. */
  f32WeightBytes: number;
  tokenizer: string;
}

export interface HubRun {
  hubUrl: string;
  engines: readonly EngineKind[];
  /** Where the transformers engine runs; the app's choice (wasm on a software adapter) when absent. */
  transformersDevice?: 'webgpu' | 'wasm';
  /** The image of run `i` (a new one each run, so no KV prefix is reused), and how many tiles it becomes. */
  image: (i: number) => ChatImage;
  tiles: number;
  /** Set when the repo carries real_size.json. */
  checkpoint: HubCheckpoint | null;
}

/** The engines that run an Idefics3 repo from the hub: ours natively, and transformers.js as the peer. */
export const HUB_ENGINES: readonly EngineKind[] = ['native', 'transformers'];

/** A 4:1 picture (stripes and a gradient, shifted by seed): SmolVLM makes it 1 x 4 tiles plus the global view, its fewest for a split image. */
export function wideImage(seed: number, width = 1024, height = 256): { width: number; height: number; data: Uint8ClampedArray } {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      data[p] = (x * 255) / width;
      data[p + 1] = ((x + y + seed * 37) >> 4) % 2 ? 200 : 40;
      data[p + 2] = (y * 255) / height;
      data[p + 3] = 255;
    }
  }
  return { width, height, data };
}

type Json = Record<string, unknown>;

async function fetchJson(url: string): Promise<Json | null> {
  const res = await fetch(url);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as Json;
}

function parseCheckpoint(raw: Json): HubCheckpoint {
  const layers = raw.layers as { vision: number; text: number };
  const parameters = Number(raw.parameters);
  return {
    standsInFor: String(raw.stands_in_for),
    randomWeights: raw.random_weights === true,
    layers,
    realLayers: raw.real_layers as { vision: number; text: number },
    depthCut: raw.depth_cut === true,
    parameters,
    f32WeightBytes: parameters * 4,
    tokenizer: String(raw.tokenizer ?? ''),
  };
}

/** Reads the repo's config and preprocessor (and real_size.json when there is one) from the hub, before any engine loads it. */
export async function prepareHubRun(model: string, hubUrl: string, transformersDevice?: 'webgpu' | 'wasm'): Promise<HubRun> {
  const base = hubBaseUrl(model, hubUrl);
  const [config, pre, real] = await Promise.all([fetchJson(`${base}config.json`), fetchJson(`${base}preprocessor_config.json`), fetchJson(`${base}real_size.json`)]);
  if (!config) throw new Error(`${model} has no config.json at ${base}`);
  if (config.model_type !== 'idefics3') throw new Error(`bench:model runs hub repos of SmolVLM (model_type idefics3); ${model} is ${String(config.model_type)}`);
  const imageSize = Number((config.vision_config as Json | undefined)?.image_size);
  const first = wideImage(0);
  const tiles = preprocessIdefics3({ ...first, channels: 4 }, parseIdefics3Preprocessor(pre, imageSize)).tiles.length;
  return { hubUrl, engines: HUB_ENGINES, ...(transformersDevice ? { transformersDevice } : {}), image: (i) => wideImage(1000 + i), tiles, checkpoint: real ? parseCheckpoint(real) : null };
}
