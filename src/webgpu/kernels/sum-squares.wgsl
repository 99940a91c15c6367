// Sum of squares of N f32 values into one slot of an f32 output: gradient
// norms (torch's clip_grad_norm_, per-tensor norms) without reading the
// gradients back:
//   sums[slot]  = sum_i x[i]^2     (accumulate = 0)
//   sums[slot] += sum_i x[i]^2     (accumulate = 1: several tensors into one total)
// Shapes: x holds N values (any shape, flattened); sums [S], slot < S.
// One workgroup of WG = 256 invocations does both passes: each invocation
// adds every WG-th square (the partials), then a tree reduction over the
// workgroup (the final pass) gives the total, written by invocation 0. One
// dispatch, no float atomics, the same order every run, so the result is
// deterministic. Sized for LoRA gradients (1e3-1e5 values: a few hundred
// loads per invocation); a tensor of many millions would want partials
// spread over workgroups first.
// Override `accumulate` (0 or 1) picks overwrite or add.
// Bindings: 0 x (read), 1 sums (read_write), 2 params (uniform).
// Dispatch: (1, 1, 1).
// Preludes: reductions (workgroup_sum over f32).

struct Params {
  n: u32,
  slot: u32,
}

const WG: u32 = 256u;
alias reduce_t = f32;
override accumulate: u32 = 0u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> sums: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var partial = 0.0;
  for (var i = lid; i < params.n; i += WG) {
    let v = x[i];
    partial += v * v;
  }
  let total = workgroup_sum(lid, partial);
  if (lid == 0u) {
    if (accumulate == 1u) {
      sums[params.slot] += total;
    } else {
      sums[params.slot] = total;
    }
  }
}
