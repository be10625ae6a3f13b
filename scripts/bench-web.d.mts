import type { StaticServer } from './static-server.mjs';
export const BENCH_WEB_OUT: string;
export const ISOLATION_HEADERS: Record<string, string>;
/** Bundles the bench page and its peak worker into build/bench-web/. */
export function buildBenchWeb(): Promise<void>;
/** Serves the bench page with the COOP/COEP headers; port 0 picks a free port. */
export function serveBenchWeb(options?: { host?: string; port?: number }): Promise<StaticServer>;
