// The tfjs backends of the example: 'cpu' (plain JavaScript) and 'wasm' (XNNPACK), one thread.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export type BackendName = 'cpu' | 'wasm';

/**
 * Makes `name` the tfjs backend; resolves to false (the backend left as it was) when the wasm
 * backend does not load here.
 */
export async function useBackend(name: BackendName): Promise<boolean> {
  if (name === 'wasm') {
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // its .wasm files, read from node_modules; one thread (no worker pool)
      const require = createRequire(import.meta.url);
      wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasm.setThreadsCount(1);
    } catch {
      return false;
    }
  }
  const ok = await tf.setBackend(name).catch(() => false);
  await tf.ready();
  return ok && tf.getBackend() === name;
}
