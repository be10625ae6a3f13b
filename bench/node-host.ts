// What `npm run bench` gives the bench core (bench/core.ts): peak workers on worker_threads, the
// machine's description.
import os from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { features } from '../src/index.js';
import { PeakMeter, type PeakReply, type PeakRequest, type PeakWorkerPort } from './peak.js';

/** The bundled peak worker next to the bundled bench (bench/run.mjs builds both into build/). */
export const PEAK_WORKER_URL = new URL('./bench-peak-worker.mjs', import.meta.url);

function nodePeakWorker(url: URL): PeakWorkerPort {
  const w = new Worker(url);
  return {
    request: (msg: PeakRequest) =>
      new Promise<PeakReply>((resolve, reject) => {
        const fail = (e: Error) => reject(e);
        w.once('message', (r: PeakReply) => {
          w.off('error', fail);
          resolve(r);
        });
        w.once('error', fail);
        w.postMessage(msg);
      }),
    terminate: () => w.terminate(),
  };
}

/** A peak meter with `threads` workers (one thread only when the worker file is missing). */
export async function nodePeakMeter(threads: number, url: URL = PEAK_WORKER_URL): Promise<PeakMeter> {
  const spawn = threads > 1 && existsSync(fileURLToPath(url)) ? () => nodePeakWorker(url) : undefined;
  return PeakMeter.create(threads, spawn);
}

/** results.meta for Node. */
export function nodeMeta(extra: Record<string, unknown> = {}): { runtime: string; cores: number; date: string } & Record<string, unknown> {
  return {
    runtime: `Node ${process.version}`,
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
    cores: os.cpus().length,
    platform: `${os.platform()} ${os.arch()}`,
    loadavg: os.loadavg(),
    date: new Date().toISOString(),
    features: features(),
    ...extra,
  };
}
