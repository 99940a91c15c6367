// npm run test:f16: the f16 kernel tests on Mesa lavapipe, which has shader-f16
// (SwiftShader, the default Node adapter, does not). Fetches lavapipe into
// .cache/lavapipe on first use.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const dest = resolve('.cache/lavapipe');
const icd = `${dest}/lvp_icd.json`;
if (!existsSync(icd)) {
  const got = spawnSync('bash', ['scripts/lavapipe.sh', dest], { stdio: 'inherit' });
  if (got.status !== 0) {
    console.error('Could not fetch Mesa lavapipe from Debian bookworm-backports; the f16 kernels were not tested.');
    process.exit(1);
  }
}
const env = {
  ...process.env,
  VK_ICD_FILENAMES: icd,
  LD_LIBRARY_PATH: [`${dest}/root/usr/lib/x86_64-linux-gnu`, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
  REQUIRE_F16: '1',
};
const run = spawnSync('npx', ['vitest', 'run', 'test/webgpu/matmul-f16.test.ts', 'test/models/smolvlm-f16.test.ts', 'test/models/llava-f16.test.ts'], { stdio: 'inherit', env });
process.exit(run.status ?? 1);
