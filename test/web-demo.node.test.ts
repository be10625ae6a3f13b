/**
 * End to end: the live demo page (`npm run demo:web`) in headless Chromium. Builds the demo (data
 * and bundles), serves demo/ from 127.0.0.1 on a free port, opens the page, starts training the
 * MNIST logistic regression with its default optimizers (the empirical Fisher in three
 * representations, SGD and Adam, at the sweep's settings), waits for some steps, and checks that
 * every optimizer's test loss fell, that the accuracy rose, that the time-to-target readout is
 * shown, and that the canvas was drawn (its pixels changed); then trains each other task (the MLP,
 * the conditioned features, the autoencoder) briefly and checks that every curve falls. Saves a
 * screenshot to demo-output/web.png.
 *
 * Node-only (node:http, playwright). Skipped without Chromium (a failure with EF_REQUIRE_BROWSER).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright';
import { buildDemo } from '../scripts/build-demo-web.mjs';
import { serveStatic, type StaticServer } from '../scripts/static-server.mjs';
import { BROWSER_REQUIRED_MESSAGE, BROWSER_SKIPPED_MESSAGE, CHROMIUM_ARGS, browserRequired, chromiumPath } from './browser/chromium.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const executablePath = chromiumPath();
const STEPS = 60;

interface DemoState {
  ready: boolean;
  running: boolean;
  step: number;
  errors: string[];
  tracks: Map<string, { evals: { x: number; loss: number; accuracy: number; ms: number }[]; error?: string }>;
  target: number | undefined;
  timeToTarget: Map<string, { ms: number; ratio: number } | undefined>;
}

/** FNV-1a of the canvas pixels (read in the page). */
async function canvasHash(page: Page): Promise<{ hash: number; inked: number }> {
  return page.evaluate(() => {
    const c = document.getElementById('chart') as HTMLCanvasElement;
    const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let h = 0x811c9dc5;
    let inked = 0; // pixels that are neither white nor grey: the coloured curves
    for (let i = 0; i < px.length; i += 4) {
      h = Math.imul(h ^ px[i] ^ (px[i + 1] << 8) ^ (px[i + 2] << 16), 0x01000193);
      const r = px[i];
      const g = px[i + 1];
      const b = px[i + 2];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) inked++;
    }
    return { hash: h >>> 0, inked };
  });
}

