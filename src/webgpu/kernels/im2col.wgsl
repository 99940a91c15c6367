// im2col for a patch embedding: a Conv2d whose stride equals its kernel size
// P (ViT's patch_embedding), rearranged so that the convolution becomes
// patches x weight^T with weight the PyTorch Conv2d weight [Cout, Cin, P, P]
// flattened to [Cout, Cin*P*P].
//   patches[(b*GH + gy)*GW + gx, (ci*P + ky)*P + kx] = pixels[b, ci, gy*P + ky, gx*P + kx]
// Rows run over the patch grid row-major (gy, then gx), as ViT's
// flatten(2).transpose(1, 2) orders them; columns follow the weight's
// flattening (channel, then kernel row, then kernel column). GH = floor(Hpx / P)
// and GW = floor(Wpx / P): edge pixels that fill no whole patch are dropped,
// as Conv2d without padding drops them.
//
// Shapes: pixels [B, Cin, Hpx, Wpx] f32 (NCHW), patches [B*GH*GW, Cin*P*P] f32.
// One invocation per output element, so writes are contiguous.
// Bindings: 0 pixels (read), 1 patches (write), 2 params (uniform).
// Dispatch: ceil(numel(patches) / 64) workgroups of 64, folded into y past
// the per-dimension limit; params.row_stride is the x extent in invocations.

struct Params {
  channels: u32,
  height: u32,
  width: u32,
  patch_size: u32,
  grid_h: u32,
  grid_w: u32,
  n: u32,
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> pixels: array<f32>;
@group(0) @binding(1) var<storage, read_write> patches: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn im2col(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = gid.x + gid.y * params.row_stride;
  if (o >= params.n) {
    return;
  }
  let p = params.patch_size;
  let cols = params.channels * p * p;
  let col = o % cols;
  let row = o / cols;
  let kx = col % p;
  let ky = (col / p) % p;
  let ci = col / (p * p);
  let gx = row % params.grid_w;
  let gy = (row / params.grid_w) % params.grid_h;
  let b = row / (params.grid_w * params.grid_h);
  let y = gy * p + ky;
  let x = gx * p + kx;
  patches[o] = pixels[((b * params.channels + ci) * params.height + y) * params.width + x];
}
