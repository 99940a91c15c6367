import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kernels } from '../../src/webgpu/kernels/registry';
import { preludeSources } from '../../src/webgpu/kernels/wgsl-module';

const KERNELS_DIR = 'src/webgpu/kernels';
const wgslFiles = readdirSync(KERNELS_DIR).filter((f) => f.endsWith('.wgsl'));
const specs = Object.values(kernels);

/** A kernel family's reference is named after its base file: matmul-grad, matmul-vec4 -> matmul, attention-tile -> attention. */
function family(file: string): string {
  return file.replace(/\.wgsl$/, '').replace(/-(backward|grad|bias-grad|vec4|quant|f16|tile)$/, '').replace(/-bias$/, '');
}

describe('kernel registry and house style', () => {
  it('every .wgsl file is served by a registered spec', () => {
    // A spec's module is its file joined with preludes, so the file is part of the module's text.
    const orphans = wgslFiles.filter((f) => !specs.some((s) => s.wgsl.includes(readFileSync(`${KERNELS_DIR}/${f}`, 'utf8'))));
    expect(orphans).toEqual([]);
  });

  it('every prelude opens with a comment and is joined into some registered spec', () => {
    const preludes = Object.entries(preludeSources);
    expect(preludes.filter(([, text]) => !text.startsWith('//')).map(([name]) => name)).toEqual([]);
    expect(preludes.filter(([, text]) => !specs.some((s) => s.wgsl.includes(text))).map(([name]) => name)).toEqual([]);
  });

  it('every .wgsl file opens with a comment saying what it computes', () => {
    const bare = wgslFiles.filter((f) => !readFileSync(`${KERNELS_DIR}/${f}`, 'utf8').startsWith('//'));
    expect(bare).toEqual([]);
  });

  it('every kernel family has a CPU reference and a test', () => {
    const missing = wgslFiles
      .map(family)
      .filter((f, i, all) => all.indexOf(f) === i)
      .filter((f) => !existsSync(`src/webgpu/reference/${f}.ts`) || !readdirSync('test/webgpu').some((t) => t.startsWith(f)));
    expect(missing).toEqual([]);
  });

  it('spec names are kebab-case', () => {
    for (const s of specs) expect(s.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });
});
