// What rms-norm.wgsl and layer-norm.wgsl share: the uniform block
// (norm-params.ts normUniforms), the workgroup of WG invocations that owns a
// row, the value type of its reductions (two sums carried through one), and
// the bindings of their entry points that agree:
//   forward          0 x, 1 weight
//   backward_input   0 x, 1 weight, 2 dy, 3 dx, 5 bwd_params (4 holds the
//                    per-row statistics, whose type each kernel chooses)
// Bindings are numbered per entry point, so resources of different entry
// points share numbers; no entry point uses two variables with one number.

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
}

const WG: u32 = 64u;
alias reduce_t = vec2<f32>;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<uniform> bwd_params: Params;
