/**
 * Identical results in Node and Chromium (DESIGN §4): the battery of battery.ts, computed here in
 * the browser and, through the `nodeBattery` browser command, in the Node process that runs vitest;
 * every result's FNV-1a hash must match. Browser-only (the node project excludes *.browser.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import * as ef from '../../src/index.js';
import * as models from '../../src/models/index.js';
import { KERNELS_WASM_BASE64 } from '../../src/wasm.generated.js';
import { fnv1a, runBattery, type BatteryResult } from './battery.js';

declare module 'vitest/browser' {
  interface BrowserCommands {
    nodeBattery: (library: 'src' | 'dist') => Promise<BatteryResult>;
  }
}

describe('Node and Chromium give the same bits', () => {
  beforeAll(async () => {
    await ef.init();
  });

  it('runs in a real browser, not in Node', () => {
    expect(typeof window).toBe('object');
    expect(navigator.userAgent).toMatch(/Chrome\//);
    expect(typeof (globalThis as { process?: { versions?: unknown } }).process?.versions).not.toBe('object');
  });

  it('every result of the battery hashes the same in Node and in Chromium', async () => {
    const browser = runBattery(ef, models);
    const { '#wasm': nodeWasm, ...node } = await commands.nodeBattery('src');
    // the same kernels on both sides (else the wasm was rebuilt while the suite ran: run it again)
    expect(fnv1a(new TextEncoder().encode(KERNELS_WASM_BASE64)), 'the wasm kernels Node and Chromium loaded').toBe(nodeWasm);
    expect(Object.keys(browser).length).toBeGreaterThanOrEqual(90);
    expect(Object.keys(browser).filter((k) => k.startsWith('models.')).length).toBe(2 * 7 * 6 + 2 * 6 * 2 + 2 * 2 * 6);
    expect(Object.keys(browser).sort()).toEqual(Object.keys(node).sort());
    const differ = Object.keys(browser).filter((k) => browser[k] !== node[k]);
    expect(differ, `results that differ between Node and Chromium: ${differ.join(', ')}`).toEqual([]);
    // a record in the test output, for the report
    console.log(`battery: ${Object.keys(browser).length} results, all hashes equal in Node and Chromium (${navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0]})`);
  });

  it('the battery is deterministic within one engine (a second run gives the same hashes)', () => {
    expect(runBattery(ef, models)).toEqual(runBattery(ef, models));
  });
});
