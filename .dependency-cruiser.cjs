/**
 * The layer rules of DESIGN.md, checked on every `npm run lint` (and so in
 * CI): arrows point down only (ui -> worker client -> engine -> models ->
 * webgpu), and nothing imports in a circle.
 */

/** What the page may import besides the API's types. */
const PAGE_MAY_IMPORT = [
  // The page's own code.
  '^src/ui/',
  // The page's handle on the worker: startEngine, the error type it rethrows, and the pure formatters it re-exports.
  '^src/worker/client[.]ts$',
  // The one exception: the Benchmark view, imported lazily when its tab opens. It is a page-level tool that
  // times onnxruntime-web ops in the page itself against our kernels and drives the worker through the same
  // API, so it runs beside the UI by design; it shares its suite runners with bench.html and the scripts.
  '^src/bench/bench-view[.]ts$',
];

/** One rule: `from` may not import `to`. Every rule is an error, so lint (and CI) fails on it. */
const forbid = (name, comment, from, to) => ({ name, severity: 'error', comment, from, to });

module.exports = {
  forbidden: [
    forbid(
      'no-circular',
      'A cycle works only by hoisting and makes the load order matter; declare the shared piece once in the lower module instead.',
      { path: '^src/' },
      { circular: true },
    ),
    forbid(
      'ui-only-through-the-client',
      'The page talks to the engine only through the worker client (Comlink) and the API types; anything else it imported would be bundled into the page and run beside the UI instead of in the worker.',
      { path: '^src/ui/' },
      { path: '^src/', pathNot: [...PAGE_MAY_IMPORT, '^src/worker/api[.]ts$'] },
    ),
    forbid(
      'ui-api-types-only',
      'api.ts is the contract: the page takes its types, never its values (those live in the worker).',
      { path: '^src/ui/' },
      { path: '^src/worker/api[.]ts$', dependencyTypesNot: ['type-only'] },
    ),
    forbid(
      'webgpu-is-the-bottom',
      'src/webgpu (device, tensors, kernels) knows nothing of the models, the worker, the page, the data generator or documents.',
      { path: '^src/webgpu/' },
      { path: '^src/(models|worker|ui|data|documents)/' },
    ),
    forbid(
      'models-below-the-worker',
      'Models run in Node tests and in any worker: they never reach up into the worker or the page.',
      { path: '^src/models/' },
      { path: '^src/(worker|ui)/' },
    ),
    forbid(
      'bench-is-a-page-tool',
      'src/bench measures the engine from the page (and from bench.html); the engine, models and kernels never depend on their own benchmark.',
      { path: '^src/(worker|models|webgpu)/' },
      { path: '^src/bench/' },
    ),
    forbid(
      'eval-is-pure-scoring',
      'src/eval scores answers in Node tests, the worker and bench tools alike: it reads model output formats (src/models) and nothing that needs a worker, a page, a GPU or a benchmark.',
      { path: '^src/eval/' },
      { path: '^src/(worker|ui|bench|webgpu)/' },
    ),
    forbid('worker-below-the-page', 'The worker has no DOM and no page state: it never imports the UI.', { path: '^src/worker/' }, { path: '^src/ui/' }),
    forbid('not-to-unresolvable', 'An import that resolves to nothing is a typo or a missing dependency.', {}, { couldNotResolve: true }),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports form cycles and cross layers as surely as value imports do.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Resolve as Vite does: `exports` subpaths (onnxruntime-web/webgpu) by their browser entries;
    // `./kernel.wgsl?raw` resolves to the .wgsl file itself (the query is Vite's).
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'], exportsFields: ['exports'], conditionNames: ['import', 'browser', 'default'] },
  },
};
