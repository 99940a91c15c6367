// Bias gradient of Y = X W^T + bias: db[n] = sum over rows r of dY[r, n], where
// the rows are every row of every batch item (N letters from kernel.ts: dY is
// [Bt * M, N]). Each invocation owns one column and adds the rows in order,
// so the result is the same on every run and every device.
// Bindings: 0 dy (read), 1 db (write), 2 params (uniform).
// Dispatch: ceil(N / 64) workgroups of 64.

struct Params {
  rows: u32,
  n: u32,
}

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn bias_grad(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  if (col >= params.n) {
    return;
  }
  var s = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    s += dy[r * params.n + col];
  }
  db[col] = s;
}