describe.skipIf(!executablePath)('the live demo page', () => {
  let browser: Browser;
  let server: StaticServer;

  beforeAll(async () => {
    await buildDemo({ quiet: true });
    [browser, server] = await Promise.all([
      chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true }),
      serveStatic({ '/': join(root, 'demo') }),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it(`trains the logistic regression live in a worker: losses fall, the canvas is drawn (${STEPS} steps)`, async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    });
    await page.goto(server.url);
    await page.waitForFunction(() => (window as unknown as { __demo: DemoState }).__demo.ready, undefined, { timeout: 60_000 });
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(false);
    const before = await canvasHash(page);

    // the default optimizers at the sweep's settings; the default batch (128); evaluate every 10 steps
    await page.selectOption('#model', 'logistic');
    expect(await page.inputValue('#batch')).toBe('128');
    await page.fill('#evalEvery', '10');
    await page.fill('#maxSteps', String(STEPS));
    await page.click('#start');
    await page.waitForFunction(
      (steps) => {
        const s = (window as unknown as { __demo: DemoState }).__demo;
        return (s.step >= steps && !s.running) || s.errors.length > 0;
      },
      STEPS,
      { timeout: 100_000, polling: 250 },
    );
    await page.waitForTimeout(300); // the last frame
    const after = await canvasHash(page);
    const result = await page.evaluate(() => {
      const s = (window as unknown as { __demo: DemoState }).__demo;
      return {
        step: s.step,
        errors: s.errors,
        tracks: [...s.tracks].map(([id, t]) => ({ id, evals: t.evals, error: t.error })),
        status: document.getElementById('status')!.textContent,
        target: s.target,
        timeToTarget: [...s.timeToTarget],
        readout: [...document.querySelectorAll('#stats td.ttt')].map((td) => td.textContent),
      };
    });
    mkdirSync(join(root, 'demo-output'), { recursive: true });
    await page.screenshot({ path: join(root, 'demo-output', 'web.png'), fullPage: true });
    await page.close();

    expect(result.errors).toEqual([]);
    expect(problems).toEqual([]);
    expect(result.step).toBe(STEPS);
    expect(result.tracks.map((t) => t.id).sort()).toEqual(['adam', 'ef', 'ekfac', 'kronecker', 'sgd']);
    // time to target: the best first-order run's latest test loss; that run reaches it at its last evaluation or before
    const latest = (id: string) => result.tracks.find((t) => t.id === id)!.evals.at(-1)!.loss;
    expect(result.target).toBe(Math.min(latest('sgd'), latest('adam')));
    const best = latest('sgd') <= latest('adam') ? 'sgd' : 'adam';
    expect(result.timeToTarget.find(([id]) => id === best)![1]!.ratio).toBe(1);
    for (const [id, tt] of result.timeToTarget) {
      const hit = result.tracks.find((t) => t.id === id)!.evals.find((e) => e.loss <= result.target!);
      expect(tt?.ms, id).toBe(hit?.ms);
    }
    expect(result.readout).toHaveLength(5);
    for (const text of result.readout) expect(text).toMatch(/^time to target (\d+\.\d\d s \(\d+\.\d\d×\)|not reached)$/);
    for (const t of result.tracks) {
      const first = t.evals[0];
      const last = t.evals[t.evals.length - 1];
      expect(first.x, t.id).toBe(0);
      expect(last.x, t.id).toBe(STEPS);
      expect(t.evals.length, t.id).toBe(STEPS / 10 + 1);
      // from zero weights: loss ln 10 ≈ 2.30 and 10 % accuracy (every logit equal, class 0 predicted)
      expect(first.loss, t.id).toBeCloseTo(Math.log(10), 5);
      expect(last.loss, `${t.id}: test loss ${first.loss} → ${last.loss}`).toBeLessThan(0.7 * first.loss);
      expect(last.accuracy, `${t.id}: test accuracy ${first.accuracy} → ${last.accuracy}`).toBeGreaterThan(0.6);
    }
    console.log(
      'demo after %d steps: %s',
      result.step,
      result.tracks
        .map((t) => {
          const l = t.evals[t.evals.length - 1];
          return `${t.id} loss ${t.evals[0].loss.toFixed(3)} → ${l.loss.toFixed(3)}, accuracy ${(l.accuracy * 100).toFixed(1)}%`;
        })
        .join('; '),
    );
    expect(after.hash).not.toBe(before.hash);
    expect(after.inked).toBeGreaterThan(before.inked + 500);
  });

  // the autoencoder 40 steps: 'ekfac' at its swept point rises before it falls (545 → 575 → 561 in 20)
  for (const [task, d, ids, steps] of [
    ['mlp', 25_450, ['adam', 'ef', 'ekfac', 'kronecker', 'sgd'], 20],
    ['conditioned', 7_850, ['adam', 'ef', 'ekfac', 'kronecker', 'sgd'], 20],
    ['autoencoder', 437_664, ['adam', 'ekfac', 'kronecker', 'sgd'], 40],
  ] as const) {
    it(`the ${task} task trains too: ${steps} steps at its defaults, every test loss falls`, async () => {
      const page = await browser.newPage();
      await page.goto(server.url);
      await page.waitForFunction(() => (window as unknown as { __demo: DemoState }).__demo.ready, undefined, { timeout: 60_000 });
      await page.selectOption('#model', task);
      await page.fill('#evalEvery', String(steps / 2));
      await page.fill('#maxSteps', String(steps));
      await page.click('#start');
      await page.waitForFunction(
        (n) => {
          const s = (window as unknown as { __demo: DemoState }).__demo;
          return (s.step >= n && !s.running) || s.errors.length > 0;
        },
        steps,
        { timeout: 200_000, polling: 250 },
      );
      const result = await page.evaluate(() => {
        const s = (window as unknown as { __demo: DemoState }).__demo;
        return {
          errors: s.errors,
          d: (s as unknown as { d: number }).d,
          tracks: [...s.tracks].map(([id, t]) => ({ id, evals: t.evals })),
          readout: [...document.querySelectorAll('#stats td.ttt')].map((td) => td.textContent),
        };
      });
      await page.close();
      expect(result.errors).toEqual([]);
      expect(result.d).toBe(d);
      expect(result.tracks.map((t) => t.id).sort()).toEqual([...ids]);
      for (const t of result.tracks) {
        expect(t.evals.map((e) => e.x), t.id).toEqual([0, steps / 2, steps]);
        expect(t.evals[2].loss, `${task}/${t.id}: ${t.evals.map((e) => e.loss.toFixed(3)).join(' → ')}`).toBeLessThan(t.evals[0].loss);
      }
      expect(result.readout).toHaveLength(ids.length);
      for (const text of result.readout) expect(text).toMatch(/^time to target (\d+\.\d\d s \(\d+\.\d\d×\)|not reached)$/);
    }, 240_000);
  }
});

describe.runIf(!executablePath)('the live demo page without Chromium', () => {
  it(browserRequired() ? 'FAILS: EF_REQUIRE_BROWSER is set' : 'is skipped (see the message)', () => {
    console.warn(BROWSER_SKIPPED_MESSAGE);
    expect(browserRequired(), BROWSER_REQUIRED_MESSAGE).toBe(false);
  });
});
