"""Quantized session files in the hub's names, from a fixture's fp32 ONNX files.

    node scripts/python.mjs tools/families/quantize_onnx.py test/fixtures/hub/<fixture>/onnx

onnx-community repos ship each session as fp32 (`x.onnx`), q8 (`x_quantized.onnx`) and
q4 (`x_q4.onnx`), among others. Debian's python3-onnx (1.12) has no quantizer (that is
onnxruntime's, absent here), so this writes weight-only forms by hand:

- q8: every MatMul (and nn.Linear's Gemm) whose weight is a 2-D f32 initializer reads it
  through DequantizeLinear from int8 with one symmetric scale per output channel, so
  the graph's activations stay f32. The hub's q8 files come from onnxruntime's dynamic
  quantizer (MatMulInteger with activations quantized per call): the same file name,
  inputs and outputs, a different inside.
- q4: the same MatMuls become com.microsoft MatMulNBits (bits 4, blocks of 32 along K,
  one f32 scale per block, the default zero point 8), the operator onnxruntime's
  4-bit quantizer writes for the hub's q4 files.

Everything else (Gather embeddings, Conv, norms) stays f32, as in the hub's files. The
output is byte-identical for the same input.
"""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

BLOCK = 32
MS_DOMAIN = "com.microsoft"


def _gemm_is_plain_linear(node):
    """Gemm as torch exports nn.Linear: A (M, K), B (N, K) with transB, alpha = beta = 1, no transA."""
    a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
    return a.get("transB", 0) == 1 and a.get("transA", 0) == 0 and a.get("alpha", 1.0) == 1.0 and a.get("beta", 1.0) == 1.0


def weight_matmuls(graph):
    """(node index, initializer, transposed) for each MatMul (B (K, N)) or Linear-like Gemm (B (N, K)) whose
    weight is a 2-D f32 initializer read by it alone."""
    inits = {i.name: i for i in graph.initializer}
    uses = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    out = []
    for k, node in enumerate(graph.node):
        gemm = node.op_type == "Gemm" and _gemm_is_plain_linear(node)
        if not (node.op_type == "MatMul" or gemm) or node.input[1] not in inits or uses[node.input[1]] != 1:
            continue
        init = inits[node.input[1]]
        if init.data_type == onnx.TensorProto.FLOAT and len(init.dims) == 2:
            out.append((k, init, gemm))
    return out


def q8(model):
    graph = model.graph
    for k, init, transposed in reversed(weight_matmuls(graph)):
        w = numpy_helper.to_array(init).astype(np.float32)            # (K, N), or (N, K) when transposed
        axis = 0 if transposed else 1                                 # the output channel
        scale = np.maximum(np.abs(w).max(axis=1 - axis), 1e-12) / 127.0
        shape = (-1, 1) if transposed else (1, -1)
        q = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
        name = init.name
        graph.initializer.remove(init)
        graph.initializer.extend([numpy_helper.from_array(q, name + "_quantized"),
                                  numpy_helper.from_array(scale.astype(np.float32), name + "_scale"),
                                  numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), name + "_zero_point")])
        deq = helper.make_node("DequantizeLinear", [name + "_quantized", name + "_scale", name + "_zero_point"], [name],
                               name=name + "_DequantizeLinear", axis=axis)
        graph.node.insert(k, deq)
    return model


def pack_q4(w):
    """(K, N) f32 -> MatMulNBits' B (N, K/32, 16) uint8, scales (N * K/32,) f32; K padded to a block."""
    k, n = w.shape
    blocks = -(-k // BLOCK)
    padded = np.zeros((blocks * BLOCK, n), np.float32)
    padded[:k] = w
    wt = padded.T.reshape(n, blocks, BLOCK)                           # per column, blocks along K
    scale = np.abs(wt).max(axis=2) / 7.0
    scale = np.where(scale == 0, 1.0, scale)
    q = (np.clip(np.rint(wt / scale[..., None]), -8, 7) + 8).astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)    # low nibble first
    return packed, scale.reshape(-1).astype(np.float32)


def q4(model):
    graph = model.graph
    found = weight_matmuls(graph)
    for k, init, transposed in reversed(found):
        node = graph.node[k]
        w = numpy_helper.to_array(init).astype(np.float32)
        w = w.T if transposed else w                                  # (K, N)
        packed, scale = pack_q4(w)
        name = init.name
        graph.initializer.remove(init)
        graph.initializer.extend([numpy_helper.from_array(packed, name + "_Q4"),
                                  numpy_helper.from_array(scale, name + "_scales")])
        out = node.output[0] + "_nobias" if transposed and len(node.input) > 2 else node.output[0]
        new = [helper.make_node("MatMulNBits", [node.input[0], name + "_Q4", name + "_scales"], [out],
                                name=node.name + "_Q4", domain=MS_DOMAIN, K=w.shape[0], N=w.shape[1], bits=4,
                                block_size=BLOCK)]
        if out != node.output[0]:                                     # Gemm's bias, added after
            new.append(helper.make_node("Add", [out, node.input[2]], [node.output[0]], name=node.name + "_bias"))
        graph.node.remove(node)
        for j, n in enumerate(new):
            graph.node.insert(k + j, n)
    if found and not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return model


def write_quantized(folder):
    """x_quantized.onnx (q8) and x_q4.onnx beside each fp32 x.onnx of folder; returns the paths written."""
    written = []
    for name in sorted(os.listdir(folder)):
        base, ext = os.path.splitext(name)
        if ext != ".onnx" or base.endswith(("_quantized", "_q4", "_fp16", "_q4f16")):
            continue
        for suffix, rewrite in (("_quantized", q8), ("_q4", q4)):
            model = rewrite(onnx.load(os.path.join(folder, name)))
            if suffix == "_quantized":
                onnx.checker.check_model(model)     # the checker does not know com.microsoft's contrib ops
            path = os.path.join(folder, base + suffix + ".onnx")
            onnx.save(model, path)
            written.append(path)
    return written


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    for path in write_quantized(sys.argv[1]):
        print(f"{os.path.getsize(path):>9}  {path}")


if __name__ == "__main__":
    main()
