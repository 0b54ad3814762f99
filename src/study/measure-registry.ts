/**
 * The study's measures by name (docs/measures.md): each maps a trained network to one number,
 * oriented as the papers use it (larger = predicted to generalize worse), or null when undefined.
 */
import { analyze } from '../analyze.js';
import { fail } from '../errors.js';
import {
  adaptiveSharpness, averageAdaptiveSharpness, distanceFromInit, epsSharpness, fisherRaoNorm, frobeniusProduct,
  marginPercentile, modelObjective, pacBayesFlatness, pathNorm, spectralProduct, type Objective,
} from '../analysis/measures/index.js';
import { flattenParams } from '../model.js';
import type { BackendName, Dataset, Model } from '../types.js';

export interface MeasureContext {
  model: Model;
  init: Model;
  /** The training data the network was trained on (with its label noise). */
  data: Dataset;
  backend: BackendName;
  seed: number;
  signal?: AbortSignal;
  /** Shared per network: the curvature numbers and the objective, computed once. */
  cache: Map<string, unknown>;
}

/** Radii of the perturbation measures (study defaults; Keskar's eps, a mid-grid rho of Andriushchenko). */
export const MEASURE_RADII = { epsilon: 1e-3, rho2: 0.05, rhoInf: 0.002, rhoAverage: 0.05, pacDeviation: 0.1 } as const;

async function curvature(ctx: MeasureContext) {
  let r = ctx.cache.get('analyze') as Awaited<ReturnType<typeof analyze>> | undefined;
  if (!r) {
    r = await analyze(ctx.model, ctx.data, { backend: ctx.backend, deterministic: true, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    ctx.cache.set('analyze', r);
  }
  return r;
}

async function objective(ctx: MeasureContext): Promise<{ objective: Objective; theta: Float64Array }> {
  let o = ctx.cache.get('objective') as { objective: Objective; theta: Float64Array } | undefined;
  if (!o) {
    o = await modelObjective(ctx.model, ctx.data, { backend: ctx.backend, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    ctx.cache.set('objective', o);
  }
  return o;
}

type Compute = (ctx: MeasureContext) => Promise<number | null>;

export const MEASURES: Readonly<Record<string, Compute>> = {
  lambdaMax: async (c) => (await curvature(c)).lambdaMax,
  traceH: async (c) => (await curvature(c)).trace,
  traceOverP: async (c) => { const r = await curvature(c); return r.trace === null ? null : r.trace / r.parameters; },
  frobeniusH: async (c) => { const r = await curvature(c); return r.traceOfSquare === null ? null : Math.sqrt(r.traceOfSquare); },
  wsUpper: async (c) => (await curvature(c)).bound?.upper ?? null,
  effectiveRank: async (c) => { const r = await curvature(c); return r.trace === null || !r.traceOfSquare ? null : (r.trace * r.trace) / r.traceOfSquare; },
  epsSharpness: async (c) => { const o = await objective(c); return (await epsSharpness(o.objective, o.theta, MEASURE_RADII.epsilon, { seed: c.seed })).sharpness; },
  adaptiveSharpness2: async (c) => { const o = await objective(c); return (await adaptiveSharpness(o.objective, o.theta, MEASURE_RADII.rho2, 2, { seed: c.seed })).increase; },
  adaptiveSharpnessInf: async (c) => { const o = await objective(c); return (await adaptiveSharpness(o.objective, o.theta, MEASURE_RADII.rhoInf, 'inf', { seed: c.seed })).increase; },
  averageSharpness: async (c) => { const o = await objective(c); return (await averageAdaptiveSharpness(o.objective, o.theta, MEASURE_RADII.rhoAverage, { seed: c.seed })).increase; },
  pacBayes: async (c) => { const o = await objective(c); return (await pacBayesFlatness(o.objective, o.theta, 'plain', { deviation: MEASURE_RADII.pacDeviation, seed: c.seed })).flatness; },
  pacBayesMagnitude: async (c) => { const o = await objective(c); return (await pacBayesFlatness(o.objective, o.theta, 'magnitude', { deviation: MEASURE_RADII.pacDeviation, seed: c.seed })).flatness; },
  frobeniusProduct: async (c) => frobeniusProduct(c.model),
  spectralProduct: async (c) => spectralProduct(c.model, { backend: c.backend }),
  pathNorm: async (c) => pathNorm(c.model),
  distanceFromInit: async (c) => distanceFromInit(c.model, c.init),
  fisherRao: async (c) => fisherRaoNorm(c.model, c.data),
  inverseMarginSquared: async (c) => { const m = marginPercentile(c.model, c.data, 10); return m > 0 ? 1 / (m * m) : null; },
  parameterNorm: async (c) => Math.sqrt(flattenParams(c.model).reduce((s, v) => s + v * v, 0)),
};

export const MEASURE_NAMES = Object.keys(MEASURES);

/** 'all', or a comma list of known names; an unknown name is an error that lists the known ones. */
export function parseMeasures(spec: string | readonly string[]): string[] {
  const names = typeof spec === 'string' ? (spec.trim() === 'all' ? MEASURE_NAMES : spec.split(',').map((s) => s.trim()).filter(Boolean)) : [...spec];
  if (names.length === 0) fail('BAD_OPTION', 'no measure given', `use all or a comma list of: ${MEASURE_NAMES.join(', ')}`);
  for (const n of names) if (!Object.prototype.hasOwnProperty.call(MEASURES, n)) fail('BAD_OPTION', `unknown measure '${n}'`, `use all or a comma list of: ${MEASURE_NAMES.join(', ')}`);
  return [...new Set(names)];
}
