// Stops the e2e run early, with one line saying what to do, when no Chromium is installed.
import { existsSync } from 'node:fs';

const candidates = process.env.CHROME_PATH
  ? [process.env.CHROME_PATH]
  : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
if (!candidates.some((p) => existsSync(p))) {
  console.error(
    `No Chromium found (looked at ${candidates.join(', ')}): install it with "sudo apt-get install -y chromium" or set CHROME_PATH to a Chromium/Chrome binary.`,
  );
  process.exit(1);
}
