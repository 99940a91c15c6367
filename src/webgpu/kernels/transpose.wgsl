// Swap axes 1 and 2 of a 4-D tensor: out[a, c, b, d] = x[a, b, c, d].
// The attention layouts: [B, T, H, D] -> [B, H, T, D] with (A, B, C, D) =
// (B, T, H, D), and back with (B, H, T, D). A plain 2-D transpose [T, C] ->
// [C, T] is the case (1, T, C, 1).
//
// Shapes: x [A, B, C, D] f32 (sizes given in params), out [A, C, B, D] f32.
// One invocation per output element, so writes are contiguous and reads
// stride by C * D between neighbouring rows.
// Bindings: 0 x (read), 1 out (write), 2 params (uniform).
// Dispatch: ceil(A*B*C*D / 64) workgroups of 64, folded into y past the
// per-dimension limit; params.row_stride is the x extent in invocations.

struct Params {
  // Input sizes (A, B, C, D).
  dims: vec4<u32>,
  n: u32,
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn swap12(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = gid.x + gid.y * params.row_stride;
  if (o >= params.n) {
    return;
  }
  let size_b = params.dims.y;
  let size_c = params.dims.z;
  let size_d = params.dims.w;
  let d = o % size_d;
  let row = o / size_d;
  let b = row % size_b;
  let c = (row / size_b) % size_c;
  let a = row / (size_b * size_c);
  out[o] = x[((a * size_b + b) * size_c + c) * size_d + d];
}
