/**
 * The public statistics type of a dense layer, as EmpiricalFisher.updateLayers and
 * EmpiricalFisherOptimizer.stepLayers take it.
 */
import type { FloatArray } from './engine.js';

// TODO(steplayers): these are the layer kit's public types (LAYERS-CONTRACT.md); import them from
// './layers/index.js' once that module lands, and delete this file
/** The shape of a dense layer y = W a + b (W outputs × inputs). */
export interface DenseLayerShape {
  inputs: number;
  outputs: number;
  /** default true */
  bias?: boolean;
}

/** A dense layer's statistics: inputs A (n × inputs) and output gradients E (n × outputs), row-major. */
export interface DenseLayerStats extends DenseLayerShape {
  A: FloatArray;
  E: FloatArray;
}
