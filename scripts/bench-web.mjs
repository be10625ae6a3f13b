#!/usr/bin/env node
// `npm run bench:web [-- --port N] [-- --no-build]`: bundles the bench page (bench/web/main.ts and
// its peak worker, with the library from src/) into build/bench-web/ and serves bench/web/ on
// http://127.0.0.1 with the COOP/COEP headers that make the page cross-origin isolated, so that
// init({ threads: 2 }) gets its workers. Everything is served from this checkout: no network.
// Open http://127.0.0.1:PORT/ (the full case list) or /?quick (the reduced one). Ctrl-C stops it.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serveStatic } from './static-server.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_WEB_OUT = join(root, 'build', 'bench-web');

/** Cross-origin isolation (SharedArrayBuffer, hence threads) for every response. */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/** Bundles the page and its peak worker into build/bench-web/ (builds the wasm first if missing). */
export async function buildBenchWeb() {
  if (!existsSync(join(root, 'src', 'wasm.generated.ts'))) {
    execFileSync(process.execPath, [join(root, 'scripts', 'build-wasm.mjs')], { cwd: root, stdio: 'inherit' });
  }
  await build({
    entryPoints: { main: join(root, 'bench', 'web', 'main.ts'), 'peak-worker': join(root, 'bench', 'web', 'peak-worker.ts') },
    outdir: BENCH_WEB_OUT,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

/** Serves the page: / → bench/web/, /dist/ → build/bench-web/, with the isolation headers. */
export function serveBenchWeb({ host = '127.0.0.1', port = 0 } = {}) {
  return serveStatic({ '/': join(root, 'bench', 'web'), '/dist/': BENCH_WEB_OUT }, { host, port, headers: ISOLATION_HEADERS });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const portArg = args.indexOf('--port');
  const port = portArg >= 0 ? Number(args[portArg + 1]) : Number(process.env.PORT ?? 8174);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`bench:web: --port ${JSON.stringify(args[portArg + 1])} is not a port number`);
    process.exit(2);
  }
  const host = process.env.HOST ?? '127.0.0.1';
  if (!args.includes('--no-build')) await buildBenchWeb();
  let server;
  try {
    server = await serveBenchWeb({ host, port });
  } catch (err) {
    if (err?.code !== 'EADDRINUSE') throw err;
    console.log(`port ${port} is busy; using a free one`);
    server = await serveBenchWeb({ host, port: 0 });
  }
  console.log(`\nempirical-fisher bench page: ${server.url}  (quick: ${server.url}?quick)\n(open it in a browser; Ctrl-C to stop)\n`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
