/**
 * The host calibration of `npm run bench -- --threads k` (bench/host.ts): k independent
 * one-thread factorisations side by side against one alone, the ceiling of the speed-ups the
 * report prints next to it.
 */
import { describe, expect, it } from 'vitest';
import { calibrateHost, formatHost } from '../bench/host.js';

describe('bench: host calibration', () => {
  it('runs one worker alone, then all at once, and reports their rates and ratios', async () => {
    const h = await calibrateHost(2, { d: 96, ms: 15, rounds: 3 });
    expect(h).toMatchObject({ threads: 2, d: 96, ms: 15 });
    expect(h.rounds).toHaveLength(3);
    for (const r of h.rounds) {
      expect(r.together).toHaveLength(2);
      for (const x of [r.alone, ...r.together]) {
        expect(Number.isFinite(x)).toBe(true);
        expect(x).toBeGreaterThan(0.01); // GFLOP/s: a factorisation of d = 96 ran at least once
      }
    }
    for (let i = 0; i < 3; i++) expect(h.ratios[i]).toBeCloseTo((h.rounds[i].together[0] + h.rounds[i].together[1]) / h.rounds[i].alone, 12);
    expect(h.ratio).toBe([...h.ratios].sort((a, b) => a - b)[1]);
    expect(formatHost(h, 'before')).toMatch(/^host before: 2 independent one-thread factorisations side by side \(d = 96 f32, 15 ms each\) ran \d+\.\d\d× one alone/);
  });
});
