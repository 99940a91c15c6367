/**
 * Runs a one-node ONNX graph with onnxruntime-web's WebGPU execution provider,
 * inputs and outputs kept on the GPU so only the op itself is timed. ORT
 * creates its own device on the same adapter; input buffers live there.
 */
import type * as Ort from 'onnxruntime-web';
import { browserOrt } from '../models/onnx/ort-browser';
import { buildOneNodeModel, type OneNodeGraph } from './onnx-builder';


export interface OrtOp {
  run(): Promise<void>;
  /** Read the first output back (for checking ORT computes the same thing). */
  output(): Promise<Float32Array>;
  release(): Promise<void>;
}

export async function createOrtOp(graph: OneNodeGraph, data: Record<string, Float32Array | Int32Array>): Promise<OrtOp> {
  const ort = browserOrt();
  const session = await ort.InferenceSession.create(buildOneNodeModel(graph), {
    executionProviders: ['webgpu'],
    preferredOutputLocation: 'gpu-buffer',
  });
  const device = await ort.env.webgpu.device;
  const feeds: Record<string, Ort.Tensor> = {};
  const buffers: GPUBuffer[] = [];
  for (const input of graph.inputs) {
    const values = data[input.name];
    if (!values) throw new Error(`no data for ONNX input ${input.name}`);
    if (values instanceof Int32Array) {
      // Lengths and positions: ORT's WebGPU provider reads these on the CPU, as a decoder feeds them.
      feeds[input.name] = new ort.Tensor('int32', values, [...input.shape]);
      continue;
    }
    const buffer = device.createBuffer({
      label: `bench.ort.${input.name}`,
      size: Math.ceil(values.byteLength / 16) * 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
    buffers.push(buffer);
    feeds[input.name] = ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims: [...input.shape] });
  }
  let last: Ort.InferenceSession.OnnxValueMapType | null = null;
  const dispose = () => {
    for (const t of Object.values(last ?? {})) t.dispose();
    last = null;
  };
  return {
    async run() {
      dispose();
      last = await session.run(feeds);
      await device.queue.onSubmittedWorkDone();
    },
    async output() {
      const first = graph.outputs[0];
      const t = first && last ? last[first.name] : undefined;
      if (!t) throw new Error('run the op before reading its output');
      return (await t.getData()) as Float32Array;
    },
    async release() {
      dispose();
      await session.release();
      for (const b of buffers) b.destroy();
    },
  };
}
