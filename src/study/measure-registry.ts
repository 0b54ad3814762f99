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

async function adaptiveWorst(c: MeasureContext, rho: number, p: 2 | 'inf'): Promise<number> {
  const o = await objective(c);
  return (await adaptiveSharpness(o.objective, o.theta, rho, p, { seed: c.seed })).increase;
}

async function adaptiveAverage(c: MeasureContext, rho: number): Promise<number> {
  const o = await objective(c);
  return (await averageAdaptiveSharpness(o.objective, o.theta, rho, { seed: c.seed })).increase;
}

/** The adaptive measures that take a radius: NAME@rho=X is the measure at radius X (the bare name: MEASURE_RADII). */
const RHO_MEASURES: Readonly<Record<string, (c: MeasureContext, rho: number) => Promise<number | null>>> = {
  adaptiveSharpness2: (c, rho) => adaptiveWorst(c, rho, 2),
  adaptiveSharpnessInf: (c, rho) => adaptiveWorst(c, rho, 'inf'),
  averageSharpness: (c, rho) => adaptiveAverage(c, rho),
};
export const RHO_MEASURE_NAMES = Object.keys(RHO_MEASURES);

export const MEASURES: Readonly<Record<string, Compute>> = {
  lambdaMax: async (c) => (await curvature(c)).lambdaMax,
  traceH: async (c) => (await curvature(c)).trace,
  traceOverP: async (c) => { const r = await curvature(c); return r.trace === null ? null : r.trace / r.parameters; },
  frobeniusH: async (c) => { const r = await curvature(c); return r.traceOfSquare === null ? null : Math.sqrt(r.traceOfSquare); },
  wsUpper: async (c) => (await curvature(c)).bound?.upper ?? null,
  effectiveRank: async (c) => { const r = await curvature(c); return r.trace === null || !r.traceOfSquare ? null : (r.trace * r.trace) / r.traceOfSquare; },
  epsSharpness: async (c) => { const o = await objective(c); return (await epsSharpness(o.objective, o.theta, MEASURE_RADII.epsilon, { seed: c.seed })).sharpness; },
  adaptiveSharpness2: (c) => adaptiveWorst(c, MEASURE_RADII.rho2, 2),
  adaptiveSharpnessInf: (c) => adaptiveWorst(c, MEASURE_RADII.rhoInf, 'inf'),
  averageSharpness: (c) => adaptiveAverage(c, MEASURE_RADII.rhoAverage),
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

const KNOWN_HINT = `use all or a comma list of: ${MEASURE_NAMES.join(', ')}; ${RHO_MEASURE_NAMES.join(', ')} also as NAME@rho=X`;

function checkRho(rho: unknown, where: string): number {
  if (typeof rho !== 'number' || !Number.isFinite(rho) || rho <= 0) fail('BAD_OPTION', `${where}: rho must be a finite number > 0, got ${String(rho)}`, 'e.g. adaptiveSharpness2@rho=0.05');
  return rho;
}

/** A measure at one radius: its column name, NAME@rho=X with X in its shortest form. */
export function rhoMeasureName(name: string, rho: number): string {
  if (!RHO_MEASURE_NAMES.includes(name)) fail('BAD_OPTION', `'${name}' takes no radius`, `radii apply to ${RHO_MEASURE_NAMES.join(', ')}`);
  return `${name}@rho=${checkRho(rho, name)}`;
}

/** The function of a measure name (bare or NAME@rho=X), or a BAD_OPTION error that lists the known names. */
export function measureFunction(name: string): Compute {
  const at = /^([A-Za-z0-9]+)@rho=(.+)$/.exec(name);
  if (at) {
    const base = at[1] as string;
    const f = Object.prototype.hasOwnProperty.call(RHO_MEASURES, base) ? RHO_MEASURES[base] : undefined;
    if (!f) fail('BAD_OPTION', `'${base}' in '${name}' takes no radius`, `radii apply to ${RHO_MEASURE_NAMES.join(', ')}`);
    const raw = (at[2] as string).trim();
    const rho = checkRho(raw === '' ? NaN : Number(raw), name);
    return (c) => f(c, rho);
  }
  if (!Object.prototype.hasOwnProperty.call(MEASURES, name)) fail('BAD_OPTION', `unknown measure '${name}'`, KNOWN_HINT);
  return MEASURES[name] as Compute;
}

/**
 * 'all', or a comma list of known names (NAME@rho=X for the radius measures); an unknown name is an
 * error that lists the known ones. With `rhos`, every bare radius measure becomes one column per rho.
 */
export function parseMeasures(spec: string | readonly string[], rhos?: readonly number[]): string[] {
  const names = typeof spec === 'string' ? (spec.trim() === 'all' ? MEASURE_NAMES : spec.split(',').map((s) => s.trim()).filter(Boolean)) : [...spec];
  if (names.length === 0) fail('BAD_OPTION', 'no measure given', KNOWN_HINT);
  if (rhos !== undefined && (!Array.isArray(rhos) || rhos.length === 0)) fail('BAD_OPTION', 'the rho grid of the adaptive measures is empty', 'e.g. sharpnessRhos [0.01, 0.05, 0.1], or leave it out for the default radii');
  const expanded = names.flatMap((n) => (rhos && RHO_MEASURE_NAMES.includes(n) ? rhos.map((rho) => rhoMeasureName(n, rho)) : [n]));
  for (const n of expanded) measureFunction(n);
  return [...new Set(expanded.map(canonicalMeasureName))];
}

/** NAME@rho=X with X as the number it reads as (so @rho=0.050 and @rho=5e-2 are one column). */
function canonicalMeasureName(name: string): string {
  const at = /^([A-Za-z0-9]+)@rho=(.+)$/.exec(name);
  return at ? `${at[1]}@rho=${Number(at[2])}` : name;
}
