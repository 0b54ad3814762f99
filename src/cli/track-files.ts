/** train --track K, --track-out FILE, --plot FILE: options, files and the summary table. */
import { writeFileSync } from 'node:fs';
import { trackJsonLines } from '../analysis/tracking.js';
import { fail } from '../errors.js';
import { trackPlotSvg } from '../plot/track-plot.js';
import type { TrainResult } from '../train.js';
import { checkPlotPath } from './plot-path.js';
import { int, str, type ParsedValues } from './args.js';
import { fmt, table } from './format.js';

export const TRACK_CLI_OPTIONS = {
  track: { type: 'string' },
  'track-out': { type: 'string' },
  plot: { type: 'string' },
} as const;

export interface TrackCli {
  options: { track?: number };
  out: string | undefined;
  plot: string | undefined;
}

export function trackCliOptions(values: ParsedValues): TrackCli {
  const track = int(values, 'track', undefined, 1);
  const out = str(values, 'track-out');
  const plot = str(values, 'plot');
  if (track === undefined && (out !== undefined || plot !== undefined))
    fail('BAD_OPTION', `--${out !== undefined ? 'track-out' : 'plot'} needs --track K`, 'add --track 10 to record lambda_max every 10 steps');
  if (out === '') fail('BAD_OPTION', '--track-out needs a file name');
  // Before training: a bad plot path must not cost the run.
  if (plot !== undefined) checkPlotPath(plot);
  return { options: track === undefined ? {} : { track }, out, plot };
}

export function writeTrackFiles(result: TrainResult, cli: TrackCli): void {
  if (!result.track) return;
  if (cli.out) writeFileSync(cli.out, trackJsonLines(result.track));
  if (cli.plot) writeFileSync(cli.plot, trackPlotSvg(result.track));
}

/** A short table of the tracked points (at most 12 rows, evenly spread) for the text summary. */
export function trackSummary(result: TrainResult, cli: TrackCli): string {
  const track = result.track;
  if (!track) return '';
  const pts = track.points;
  const keep = pts.length <= 12 ? pts : Array.from({ length: 12 }, (_, i) => pts[Math.round((i * (pts.length - 1)) / 11)] as (typeof pts)[number]);
  const rows = keep.map((p) => [fmt(p.step), fmt(p.loss, 4), fmt(p.gradNorm, 3), `${fmt(p.lambdaMax, 6)}${p.lanczosConverged ? '' : ' (NOT converged)'}`, fmt(p.bound, 6), fmt(p.ratio, 4)]);
  const files = [cli.out ? `track JSON lines: ${cli.out}` : '', cli.plot ? `plot: ${cli.plot}` : ''].filter(Boolean).join(', ');
  return `\nSharpness every ${track.every} steps (${pts.length} points; WS bound from ${track.boundMethod} traces${track.boundEstimated ? ', estimated' : ''}):\n${table(['step', 'loss', 'grad norm', 'lambda_max', 'WS bound', 'bound/lmax'], rows)}\n${files ? `${files}\n` : ''}`;
}
