// Embedding lookup (forward) and the gradient of the table (backward).
//
// forward:  out[n, c] = weight[ids[n], c]
// backward: dweight[v, c] = sum over n with ids[n] == v of dout[n, c]
//
// Shapes: ids [N] i32, weight and dweight [V, C] f32, out and dout [N, C] f32.
// An id outside [0, V) cannot be caught by validation (it is data), so the
// forward pass gives it a zero row and the backward pass drops its gradient:
// no out-of-bounds read, and a bad id shows up as a zero embedding instead of
// silently aliasing another token.
//
// backward overwrites dweight (it does not accumulate). Each invocation owns
// one (v, c) and walks all N ids in order, so the sum is deterministic without
// float atomics; that costs V * C * N reads, acceptable for training-sized N.
//
// Bindings (entry points share slots; each uses its own names):
//   forward:  0 ids (read), 1 weight (read), 2 out (write),     3 params
//   backward: 0 ids (read), 1 dout (read),   2 dweight (write), 3 params
// Dispatch: forward ceil(N*C / 64), backward ceil(V*C / 64) workgroups of 64,
// folded into y past the per-dimension limit; params.row_stride is the x
// extent in invocations.

struct Params {
  rows: u32,
  vocab: u32,
  channels: u32,
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> ids: array<i32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

fn flat_index(gid: vec3<u32>) -> u32 {
  return gid.x + gid.y * params.row_stride;
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= params.rows * params.channels) {
    return;
  }
  let n = i / params.channels;
  let c = i % params.channels;
  let id = ids[n];
  var value = 0.0;
  if (id >= 0 && u32(id) < params.vocab) {
    value = weight[u32(id) * params.channels + c];
  }
  out[i] = value;
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= params.vocab * params.channels) {
    return;
  }
  let v = i32(i / params.channels);
  let c = i % params.channels;
  var acc = 0.0;
  for (var n = 0u; n < params.rows; n++) {
    if (ids[n] == v) {
      acc += dout[n * params.channels + c];
    }
  }
  dweight[i] = acc;
}
