/**
 * Node side of the identical-results check: runs battery.ts in this Node process against either
 * the TypeScript sources or the built dist/index.js. Used by the vitest browser command
 * `nodeBattery` (vitest.config.ts: it runs in Node, called from battery.browser.test.ts) and by
 * test/web-loading.node.test.ts. Node-only (esbuild, node:fs).
 */
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fnv1a, type BatteryResult } from './battery.js';

/** The repository root: the nearest directory above this file whose package.json is ours. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'empirical-fisher') return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}
const root = findRoot();
const cache = new Map<string, Promise<BatteryResult>>();

/** FNV-1a of the embedded wasm module (its base64 text). */
export function wasmHash(base64: string): string {
  return fnv1a(new TextEncoder().encode(base64));
}

/**
 * Bundles battery.ts with the library (`'src'`: src/index.ts, `'dist'`: dist/index.js) into
 * build/browser-tests/ and runs it here, once per process.
 */
// (for 'src' the result also has '#wasm', the hash of the embedded kernels, and the models' part)
export function runNodeBattery(library: 'src' | 'dist'): Promise<BatteryResult> {
  let p = cache.get(library);
  if (!p) {
    p = (async () => {
      const outdir = join(root, 'build', 'browser-tests');
      mkdirSync(outdir, { recursive: true });
      const outfile = join(outdir, `node-battery-${library}-${process.pid}.mjs`);
      const lib = library === 'src' ? './src/index.ts' : './dist/index.js';
      await build({
        stdin: {
          contents: [
            `import * as ef from ${JSON.stringify(lib)};`,
            `import { runBattery } from './test/browser/battery.ts';`,
            library === 'src' ? `import * as models from './src/models/index.ts';` : '',
            `export default function () { ef.initSync(); return runBattery(ef${library === 'src' ? ', models' : ''}); }`,
            library === 'src' ? `export { KERNELS_WASM_BASE64 } from './src/wasm.generated.ts';` : '',
          ].join('\n'),
          resolveDir: root,
          sourcefile: 'node-battery-entry.ts',
          loader: 'ts',
        },
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        outfile,
        logLevel: 'warning',
      });
      const mod = (await import(pathToFileURL(outfile).href)) as { default: () => BatteryResult; KERNELS_WASM_BASE64?: string };
      const results = mod.default();
      // which kernels these are: tells a mismatch from a wasm rebuilt in the middle of a test run
      if (mod.KERNELS_WASM_BASE64) results['#wasm'] = wasmHash(mod.KERNELS_WASM_BASE64);
      return results;
    })();
    cache.set(library, p);
  }
  return p;
}
