/**
 * The one step that joins WGSL text. A WGSL module cannot import another, so
 * code that several kernels share (workgroup reductions, the ranking order,
 * attention's bindings, the matmul epilogue) lives in preludes/, and a spec
 * builds its module here from its own file plus the preludes it names. The
 * join is fixed (directives, the kernel's file, then the preludes in the
 * order given), so one spec always yields the same text: the runtime caches
 * modules by text and pipelines by key.
 *
 * WGSL resolves module-scope names in any order, so a prelude may use names
 * the kernel's file declares (its workgroup size, its Params, an alias); each
 * prelude's header says what it expects.
 */
import attentionCommon from './preludes/attention-common.wgsl?raw';
import binaryOperands from './preludes/binary-operands.wgsl?raw';
import matmulEpilogue from './preludes/matmul-epilogue.wgsl?raw';
import ranking from './preludes/ranking.wgsl?raw';
import reductions from './preludes/reductions.wgsl?raw';
import rowNorm from './preludes/row-norm.wgsl?raw';

const PRELUDES = {
  'attention-common': attentionCommon,
  'binary-operands': binaryOperands,
  'matmul-epilogue': matmulEpilogue,
  ranking,
  reductions,
  'row-norm': rowNorm,
} as const;

export type PreludeName = keyof typeof PRELUDES;

export interface WgslModuleOptions {
  /**
   * Declares `alias elem` for the module's storage element type; 'f16' also
   * enables the extension, so such a module must only reach a device with
   * the shader-f16 feature.
   */
  elem?: 'f32' | 'f16';
  /**
   * `alias welem` for a matmul's weight operand W when it differs from elem
   * (f16 weights read by an f32 kernel); defaults to elem. 'f16' enables the
   * extension as well.
   */
  weights?: 'f32' | 'f16';
  preludes?: readonly PreludeName[];
}

/** The module text of a kernel: `body` is its .wgsl file, joined with what `options` asks for. */
export function wgslModule(options: WgslModuleOptions, body: string): string {
  const directives = options.elem === 'f16' || options.weights === 'f16' ? ['enable f16;'] : [];
  const aliases = options.elem ? [`alias elem = ${options.elem};`, `alias welem = ${options.weights ?? options.elem};`] : [];
  const preludes = (options.preludes ?? []).map((name) => PRELUDES[name]);
  return [...directives, ...aliases, body, ...preludes].join('\n');
}

/** Every prelude's text, for the house-style tests. */
export const preludeSources: Readonly<Record<PreludeName, string>> = PRELUDES;
