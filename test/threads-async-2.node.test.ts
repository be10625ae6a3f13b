/**
 * The async methods of EmpiricalFisher and the optimizer on 2 threads against the synchronous calls,
 * bit for bit (test/threads-async.ts). Its own file: each file has a fresh engine.
 */
import os from 'node:os';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { features, init } from '../src/index.js';
import { asyncBattery } from './threads-async.js';

beforeAll(async () => {
  vi.spyOn(os, 'availableParallelism').mockReturnValue(Math.max(2, os.availableParallelism()));
  await init({ threads: 2 });
});

describe('2 threads', () => {
  it('init runs 2 threads', () => {
    expect(features().threads).toBe(2);
    expect(features().threadsUnavailable).toBeUndefined();
  });

  it('updateAsync, preconditionAsync, updateLayersAsync, stepAsync, stepLayersAsync equal the synchronous calls bit for bit', async () => {
    const r = await asyncBattery();
    expect(r.differ).toEqual([]);
    expect(r.checked).toBeGreaterThan(300);
    expect(r.runs, 'the async calls ran operations on the threads').toBeGreaterThan(100);
  }, 300_000);
});
