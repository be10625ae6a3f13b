/**
 * Threads in a real browser: a page served with COOP/COEP headers (so it is cross-origin isolated
 * and has SharedArrayBuffer) runs `init({ threads })` — Web Workers started from the bundled worker
 * source (a Blob URL), one shared WebAssembly.Memory — and compares linalg.syrkAsync /
 * choleskyAsync / solveSPDAsync with the one-thread calls, and the async methods of
 * EmpiricalFisher and the optimizer with their synchronous twins (test/threads-async.ts), bit for
 * bit, first on the page (whose thread may not block: linalg's calls run on the workers alone, the
 * Fisher's with the page's thread polling), then inside a module Worker of that page (which may
 * block: short calls run with that thread as thread 0). The same page under a strict Content
 * Security Policy (no 'unsafe-eval': no thread compiles source text), with four threads on a
 * page that pretends to have four cores (navigator.hardwareConcurrency redefined by the test page),
 * and a page without the headers, which must fall back to one thread. The vitest browser project
 * cannot do this (its page is not cross-origin isolated), hence a Node test that drives Chromium
 * with playwright, like web-loading.node.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { chromium, type Browser } from 'playwright';
import { serveStatic } from '../scripts/static-server.mjs';
import { BROWSER_REQUIRED_MESSAGE, BROWSER_SKIPPED_MESSAGE, CHROMIUM_ARGS, browserRequired, chromiumPath } from './browser/chromium.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'build', 'threads-web');
const executablePath = chromiumPath();

interface Report {
  ok: boolean;
  /** the same battery run inside a Worker of the page */
  worker?: Report;
  error?: string;
  isolated: boolean;
  threads: number;
  threadsUnavailable?: string;
  /** short calls run with the calling thread taking part (a Worker), not on a page's main thread */
  callerTakesPart: boolean;
  checked: number;
  differ: string[];
  /** the async methods of EmpiricalFisher and the optimizer against the synchronous ones */
  fisher?: { checked: number; differ: string[]; runs: number };
}

/** The battery: src/ bundled by esbuild, minFlops 0 so every size goes to the threads. */
const BATTERY_SOURCE = `
import { init, features, linalg } from '../../src/index.ts';
import { threadTuning } from '../../src/tuning.ts';
import { getEngine } from '../../src/engine.ts';
import { asyncBattery } from '../../test/threads-async.ts';

function rnd(P, len, seed) {
  const a = new P(len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 4294967296 - 0.4999; }
  return a;
}
function same(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

export async function battery(threads) {
  try {
    // a test of more threads than cores: the page pretends to have them (init caps threads there)
    if (threads > (navigator.hardwareConcurrency || 1)) Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => threads });
    await init({ threads });
    const saved = { ...threadTuning };
    threadTuning.minFlops = 0;
    threadTuning.minCholeskySeconds = 0;
    threadTuning.asleepSeconds = 0;
    const differ = [];
    let checked = 0;
    for (const P of [Float32Array, Float64Array]) {
      for (const d of [1, 5, 16, 17, 63, 64, 65, 97, 129, 200, 300]) {
        for (const n of [3, 40, 257]) {
          const G = rnd(P, n * d, d * 31 + n);
          const one = linalg.syrk(G, n, d, { alpha: 1 / n });
          const two = await linalg.syrkAsync(G, n, d, { alpha: 1 / n });
          checked++;
          if (!same(one, two)) differ.push('syrk ' + P.name + ' n=' + n + ' d=' + d);
        }
        const A = linalg.syrk(rnd(P, 40 * d, d), 40, d, { alpha: 1 / 40 });
        const one = linalg.cholesky(A, d, { shift: 0.5 });
        const two = await linalg.choleskyAsync(A, d, { shift: 0.5 });
        checked++;
        if (!same(one, two)) differ.push('cholesky ' + P.name + ' d=' + d);
        const B = rnd(P, 3 * d, 7);
        checked++;
        if (!same(linalg.solveSPD(A, d, B, { shift: 0.5 }), await linalg.solveSPDAsync(A, d, B, { shift: 0.5 }))) {
          differ.push('solveSPD ' + P.name + ' d=' + d);
        }
      }
    }
    Object.assign(threadTuning, saved);
    const fisher = await asyncBattery();
    const f = features();
    const callerTakesPart = getEngine().pool?.callerTakesPart ?? false;
    return { ok: true, isolated: crossOriginIsolated, threads: f.threads, threadsUnavailable: f.threadsUnavailable, callerTakesPart, checked, differ, fisher };
  } catch (err) {
    return { ok: false, error: String(err && err.stack || err) };
  }
}
`;

const PAGE_SOURCE = `
import { battery } from './battery.ts';
(async () => {
  const threads = Number(new URLSearchParams(location.search).get('threads') || 2);
  const report = await battery(threads);
  report.worker = await new Promise((resolve) => {
    const w = new Worker('worker.js?threads=' + threads, { type: 'module' });
    w.onmessage = (e) => resolve(e.data);
    w.onerror = (e) => resolve({ ok: false, error: 'worker: ' + e.message });
  });
  window.__report = report;
})();
`;

