/**
 * The MNIST demo in its quick mode (a small subset): every optimizer reduces the training loss of
 * both models, and the plot and the JSON are written with the expected series.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUICK, runDemo, type DemoResult } from '../examples/mnist/run.js';

describe('MNIST demo --quick', () => {
  let dir: string;
  let result: DemoResult;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ef-demo-'));
    result = runDemo({ ...QUICK, outDir: dir });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains both models with SGD, Adam and the empirical Fisher, and each reduces the loss', () => {
    const pairs = result.runs.map((r) => `${r.model}/${r.optimizer}`);
    expect(pairs).toEqual([
      'logistic/sgd',
      'logistic/adam',
      'logistic/ef',
      'mlp-tanh/sgd',
      'mlp-tanh/adam',
      'mlp-tanh/ef',
    ]);
    for (const r of result.runs) {
      expect(r.diverged, `${r.model}/${r.optimizer}`).toBe(false);
      const first = r.epochs[0].trainLoss;
      const last = r.epochs[r.epochs.length - 1].trainLoss;
      expect(first, `${r.model}/${r.optimizer} initial loss ≈ log 10`).toBeGreaterThan(2);
      expect(last, `${r.model}/${r.optimizer}`).toBeLessThan(0.75 * first);
      expect(r.finalTrainLoss).toBe(last);
      expect(r.testAccuracy, `${r.model}/${r.optimizer}`).toBeGreaterThan(0.5); // chance is 0.1
      expect(r.steps).toBe(QUICK.epochs * Math.ceil(QUICK.train / QUICK.batch));
      expect(r.stepsPerSecond).toBeGreaterThan(0);
    }
  });

  it('writes mnist.json with per-epoch series and the final figures of every run', () => {
    const json = JSON.parse(readFileSync(join(dir, 'mnist.json'), 'utf8'));
    expect(json.options).toMatchObject({ epochs: QUICK.epochs, batch: QUICK.batch, train: QUICK.train, test: QUICK.test, quick: true });
    expect(json.runs).toHaveLength(6);
    for (const r of json.runs) {
      expect(typeof r.model).toBe('string');
      expect(['sgd', 'adam', 'ef']).toContain(r.optimizer);
      expect(r.testAccuracy).toBeGreaterThan(0);
      expect(r.testAccuracy).toBeLessThanOrEqual(1);
      for (const key of ['finalTrainLoss', 'wallTime', 'stepsPerSecond', 'parameters']) expect(Number.isFinite(r[key])).toBe(true);
      expect(r.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([0, 1, 2, 3]);
      for (const e of r.epochs) {
        for (const key of ['time', 'trainLoss', 'trainAccuracy', 'testLoss', 'testAccuracy']) expect(Number.isFinite(e[key])).toBe(true);
      }
      const times = r.epochs.map((e: { time: number }) => e.time);
      expect(times[0]).toBe(0);
      for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]);
    }
  });

  it('writes mnist.svg: two panels, a line per run in each, a legend entry per run', () => {
    const svg = readFileSync(join(dir, 'mnist.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Training loss vs epoch');
    expect(svg).toContain('Training loss vs wall-clock time');
    const lines = svg.match(/<polyline points="([^"]*)"/g) ?? [];
    expect(lines).toHaveLength(12);
    for (const l of lines) expect(l.split(' ').length - 1).toBe(QUICK.epochs + 1); // one point per epoch record
    for (const name of ['SGD', 'Adam', 'empirical Fisher']) expect(svg.split(`· ${name}</text>`).length - 1).toBe(2);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });
});
