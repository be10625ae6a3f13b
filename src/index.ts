/// <reference lib="esnext.disposable" preserve="true" />
/**
 * empirical-fisher: the empirical Fisher preconditioner (F + λI)⁻¹ ḡ in WebAssembly SIMD.
 *
 * @example
 * import { init, EmpiricalFisher } from 'empirical-fisher';
 * await init();
 * const F = new EmpiricalFisher(512, { damping: 1e-3, decay: 0.95 });
 * F.update(grads, 128);             // 128 per-example gradients of length 512, row-major
 * const step = F.precondition(g);   // (F + λI)⁻¹ g
 */
export { init, initSync, features, memoryInfo } from './engine.js';
export type { Features, InitOptions, MemoryInfo, Precision, FloatArray } from './engine.js';
export { linalg, CholeskyFactor } from './linalg.js';
export type { SyrkOptions, CholeskyOptions, SolveOptions, SolveSPDOptions, EighOptions, EighResult, GemmOptions } from './linalg.js';
export { NotPositiveDefiniteError } from './errors.js';
export { EmpiricalFisher } from './fisher.js';
export type { EmpiricalFisherOptions, KroneckerDamping, Representation } from './fisher.js';
export { EmpiricalFisherOptimizer } from './optimizer.js';
export type {
  EmpiricalFisherOptimizerOptions,
  EmpiricalFisherOptimizerState,
  AdaptiveDampingOptions,
  StepInfo,
  StepOptions,
} from './optimizer.js';
export type { EmpiricalFisherState } from './fisher.js';
export { layers } from './layers/index.js';
export type {
  DenseLayerShape,
  DenseLayerStats,
  DenseLayerParameters,
  LayerParameters,
  NamedDenseLayerShape,
  ParametersOptions,
  PerExampleGradientsOptions,
} from './layers/index.js';

import { getEngine } from './engine.js';
import { meanGradientInWasm, perExampleGradientsInWasm } from './layers/inwasm.js';
/**
 * @internal What `empirical-fisher/models` takes from the core at run time. dist/models.js imports
 * it from ./index.js (not a second copy of the engine), so the models and the core share one
 * engine: one init(), one wasm memory.
 */
export const __internal = { getEngine, meanGradientInWasm, perExampleGradientsInWasm };
