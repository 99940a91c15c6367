// What attention.wgsl and attention-backward.wgsl share: the uniform block
// (attention.ts attentionUniforms writes it), the read bindings 0-3, the head
// size limit of the private accumulators, and the key-visibility rules.
// Shapes: q [B, T, H, D]; k, v [B, S_cap, Hkv, D]; mask i32 [B, S_cap]
// (non-zero = attend; a 1-element dummy when unused). Each kernel binds its
// own outputs and its uniform variable of type Params after these.

const D_MAX: u32 = 128u;

struct Params {
  batch: u32,
  t_len: u32,
  s_len: u32,
  heads: u32,
  kv_heads: u32,
  head_dim: u32,
  s_cap: u32,
  q_offset: u32,
  causal: u32,
  has_mask: u32,
  row_stride: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<i32>;

// Offset of key/value row (b, s, g) in k and v.
fn kv_offset(p: Params, b: u32, s: u32, g: u32) -> u32 {
  return ((b * p.s_cap + s) * p.kv_heads + g) * p.head_dim;
}

// Whether the padding mask lets batch item b attend to key s.
fn mask_allows(p: Params, b: u32, s: u32) -> bool {
  return p.has_mask == 0u || mask[b * p.s_cap + s] != 0;
}
