/** Generalization measures (docs/measures.md): sharpness, PAC-Bayes flatness, norms and margins. */
export { modelObjective, type Objective, type MeasureCommon } from './objective.js';
export {
  epsSharpness, adaptiveSharpness, averageAdaptiveSharpness,
  type AscentOptions, type AscentResult, type EpsSharpnessResult, type AdaptiveSharpnessResult, type AverageSharpnessResult, type SharpnessNorm,
} from './sharpness.js';
export { pacBayesFlatness, type PacBayesOptions, type PacBayesResult } from './pac-bayes.js';
export { frobeniusProduct, spectralProduct, pathNorm, distanceFromInit, fisherRaoNorm, marginPercentile } from './norms.js';
