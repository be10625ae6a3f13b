/**
 * Where the browser tests find Chromium, and what they say without it. Node-only (node:fs); used
 * by vitest.config.ts and the test/web-*.node.test.ts files. Never downloads a browser.
 */
import { existsSync } from 'node:fs';

/** Flags that work headless in containers and CI (no sandbox as root, no GPU, no network chatter). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // containers often have a 64 MB /dev/shm, too small for Chromium's shared memory: use /tmp
  '--disable-dev-shm-usage',
];

/** EF_CHROMIUM if set, else Debian's /usr/bin/chromium if present, else undefined. */
export function chromiumPath(): string | undefined {
  const env = process.env.EF_CHROMIUM;
  if (env) return existsSync(env) ? env : undefined;
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
}

/** EF_REQUIRE_BROWSER=1 (CI): a missing Chromium is a failure, not a skip. */
export function browserRequired(): boolean {
  const v = process.env.EF_REQUIRE_BROWSER;
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

const MISSING = 'Chromium was not found at /usr/bin/chromium (or $EF_CHROMIUM)';

export const BROWSER_SKIPPED_MESSAGE =
  `Browser suite SKIPPED: ${MISSING}. Only the Node suite runs. To run the tests in Chromium too: ` +
  '`sudo apt-get install chromium` (Debian/Ubuntu), or point EF_CHROMIUM at a Chromium binary.';

export const BROWSER_REQUIRED_MESSAGE =
  `EF_REQUIRE_BROWSER is set, but the browser suite cannot run: ${MISSING}. ` +
  'Install it (`apt-get install -y chromium`) or unset EF_REQUIRE_BROWSER to skip the browser suite.';
