import { playwright } from '@vitest/browser-playwright';
import { configDefaults, defineConfig } from 'vitest/config';
import type { BrowserCommand } from 'vitest/node';
import {
  BROWSER_REQUIRED_MESSAGE,
  BROWSER_SKIPPED_MESSAGE,
  CHROMIUM_ARGS,
  browserRequired,
  chromiumPath,
} from './test/browser/chromium.js';
import { runNodeBattery } from './test/browser/node-battery.js';

// Two projects:
// - node: Files named *.node.test.ts may use Node built-ins; every other test file is kept free of
//   them so that the browser project can include it unchanged.
// - browser: the same files (all but *.node.test.ts) in headless Debian Chromium through vitest's
//   browser mode and playwright, plus the browser-only test/browser/*.browser.test.ts.
//   It needs /usr/bin/chromium (or EF_CHROMIUM=/path); without it the project is left out with a
//   message saying so. EF_REQUIRE_BROWSER=1 (set by .ci/run) turns that into a failure.

const chromium = chromiumPath();
if (!chromium) {
  if (browserRequired()) throw new Error(BROWSER_REQUIRED_MESSAGE);
  console.warn(`\n⚠ ${BROWSER_SKIPPED_MESSAGE}\n`);
}

/** Browser command (runs in Node): the identical-results battery computed by Node. */
const nodeBattery: BrowserCommand<[library: 'src' | 'dist']> = (_ctx, library) => runNodeBattery(library);

/** Test files that do not run in the browser project, each with the reason. */
const browserExclusions: Record<string, string> = {
  // none today: every file other than *.node.test.ts runs in Chromium too
};

const shared = {
  // big factorisations (d = 513, d = 2048) on a noisy 2-core machine
  testTimeout: 120_000,
  hookTimeout: 60_000,
};

/** Without Chromium, say so again after the summary, where it is seen. */
const skippedNotice = {
  onTestRunEnd() {
    console.warn(`\n⚠ ${BROWSER_SKIPPED_MESSAGE}\n`);
  },
};

export default defineConfig({
  test: {
    reporters: chromium ? ['default'] : ['default', skippedNotice],
    // one worker per core in total across the projects
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          // browser-only tests (crossOriginIsolated, the Node-vs-Chromium battery) run in the browser project
          exclude: [...configDefaults.exclude, 'test/**/*.browser.test.ts'],
          ...shared,
          // one worker per core; each file gets a fresh module graph (and so a fresh wasm instance)
          pool: 'forks',
          maxWorkers: 2,
          isolate: true,
        },
      },
      ...(chromium
        ? [
            {
              test: {
                name: 'browser',
                include: ['test/**/*.test.ts'],
                exclude: [...configDefaults.exclude, 'test/**/*.node.test.ts', ...Object.keys(browserExclusions)],
                ...shared,
                // each file in its own iframe: a fresh module graph and wasm instance, as in Node
                isolate: true,
                // one page at a time: the node project already uses both cores
                fileParallelism: false,
                browser: {
                  enabled: true,
                  headless: true,
                  provider: playwright({
                    launchOptions: { executablePath: chromium, args: CHROMIUM_ARGS },
                  }),
                  instances: [{ browser: 'chromium' as const }],
                  commands: { nodeBattery },
                  screenshotFailures: false,
                },
              },
            },
          ]
        : []),
    ],
  },
});
