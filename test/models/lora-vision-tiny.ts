/**
 * A tiny random LLaVA-like model for finite-difference checks of vision LoRA
 * and trained token rows: the tiny Llama decoder of lora-tiny.ts, a random
 * 2-layer pre-norm ViT encoder whose input is the pixel values themselves
 * ([1 + tokens, width]: row 0 plays the class token), and a linear -> gelu ->
 * linear projector.
 */
import { Rng } from '../../src/data/random';
import type { VisionConfig } from '../../src/models/config';
import type { LoraHost } from '../../src/models/lora/host';
import { createTrainableFor } from '../../src/models/lora/trainable';
import { LORA_TARGETS, type LoraConfig, type TrainExample } from '../../src/models/lora/types';
import { LlamaDecoder } from '../../src/models/native/llama-decoder';
import { VitEncoderLayers } from '../../src/models/native/vit-encoder';
import { Weights } from '../../src/models/native/weights';
import { SafetensorsFile, writeSafetensors } from '../../src/models/safetensors';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { randomAdapter, TINY_TEXT, tinyDecoderFile, tinyExample } from './lora-tiny';

export const TINY_VISION: VisionConfig = { imageSize: 4, patchSize: 2, numChannels: 3, hiddenSize: 8, intermediateSize: 12, numLayers: 2, numHeads: 2, hiddenAct: 'gelu', layerNormEps: 1e-5 };
/** Image tokens and the token id that marks them. */
const TOKENS = 4;
const IMAGE_TOKEN = 3;
const ENCODER = 'vision_tower.vision_model.encoder';

function visionFile(c: VisionConfig, seed: number): SafetensorsFile {
  const rng = new Rng(seed);
  const t: Record<string, { shape: number[]; data: Float32Array }> = {};
  const put = (name: string, shape: number[], lo: number, hi: number) => {
    t[name] = { shape, data: rng.floats(shape.reduce((a, b) => a * b, 1), lo, hi) };
  };
  const h = c.hiddenSize;
  for (let i = 0; i < c.numLayers; i++) {
    const p = `vision_tower.vision_model.encoder.layers.${i}`;
    for (const ln of ['layer_norm1', 'layer_norm2']) {
      put(`${p}.${ln}.weight`, [h], 0.8, 1.2);
      put(`${p}.${ln}.bias`, [h], -0.1, 0.1);
    }
    const lin = (name: string, n: number, k: number) => {
      put(`${p}.${name}.weight`, [n, k], -1 / Math.sqrt(k), 1 / Math.sqrt(k));
      put(`${p}.${name}.bias`, [n], -0.1, 0.1);
    };
    for (const x of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) lin(`self_attn.${x}`, h, h);
    lin('mlp.fc1', c.intermediateSize, h);
    lin('mlp.fc2', h, c.intermediateSize);
  }
  const proj = (name: string, n: number, k: number) => {
    put(`multi_modal_projector.${name}.weight`, [n, k], -0.5, 0.5);
    put(`multi_modal_projector.${name}.bias`, [n], -0.2, 0.2);
  };
  proj('linear_1', TINY_TEXT.hiddenSize, h);
  proj('linear_2', TINY_TEXT.hiddenSize, TINY_TEXT.hiddenSize);
  const bytes = writeSafetensors(t);
  return new SafetensorsFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, 'tiny-vision.safetensors');
}

