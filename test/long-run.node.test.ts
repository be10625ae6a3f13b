// The long run of scripts/long-run.mjs with a reduced count (the script runs 10,000 steps).
import { describe, expect, it } from 'vitest';
import * as ef from '../src/index.js';
// @ts-expect-error: a plain .mjs script without declarations
import { longRun } from '../scripts/long-run.mjs';

describe('long run (reduced)', () => {
  it('1,000 optimizer steps per representation: memory flat, parameters finite, loss decreasing', () => {
    const rows = longRun(ef, 1000) as { config: string; ok: boolean; problem: string }[];
    expect(rows.filter((r) => !r.ok).map((r) => `${r.config}: ${r.problem}`)).toEqual([]);
    expect(rows.length).toBe(6);
  });
});
