/**
 * The worker is a typed module bundled at build time: src/worker.generated.ts must be the current
 * bundle of src/threads-worker-entry.ts (npm run build:worker), and no thread compiles source text
 * (no new Function, no eval) — the shipped bundles included.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKER_SOURCE } from '../src/worker.generated.js';
// @ts-expect-error: a plain .mjs script without declarations
import { workerSource } from '../scripts/build-worker.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('the worker module', () => {
  it('src/worker.generated.ts is the current bundle of the worker (run npm run build:worker)', async () => {
    expect(WORKER_SOURCE).toBe(await (workerSource as () => Promise<string>)());
  });

  it('imports nothing and compiles no source text; neither do the sources nor the bundles of the threads', () => {
    expect(WORKER_SOURCE).not.toMatch(/\bimport\s*\(|\brequire\s*\(|\bnew Function\b|\beval\s*\(/);
    const files = ['src/threads.ts', 'src/threads-worker.ts', 'src/threads-worker-entry.ts', 'src/engine.ts', 'dist/index.js', 'dist/index.cjs'];
    for (const f of files) {
      const p = join(root, f);
      if (!existsSync(p)) continue; // dist/ before a build
      const text = readFileSync(p, 'utf8');
      expect(/\bnew Function\s*\(|[^.\w]eval\s*\(/.exec(text)?.[0], f).toBeUndefined();
    }
  });
});
