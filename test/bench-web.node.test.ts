/**
 * End to end: the bench page (`npm run bench:web`) in headless Debian Chromium, and the same core
 * from `npm run bench -- --core --json`. Builds the page, serves it with the COOP/COEP headers of
 * scripts/bench-web.mjs on a free port, opens `?quick` (the reduced case list) and waits for
 * window.benchResults. Checks: every GFLOP/s finite and positive, every fraction of peak in
 * (0, 1.1] and equal to GFLOP/s ÷ peak, the page cross-origin isolated and its threaded rows run on
 * two threads, the JSON of the page (and of the "copy as JSON" text) parses to the same rows, and
 * the Node bench writes rows of the same shape. Saves a screenshot to demo-output/bench-web.png.
 *
 * Node-only (node:http, playwright). Skipped without Chromium (a failure with EF_REQUIRE_BROWSER).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright';
import { buildBenchWeb, serveBenchWeb } from '../scripts/bench-web.mjs';
import type { StaticServer } from '../scripts/static-server.mjs';
import { median, type BenchResults, type BenchRow } from '../bench/core.js';
import { BROWSER_REQUIRED_MESSAGE, BROWSER_SKIPPED_MESSAGE, CHROMIUM_ARGS, browserRequired, chromiumPath } from './browser/chromium.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const executablePath = chromiumPath();

const ROW_KEYS = ['name', 'op', 'precision', 'd', 'n', 'nrhs', 'threads', 'flops', 'gflops', 'bestGflops', 'meanMs', 'medianMs', 'samples', 'peakGflops', 'fractionOfPeak'].sort();
const TOP_KEYS = ['schema', 'meta', 'settings', 'peak', 'rows', 'sink'];

/** The checks every row of either runtime must pass. */
function checkRows(rows: BenchRow[], where: string): void {
  expect(rows.length, where).toBeGreaterThan(0);
  for (const r of rows) {
    const at = `${where}: ${r.name}`;
    expect(Object.keys(r).sort(), at).toEqual(ROW_KEYS);
    for (const k of ['gflops', 'bestGflops', 'peakGflops', 'meanMs', 'medianMs', 'flops'] as const) {
      expect(Number.isFinite(r[k]) && r[k] > 0, `${at}: ${k} = ${r[k]}`).toBe(true);
    }
    expect(r.bestGflops, at).toBeGreaterThanOrEqual(r.gflops);
    expect(r.fractionOfPeak, at).toBeGreaterThan(0);
    expect(r.fractionOfPeak, `${at}: ${r.bestGflops} GFLOP/s at best against a peak of ${r.peakGflops}`).toBeLessThanOrEqual(1.1);
    expect(r.fractionOfPeak, at).toBeCloseTo(r.bestGflops / r.peakGflops, 12);
    expect(r.samples, at).toBeGreaterThanOrEqual(3);
  }
}

