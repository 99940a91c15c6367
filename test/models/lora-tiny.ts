/**
 * A tiny random Llama decoder with LoRA on every target, for checks that need
 * many forward passes (finite differences) or a CPU twin: built in memory
 * through the same Weights and LlamaDecoder as the bundled model.
 */
import { Rng } from '../../src/data/random';
import type { TextConfig } from '../../src/models/config';
import type { LoraHost } from '../../src/models/lora/host';
import { loraTensorName } from '../../src/models/lora/names';
import { createTrainableFor } from '../../src/models/lora/trainable';
import { LORA_TARGETS, type LoraAdapterData, type LoraConfig, type TrainExample } from '../../src/models/lora/types';
import { LlamaDecoder, TARGET_FIELD } from '../../src/models/native/llama-decoder';
import { Weights } from '../../src/models/native/weights';
import { SafetensorsFile, writeSafetensors } from '../../src/models/safetensors';
import type { GpuRuntime } from '../../src/webgpu/runtime';

export const TINY_TEXT: TextConfig = {
  vocabSize: 37,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 4,
  maxPositions: 64,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  attentionBias: false,
  mlpBias: false,
  tieWordEmbeddings: true,
  bosTokenId: 1,
  eosTokenIds: [2],
  padTokenId: 0,
};

/** Random checkpoint tensors of a Llama decoder under language_model. */
export function tinyDecoderFile(c: TextConfig, seed: number): SafetensorsFile {
  const rng = new Rng(seed);
  const t: Record<string, { shape: number[]; data: Float32Array }> = {};
  const put = (name: string, shape: number[], lo: number, hi: number) => {
    t[name] = { shape, data: rng.floats(shape.reduce((a, b) => a * b, 1), lo, hi) };
  };
  const d = c.hiddenSize;
  const qd = c.numHeads * c.headDim;
  const kvd = c.numKvHeads * c.headDim;
  put('language_model.model.embed_tokens.weight', [c.vocabSize, d], -1, 1);
  put('language_model.model.norm.weight', [d], 0.8, 1.2);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `language_model.model.layers.${i}`;
    put(`${p}.input_layernorm.weight`, [d], 0.8, 1.2);
    put(`${p}.post_attention_layernorm.weight`, [d], 0.8, 1.2);
    const lin = (name: string, n: number, k: number) => put(`${p}.${name}.weight`, [n, k], -1 / Math.sqrt(k), 1 / Math.sqrt(k));
    lin('self_attn.q_proj', qd, d);
    lin('self_attn.k_proj', kvd, d);
    lin('self_attn.v_proj', kvd, d);
    lin('self_attn.o_proj', d, qd);
    lin('mlp.gate_proj', c.intermediateSize, d);
    lin('mlp.up_proj', c.intermediateSize, d);
    lin('mlp.down_proj', d, c.intermediateSize);
  }
  const bytes = writeSafetensors(t);
  return new SafetensorsFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, 'tiny.safetensors');
}

/** Image tokens of the tiny host's one image, and the width of its (made-up) frozen features. */
export const TINY_IMAGE = { token: 3, tokens: 4, width: 6 };

/**
 * A host whose frozen image features are the pixel values themselves
 * ([tokens, width]) and whose projector is linear (bias) -> gelu -> linear (bias).
 */
export function tinyImageHost(rt: GpuRuntime, decoder: LlamaDecoder, seed: number): LoraHost {
  const rng = new Rng(seed);
  const d = decoder.config.hiddenSize;
  const lin = (n: number, k: number, label: string) => ({
    n,
    k,
    bias: rt.upload(rng.floats(n, -0.2, 0.2), [n], `${label}.bias`),
    weight: { kind: 'f32' as const, w: rt.upload(rng.floats(n * k, -0.5, 0.5), [n, k], `${label}.weight`) },
  });
  return {
    ...textOnlyHost(rt, decoder),
    imageTokenId: TINY_IMAGE.token,
    imageSeqLength: TINY_IMAGE.tokens,
    visionFeatures: (s, pixels, label) => s.upload(pixels, [TINY_IMAGE.tokens, TINY_IMAGE.width], label),
    projector: [
      { path: 'multi_modal_projector.linear_1', lin: lin(d, TINY_IMAGE.width, 'p1') },
      { path: 'multi_modal_projector.linear_2', lin: lin(d, d, 'p2') },
    ],
    projectorAct: 'gelu_erf',
  };
}

export function textOnlyHost(rt: GpuRuntime, decoder: LlamaDecoder): LoraHost {
  return {
    rt,
    decoder,
    imageTokenId: -1,
    imageSeqLength: 0,
    visionFeatures: () => {
      throw new Error('the tiny decoder has no image encoder');
    },
    projector: [],
    projectorAct: 'gelu_erf',
  };
}

