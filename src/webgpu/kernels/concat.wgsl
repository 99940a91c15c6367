// Concatenate two tensors along one axis. Viewing each operand as
// [outer, size, inner] around that axis (outer = product of the sizes before
// it, inner = product of the sizes after it):
//   out[p, j, q] = j < size_a ? a[p, j, q] : b[p, j - size_a, q]
// Rows ([N1, C] + [N2, C] -> [N1+N2, C]) is outer = 1, inner = C; the last
// axis ([N, C1] + [N, C2] -> [N, C1+C2]) is outer = N, inner = 1; batched
// sequences ([B, T1, C] + [B, T2, C]) are outer = B, inner = C.
//
// Shapes: a [.., size_a, ..] f32, b [.., size_b, ..] f32, out [.., size_a + size_b, ..] f32.
// One invocation per output element.
// Bindings: 0 a (read), 1 b (read), 2 out (write), 3 params (uniform).
// Dispatch: ceil(numel(out) / 64) workgroups of 64, folded into y past the
// per-dimension limit; params.row_stride is the x extent in invocations.
// Preludes: binary-operands (bindings 0-3, flat_index).

struct Params {
  outer: u32,
  size_a: u32,
  size_b: u32,
  inner: u32,
  n: u32,
  row_stride: u32,
}

@compute @workgroup_size(64)
fn concat(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = flat_index(gid);
  if (o >= params.n) {
    return;
  }
  let q = o % params.inner;
  let row = o / params.inner;
  let size = params.size_a + params.size_b;
  let j = row % size;
  let p = row / size;
  // A branch, not select(): select would read both operands, one out of bounds.
  if (j < params.size_a) {
    out[o] = a[(p * params.size_a + j) * params.inner + q];
  } else {
    out[o] = b[(p * params.size_b + (j - params.size_a)) * params.inner + q];
  }
}
