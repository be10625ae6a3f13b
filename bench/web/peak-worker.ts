// A peak worker for the bench page (a module Web Worker), bundled by scripts/bench-web.mjs into
// dist/peak-worker.js. Node's twin is bench/peak-worker-node.ts.
import { peakWorkerHandler, type PeakRequest } from '../peak.js';

const scope = self as unknown as { postMessage(x: unknown): void; onmessage: ((e: MessageEvent<PeakRequest>) => void) | null };
const handle = peakWorkerHandler((r) => scope.postMessage(r));
scope.onmessage = (e) => handle(e.data);
