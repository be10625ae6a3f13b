/**
 * The entry of a pool worker (bundled at build time by scripts/build-worker.mjs into
 * src/worker.generated.ts: the package starts workers from that text, so it needs no file, no URL
 * of the package and no bundler configuration). It instantiates the threaded kernels on the shared
 * memory, answers `{ ready: true }` and runs its loop (threads-worker.ts).
 *
 * No import(), require() or 'node:' here: Node's worker_threads comes through
 * process.getBuiltinModule, and browsers' Web Workers through `self`.
 */
import { workerLoop, type Kernels } from './threads-worker.js';
import type { WorkerReply, WorkerStart } from './threads-layout.js';

function start(msg: WorkerStart, post: (m: WorkerReply) => void): void {
  let K: Kernels;
  try {
    K = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory } }).exports as Kernels;
  } catch (e) {
    post({ error: String((e as Error)?.message ?? e) });
    return;
  }
  post({ ready: true });
  workerLoop(K, msg);
}

interface NodePort {
  once(event: 'message', f: (m: WorkerStart) => void): void;
  postMessage(m: WorkerReply): void;
}
const g = globalThis as unknown as {
  process?: { getBuiltinModule?: (id: string) => { parentPort: NodePort } };
  onmessage: ((e: MessageEvent<WorkerStart>) => void) | null;
  postMessage(m: WorkerReply): void;
  WorkerGlobalScope?: unknown;
};
if (g.WorkerGlobalScope === undefined && typeof g.process?.getBuiltinModule === 'function') {
  const port = g.process.getBuiltinModule('worker_threads').parentPort;
  port.once('message', (msg) => start(msg, (m) => port.postMessage(m)));
} else {
  g.onmessage = (e) => {
    g.onmessage = null;
    start(e.data, (m) => g.postMessage(m));
  };
}
