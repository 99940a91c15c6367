/**
 * The layer rules of DESIGN.md, checked on every `npm run lint` (and so in
 * CI): arrows point down only (ui -> worker client -> engine -> models ->
 * webgpu), and nothing imports in a circle.
 */

/** Pure modules the page may import directly. Each is data or a pure function with no worker state. */
const PAGE_MAY_IMPORT = [
  // The page's own code.
  '^src/ui/',
  // The page's handle on the worker: startEngine, the error type it rethrows, and the formatters it re-exports.
  '^src/worker/client[.]ts$',
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A cycle works only by hoisting and makes the load order matter; declare the shared piece once in the lower module instead.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'ui-only-through-the-client',
      severity: 'error',
      comment:
        'The page talks to the engine only through the worker client (Comlink) and the API types; anything else it imported would be bundled into the page and run beside the UI instead of in the worker.',
      from: { path: '^src/ui/' },
      to: {
        path: '^src/',
        pathNot: [...PAGE_MAY_IMPORT, '^src/worker/api[.]ts$'],
      },
    },
    {
      name: 'ui-api-types-only',
      severity: 'error',
      comment: 'api.ts is the contract: the page takes its types, never its values (those live in the worker).',
      from: { path: '^src/ui/' },
      to: { path: '^src/worker/api[.]ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'webgpu-is-the-bottom',
      severity: 'error',
      comment: 'src/webgpu (device, tensors, kernels) knows nothing of the models, the worker, the page, the data generator or documents.',
      from: { path: '^src/webgpu/' },
      to: { path: '^src/(models|worker|ui|data|documents)/' },
    },
    {
      name: 'models-below-the-worker',
      severity: 'error',
      comment: 'Models run in Node tests and in any worker: they never reach up into the worker or the page.',
      from: { path: '^src/models/' },
      to: { path: '^src/(worker|ui)/' },
    },
    {
      name: 'worker-below-the-page',
      severity: 'error',
      comment: 'The worker has no DOM and no page state: it never imports the UI.',
      from: { path: '^src/worker/' },
      to: { path: '^src/ui/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports form cycles and cross layers as surely as value imports do.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Resolve as Vite does: `exports` subpaths (onnxruntime-web/webgpu) by their browser entries;
    // `./kernel.wgsl?raw` resolves to the .wgsl file itself (the query is Vite's).
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'], exportsFields: ['exports'], conditionNames: ['import', 'browser', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
