/** The study's chart: Kendall's tau and granulated tau of every measure with the gap, with bootstrap intervals. */
import type { StudyResult } from '../study/study.js';
import { COLORS, escapeXml, legend, linearAxis, Panel, px, svgDocument, type Axis } from './svg.js';

const ROW = 24;

export function studyPlotSvg(result: StudyResult): string {
  const stats = result.statistics;
  const rows = Math.max(stats.length, 1);
  const left = 190;
  const top = 92;
  const width = 460;
  const height = rows * ROW;
  // One row per measure, top to bottom; no numeric ticks on this axis.
  const yAxis: Axis = { min: 0, max: rows, log: false, position: (v) => 1 - v / rows, ticks: [] };
  const panel = new Panel(left, top, width, height, linearAxis(-1, 1, 4, true), yAxis);
  const body: string[] = [panel.frame('Kendall tau with the generalization gap', '')];
  const zero = panel.px(0);
  body.push(`<line x1="${px(zero)}" y1="${px(top)}" x2="${px(zero)}" y2="${px(top + height)}" stroke="${COLORS.grey}" stroke-dasharray="4,3"/>`);
  stats.forEach((s, i) => {
    const y = top + (i + 0.5) * ROW;
    body.push(`<text x="${px(left - 8)}" y="${px(y + 4)}" text-anchor="end" font-size="12" fill="${COLORS.text}">${escapeXml(`${s.measure} (${s.networks})`)}</text>`);
    const mark = (value: number | null, low: number | null, high: number | null, dy: number, color: string, kind: string) => {
      if (value === null) return;
      if (low !== null && high !== null)
        body.push(`<line x1="${px(panel.px(low))}" y1="${px(y + dy)}" x2="${px(panel.px(high))}" y2="${px(y + dy)}" stroke="${color}" stroke-width="1.6" data-kind="${kind}-interval"/>`);
      body.push(`<circle cx="${px(panel.px(value))}" cy="${px(y + dy)}" r="3.5" fill="${color}" data-kind="${kind}" data-value="${value}"/>`);
    };
    mark(s.tau, s.tauInterval.low, s.tauInterval.high, -4, COLORS.blue, 'tau');
    mark(s.granulated, s.granulatedInterval.low, s.granulatedInterval.high, 4, COLORS.orange, 'granulated');
    if (s.tau === null && s.granulated === null)
      body.push(`<text x="${px(zero + 6)}" y="${px(y + 4)}" font-size="12" fill="${COLORS.muted}">n/a</text>`);
  });
  body.push(legend([{ text: 'tau (all networks)', color: COLORS.blue, kind: 'dot' }, { text: 'granulated tau', color: COLORS.orange, kind: 'dot' }], left, top + height + 64));
  const p = result.protocol;
  const subtitle = `${result.networks.length} networks, ${result.reached} reached training loss <= ${p.targetLoss}, ${result.excluded} left out; axes: ${p.axes.join(', ') || 'none'}\n95% bootstrap intervals (${p.resamples} resamples); (n) = networks in the statistic`;
  return svgDocument(left + width + 40, top + height + 84, 'Generalization measures against the gap', subtitle, body);
}
