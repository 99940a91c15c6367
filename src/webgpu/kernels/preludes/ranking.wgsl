// The order argmax and top-k rank entries by: larger value first, then lower
// index, a total order, so results are unique and match torch.argmax and a
// stable descending sort. Index NONE marks an empty slot or "nothing seen
// yet" and ranks below every real entry, -inf included. NaN values rank
// unpredictably (WGSL does not promise NaN comparisons).

const NONE: u32 = 0xffffffffu;

// Whether (va, ia) ranks before (vb, ib).
fn better(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  if (ia == NONE) {
    return false;
  }
  if (ib == NONE) {
    return true;
  }
  return va > vb || (va == vb && ia < ib);
}
