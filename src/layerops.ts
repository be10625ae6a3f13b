/**
 * The layer kit as EmpiricalFisher, the stores and the optimizer use it: the @internal *InWasm
 * functions of src/layers/inwasm.ts, and the public statistics type.
 */
import type { FloatArray } from './engine.js';

export {
  diagonalInWasm,
  gradientTimesInWasm,
  gradientTransposeTimesInWasm,
  gramInWasm,
  layerParameterCount,
  meanGradientInWasm,
  perExampleGradientsInWasm,
  type LayerInWasm,
} from './layers/inwasm.js';

// TODO(steplayers): import these from './layers/index.js' once the layer kit's public module lands
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
