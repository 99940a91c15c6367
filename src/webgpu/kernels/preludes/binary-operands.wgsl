// The bindings of an elementwise kernel over two f32 operands and one output,
// and its flat invocation index. The kernel declares its uniform block as
// `struct Params` with fields n (elements to write) and row_stride (the x
// extent of the dispatch in invocations; the grid folds into y past the
// per-dimension limit).

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

fn flat_index(gid: vec3<u32>) -> u32 {
  return gid.x + gid.y * params.row_stride;
}
