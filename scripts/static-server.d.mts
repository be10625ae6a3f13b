import type { Server } from 'node:http';
export interface StaticServer {
  /** http://host:port/ */
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}
/** Serves directories under URL prefixes ('/' → dir); port 0 picks a free port. */
export function serveStatic(
  mounts: Record<string, string>,
  options?: { host?: string; port?: number; headers?: Record<string, string>; log?: boolean },
): Promise<StaticServer>;
