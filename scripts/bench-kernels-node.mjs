// npm run bench:kernels:node [-- --json FILE] [--filter TEXT] [--set all|quick|smolvlm]
// Our kernels only, in Node through Dawn; set VK_ICD_FILENAMES to choose the
// Vulkan driver (defaults to Chromium's SwiftShader when unset).
import { writeFileSync } from 'node:fs';
import { createServer } from 'vite';
import { oneOf, readArgs } from './lib/args.mjs';

const { values: args } = readArgs('usage: npm run bench:kernels:node [-- --json FILE] [--filter TEXT] [--set all|quick|smolvlm]', {
  json: { type: 'string' },
  filter: { type: 'string', default: '' },
  set: { type: 'string', default: 'all' },
});
const set = oneOf('set', args.set, ['all', 'quick', 'smolvlm']);

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
const server = await createServer({ server: { middlewareMode: true, hmr: false }, appType: 'custom', logLevel: 'error' });
try {
  const { runNodeBench } = await server.ssrLoadModule('/src/bench/node-bench.ts');
  const { adapter, rows } = await runNodeBench(args.filter, set);
  console.log(`adapter: ${adapter}`);
  for (const r of rows) console.log(`${r.op.padEnd(10)} ${r.shape.padEnd(40)} ${r.oursMs.toFixed(2).padStart(9)} ms ${r.gflops.toFixed(3).padStart(8)} GFLOP/s`);
  if (args.json) writeFileSync(args.json, `${JSON.stringify({ adapter, rows }, null, 2)}\n`);
} finally {
  await server.close();
}