const WORKER_SOURCE = `
import { battery } from './battery.ts';
battery(Number(new URLSearchParams(location.search).get('threads') || 2)).then((report) => postMessage(report));
`;

describe.skipIf(!executablePath)('threads in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'battery.ts'), BATTERY_SOURCE);
    writeFileSync(join(work, 'page.ts'), PAGE_SOURCE);
    writeFileSync(join(work, 'worker.ts'), WORKER_SOURCE);
    for (const name of ['page', 'worker']) {
      await esbuild({
        entryPoints: [join(work, `${name}.ts`)],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        outfile: join(work, `${name}.js`),
        logLevel: 'warning',
      });
    }
    writeFileSync(join(work, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="page.js"></script>\n');
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function open(headers: Record<string, string>, query = ''): Promise<{ report: Report; errors: string[] }> {
    const server = await serveStatic({ '/': work }, { headers });
    const context = await browser.newContext();
    const errors: string[] = [];
    try {
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        // (the favicon's 404 aside)
        if (m.type() === 'error' && !m.text().includes('404')) errors.push(m.text());
      });
      await page.goto(server.url + query);
      await page.waitForFunction(() => (window as { __report?: unknown }).__report !== undefined, undefined, { timeout: 240_000 });
      const report = (await page.evaluate(() => (window as { __report?: unknown }).__report)) as Report;
      return { report, errors };
    } finally {
      await context.close();
      await server.close();
    }
  }

  const ISOLATED = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
  };
  /** What a page's CSP must allow for the threads (README, Threads): wasm compilation, and workers
   *  from blob: URLs. No 'unsafe-eval': no thread compiles source text. */
  const CSP = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:";

  function expectIdentical(report: Report, threads: number) {
    expect(report.error).toBeUndefined();
    expect(report.isolated).toBe(true);
    expect(report.threads).toBe(threads);
    expect(report.threadsUnavailable).toBeUndefined();
    expect(report.checked).toBe(2 * 11 * 5);
    expect(report.differ).toEqual([]);
    expect(report.fisher!.differ).toEqual([]);
    expect(report.fisher!.checked).toBeGreaterThan(300);
    expect(report.fisher!.runs, 'the Fisher\'s async calls ran on the threads').toBeGreaterThan(100);
  }

  for (const [name, headers, threads] of [
    ['a cross-origin-isolated page', ISOLATED, 2],
    [`the same page under the Content Security Policy "${CSP}"`, { ...ISOLATED, 'Content-Security-Policy': CSP }, 2],
    ['a page that pretends to have four cores, under the same policy, with four threads', { ...ISOLATED, 'Content-Security-Policy': CSP }, 4],
  ] as const) {
    it(`${name}: every threaded result equals the one-thread result bit for bit, on the page and in a Worker`, async () => {
      const { report, errors } = await open(headers, `?threads=${threads}`);
      expect(errors).toEqual([]);
      expectIdentical(report, threads);
      expect(report.callerTakesPart, 'a page may not block').toBe(false);
      // inside a Worker of the page: the short calls run with that thread taking part
      const w = report.worker!;
      expectIdentical(w, threads);
      expect(w.callerTakesPart, 'a Worker may block').toBe(true);
    }, 300_000);
  }

  it(`a policy without blob: workers: init({ threads }) falls back to one thread and says why (same results)`, async () => {
    const { report } = await open({ ...ISOLATED, 'Content-Security-Policy': "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'" });
    expect(report.error).toBeUndefined();
    expect(report.threads).toBe(1);
    expect(report.threadsUnavailable).toMatch(/starting the workers failed/);
    expect(report.differ).toEqual([]);
    expect(report.fisher!.differ).toEqual([]);
  }, 120_000);

  it(`a policy without 'wasm-unsafe-eval' refuses WebAssembly: init() rejects and says so`, async () => {
    const { report } = await open({ ...ISOLATED, 'Content-Security-Policy': "script-src 'self'; worker-src 'self' blob:" });
    expect(report.ok).toBe(false);
    expect(report.error).toMatch(/WebAssembly|wasm/i);
  }, 120_000);

  it('a page that is not cross-origin isolated falls back to one thread (same results)', async () => {
    const { report, errors } = await open({});
    expect(report.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(report.isolated).toBe(false);
    expect(report.threads).toBe(1);
    expect(report.threadsUnavailable).toMatch(/isolat/);
    expect(report.differ).toEqual([]);
    expect(report.worker!.threads).toBe(1);
    expect(report.worker!.differ).toEqual([]);
  });
});

describe.runIf(!executablePath)('without Chromium', () => {
  it(browserRequired() ? 'FAILS: EF_REQUIRE_BROWSER is set' : 'is skipped (see the message)', () => {
    console.warn(BROWSER_SKIPPED_MESSAGE);
    expect(browserRequired(), BROWSER_REQUIRED_MESSAGE).toBe(false);
  });
});
