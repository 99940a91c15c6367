// npm run finetune:demo [-- --focus 800 --mix 0.3 --steps 150 --batch 8 --lr 1e-3 --rank 16 --targets q_proj,k_proj,v_proj,o_proj
//                          --projector --concept 100 --standard 200 --json FILE --peft DIR]
// LoRA in the browser, start to end, through the app's worker (window.vlm) in headless Chromium:
// the bundled model is asked 100 fresh questions about the held-out concept (the star, purple)
// and the standard vqa and pope questions; an adapter is trained on generated `focus` data
// (scenes that each hold a star or a purple object; only records that name the concept,
// plus a share of ordinary ones); then the same questions are asked with the adapter applied.
// Prints before/after scores, steps, minutes and tokens/s; --peft writes the adapter as PEFT
// files so `npm run eval:tiny -- --adapter DIR` scores it with the PyTorch reference.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { integer, readArgs } from './lib/args.mjs';
import { withAppPage } from './lib/browser-page.mjs';

const usage = 'usage: npm run finetune:demo [-- --focus N --mix F --steps N --batch N --lr F --rank N --targets LIST --projector --concept N --standard N --json FILE --peft DIR]';
const { values: args } = readArgs(usage, {
  focus: { type: 'string', default: '800' },
  mix: { type: 'string', default: '0.3' },
  steps: { type: 'string', default: '150' },
  batch: { type: 'string', default: '8' },
  lr: { type: 'string', default: '1e-3' },
  rank: { type: 'string', default: '16' },
  targets: { type: 'string', default: 'q_proj,k_proj,v_proj,o_proj' },
  projector: { type: 'boolean', default: false },
  concept: { type: 'string', default: '100' },
  standard: { type: 'string', default: '200' },
  seed: { type: 'string', default: '0' },
  json: { type: 'string' },
  peft: { type: 'string' },
});

const plan = {
  focus: integer('focus', args.focus, 10),
  mix: Number(args.mix),
  steps: integer('steps', args.steps, 1),
  batch: integer('batch', args.batch, 1),
  lr: Number(args.lr),
  rank: integer('rank', args.rank, 1),
  targets: args.targets.split(','),
  projector: args.projector,
  concept: integer('concept', args.concept, 1),
  standard: integer('standard', args.standard, 1),
  seed: integer('seed', args.seed, 0),
};
if (!(plan.mix >= 0 && plan.mix <= 1)) throw new Error(`--mix must be in 0..1, got ${args.mix}`);
if (!(plan.lr > 0)) throw new Error(`--lr must be positive, got ${args.lr}`);

const CONCEPT_TASKS = ['vqa-colour', 'vqa-shape', 'vqa-count', 'pope-random'];
const STANDARD_TASKS = ['vqa-colour', 'vqa-shape', 'vqa-count', 'vqa-position', 'pope-random', 'pope-popular', 'pope-adversarial'];
const TRAIN_TASKS = ['vqa-colour', 'vqa-shape', 'vqa-count', 'vqa-position', 'pope-random', 'pope-popular', 'pope-adversarial', 'describe'];

const log = (...a) => console.log(new Date().toISOString().slice(11, 19), ...a);

