/**
 * The memory plan of one sweep point, before anything is loaded or allocated: the data, the model,
 * the forward cache and optimizer state of training, then the bound and lambda_max phases (which run
 * one after the other, so only the larger counts). Used by runPoint (every point, local or queued),
 * by the sweep before its first point, and by queue workers before they fetch a job's data. Built from
 * the same per-allocation estimates as the kernel calls themselves (memory-plan.ts), so a point the
 * plan admits is not refused later by one of its calls.
 */
import { parseDatasetId } from '../sweep/dataset-id.js';
import type { SweepJobSpec } from '../sweep/job.js';
import { closedFormWork, denseHessian, forwardCache, hutchppBasis, hvpScratch, lanczosBasis, modelParameters, parameterCountOf, type Allocation } from './memory-plan.js';

const DOUBLE = 8;

/** What a data set id stands for, known before it is loaded. */
export interface DataShape {
  n: number;
  d: number;
  classes: number;
}

/** The embedded data sets' shapes (data/*.csv), so a plan never has to read them. */
export const EMBEDDED_SHAPES: Readonly<Record<string, DataShape>> = {
  iris: { n: 150, d: 4, classes: 3 },
  wine: { n: 178, d: 13, classes: 3 },
  breast_cancer: { n: 569, d: 30, classes: 2 },
  digits: { n: 1797, d: 64, classes: 10 },
};

/** The fields of a spec the plan reads (mini-batch options can join here). */
export type PlannedSpec = Pick<SweepJobSpec, 'width' | 'depth' | 'denseMaxParameters'> & Partial<Pick<SweepJobSpec, 'track'>>;

/** The Lanczos basis the sweep's lambda_max asks for (analyze's default maxIterations). */
const POINT_LANCZOS_ITERATIONS = 300;

export function pointAllocations(spec: PlannedSpec, data: DataShape, test?: DataShape): Allocation[] {
  const sizes = [data.d, ...Array.from({ length: spec.depth }, () => spec.width), data.classes];
  const P = parameterCountOf(sizes);
  const samples = data.n + (test?.n ?? 0);
  // The data as loaded, standardized and copied into the kernel's problem: three n x (d + c) arrays.
  const dataBytes = 3 * DOUBLE * samples * (data.d + data.classes);
  const persistent: Allocation[] = [
    { what: `the data (${samples.toLocaleString('en-US')} x ${data.d.toLocaleString('en-US')})`, bytes: dataBytes, hint: 'use a smaller data set (fewer samples or features)' },
    modelParameters(P),
    forwardCache(sizes, data.n),
  ];
  const training: Allocation = { what: `the optimizer state (${P.toLocaleString('en-US')} parameters)`, bytes: DOUBLE * P * 48, hint: 'use smaller hidden widths' };
  const bound: Allocation[] = spec.depth === 1 ? [closedFormWork(sizes, data.n)] : [hvpScratch(sizes, data.n), hutchppBasis(P, 150)];
  const lambda: Allocation[] = P <= spec.denseMaxParameters ? [denseHessian(P)] : [hvpScratch(sizes, data.n), lanczosBasis(P, POINT_LANCZOS_ITERATIONS)];
  // Tracking runs lambda_max during training.
  const phases = [[training, ...(spec.track ? lambda : [])], bound, lambda];
  const bytesOf = (list: readonly Allocation[]) => list.reduce((s, a) => s + a.bytes, 0);
  const largest = phases.reduce((a, b) => (bytesOf(b) > bytesOf(a) ? b : a));
  return [...persistent, ...largest];
}

/** The shape of an embedded or synthetic data set id without loading it; null for files and content ids. */
export function knownDataShape(id: string): DataShape | null {
  const parsed = parseDatasetId(id);
  if (parsed.kind === 'synthetic') return { n: parsed.options.n, d: parsed.options.d, classes: parsed.options.classes };
  if (parsed.kind === 'embedded') return EMBEDDED_SHAPES[parsed.name] ?? null;
  return null;
}
