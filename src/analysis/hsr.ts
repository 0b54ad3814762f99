/**
 * HSR training (Hessian Spectral Range regulariser, docs/hsr.md): the train objective gains
 * beta x a Wolkowicz–Styan number, minimised with its closed-form gradient (one hidden layer).
 */
import { fail } from '../errors.js';

/** Which WS number is penalised: the upper bound on lambda_max, or the bound on lambda_max - lambda_min. */
export const HSR_TARGETS = ['upper', 'spread'] as const;
export type HsrTarget = (typeof HSR_TARGETS)[number];

export interface HsrOptions {
  /** Weight of the penalty, >= 0 (0 = plain training). */
  beta: number;
  /** Default 'upper'. */
  target?: HsrTarget;
}

/** What a run with HSR reports about its penalty at the returned point. */
export interface HsrReport {
  beta: number;
  target: HsrTarget;
  /** The penalised WS number at the trained parameters. */
  value: number;
  /** beta x value, part of `objective`. */
  penalty: number;
  /** penalty / objective. */
  share: number;
}

/** The kernel options of the train command for `hsr` (none when absent). */
export function hsrKernelOptions(hsr: HsrOptions | undefined): Record<string, number> {
  if (hsr === undefined) return {};
  if (typeof hsr !== 'object' || hsr === null) fail('BAD_OPTION', 'hsr must be an object { beta, target }', "e.g. { beta: 0.01, target: 'upper' }");
  if (typeof hsr.beta !== 'number' || !Number.isFinite(hsr.beta) || hsr.beta < 0)
    fail('BAD_OPTION', `hsr.beta must be a number >= 0, got ${String(hsr.beta)}`, 'e.g. 0.01; larger values trade training loss for a smaller WS bound');
  const target = hsr.target ?? 'upper';
  const code = HSR_TARGETS.indexOf(target);
  if (code < 0) fail('BAD_OPTION', `hsr.target must be one of ${HSR_TARGETS.join(', ')}, got ${String(target)}`);
  return { hsrBeta: hsr.beta, hsrTarget: code };
}

/** Fails with a hint unless the network has one hidden layer (sizes: inputs, hidden..., classes). */
export function requireHsrDepth(sizes: readonly number[]): void {
  if (sizes.length !== 3)
    fail('BAD_MODEL', `HSR training needs exactly one hidden layer; this model has ${sizes.length - 2}`,
      'the WS bound has a closed-form gradient only for one hidden layer: use e.g. --hidden 16, or train without --hsr');
}

export function hsrReport(hsr: HsrOptions, value: number, objective: number): HsrReport {
  const penalty = hsr.beta * value;
  return { beta: hsr.beta, target: hsr.target ?? 'upper', value, penalty, share: objective !== 0 ? penalty / objective : 0 };
}
