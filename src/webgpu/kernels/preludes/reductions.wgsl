// Tree reductions over one workgroup: workgroup_sum and workgroup_max of one
// value per invocation, every invocation getting the result. The kernel
// declares the workgroup size `const WG: u32` (a power of two) and the value
// type `alias reduce_t` (f32, or vec2<f32> to carry two sums through one
// reduction). Call only from uniform control flow: both contain barriers.

var<workgroup> reduce_scratch: array<reduce_t, WG>;

fn workgroup_sum(lid: u32, v: reduce_t) -> reduce_t {
  reduce_scratch[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      reduce_scratch[lid] += reduce_scratch[lid + s];
    }
    workgroupBarrier();
  }
  return reduce_result();
}

fn workgroup_max(lid: u32, v: reduce_t) -> reduce_t {
  reduce_scratch[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      reduce_scratch[lid] = max(reduce_scratch[lid], reduce_scratch[lid + s]);
    }
    workgroupBarrier();
  }
  return reduce_result();
}

fn reduce_result() -> reduce_t {
  let result = reduce_scratch[0];
  // A later call overwrites the scratch; nobody may still be reading it.
  workgroupBarrier();
  return result;
}