/** A random adapter on every target of every layer (B non-zero, so A gets gradients too). */
export function randomAdapter(decoder: LlamaDecoder, config: LoraConfig, seed: number): LoraAdapterData {
  const rng = new Rng(seed);
  const tensors = decoder.layers.flatMap((l, i) =>
    config.targetModules.flatMap((target) => {
      const lin = l[TARGET_FIELD[target]];
      return [
        { name: loraTensorName(decoder.modelPath, i, target, 'A'), shape: [config.rank, lin.k], data: rng.floats(config.rank * lin.k, -0.4, 0.4) },
        { name: loraTensorName(decoder.modelPath, i, target, 'B'), shape: [lin.n, config.rank], data: rng.floats(lin.n * config.rank, -0.4, 0.4) },
      ];
    }),
  );
  return { config, tensors };
}

/** Random ids (with one image's tokens at positions 1.. when `image`), the first `prompt` unsupervised. */
export function tinyExample(c: TextConfig, length: number, prompt: number, seed: number, image = false): TrainExample {
  const rng = new Rng(seed);
  const ids = Int32Array.from({ length }, (_, i) => (image && i >= 1 && i <= TINY_IMAGE.tokens ? TINY_IMAGE.token : rng.int(4, c.vocabSize - 1)));
  const labels = Int32Array.from(ids, (id, i) => (i < prompt ? -100 : id));
  const pixels = image ? [rng.floats(TINY_IMAGE.tokens * TINY_IMAGE.width)] : [];
  return { id: 'tiny', ids, labels, pixels };
}

export const DROPOUT_SEED = 17;

export async function tinyLoraCase(rt: GpuRuntime, dropout = 0, trainProjector = false, transposeFrozen?: boolean) {
  const weights = new Weights(rt, tinyDecoderFile(TINY_TEXT, 7));
  const decoder = new LlamaDecoder(weights, TINY_TEXT);
  const config: LoraConfig = { rank: 2, alpha: 4, dropout, targetModules: [...LORA_TARGETS], trainProjector, baseModel: 'tiny' };
  const host = trainProjector ? tinyImageHost(rt, decoder, 19) : textOnlyHost(rt, decoder);
  const trainable = await createTrainableFor(host, config, randomAdapter(decoder, config, 11), transposeFrozen === undefined ? {} : { transposeFrozen });
  const adapter = await trainable.exportAdapter();
  const example = tinyExample(TINY_TEXT, 12, trainProjector ? 6 : 4, 3, trainProjector);
  const projectorNames = trainProjector
    ? ['base_model.model.multi_modal_projector.linear_1.weight', 'base_model.model.multi_modal_projector.linear_1.bias', 'base_model.model.multi_modal_projector.linear_2.weight', 'base_model.model.multi_modal_projector.linear_2.bias']
    : [];
  const names = [
    ...projectorNames,
    loraTensorName('language_model.model', 0, 'q_proj', 'A'),
    loraTensorName('language_model.model', 0, 'k_proj', 'B'),
    loraTensorName('language_model.model', 0, 'v_proj', 'A'),
    loraTensorName('language_model.model', 1, 'o_proj', 'A'),
    loraTensorName('language_model.model', 1, 'gate_proj', 'B'),
    loraTensorName('language_model.model', 0, 'up_proj', 'A'),
    loraTensorName('language_model.model', 1, 'down_proj', 'A'),
  ];
  const grads = async () => trainable.gradients();
  /** The largest-magnitude entry of each named gradient: where a finite difference is least swamped by f32 rounding. */
  const probes = async () => {
    const g = await grads();
    return names.map((name) => {
      const v = g.get(name) ?? new Float32Array();
      let index = 0;
      v.forEach((x, i) => {
        if (Math.abs(x) > Math.abs(v[index] ?? 0)) index = i;
      });
      return { name, index };
    });
  };
  const numericGradient = async (name: string, index: number, h: number): Promise<number> => {
    const base = adapter.tensors.map((t) => ({ ...t, data: t.data.slice() }));
    const at = (delta: number) => {
      const tensors = base.map((t) => (t.name === name ? { ...t, data: t.data.slice() } : t));
      const t = tensors.find((x) => x.name === name);
      if (!t) throw new Error(`no tensor ${name}`);
      t.data[index] = (t.data[index] as number) + delta;
      trainable.importAdapter({ config, tensors });
      // With dropout the loss is the one accumulate sees under the same masks (scale 0 adds nothing).
      return dropout > 0 ? trainable.accumulate(example, 0, { dropoutSeed: DROPOUT_SEED }) : trainable.evaluate(example);
    };
    const up = (await at(h)).lossSum;
    const down = (await at(-h)).lossSum;
    trainable.importAdapter({ config, tensors: base });
    return (up - down) / (2 * h);
  };
  return {
    trainable,
    example,
    decoder,
    adapter,
    config,
    grads,
    probes,
    numericGradient,
    release: () => {
      trainable.release();
      for (const p of host.projector) for (const t of [p.lin.bias, p.lin.weight.kind === 'f32' ? p.lin.weight.w : null]) if (t) rt.release(t);
      weights.release();
    },
  };
}
