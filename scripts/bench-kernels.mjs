// npm run bench:kernels [-- --json FILE] [--filter TEXT] [--quick | --set all|quick|smolvlm] [--repeat N] [--port P]
// Runs bench.html's kernel suite (the runner the app's Benchmark view uses) in headless Chromium: our WGSL kernels and onnxruntime-web's
// WebGPU provider on the same shapes, same device, same page. --set smolvlm runs the rows at SmolVLM's real shapes (minutes on a
// software adapter). --repeat N runs the suite N times, a fresh page each, and prints each row's median ratio over the rounds.
import { writeFileSync } from 'node:fs';
import { integer, oneOf, readArgs } from './lib/args.mjs';
import { runBenchPage } from './lib/browser-page.mjs';

const usage = 'usage: npm run bench:kernels [-- --json FILE] [--filter TEXT] [--quick | --set all|quick|smolvlm] [--repeat N] [--port P]';
const { values: args } = readArgs(usage, {
  json: { type: 'string' },
  filter: { type: 'string', default: '' },
  quick: { type: 'boolean', default: false },
  set: { type: 'string' },
  repeat: { type: 'string', default: '1' },
  port: { type: 'string', default: '5310' },
});
const set = oneOf('set', args.set ?? (args.quick ? 'quick' : 'all'), ['all', 'quick', 'smolvlm']);
const repeat = integer('repeat', args.repeat, 1);
const port = integer('port', args.port, 1);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const rounds = [];
for (let i = 0; i < repeat; i++) {
  const result = await runBenchPage({ suite: 'kernels', filter: args.filter, set }, { port });
  if (i === 0) console.log(`adapter: ${result.result.adapter}`);
  if (repeat > 1) console.log(`round ${i + 1} of ${repeat}`);
  console.log(result.table);
  rounds.push(result);
}
if (repeat > 1) {
  console.log(`median over ${repeat} rounds (ours ms, ORT ms, ORT/ours per round):`);
  for (const [j, row] of rounds[0].result.rows.entries()) {
    const rs = rounds.map((r) => r.result.rows[j]);
    const ratios = rs.map((r) => r.ratio);
    const name = `${row.op} ${row.shape}`.padEnd(48);
    console.log(`${name} ${median(rs.map((r) => r.oursMs)).toFixed(1).padStart(9)} ${median(rs.map((r) => r.ortMs)).toFixed(1).padStart(9)}  ${median(ratios).toFixed(2)}x  [${ratios.map((x) => x.toFixed(2)).join(', ')}]`);
  }
}
if (args.json) {
  // The page's own JSON text (the last round's): byte for byte what the app's Benchmark view downloads.
  writeFileSync(args.json, rounds[rounds.length - 1].json);
  console.log(`wrote ${args.json}`);
}
