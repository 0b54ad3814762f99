/** Runs a sweep's events to the end and hands back what a caller usually wants: results and failures. */
import { HessboundError, type ErrorCode } from '../errors.js';
import type { SweepFailure, SweepRecord } from './result.js';
import type { SweepEvent } from './sweep.js';

export interface SweepSummary {
  results: SweepRecord[];
  failures: SweepFailure[];
}

/**
 * Consumes sweep() (or runSweep()) events. With `throwOnFailure`, rejects once the sweep ends if any
 * point failed: a HessboundError with the first failure's code, naming every failed point.
 */
export async function sweepToEnd(events: AsyncIterable<SweepEvent | { type: string }>, options: { throwOnFailure?: boolean } = {}): Promise<SweepSummary> {
  const summary: SweepSummary = { results: [], failures: [] };
  for await (const event of events) {
    if (event.type === 'result') summary.results.push((event as Extract<SweepEvent, { type: 'result' }>).record);
    else if (event.type === 'failure') summary.failures.push((event as Extract<SweepEvent, { type: 'failure' }>).failure);
  }
  const first = summary.failures[0];
  if (options.throwOnFailure && first) {
    const list = summary.failures.map((f) => `${f.spec.dataset} width ${f.spec.width} seed ${f.spec.seed}: [${f.error.code}] ${f.error.message}`).join('; ');
    throw new HessboundError(first.error.code as ErrorCode, `${summary.failures.length} of ${summary.failures.length + summary.results.length} sweep point(s) failed: ${list}`, 'see each failure; the results that succeeded are in the sweep events');
  }
  return summary;
}