describe.skipIf(!executablePath)('the bench page', () => {
  let browser: Browser;
  let server: StaticServer;

  beforeAll(async () => {
    await buildBenchWeb();
    [browser, server] = await Promise.all([
      chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true }),
      serveBenchWeb({ port: 0 }),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('?quick runs the reduced case list on one and two threads, with fractions of peak in (0, 1.1]', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    });
    await page.goto(`${server.url}?quick`);
    await page.waitForFunction(
      () => {
        const w = window as unknown as { benchResults?: unknown; benchState?: { error?: string } };
        return w.benchResults !== undefined || w.benchState?.error !== undefined;
      },
      undefined,
      { timeout: 110_000, polling: 250 },
    );
    const got = await page.evaluate(() => {
      const w = window as unknown as { benchResults?: unknown; benchState: { error?: string; done: number; total: number } };
      return {
        json: JSON.stringify(w.benchResults),
        state: w.benchState,
        isolated: window.crossOriginIsolated,
        cores: navigator.hardwareConcurrency,
        copied: (document.getElementById('json') as HTMLTextAreaElement).value,
        tableRows: document.querySelectorAll('#table tbody tr').length,
        polylines: document.querySelectorAll('#charts svg polyline').length,
        progress: (document.getElementById('progress') as HTMLProgressElement).value,
      };
    });
    mkdirSync(join(root, 'demo-output'), { recursive: true });
    await page.screenshot({ path: join(root, 'demo-output', 'bench-web.png'), fullPage: true });
    await page.close();

    expect(got.state.error).toBeUndefined();
    expect(problems).toEqual([]);
    const results = JSON.parse(got.json) as BenchResults;
    expect(Object.keys(results).sort()).toEqual([...TOP_KEYS].sort());
    expect(results.schema).toBe('empirical-fisher-bench/1');
    expect(results.settings.quick).toBe(true);
    checkRows(results.rows, 'Chromium');
    // the text behind "copy as JSON" is the same results
    expect(JSON.parse(got.copied)).toEqual(results);
    expect(got.tableRows).toBe(results.rows.length);
    expect(got.progress).toBe(results.rows.length);
    expect(got.state).toMatchObject({ done: results.rows.length, total: results.rows.length });
    // every op, both precisions, the quick sizes
    expect([...new Set(results.rows.map((r) => r.op))].sort()).toEqual(['cholesky', 'eigh', 'fisher', 'gemm', 'solve', 'step', 'syrk']);
    expect([...new Set(results.rows.map((r) => r.precision))].sort()).toEqual(['f32', 'f64']);
    expect([...new Set(results.rows.map((r) => r.d))].sort((a, b) => a - b)).toEqual([64, 256]);
    // threads: served with COOP/COEP, the page is isolated; with two cores it runs two threads
    expect(got.isolated).toBe(true);
    expect(results.meta.crossOriginIsolated).toBe(true);
    const threaded = results.rows.filter((r) => r.threads === 2);
    if (got.cores >= 2) {
      expect((results.meta.features as { threads: number }).threads).toBe(2);
      expect(threaded.map((r) => r.op).sort()).toEqual(['cholesky', 'cholesky', 'cholesky', 'cholesky', 'eigh', 'eigh', 'eigh', 'eigh', 'syrk', 'syrk', 'syrk', 'syrk']);
      // the two-thread peak is measured on two threads: its median round beats the one-thread median
      const med = (t: number) => median(results.peak.rounds.filter((r) => r.threads === t && r.precision === 'f32').map((r) => r.gflops));
      expect(med(2)).toBeGreaterThan(med(1));
    } else {
      expect(threaded).toEqual([]);
    }
    // a chart line per (op, threads) and precision, in each of the two metrics
    expect(got.polylines).toBe(2 * new Set(results.rows.map((r) => `${r.op} ${r.threads} ${r.precision}`)).size);
    console.log(
      'bench page (Chromium, quick): %s',
      results.rows.filter((r) => r.d === 256).map((r) => `${r.name} ${r.gflops.toFixed(1)} (${r.fractionOfPeak.toFixed(2)})`).join(', '),
    );
  });

  it('npm run bench -- --core --json writes rows of the same shape (Node)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ef-bench-'));
    try {
      const file = join(dir, 'bench.json');
      execFileSync(process.execPath, [join(root, 'bench', 'run.mjs'), '--core', '--quick', '--filter', '^(syrk|gemm) d=64 f32', '--json', file], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 100_000,
      });
      const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults & { cases: unknown[] };
      for (const k of TOP_KEYS) expect(results, k).toHaveProperty(k);
      expect(results.schema).toBe('empirical-fisher-bench/1');
      checkRows(results.rows, 'Node');
      // the filter selected the rows
      expect(results.rows.map((r) => r.name).sort()).toEqual(
        (results.meta.features as { threads: number }).threads >= 2
          ? ['gemm d=64 f32 t=1', 'syrk d=64 f32 t=1', 'syrk d=64 f32 t=2']
          : ['gemm d=64 f32 t=1', 'syrk d=64 f32 t=1'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(!executablePath)('the bench page without Chromium', () => {
  it(browserRequired() ? 'FAILS: EF_REQUIRE_BROWSER is set' : 'is skipped (see the message)', () => {
    console.warn(BROWSER_SKIPPED_MESSAGE);
    expect(browserRequired(), BROWSER_REQUIRED_MESSAGE).toBe(false);
  });
});
