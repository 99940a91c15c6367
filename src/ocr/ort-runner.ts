/**
 * Wraps an onnxruntime-web session as a TensorRunner. The ort module is passed
 * in, because the browser imports the WebGPU build and Node the wasm one, and
 * both share these types.
 */
import type * as Ort from 'onnxruntime-web';
import type { OcrModels, TensorRunner } from './ocr-pipeline';
import { parseCharset } from './charset';

type OrtModule = typeof Ort;

export interface OrtRunner extends TensorRunner {
  release(): Promise<void>;
}

export async function createOrtRunner(ort: OrtModule, model: Uint8Array, providers: readonly string[]): Promise<OrtRunner> {
  const session = await ort.InferenceSession.create(model, { executionProviders: [...providers], graphOptimizationLevel: 'all' });
  const input = session.inputNames[0];
  const output = session.outputNames[0];
  if (!input || !output) throw new Error('the OCR model has no input or output');
  return {
    async run(data, dims) {
      const feeds = { [input]: new ort.Tensor('float32', data, [...dims]) };
      const results = await session.run(feeds);
      const t = results[output];
      if (!t) throw new Error(`the OCR model gave no ${output}`);
      const out = { data: (await t.getData()) as Float32Array, dims: [...t.dims] };
      for (const v of Object.values(results)) v.dispose();
      return out;
    },
    release: () => session.release(),
  };
}

export interface OcrModelFiles {
  det: Uint8Array;
  rec: Uint8Array;
  /** The text angle classifier; optional, lines are then read as they stand. */
  cls?: Uint8Array;
  dictionary: string;
}

export interface LoadedOcrModels extends OcrModels {
  /** The execution provider list the sessions were created with. */
  providers: readonly string[];
  release(): Promise<void>;
}

export async function createOcrModels(ort: OrtModule, files: OcrModelFiles, providers: readonly string[]): Promise<LoadedOcrModels> {
  const det = await createOrtRunner(ort, files.det, providers);
  const rec = await createOrtRunner(ort, files.rec, providers);
  const cls = files.cls ? await createOrtRunner(ort, files.cls, providers) : undefined;
  return {
    det,
    rec,
    ...(cls ? { cls } : {}),
    charset: parseCharset(files.dictionary),
    providers,
    release: async () => {
      await det.release();
      await rec.release();
      await cls?.release();
    },
  };
}