const result = await withAppPage('/', async (page) => {
  await page.waitForFunction(() => window.vlm !== undefined, null, { timeout: 60_000 });
  page.setDefaultTimeout(0);
  const call = (fn, arg) => page.evaluate(fn, arg);

  log('loading webvlm-tiny (native)');
  await call(() => window.vlm.loadModel('webvlm-tiny', { engine: 'native' }));

  const score = async (label) => {
    const concept = await call((p) => window.vlm.evalQuestions({ seed: 8501, count: p.concept, tasks: p.tasks, concept: true }), { concept: plan.concept, tasks: CONCEPT_TASKS });
    const standard = await call((p) => window.vlm.evalQuestions({ seed: 8502, count: p.standard, tasks: p.tasks }), { standard: plan.standard, tasks: STANDARD_TASKS });
    const out = { concept: concept.accuracy, standard: standard.accuracy, conceptTasks: concept.scores, standardTasks: standard.scores, answers: concept.results.map((r) => ({ id: r.id, answer: r.answer })) };
    log(`${label}: concept ${out.concept.toFixed(3)} (${plan.concept} questions), standard ${out.standard.toFixed(3)} (${plan.standard})`);
    return out;
  };
  const before = await score('before');

  log(`generating ${plan.focus} focus records and the ordinary mix`);
  const dataset = await call(async (p) => {
    const each = (n, tasks) => Object.fromEntries(tasks.map((t) => [t, Math.ceil(n / tasks.length)]));
    const focus = await window.vlm.finetuneGenerate({ counts: each(p.focus, p.tasks), heldOut: 'focus', seed: 8500 });
    const words = /\b(stars?|purple)\b/;
    const concept = focus.records.filter((r) => r.conversations.some((c) => words.test(c.value.toLowerCase())));
    const nMix = Math.round(concept.length * p.mix);
    const ordinary = nMix > 0 ? await window.vlm.finetuneGenerate({ counts: each(nMix, p.tasks), heldOut: 'exclude', seed: 8503 }) : { records: [], images: [] };
    // The two sets name their images alike: keep them apart by folder.
    const moved = (set, dir) => ({
      records: set.records.map((r) => ({ ...r, image: Array.isArray(r.image) ? r.image.map((i) => `${dir}/${i}`) : `${dir}/${r.image}` })),
      images: set.images.map((i) => ({ ...i, path: `${dir}/${i.path}` })),
    });
    const a = moved({ records: concept, images: focus.images }, 'focus');
    const b = moved(ordinary, 'ordinary');
    const used = new Set([...a.records, ...b.records].flatMap((r) => (Array.isArray(r.image) ? r.image : [r.image])));
    return { name: 'held-out concept', records: [...a.records, ...b.records], images: [...a.images, ...b.images].filter((i) => used.has(i.path)) };
  }, { focus: plan.focus, tasks: TRAIN_TASKS, mix: plan.mix });
  log(`training data: ${dataset.records.length} records, ${dataset.images.length} images`);

  const settings = {
    rank: plan.rank, alpha: plan.rank * 2, dropout: 0.05, targetModules: plan.targets, trainProjector: plan.projector, learningRate: plan.lr,
    warmupSteps: 10, schedule: 'cosine', steps: plan.steps, epochs: 1, batchSize: plan.batch, gradAccumulation: 1, maxSeqLength: 256,
    weightDecay: 0, maxGradNorm: 1, seed: plan.seed, validationFraction: 0.05, validateEvery: 50, checkpointEvery: 50,
  };
  // Started without waiting in the page; its events collected there and read from here every few seconds.
  await call((p) => {
    const ft = { events: [], done: null, error: null, t0: performance.now(), ms: 0 };
    window.finetuneDemo = ft;
    window.vlm.finetuneStart(p.dataset, p.settings, window.vlmProxy((e) => ft.events.push(e))).then(
      (info) => { ft.done = info; ft.ms = performance.now() - ft.t0; },
      (err) => { ft.error = String(err?.message ?? err); },
    );
  }, { dataset, settings });
  let state;
  for (;;) {
    await new Promise((r) => setTimeout(r, 15_000));
    state = await call(() => {
      const ft = window.finetuneDemo;
      const steps = ft.events.filter((e) => e.kind === 'step');
      return { done: ft.done, error: ft.error, ms: ft.ms, last: steps.at(-1) ?? null, tokens: steps.reduce((s, e) => s + (e.tokensPerSecond * e.stepMs) / 1000, 0), stepMs: steps.reduce((s, e) => s + e.stepMs, 0) };
    });
    if (state.error) throw new Error(`training failed: ${state.error}`);
    if (state.last) log(`step ${state.last.step}/${state.last.totalSteps} loss ${state.last.loss.toFixed(4)} ${state.last.tokensPerSecond.toFixed(0)} tok/s, ETA ${(state.last.etaMs / 60000).toFixed(1)} min`);
    if (state.done) break;
  }
  const run = { info: state.done, ms: state.ms, tokensPerSecond: state.stepMs > 0 ? (state.tokens * 1000) / state.stepMs : 0 };
  log(`run ${run.info.state} at step ${run.info.step}/${run.info.totalSteps} in ${(run.ms / 60000).toFixed(1)} min, ${run.tokensPerSecond.toFixed(0)} tokens/s${run.info.message ? `: ${run.info.message}` : ''}`);

  await call(() => window.vlm.adapterApply(true));
  const after = await score('after');
  const peft = await call(async () => {
    const f = await window.vlm.adapterExport();
    return { adapterConfig: f.adapterConfig, safetensors: Array.from(f.safetensors) };
  });
  return { before, after, run, peft, records: dataset.records.length };
}, { port: 5320 });

const curve = result.run.info.curve;
const summary = {
  plan,
  records: result.records,
  steps: result.run.info.step,
  state: result.run.info.state,
  minutes: Number((result.run.ms / 60000).toFixed(2)),
  tokensPerSecond: Number(result.run.tokensPerSecond.toFixed(1)),
  firstLoss: curve[0]?.loss ?? null,
  lastLoss: curve.at(-1)?.loss ?? null,
  validation: result.run.info.validation,
  before: { concept: result.before.concept, standard: result.before.standard },
  after: { concept: result.after.concept, standard: result.after.standard },
  standardDropPoints: Number(((result.before.standard - result.after.standard) * 100).toFixed(2)),
  conceptAnswers: result.after.answers,
  curve,
};
console.log(JSON.stringify({ ...summary, curve: undefined, conceptAnswers: undefined, validation: undefined }, null, 2));
if (args.json) {
  writeFileSync(args.json, `${JSON.stringify(summary, null, 2)}\n`);
  log(`wrote ${args.json}`);
}
if (args.peft) {
  mkdirSync(args.peft, { recursive: true });
  writeFileSync(join(args.peft, 'adapter_config.json'), result.peft.adapterConfig);
  writeFileSync(join(args.peft, 'adapter_model.safetensors'), Buffer.from(result.peft.safetensors));
  log(`wrote PEFT files to ${args.peft}`);
}
