/**
 * The training loss as a function of a flat parameter vector (PyTorch order), the one thing the
 * perturbation measures need. From a model and data it calls the backend's loss and gradient;
 * tests pass closed-form objectives (a quadratic) through the same interface.
 */
import { getBackend } from '../../backend/select.js';
import { throwIfAborted } from '../../backend/cancel.js';
import { fail } from '../../errors.js';
import { toDatasetInput, toModel, type DataInput, type ModelInput } from '../../inputs.js';
import { flattenParams, parameterCount } from '../../model.js';
import { toProblemSpec } from '../../problem.js';
import type { BackendName, Reduction } from '../../types.js';

export interface Objective {
  readonly parameters: number;
  lossAndGradient(theta: Float64Array): Promise<{ loss: number; gradient: Float64Array }>;
}

export interface MeasureCommon {
  backend?: BackendName | 'auto';
  /** Default 'mean' (the loss the studies perturb). */
  reduction?: Reduction;
  signal?: AbortSignal;
}

/** The model's training cross-entropy at any parameter vector, and the model's own parameters. */
export async function modelObjective(
  modelInput: ModelInput,
  dataInput: DataInput,
  options: MeasureCommon = {},
): Promise<{ objective: Objective; theta: Float64Array }> {
  const model = toModel(modelInput);
  const data = toDatasetInput(dataInput);
  const backend = await getBackend(options.backend);
  const base = toProblemSpec(model, data, options.reduction);
  const P = parameterCount(model);
  const objective: Objective = {
    parameters: P,
    async lossAndGradient(theta) {
      throwIfAborted(options.signal);
      if (theta.length !== P) fail('SHAPE_MISMATCH', `a parameter vector of ${theta.length} values for a model with ${P}`);
      return backend.lossGrad({ ...base, params: theta });
    },
  };
  return { objective, theta: flattenParams(model) };
}

/** Refuses a perturbation radius that is not a finite number > 0. */
export function checkRadius(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    fail('BAD_OPTION', `${name} must be a finite number > 0, got ${String(value)}`, `e.g. ${name} 1e-3`);
  return value;
}

export function checkCount(value: unknown, name: string, minimum = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum)
    fail('BAD_OPTION', `${name} must be an integer >= ${minimum}, got ${String(value)}`);
  return value;
}

/** A loss that came back NaN or infinite: stop with an error rather than report it. */
export function checkFiniteLoss(loss: number, where: string): number {
  if (!Number.isFinite(loss))
    fail('NON_FINITE', `the training loss is not finite ${where}`, 'the perturbation is too large for these weights; use a smaller radius');
  return loss;
}
