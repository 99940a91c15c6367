// npm run bench:model [-- --json FILE] [--runs N] [--model ID|FOLDER [--layers N] [--tjs-device webgpu|wasm]]
// Every engine (native, onnx, transformers) on the bundled model (the runner the app's Benchmark view uses) in headless Chromium through the app's worker:
// encode ms, time to first token, decode tokens/s, GPU memory, native/onnx and native/transformers ratios.
// --model HuggingFaceTB/SmolVLM-256M-Instruct writes a random-weight checkpoint at that repo's exact config
// (tools/families/smolvlm_real_size.py, under .cache/hub/, once per depth) and serves it from a local hub on
// 127.0.0.1 under the repo's id, so both engines load it through the weight cache as a user's download:
// native vs transformers side by side, with load seconds and encode ms per 512 x 512 tile. --layers N keeps
// N layers of each tower (same per-layer shapes) so a software adapter finishes in minutes; the JSON says so.
// --model FOLDER serves a folder in the hub's layout (its real_size.json, or --repo, names the repo).
// --profile instead times the native engine per kernel on that checkpoint, in Node through Dawn (no browser):
// GPU timestamps of every pass, grouped into encode, prefill and decode (src/bench/model-profile.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createServer, runnerImport } from 'vite';
import { integer, oneOf, readArgs } from './lib/args.mjs';
import { runBenchPage } from './lib/browser-page.mjs';

const USAGE = 'usage: npm run bench:model [-- --json FILE] [--runs N] [--model ID|FOLDER [--repo ID] [--layers N] [--tjs-device webgpu|wasm] [--profile]] [--port N]';
const { values: args } = readArgs(USAGE, {
  json: { type: 'string' },
  runs: { type: 'string', default: '5' },
  model: { type: 'string' },
  repo: { type: 'string' },
  layers: { type: 'string' },
  'tjs-device': { type: 'string' },
  port: { type: 'string', default: '5310' },
  profile: { type: 'boolean', default: false },
});
const runs = integer('runs', args.runs, 1);
const port = integer('port', args.port, 1);
/** The repos the real-size tool can stand in for. */
const GENERATED = new Set(['HuggingFaceTB/SmolVLM-256M-Instruct']);

/** The folder holding `repo` at `layers` depth, written by the tool unless it is already there at that depth. */
function generatedCheckpoint(repo, layers) {
  const out = join('.cache', 'hub', `${repo.replace('/', '-')}${layers === null ? '' : `-layers${layers}`}`);
  const infoPath = join(out, 'real_size.json');
  const info = existsSync(infoPath) ? JSON.parse(readFileSync(infoPath, 'utf8')) : null;
  const want = (real) => (layers === null ? real : Math.min(layers, real));
  const ready = info && ['vision', 'text'].every((t) => info.layers[t] === want(info.real_layers[t])) && existsSync(join(out, 'onnx', 'decoder_model_merged.onnx'));
  if (!ready) {
    console.error(`writing ${repo} at its real config with random weights to ${out}...`);
    const tool = ['scripts/python.mjs', 'tools/families/smolvlm_real_size.py', '--out', out, ...(layers === null ? [] : ['--layers', String(layers)])];
    const run = spawnSync(process.execPath, tool, { stdio: 'inherit' });
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
  return out;
}

/** The folder to serve and the repo id the app loads it as. */
function checkpoint(model) {
  const layers = args.layers === undefined ? null : integer('layers', args.layers, 1);
  if (existsSync(model) && statSync(model).isDirectory()) {
    if (layers !== null) console.error('--layers cuts a checkpoint the tool writes; a folder is served as it is');
    const infoPath = join(model, 'real_size.json');
    const repo = args.repo ?? (existsSync(infoPath) ? JSON.parse(readFileSync(infoPath, 'utf8')).stands_in_for : undefined);
    if (!repo) {
      console.error(`${model} has no real_size.json: name the hub repo it holds with --repo org/name`);
      process.exit(2);
    }
    return { folder: resolve(model), repo };
  }
  if (!GENERATED.has(model)) {
    console.error(`--model must be a folder in the hub's layout or one of ${[...GENERATED].join(', ')} (written with random weights), not ${model}`);
    process.exit(2);
  }
  return { folder: resolve(generatedCheckpoint(model, layers)), repo: model };
}

async function runHub(model) {
  const { folder, repo } = checkpoint(model);
  const { module } = await runnerImport(resolve('test/helpers/hub-server.ts'), { configFile: false, logLevel: 'error' });
  const hub = await module.startHubServer(folder, repo);
  console.error(`serving ${basename(folder)} as ${repo} from ${hub.url}`);
  try {
    const device = args['tjs-device'] === undefined ? {} : { tjsDevice: oneOf('tjs-device', args['tjs-device'], ['webgpu', 'wasm']) };
    return await runBenchPage({ suite: 'model', runs: String(runs), model: repo, hub: hub.url, ...device }, { port });
  } finally {
    await hub.close();
  }
}

/** Per-kernel times of the native engine on the checkpoint, in Node (VK_ICD_FILENAMES picks the Vulkan driver; Chromium's SwiftShader when unset). */
async function profile(model) {
  const { folder } = checkpoint(model);
  process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
  const server = await createServer({ server: { middlewareMode: true, hmr: false }, appType: 'custom', logLevel: 'error' });
  try {
    const { profileSmolVlm, formatProfile } = await server.ssrLoadModule('/src/bench/model-profile.ts');
    const result = await profileSmolVlm(folder);
    console.log(formatProfile(result));
    if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await server.close();
  }
}

if (args.profile) {
  if (args.model === undefined) {
    console.error('--profile needs --model');
    process.exit(2);
  }
  await profile(args.model);
  process.exit(0);
}

const result = args.model === undefined ? await runBenchPage({ suite: 'model', runs: String(runs) }, { port }) : await runHub(args.model);
console.log(result.table);
const jsonPath = args.json;
if (jsonPath) {
  // The page's own JSON text: byte for byte what the app's Benchmark view downloads.
  writeFileSync(jsonPath, result.json);
  console.log(`wrote ${jsonPath}`);
}
