// Rotary position embedding, Llama layout (HF rotate_half: channel i pairs with
// i + D/2), and its backward:
//   inv_freq[i] = 1 / theta^(2i / D),  a = position[b, t] * inv_freq[i],  i < D/2
//   y[.., i]       = x[.., i] cos a - x[.., i + D/2] sin a
//   y[.., i + D/2] = x[.., i + D/2] cos a + x[.., i] sin a
// The backward is the rotation by -a: dx from dy with sin a negated.
// cos and sin come from theta and the position in-kernel, with the angle
// formed in f32 as HF does (f32 position times f32 inv_freq), so long-context
// angles carry HF's own rounding (~6e-8 relative). Two builtins are replaced
// because SwiftShader's are far less accurate than HF's f32 math (WGSL allows
// it): pow (4e-7 relative, which at position 1e5 is 0.04 rad) and sin/cos
// (2e-4 absolute even inside [-pi, pi]).
//   inv_freq = 2^-(2i * log2(theta) / D): log2(theta) / D arrives from the host
//     as three f32 chunks of 11 significant bits, so 2i times each of the first
//     two is exact and the exponent is good to ~1e-8; 2^-frac is a polynomial.
//     The result is within one ulp of the correctly rounded f32 (tested).
//   sin/cos: Cody-Waite reduction by pi/2 (four chunks, exact for |a| < 2e5,
//     i.e. positions below ~2e5), then Taylor polynomials on [-pi/4, pi/4].
// Together: |y - exact| ~1e-7 * |x| plus |a| * 1e-7 from rounding the angle.
// Shapes: x, y, dy, dx [B, T, H, D] contiguous; position [B, T] i32.
// Entry points and their bindings (inputs, then outputs, then params):
//   forward   0 x, 1 position, 2 y, 3 params
//   backward  0 dy, 1 position, 2 dx, 3 params
// The spec's `inverse` param picks the other entry point (rope with inverse
// runs backward): the rotation by -a on any tensor, not only a gradient.
// Dispatch: one invocation per rotated pair, B * T * H * D/2 in all, as
// ceil(pairs / 64) workgroups of 64 folded into y past the per-dimension limit;
// params.row_stride is the x extent in invocations.

struct Params {
  pairs: u32,
  heads: u32,
  head_dim: u32,
  row_stride: u32,
  // log2(theta) / D = log2_theta_over_d.x + .y + .z
  log2_theta_over_d: vec3<f32>,
}

// pi/2 = HALF_PI_A + B + C + D; A, B and C carry 7 significant bits, so k times
// each is exact for |k| < 2^17 and the subtractions cancel exactly.
const HALF_PI_A: f32 = 1.5625;
const HALF_PI_B: f32 = 0.0081787109375;
const HALF_PI_C: f32 = 0.00011730194091796875;
const HALF_PI_D: f32 = 3.13916478589249e-7;
const TWO_OVER_PI: f32 = 0.6366197723675814;
const LN2: f32 = 0.6931471805599453;

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> position: array<i32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// 2^-(2i * log2(theta) / D) for pair index i.
fn inv_freq(i: u32) -> f32 {
  let two_i = f32(2u * i);
  let m = params.log2_theta_over_d;
  let exact_part = two_i * m.x;
  let n = round(exact_part);
  let frac = ((exact_part - n) + two_i * m.y) + two_i * m.z;
  // e^(-frac ln 2) for |frac| <= ~0.5: the degree-7 Taylor tail is below 6e-9.
  let t = -frac * LN2;
  var p = 1.0 / 5040.0;
  p = 1.0 / 720.0 + t * p;
  p = 1.0 / 120.0 + t * p;
  p = 1.0 / 24.0 + t * p;
  p = 1.0 / 6.0 + t * p;
  p = 0.5 + t * p;
  p = 1.0 + t * p;
  p = 1.0 + t * p;
  return ldexp(p, -i32(n));
}

// (sin a, cos a).
fn sin_cos(a: f32) -> vec2<f32> {
  let k = round(a * TWO_OVER_PI);
  let r = (((a - k * HALF_PI_A) - k * HALF_PI_B) - k * HALF_PI_C) - k * HALF_PI_D;
  let r2 = r * r;
  // Taylor to r^9 and r^10: on |r| <= pi/4 the tails are below 2e-9.
  let s = r + r * r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0))));
  let c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 - r2 * (1.0 / 3628800.0)))));
  // Quadrant k mod 4 (two's complement keeps negative k right): rotate (s, c) by k quarter turns.
  switch (i32(k) & 3) {
    case 1: {
      return vec2<f32>(c, -s);
    }
    case 2: {
      return vec2<f32>(-s, -c);
    }
    case 3: {
      return vec2<f32>(-c, s);
    }
    default: {
      return vec2<f32>(s, c);
    }
  }
}

fn rotate_pair(gid: vec3<u32>, direction: f32) {
  let pair = gid.x + gid.y * params.row_stride;
  if (pair >= params.pairs) {
    return;
  }
  let half = params.head_dim / 2u;
  let i = pair % half;
  let head_row = pair / half;
  let bt = head_row / params.heads;
  let sc = sin_cos(f32(position[bt]) * inv_freq(i));
  let s = sc.x * direction;
  let c = sc.y;
  let lo = head_row * params.head_dim + i;
  let hi = lo + half;
  let x_lo = src[lo];
  let x_hi = src[hi];
  dst[lo] = x_lo * c - x_hi * s;
  dst[hi] = x_hi * c + x_lo * s;
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>) {
  rotate_pair(gid, 1.0);
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>) {
  rotate_pair(gid, -1.0);
}
