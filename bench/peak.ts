// The machine's wasm SIMD128 peak, measured in the same run as the cases (bench/core.ts): the
// register-blocked multiply-add loop of assembly/peak.ts (peak_f32 / peak_f64, no memory traffic)
// in its own instance of the kernel module, on this thread or, for k threads, in k workers at once.
//
// A burst is ~5 ms of the loop; a round, a few bursts per thread, the fastest of each thread's
// (on a shared machine, the nearest to the thread running undisturbed: the bench divides a
// kernel's fastest sample by it), and the k-thread peak the sum over the k threads. The one-thread probe is tiered up first
// (wasm has no on-stack replacement in V8: a long first call would run in the baseline tier).
// No Node or DOM imports: the page and `npm run bench` share this file; each supplies its workers.

import { KERNELS_WASM_BASE64 } from '../src/wasm.generated.js';

export type Precision = 'f32' | 'f64';

interface PeakExports {
  peak_f32(iters: number, s: number, t: number): number;
  peak_f64(iters: number, s: number, t: number): number;
  peak_flops_f32(): number;
  peak_flops_f64(): number;
}

/** The kernel module's bytes (the embedded base64, decoded without Node's Buffer). */
export function kernelBytes(): Uint8Array {
  const s = atob(KERNELS_WASM_BASE64);
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** Compiles the kernel module once (asynchronously: a page's main thread may not compile 60 KB synchronously). */
let compiled: Promise<WebAssembly.Module> | undefined;
export function kernelModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(kernelBytes() as BufferSource);
  return compiled;
}

/** The probe on one thread: an instance of the kernels, warmed up. */
export class PeakProbe {
  private readonly k: PeakExports;
  /** iterations per burst, per precision, adapted to ~burstMs */
  private readonly iters: Record<Precision, number> = { f32: 20_000, f64: 20_000 };
  sink = 0;

  constructor(instance: WebAssembly.Instance) {
    this.k = instance.exports as unknown as PeakExports;
    // warm-up: short calls until V8 has compiled the loop with its optimising tier
    for (const p of ['f32', 'f64'] as const) {
      const t0 = performance.now();
      for (let i = 0; i < 400 && performance.now() - t0 < 150; i++) this.sink += this.call(p, 2000);
    }
  }

  /** Creates a probe on this thread from the compiled kernel module. */
  static async create(module?: WebAssembly.Module): Promise<PeakProbe> {
    const instance = await WebAssembly.instantiate(module ?? (await kernelModule()), {});
    return new PeakProbe(instance);
  }

  private call(p: Precision, iters: number): number {
    return p === 'f32' ? this.k.peak_f32(iters, 0.999, 1e-3) : this.k.peak_f64(iters, 0.999, 1e-3);
  }

  flopsPerIter(p: Precision): number {
    return p === 'f32' ? this.k.peak_flops_f32() : this.k.peak_flops_f64();
  }

  /** One burst of about `ms` milliseconds: its GFLOP/s and how long it took (ms). */
  burstTimed(p: Precision, ms: number): PeakBurst {
    const iters = this.iters[p];
    const t0 = performance.now();
    this.sink += this.call(p, iters);
    const dt = Math.max(performance.now() - t0, 1e-3);
    // next burst: about ms long (within a factor of 16 of this one)
    this.iters[p] = Math.max(1000, Math.round(iters * Math.min(16, Math.max(1 / 16, ms / dt))));
    return { gflops: (iters * this.flopsPerIter(p)) / (dt * 1e6), ms: dt };
  }

  /** One burst of about `ms` milliseconds; GFLOP/s. */
  burst(p: Precision, ms: number): number {
    return this.burstTimed(p, ms).gflops;
  }

  /** The fastest of `bursts` bursts of about `ms` each (GFLOP/s). */
  round(p: Precision, bursts: number, ms: number): number {
    let best = 0;
    for (let i = 0; i < bursts; i++) best = Math.max(best, this.burst(p, ms));
    return best;
  }
}

/** A burst's rate (GFLOP/s) and duration (ms). */
export interface PeakBurst {
  gflops: number;
  ms: number;
}

/** Messages to a peak worker, and its replies (`bursts` 1: that burst; more: the fastest rate, their total time). */
export type PeakRequest = { module: WebAssembly.Module } | { precision: Precision; bursts: number; ms: number };
export type PeakReply = { ready: true } | PeakBurst | { error: string };

/**
 * The body of a peak worker (bench/peak-worker-node.ts, bench/web/peak-worker.ts): the first
 * message brings the compiled module, each later one asks for a round.
 */
export function peakWorkerHandler(reply: (r: PeakReply) => void): (msg: PeakRequest) => void {
  let probe: PeakProbe | undefined;
  return (msg) => {
    try {
      if ('module' in msg) {
        probe = new PeakProbe(new WebAssembly.Instance(msg.module, {}));
        reply({ ready: true });
      } else {
        if (!probe) throw new Error('peak worker: no module yet');
        if (msg.bursts === 1) reply(probe.burstTimed(msg.precision, msg.ms));
        else {
          const t0 = performance.now();
          const gflops = probe.round(msg.precision, msg.bursts, msg.ms);
          reply({ gflops, ms: performance.now() - t0 });
        }
      }
    } catch (e) {
      reply({ error: String((e as Error)?.message ?? e) });
    }
  };
}

/** A worker as the bench core sees it (Node worker_threads or a Web Worker, wrapped). */
export interface PeakWorkerPort {
  request(msg: PeakRequest): Promise<PeakReply>;
  terminate(): void | Promise<unknown>;
}

/** The peak on 1 … k threads: this thread alone, or k workers at once. */
export class PeakMeter {
  private constructor(
    private readonly local: PeakProbe,
    private readonly workers: PeakWorkerPort[],
  ) {}

  /** `spawn` starts one worker (or is absent: one thread only). */
  static async create(threads: number, spawn?: () => PeakWorkerPort): Promise<PeakMeter> {
    const module = await kernelModule();
    const local = await PeakProbe.create(module);
    const workers: PeakWorkerPort[] = [];
    if (threads > 1 && spawn) {
      try {
        for (let i = 0; i < threads; i++) workers.push(spawn());
        const replies = await Promise.all(workers.map((w) => w.request({ module })));
        for (const r of replies) if ('error' in r) throw new Error(r.error);
      } catch (e) {
        await Promise.all(workers.map((w) => w.terminate()));
        throw e;
      }
    }
    return new PeakMeter(local, workers);
  }

  /** Threads the meter can measure: 1, or the number of its workers. */
  get maxThreads(): number {
    return Math.max(1, this.workers.length);
  }

  /** A round: GFLOP/s of `threads` threads at once (the sum of each one's fastest burst). */
  async round(p: Precision, threads: number, bursts = 7, ms = 5): Promise<number> {
    if (threads <= 1) return this.local.round(p, bursts, ms);
    if (threads > this.workers.length) throw new RangeError(`peak: ${threads} threads asked, ${this.workers.length} workers started`);
    const replies = await Promise.all(this.workers.slice(0, threads).map((w) => w.request({ precision: p, bursts, ms })));
    let sum = 0;
    for (const r of replies) {
      if ('error' in r) throw new Error(r.error);
      if ('gflops' in r) sum += r.gflops;
    }
    return sum;
  }

  /** One burst on `threads` threads at once: the sum of their rates, the longest of their durations. */
  async burst(p: Precision, threads: number, ms = 5): Promise<PeakBurst> {
    if (threads <= 1) return this.local.burstTimed(p, ms);
    if (threads > this.workers.length) throw new RangeError(`peak: ${threads} threads asked, ${this.workers.length} workers started`);
    const replies = await Promise.all(this.workers.slice(0, threads).map((w) => w.request({ precision: p, bursts: 1, ms })));
    let gflops = 0;
    let longest = 0;
    for (const r of replies) {
      if ('error' in r) throw new Error(r.error);
      if ('gflops' in r) {
        gflops += r.gflops;
        longest = Math.max(longest, r.ms);
      }
    }
    return { gflops, ms: longest };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
