#!/usr/bin/env node
// `npm run demo:web [-- --port N] [-- --no-build]`: builds the demo page (scripts/build-demo-web.mjs)
// and serves demo/ on http://127.0.0.1 with Node's http. Ctrl-C stops it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDemo } from './build-demo-web.mjs';
import { serveStatic } from './static-server.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const portArg = args.indexOf('--port');
const port = portArg >= 0 ? Number(args[portArg + 1]) : Number(process.env.PORT ?? 8173);
const host = process.env.HOST ?? '127.0.0.1';

if (!args.includes('--no-build')) await buildDemo();
let server;
try {
  server = await serveStatic({ '/': join(root, 'demo') }, { host, port });
} catch (err) {
  if (err?.code !== 'EADDRINUSE') throw err;
  console.log(`port ${port} is busy; using a free one`);
  server = await serveStatic({ '/': join(root, 'demo') }, { host, port: 0 });
}
console.log(`\nempirical-fisher live demo: ${server.url}\n(open it in a browser; Ctrl-C to stop)\n`);
const stop = () => server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
