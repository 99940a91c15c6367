// k x k average pooling of a row-major grid of feature vectors (LLaVA-style
// image token pooling): out[b, i, j, c] = mean over (di, dj) < k of
// x[b, i*k + di, j*k + dj, c]. Grid sides must be multiples of k.
// Shapes: x [B, GH, GW, C]; out [B, GH/k, GW/k, C].
// Bindings: 0 x (read), 1 out (write), 2 params (uniform).
// Dispatch: ceil(B * GH/k * GW/k * C / 64) groups of 64, folded into y.

struct Params {
  batch: u32,
  grid_h: u32,
  grid_w: u32,
  channels: u32,
  k: u32,
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let oh = params.grid_h / params.k;
  let ow = params.grid_w / params.k;
  let idx = gid.x + gid.y * params.row_stride;
  if (idx >= params.batch * oh * ow * params.channels) {
    return;
  }
  let c = idx % params.channels;
  let j = (idx / params.channels) % ow;
  let i = (idx / (params.channels * ow)) % oh;
  let b = idx / (params.channels * ow * oh);
  var sum = 0.0;
  for (var di = 0u; di < params.k; di++) {
    for (var dj = 0u; dj < params.k; dj++) {
      let row = (b * params.grid_h + i * params.k + di) * params.grid_w + j * params.k + dj;
      sum += x[row * params.channels + c];
    }
  }
  out[idx] = sum / f32(params.k * params.k);
}
