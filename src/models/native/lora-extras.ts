/**
 * The parts of an adapter outside the decoder's LoRA, put to use at
 * inference: LoRA on vision encoder layers, folded into f32 copies of their
 * weights (W + (alpha / rank) B A), and trained token rows (PEFT's
 * trainable_tokens_delta), written into copies of embed_tokens and lm_head.
 * The copies are swapped in; `restore` puts the model's own weights back
 * (setAdapter(null)), or they stay for good (mergeAdapter).
 */
import type { GpuRuntime } from '../../webgpu/runtime';
import type { Tensor } from '../../webgpu/tensor';
import { tokenRowsName, VISION_FIELD, visionLoraTensorName, visionTargetPath } from '../lora/names';
import { visionPlan, type LoraAdapterData } from '../lora/types';
import type { LlamaDecoder } from './llama-decoder';
import { mergedWeight } from './lora-adapter';
import type { EncoderLayerWeights } from './vit-encoder';
import type { Linear } from './weights';

/** What the extras change on a model, and where PEFT names it. */
export interface ExtrasTarget {
  decoder: LlamaDecoder;
  /** The vision encoder's layers and their HF path (vision_tower.vision_model.encoder). */
  vision: { layers: EncoderLayerWeights[]; path: string } | null;
  /** HF paths of embed_tokens and lm_head. */
  tokenPaths: { embed: string; lmHead: string };
  /** A checkpoint weight as f32 on the host, by name. */
  hostWeight: (name: string) => Float32Array;
}

export interface AppliedExtras {
  /** Tensors the swapped-in copies live in. */
  owned: Tensor[];
  /** Puts the model's own weights back (the caller releases `owned`). */
  restore(): void;
}

function tensorOf(adapter: LoraAdapterData, name: string, size: number): Float32Array {
  const t = adapter.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`the adapter has no tensor ${name}`);
  if (t.data.length !== size) throw new Error(`adapter tensor ${name} has ${t.data.length} values but this model needs ${size}`);
  return t.data;
}

/** Swaps in the vision LoRA and token rows of `adapter` (nothing when it has neither). Throws, naming the tensor, when one does not fit. */
export function applyExtras(rt: GpuRuntime, target: ExtrasTarget, adapter: LoraAdapterData): AppliedExtras {
  const owned: Tensor[] = [];
  const undo: (() => void)[] = [];
  const restore = () => {
    for (const u of undo.reverse()) u();
    undo.length = 0;
  };
  try {
    const plan = visionPlan(adapter.config);
    const rank = adapter.config.rank;
    const scale = adapter.config.alpha / rank;
    for (const layer of plan.layers) {
      const v = target.vision;
      const l = v?.layers[layer];
      if (!v || !l) throw new Error(`the adapter trains vision layer ${layer}, which this model's features do not pass through`);
      for (const t of plan.targets) {
        const field = VISION_FIELD[t];
        const lin = l[field];
        const a = tensorOf(adapter, visionLoraTensorName(v.path, layer, t, 'A'), rank * lin.k);
        const b = tensorOf(adapter, visionLoraTensorName(v.path, layer, t, 'B'), lin.n * rank);
        const path = `${v.path}.${visionTargetPath(layer, t)}`;
        const w = rt.upload(mergedWeight(target.hostWeight(`${path}.weight`), a, b, lin.n, lin.k, rank, scale), [lin.n, lin.k], `${path}.adapted`);
        owned.push(w);
        const merged: Linear = { n: lin.n, k: lin.k, bias: lin.bias, weight: { kind: 'f32', w } };
        l[field] = merged;
        undo.push(() => {
          l[field] = lin;
        });
      }
    }
    const ids = [...new Set(adapter.config.tokenIds ?? [])].sort((x, y) => x - y);
    if (ids.length > 0) swapRows(rt, target, adapter, ids, owned, undo);
    return { owned, restore };
  } catch (error) {
    restore();
    for (const t of owned) rt.release(t);
    throw error;
  }
}

function swapRows(rt: GpuRuntime, target: ExtrasTarget, adapter: LoraAdapterData, ids: readonly number[], owned: Tensor[], undo: (() => void)[]): void {
  const dec = target.decoder;
  const [vocab, width] = dec.embedTokens.shape as [number, number];
  const tied = dec.lmHead.weight.kind === 'f32' && dec.lmHead.weight.w.buffer === dec.embedTokens.buffer;
  const withRows = (base: Float32Array, rows: Float32Array, label: string): Tensor => {
    const table = Float32Array.from(base);
    ids.forEach((id, j) => {
      if (id >= vocab) throw new Error(`the adapter trains token ${id}, outside this model's vocabulary (${vocab})`);
      table.set(rows.subarray(j * width, (j + 1) * width), id * width);
    });
    const t = rt.upload(table, [vocab, width], label);
    owned.push(t);
    return t;
  };
  const embedRows = tensorOf(adapter, tokenRowsName(target.tokenPaths.embed), ids.length * width);
  const embed = withRows(target.hostWeight(`${target.tokenPaths.embed}.weight`), embedRows, 'embed_tokens.adapted');
  const baseEmbed = dec.embedTokens;
  const baseHead = dec.lmHead;
  const headRows = tied ? null : tensorOf(adapter, tokenRowsName(target.tokenPaths.lmHead), ids.length * width);
  const head = tied ? embed : withRows(target.hostWeight(`${target.tokenPaths.lmHead}.weight`), headRows as Float32Array, 'lm_head.adapted');
  const mutable = dec as { embedTokens: Tensor; lmHead: Linear };
  mutable.embedTokens = embed;
  mutable.lmHead = { n: baseHead.n, k: baseHead.k, bias: baseHead.bias, weight: { kind: 'f32', w: head } };
  undo.push(() => {
    mutable.embedTokens = baseEmbed;
    mutable.lmHead = baseHead;
  });
}