export function tinyVisionHost(rt: GpuRuntime, decoder: LlamaDecoder, w: Weights): LoraHost {
  const c = TINY_VISION;
  const enc = new VitEncoderLayers(w, c, 'vision_tower.vision_model', c.numLayers, 'tiny-vision');
  const rows = TOKENS + 1;
  const d = TINY_TEXT.hiddenSize;
  return {
    rt,
    decoder,
    imageTokenId: IMAGE_TOKEN,
    imageSeqLength: TOKENS,
    visionFeatures: (s, px, label) => {
      const out = enc.forward(s, s.upload(px, [rows, c.hiddenSize], label));
      const feats = s.empty([TOKENS, c.hiddenSize], `${label}.features`);
      s.rt.copy(out, c.hiddenSize, feats, 0, TOKENS * c.hiddenSize);
      return feats;
    },
    projector: [
      { path: 'multi_modal_projector.linear_1', lin: w.linear('multi_modal_projector.linear_1', d, c.hiddenSize, true) },
      { path: 'multi_modal_projector.linear_2', lin: w.linear('multi_modal_projector.linear_2', d, d, true) },
    ],
    projectorAct: 'gelu_erf',
    tokenPaths: { embed: 'language_model.model.embed_tokens', lmHead: 'language_model.lm_head' },
    vision: {
      path: ENCODER,
      layers: enc.layers,
      heads: c.numHeads,
      eps: c.layerNormEps,
      act: 'gelu_erf',
      hiddenBefore: (s, px, first, label) => enc.forward(s, s.upload(px, [rows, c.hiddenSize], label), 0, first),
      featureRows: { start: 1, count: TOKENS },
    },
  };
}

/** Random ids with one image's tokens at 1..TOKENS and the trained ids in both prompt and answer. */
function example(tokenIds: readonly number[]): TrainExample {
  const base = tinyExample(TINY_TEXT, 14, 6, 5);
  const ids = Int32Array.from(base.ids, (id, i) => (i >= 1 && i <= TOKENS ? IMAGE_TOKEN : id));
  ids[5] = tokenIds[0] as number;
  ids[9] = tokenIds[1] as number;
  ids[11] = tokenIds[0] as number;
  const labels = Int32Array.from(ids, (id, i) => (i < 6 ? -100 : id));
  return { id: 'tiny-vision', ids, labels, pixels: [new Rng(23).floats((TOKENS + 1) * TINY_VISION.hiddenSize, -1, 1)] };
}

/**
 * LoRA on every decoder target, on vision layers `visionLayers` (all six
 * targets), and token rows `tokenIds` (tied head); transposeFrozen as in
 * TrainableOptions (false: the gradient kernel's own dX, what real GPUs use).
 */
export async function tinyVisionCase(rt: GpuRuntime, visionLayers: number[], tokenIds: number[], dropout = 0, transposeFrozen?: boolean) {
  const weights = new Weights(rt, tinyDecoderFile(TINY_TEXT, 7));
  const vweights = new Weights(rt, visionFile(TINY_VISION, 29));
  const decoder = new LlamaDecoder(weights, TINY_TEXT);
  const host = tinyVisionHost(rt, decoder, vweights);
  const config: LoraConfig = { rank: 2, alpha: 4, dropout, targetModules: [...LORA_TARGETS], trainProjector: false, baseModel: 'tiny', visionLayers, tokenIds };
  const init = randomAdapter(decoder, config, 11);
  const rng = new Rng(31);
  // Nonzero B on the vision layers too, so their A gets gradients.
  const trainable0 = await createTrainableFor(host, config, init);
  const start = await trainable0.exportAdapter();
  trainable0.release();
  // Token rows moved off the base rows, so the head's dX sees trained rows that differ from the frozen table.
  const moved = (t: { data: Float32Array }) => Float32Array.from(t.data, (v) => v + rng.uniform(-0.5, 0.5));
  const adapter = {
    config,
    tensors: start.tensors.map((t) => (t.name.includes('vision_tower') ? { ...t, data: rng.floats(t.data.length, -0.4, 0.4) } : t.name.includes('token_adapter') ? { ...t, data: moved(t) } : t)),
  };
  const trainable = await createTrainableFor(host, config, adapter, transposeFrozen === undefined ? {} : { transposeFrozen });
  return {
    trainable,
    adapter,
    config,
    example: example(tokenIds),
    release: () => {
      trainable.release();
      weights.release();
      vweights.release();
    },
  };
}
