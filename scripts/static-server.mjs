// A small static file server on Node's http, for the demo page (`npm run demo:web`) and the
// browser tests. No dependencies; GET and HEAD only; never serves anything outside its roots.
//
//   const s = await serveStatic({ '/': 'demo', '/pkg/': '.' }, { port: 0 });
//   console.log(s.url); ...; await s.close();
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.bin': 'application/octet-stream',
};

/**
 * Serves directories under URL prefixes.
 * @param {Record<string, string>} mounts URL prefix (starting and ending with '/') → directory;
 *   the longest matching prefix wins
 * @param {{ host?: string, port?: number, headers?: Record<string, string>, log?: boolean }} [options]
 *   `headers` are added to every response (e.g. to test cross-origin isolation); port 0 picks a free one
 * @returns {Promise<{ url: string, port: number, server: import('node:http').Server, close(): Promise<void> }>}
 */
export async function serveStatic(mounts, options = {}) {
  const host = options.host ?? '127.0.0.1';
  const table = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix, resolve(dir)])
    .sort((a, b) => b[0].length - a[0].length);
  const server = createServer(async (req, res) => {
    const status = (code, text) => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', ...options.headers });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return status(405, 'method not allowed\n');
      let path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const mount = table.find(([prefix]) => path.startsWith(prefix) || path + '/' === prefix);
      if (!mount) return status(404, 'not found\n');
      const [prefix, dir] = mount;
      let file = resolve(dir, '.' + sep + path.slice(Math.min(prefix.length, path.length)));
      if (file !== dir && !file.startsWith(dir + sep)) return status(403, 'forbidden\n');
      let info = await stat(file).catch(() => undefined);
      if (info?.isDirectory()) {
        if (!path.endsWith('/')) {
          res.writeHead(301, { location: path + '/', ...options.headers });
          return res.end();
        }
        file = resolve(file, 'index.html');
        info = await stat(file).catch(() => undefined);
      }
      if (!info?.isFile()) return status(404, 'not found\n');
      res.writeHead(200, {
        'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': info.size,
        'cache-control': 'no-store',
        ...options.headers,
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
      if (options.log) console.log(`${req.method} ${path}`);
    } catch (err) {
      status(500, `error: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  return {
    url: `http://${host}:${port}/`,
    port,
    server,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}
