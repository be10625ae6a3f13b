// A peak worker for `npm run bench` (Node worker_threads), bundled by bench/run.mjs into
// build/bench-peak-worker.mjs. The page's twin is bench/web/peak-worker.ts.
import { parentPort } from 'node:worker_threads';
import { peakWorkerHandler, type PeakRequest } from './peak.js';

const port = parentPort;
if (!port) throw new Error('bench-peak-worker: not a worker thread');
const handle = peakWorkerHandler((r) => port.postMessage(r));
port.on('message', (msg: PeakRequest) => handle(msg));
