/**
 * Writes a one-node ONNX model (ModelProto protobuf) so a single op can be run
 * by onnxruntime-web on the same shapes as our kernels. Only the handful of
 * protobuf fields a one-node graph needs are encoded.
 */

const enum Wire {
  Varint = 0,
  Bytes = 2,
}

class ProtoWriter {
  private readonly bytes: number[] = [];

  private varint(v: number): void {
    let x = v;
    while (x > 0x7f) {
      this.bytes.push((x & 0x7f) | 0x80);
      x = Math.floor(x / 128);
    }
    this.bytes.push(x);
  }

  private tag(field: number, wire: Wire): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, v: number): this {
    this.tag(field, Wire.Varint);
    this.varint(v);
    return this;
  }

  raw(field: number, data: Uint8Array): this {
    this.tag(field, Wire.Bytes);
    this.varint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }

  str(field: number, s: string): this {
    return this.raw(field, new TextEncoder().encode(s));
  }

  msg(field: number, inner: ProtoWriter): this {
    return this.raw(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** ONNX TensorProto.DataType values we use. */
export const OnnxType = { float: 1, int32: 6, int64: 7 } as const;
export type OnnxTypeName = keyof typeof OnnxType;

export interface OnnxValue {
  name: string;
  type: OnnxTypeName;
  shape: readonly number[];
}

export interface OnnxInitializer extends OnnxValue {
  data: Float32Array;
}

export interface OneNodeGraph {
  opType: string;
  /** '' for the default ONNX domain, 'com.microsoft' for contrib ops. */
  domain?: string;
  inputs: readonly OnnxValue[];
  /** Constant inputs stored in the model (weights), uploaded once by the session. */
  initializers?: readonly OnnxInitializer[];
  outputs: readonly OnnxValue[];
  /** Integer attributes. */
  attributes?: Record<string, number>;
  /** The order of the node's inputs by name; defaults to inputs then initializers. Empty name = absent optional input. */
  nodeInputs?: readonly string[];
  opset?: number;
}

function valueInfo(v: OnnxValue): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) shape.msg(1, new ProtoWriter().int(1, d));
  const tensorType = new ProtoWriter().int(1, OnnxType[v.type]).msg(2, shape);
  return new ProtoWriter().str(1, v.name).msg(2, new ProtoWriter().msg(1, tensorType));
}

function initializer(t: OnnxInitializer): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.shape) w.int(1, d);
  w.int(2, OnnxType[t.type]);
  w.str(8, t.name);
  w.raw(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return w;
}

export function buildOneNodeModel(g: OneNodeGraph): Uint8Array {
  const node = new ProtoWriter();
  const inputNames = g.nodeInputs ?? [...g.inputs.map((i) => i.name), ...(g.initializers ?? []).map((i) => i.name)];
  for (const name of inputNames) node.str(1, name);
  for (const o of g.outputs) node.str(2, o.name);
  node.str(3, `${g.opType}_0`).str(4, g.opType);
  for (const [name, value] of Object.entries(g.attributes ?? {})) {
    // AttributeProto: name = 1, i = 3, type = 20 (INT = 2).
    node.msg(5, new ProtoWriter().str(1, name).int(3, value).int(20, 2));
  }
  if (g.domain) node.str(7, g.domain);
  const graph = new ProtoWriter().msg(1, node).str(2, `${g.opType}_graph`);
  for (const t of g.initializers ?? []) graph.msg(5, initializer(t));
  for (const i of g.inputs) graph.msg(11, valueInfo(i));
  for (const o of g.outputs) graph.msg(12, valueInfo(o));
  const model = new ProtoWriter().int(1, 8).str(2, 'webvlm-bench');
  model.msg(8, new ProtoWriter().str(1, '').int(2, g.opset ?? 17));
  if (g.domain) model.msg(8, new ProtoWriter().str(1, g.domain).int(2, 1));
  return model.msg(7, graph).finish();
}
