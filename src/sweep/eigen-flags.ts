/**
 * Flags a sweep row carries when its lambda_max is not an exact eigenvalue (Lanczos stopped at its
 * iteration cap): the value stored is then the largest Ritz value, a lower bound on lambda_max.
 * Kept separate so the sweep's general `flags` column (diagnostics) can include these.
 */
import type { AnalyzeResult } from '../analyze.js';

export const NOT_CONVERGED_EIGEN = 'not-converged-eigen';

export function eigenFlags(spectrum: Pick<AnalyzeResult, 'lambdaMax' | 'lambdaMaxLowerBound'>): string[] {
  return spectrum.lambdaMax === null && spectrum.lambdaMaxLowerBound !== null ? [NOT_CONVERGED_EIGEN] : [];
}
