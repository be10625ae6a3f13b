/**
 * The MNIST demo in its quick mode (a small subset): the three tasks run every optimizer of their
 * list, each run reduces its training loss, the time to target follows its definition from the
 * recorded curves, and each task's plot and JSON are written with the expected series.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUICK, runDemo, type DemoResult } from '../examples/mnist/run.js';
import { TASKS } from '../examples/mnist/runs.js';
import { conditioningMap } from '../examples/mnist/conditioning.js';
import { init, linalg } from '../src/index.js';

describe('MNIST demo --quick', () => {
  let dir: string;
  let result: DemoResult;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ef-demo-'));
    result = runDemo({ ...QUICK, outDir: dir });
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every problem of every task with each of its optimizers once, and each reduces the training loss', () => {
    expect(result.tasks.map((t) => t.task)).toEqual(['classification', 'conditioned', 'autoencoder']);
    for (const t of result.tasks) {
      const expected = TASKS[t.task].problems.flatMap((p) => TASKS[t.task].optimizers.map((o) => `${p}/${o}`));
      expect(t.runs.map((r) => `${r.problem}/${r.optimizer}`)).toEqual(expected);
    }
    // the raw-pixel logistic runs are shared by the classification and conditioned tasks
    const raw = result.tasks[1].runs.filter((r) => r.problem === 'logistic');
    expect(raw.length).toBe(TASKS.conditioned.optimizers.length);
    for (const r of raw) expect(result.tasks[0].runs).toContain(r);
    expect(result.runs.length).toBe(new Set(result.tasks.flatMap((t) => t.runs)).size);
    for (const r of result.runs) {
      const name = `${r.problem}/${r.optimizer}`;
      expect(r.diverged, name).toBe(false);
      const first = r.history[0].trainLoss;
      const last = r.history[r.history.length - 1].trainLoss;
      if (r.problem === 'autoencoder') expect(first, `${name}: ≈ 784 log 2 at the start`).toBeGreaterThan(300);
      else if (r.problem === 'mlp') expect(first, `${name}: about log 10 at the start (random weights)`).toBeGreaterThan(2);
      else expect(first, `${name}: log 10 at the start (zero weights)`).toBeCloseTo(Math.log(10), 5);
      // 'ekfac' on the autoencoder falls slowest (545 → 463 in the quick run's 24 steps)
      expect(last, name).toBeLessThan((r.problem === 'autoencoder' ? 0.9 : 0.8) * first);
      expect(r.finalTrainLoss).toBe(last);
      const settings = QUICK.settings[r.task as 'classification'];
      expect(r.steps).toBe(settings.epochs * Math.ceil(QUICK.train / QUICK.batch));
      expect(r.history.length).toBe(1 + settings.epochs * settings.evalsPerEpoch);
      expect(r.history[r.history.length - 1].epoch).toBe(settings.epochs);
      expect(r.stepsPerSecond).toBeGreaterThan(0);
    }
  });

  it('time to target: the first evaluation at or below the best first-order final loss, as a ratio to that method', () => {
    for (const problem of ['logistic', 'mlp', 'conditioned', 'autoencoder']) {
      const runs = result.runs.filter((r) => r.problem === problem);
      const baselines = runs.filter((r) => r.optimizer === 'sgd' || r.optimizer === 'adam');
      const best = baselines.reduce((a, b) => (b.finalTrainLoss < a.finalTrainLoss ? b : a));
      const bestTime = best.history.find((e) => e.trainLoss <= best.finalTrainLoss)!.time;
      expect(best.timeToTargetRatio, problem).toBe(1);
      for (const r of runs) {
        expect(r.target, `${problem}/${r.optimizer}`).toBe(best.finalTrainLoss);
        const hit = r.history.find((e) => e.trainLoss <= best.finalTrainLoss);
        expect(r.timeToTarget).toBe(hit?.time);
        if (hit) expect(r.timeToTargetRatio).toBeCloseTo(hit.time / bestTime, 12);
        else expect(r.timeToTargetRatio).toBeUndefined();
      }
    }
  });

  it('writes TASK.json per task with the evaluation points and the final figures of every run', () => {
    for (const t of result.tasks) {
      const json = JSON.parse(readFileSync(join(dir, `${t.task}.json`), 'utf8'));
      expect(json.task).toBe(t.task);
      expect(json.options).toMatchObject({ batch: QUICK.batch, train: QUICK.train, test: QUICK.test, quick: true, epochs: QUICK.settings[t.task].epochs });
      expect(json.runs).toHaveLength(t.runs.length);
      for (const r of json.runs) {
        expect(r.testAccuracy).toBeGreaterThan(0.5); // chance is 0.1 (digits), 0.5 (pixels on the right side of ½)
        expect(r.testAccuracy).toBeLessThanOrEqual(1);
        for (const key of ['finalTrainLoss', 'wallTime', 'stepsPerSecond', 'parameters', 'target']) expect(Number.isFinite(r[key]), key).toBe(true);
        const times = r.history.map((e: { time: number }) => e.time);
        expect(times[0]).toBe(0);
        for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]);
        for (const e of r.history) {
          for (const key of ['step', 'epoch', 'time', 'trainLoss', 'trainAccuracy', 'testLoss', 'testAccuracy']) expect(Number.isFinite(e[key])).toBe(true);
        }
      }
    }
  });

  it('writes TASK.svg per task: two panels, a line per run in each, a legend entry per run', () => {
    for (const t of result.tasks) {
      const svg = readFileSync(join(dir, `${t.task}.svg`), 'utf8');
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg).toContain('Training loss vs epoch');
      expect(svg).toContain('Training loss vs wall-clock time');
      const lines = svg.match(/<polyline points="([^"]*)"/g) ?? [];
      expect(lines).toHaveLength(2 * t.runs.length);
      for (let i = 0; i < lines.length; i++) expect(lines[i].split(' ').length - 1).toBe(t.runs[i % t.runs.length].history.length);
      expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    }
    // the conditioned plot: raw-pixel runs dashed beside the conditioned ones
    const svg = readFileSync(join(dir, 'conditioned.svg'), 'utf8');
    expect(svg.split('stroke-dasharray="3 3"><title>logistic ·').length - 1).toBe(2 * TASKS.conditioned.optimizers.length);
  });
});

describe('the conditioned task map T = Q D', () => {
  it('Q is orthogonal, D log-uniform over [1e-2, 1e2], the same bits from the same seed', async () => {
    await init();
    const d = 64;
    const a = conditioningMap(d, 7);
    const b = conditioningMap(d, 7);
    expect(Array.from(a.T)).toEqual(Array.from(b.T));
    expect(Array.from(conditioningMap(d, 8).T)).not.toEqual(Array.from(a.T));
    // TᵀT = D QᵀQ D = D²
    const TtT = linalg.gemm(a.T, a.T, d, d, d, { transA: true });
    let worst = 0;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const want = i === j ? a.scales[i] * a.scales[i] : 0;
        worst = Math.max(worst, Math.abs(TtT[i * d + j] - want) / (a.scales[i] * a.scales[j]));
      }
    }
    expect(worst).toBeLessThan(1e-12);
    const big = conditioningMap(784, 7).scales;
    let lo = Infinity;
    let hi = 0;
    const decades = [0, 0, 0, 0];
    for (const s of big) {
      lo = Math.min(lo, s);
      hi = Math.max(hi, s);
      decades[Math.min(3, Math.floor(Math.log10(s) + 2))]++;
    }
    expect(lo).toBeGreaterThanOrEqual(0.01);
    expect(hi).toBeLessThan(100);
    expect(hi / lo).toBeGreaterThan(5e3);
    // log-uniform: about 196 of 784 per decade
    for (const c of decades) expect(Math.abs(c - 196)).toBeLessThan(50);
  });
});
