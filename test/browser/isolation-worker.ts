/** Worker of isolation.browser.test.ts: init() and one solve inside a module Web Worker. */
import { features, init, linalg } from '../../src/index.js';

(async () => {
  try {
    await init();
    const x = Array.from(linalg.solveSPD(new Float64Array([4, 2, 2, 5]), 2, new Float64Array([6, 7])));
    postMessage({ ok: true, isolated: self.crossOriginIsolated, simd: features().simd, x });
  } catch (err) {
    postMessage({ ok: false, error: String(err) });
  }
})();
