/**
 * The built package in a real browser, loaded the two ways users load it:
 * - a plain page: `<script type="module">` with nothing but an import map naming the package
 *   (`"empirical-fisher": "/pkg/dist/index.js"`), and a module Web Worker importing the same file;
 * - a Vite production build of a tiny app that imports 'empirical-fisher' from node_modules (a
 *   copy of package.json and dist/, as `npm install` would leave it), page and worker.
 * Each page and worker runs init() and the identical-results battery (test/browser/battery.ts)
 * against dist/index.js; the hashes must equal those Node computes with the same dist/index.js.
 *
 * Node-only (node:http, node:fs, playwright). Served from 127.0.0.1 on a free port, no COOP/COEP
 * headers, so nothing here is cross-origin isolated. Needs Chromium: skipped (with a message)
 * without it, a failure when EF_REQUIRE_BROWSER is set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { chromium, type Browser } from 'playwright';
import { build as viteBuild } from 'vite';
import { serveStatic } from '../scripts/static-server.mjs';
import { BROWSER_REQUIRED_MESSAGE, BROWSER_SKIPPED_MESSAGE, CHROMIUM_ARGS, browserRequired, chromiumPath } from './browser/chromium.js';
import { runNodeBattery } from './browser/node-battery.js';
import type { BatteryResult } from './browser/battery.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'build', 'web-loading');
const executablePath = chromiumPath();

interface PageReport {
  ok: boolean;
  error?: string;
  isolated: boolean;
  simd: boolean;
  solve: number[];
  battery: BatteryResult;
}

/** What each page and worker does: init(), a check of features, one solve, the battery. */
const PROBE = `
export async function probe(ef, runBattery) {
  try {
    await ef.init();
    await ef.init(); // idempotent
    const solve = Array.from(ef.linalg.solveSPD(new Float64Array([4, 2, 2, 5]), 2, new Float64Array([6, 7])));
    return { ok: true, isolated: globalThis.crossOriginIsolated, simd: ef.features().simd, solve, battery: runBattery(ef) };
  } catch (err) {
    return { ok: false, error: String(err && err.stack || err) };
  }
}
/** Resolves with the report the worker w posts. */
export function inWorker(w) {
  return new Promise((resolve) => {
    w.onmessage = (e) => { resolve(e.data); w.terminate(); };
    w.onerror = (e) => resolve({ ok: false, error: 'worker error: ' + e.message });
  });
}
`;

/** Writes battery.js (the battery as a plain ES module, no imports) and probe.js into `dir`. */
async function writeHelpers(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await esbuild({
    entryPoints: [join(root, 'test', 'browser', 'battery.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: join(dir, 'battery.js'),
    logLevel: 'warning',
  });
  writeFileSync(join(dir, 'probe.js'), PROBE);
}

const expectedReport = (report: PageReport, node: BatteryResult) => {
  expect(report.error).toBeUndefined();
  expect(report.ok).toBe(true);
  expect(report.isolated).toBe(false);
  expect(report.simd).toBe(true);
  expect(report.solve).toEqual([1, 1]);
  const differ = Object.keys(node).filter((k) => report.battery[k] !== node[k]);
  expect(differ, `battery results that differ from Node's: ${differ.join(', ')}`).toEqual([]);
  expect(Object.keys(report.battery).sort()).toEqual(Object.keys(node).sort());
};

describe.skipIf(!executablePath)('the built package in Chromium', () => {
  let browser: Browser;
  let node: BatteryResult;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    rmSync(work, { recursive: true, force: true });
    [browser, node] = await Promise.all([
      chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true }),
      runNodeBattery('dist'),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens `url` in a fresh context and returns what the page stored in window.__report. */
  async function open(url: string): Promise<{ page: PageReport; worker: PageReport }> {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(`${url}: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') pageErrors.push(`${url}: console.error ${m.text()}`);
      });
      await page.goto(url);
      await page.waitForFunction(() => (window as { __report?: unknown }).__report !== undefined, undefined, {
        timeout: 60_000,
      });
      return (await page.evaluate(() => (window as { __report?: unknown }).__report)) as {
        page: PageReport;
        worker: PageReport;
      };
    } finally {
      await context.close();
    }
  }

  it('a plain <script type="module"> with an import map, and a module Web Worker', async () => {
    const dir = join(work, 'importmap');
    await writeHelpers(dir);
    writeFileSync(
      join(dir, 'index.html'),
      `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>import map</title>
<script type="importmap">{ "imports": { "empirical-fisher": "/pkg/dist/index.js" } }</script>
</head><body>
<script type="module">
  import * as ef from 'empirical-fisher';
  import { runBattery } from './battery.js';
  import { probe, inWorker } from './probe.js';
  const page = await probe(ef, runBattery);
  const worker = await inWorker(new Worker('./worker.js', { type: 'module' }));
  window.__report = { page, worker };
</script>
</body></html>
`,
    );
    // import maps do not apply inside workers: the worker names the file itself
    writeFileSync(
      join(dir, 'worker.js'),
      `import * as ef from '/pkg/dist/index.js';
import { runBattery } from './battery.js';
import { probe } from './probe.js';
postMessage(await probe(ef, runBattery));
`,
    );
    const server = await serveStatic({ '/': dir, '/pkg/dist/': join(root, 'dist') });
    try {
      const report = await open(server.url);
      expectedReport(report.page, node);
      expectedReport(report.worker, node);
    } finally {
      await server.close();
    }
    expect(pageErrors).toEqual([]);
  });

  it('a Vite production build importing the installed package, page and worker', async () => {
    const app = join(work, 'vite-app');
    await writeHelpers(join(app, 'src'));
    // the package as npm would install it: package.json and its "files"
    const pkg = join(app, 'node_modules', 'empirical-fisher');
    mkdirSync(pkg, { recursive: true });
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'vite-app', private: true, type: 'module' }));
    writeFileSync(
      join(app, 'index.html'),
      `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>vite app</title></head>
<body><script type="module" src="/src/main.js"></script></body></html>
`,
    );
    writeFileSync(
      join(app, 'src', 'main.js'),
      `import * as ef from 'empirical-fisher';
import { runBattery } from './battery.js';
import { probe, inWorker } from './probe.js';
const page = await probe(ef, runBattery);
// the pattern Vite recognises and bundles as a worker entry
const worker = await inWorker(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
window.__report = { page, worker };
`,
    );
    writeFileSync(
      join(app, 'src', 'worker.js'),
      `import * as ef from 'empirical-fisher';
import { runBattery } from './battery.js';
import { probe } from './probe.js';
postMessage(await probe(ef, runBattery));
`,
    );
    const outDir = join(app, 'out');
    await viteBuild({
      root: app,
      configFile: false,
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true, target: 'es2022', minify: true },
      worker: { format: 'es' },
    });
    const server = await serveStatic({ '/': outDir });
    try {
      const report = await open(server.url);
      expectedReport(report.page, node);
      expectedReport(report.worker, node);
    } finally {
      await server.close();
    }
    expect(pageErrors).toEqual([]);
  });
});

describe.runIf(!executablePath)('without Chromium', () => {
  it(browserRequired() ? 'FAILS: EF_REQUIRE_BROWSER is set' : 'is skipped (see the message)', () => {
    console.warn(BROWSER_SKIPPED_MESSAGE);
    expect(browserRequired(), BROWSER_REQUIRED_MESSAGE).toBe(false);
  });
});
