/**
 * bin/empirical-fisher.mjs in the repository (the installed package's run is in
 * package.node.test.ts): bench's options select what it times, bad options are usage errors
 * (exit 2) naming the option, and in a clone `demo` runs the MNIST demo.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'empirical-fisher.mjs');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('empirical-fisher bench (from dist/)', () => {
  it('--kernels, --precision, --sizes and --rounds select the rows and the rounds', () => {
    const r = run('bench', '--json', '--kernels', 'gemm,cholesky', '--precision=f64', '--sizes', '33,5', '--rounds', '2');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { results: { kernel: string; precision: string; size: Record<string, number>; flops: number; roundsMs: number[]; medianGflops: number }[] };
    expect(out.results.map((x) => [x.kernel, x.precision, x.size])).toEqual([
      ['gemm', 'f64', { m: 33, n: 33, k: 33 }],
      ['gemm', 'f64', { m: 5, n: 5, k: 5 }],
      ['cholesky', 'f64', { d: 33 }],
      ['cholesky', 'f64', { d: 5 }],
    ]);
    // the counts of DESIGN §4
    expect(out.results.map((x) => x.flops)).toEqual([2 * 33 ** 3, 2 * 5 ** 3, 33 ** 3 / 3, 5 ** 3 / 3]);
    for (const x of out.results) {
      expect(x.roundsMs).toHaveLength(2);
      expect(Number.isFinite(x.medianGflops) && x.medianGflops > 0).toBe(true);
    }
  });

  it('the table: a header, one line a row', () => {
    const r = run('bench', '--quick', '--kernels', 'syrk', '--precision', 'f32');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^empirical-fisher \d+\.\d+\.\d+ bench: Node v\d+/);
    const rows = lines.filter((l) => l.startsWith('syrk'));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/^syrk GᵀG\s+f32\s+n=256 d=\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+$/);
  });

  for (const [args, message] of [
    [['--precision', 'f16'], /--precision must be f32 or f64, got 'f16'/],
    [['--sizes', '0'], /--sizes: orders must be integers in 1 … 8192/],
    [['--sizes', '12,x'], /--sizes/],
    [['--rounds', '1.5'], /--rounds must be an integer/],
    [['--kernels', 'syrk,potrf'], /unknown kernel 'potrf'/],
    [['--rounds'], /--rounds needs a value/],
    [['--quick', 'extra'], /unknown option 'extra'/],
  ] as const) {
    it(`bench ${args.join(' ')}: exit 2 and a message naming the option`, () => {
      const r = run('bench', ...args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
    });
  }
});

describe('empirical-fisher demo (in a clone)', () => {
  it('runs the MNIST demo script: --help is the demo\'s own', () => {
    const r = run('demo', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: npm run demo/);
  });
});
