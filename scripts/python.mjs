// Runs a tools/train Python entry point with Debian's interpreter (python3-torch is
// installed for it, not for a pyenv python3 that may come first on PATH).
// Usage: node scripts/python.mjs tools/train/eval.py [args...]; PYTHON overrides the interpreter.
import { spawnSync } from 'node:child_process';

const python = process.env.PYTHON ?? '/usr/bin/python3';
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/python.mjs <script.py> [args...]');
  process.exit(2);
}
const probe = spawnSync(python, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore' });
if (probe.status !== 0) {
  console.error(
    `${python} cannot import torch, onnx and numpy. On Debian:\n` +
      '  apt-get install --no-install-recommends python3-torch python3-onnx python3-numpy libopenblas0-pthread\n' +
      'or set PYTHON to an interpreter that has them.',
  );
  process.exit(2);
}
const run = spawnSync(python, [entry, ...args], { stdio: 'inherit' });
process.exit(run.status ?? 1);
