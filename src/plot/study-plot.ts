/** The study's chart: Kendall's tau and granulated tau of every measure with the gap, with bootstrap intervals. */
import type { StudyResult } from '../study/study.js';
import { textWidth } from './text-metrics.js';
import { COLORS, el, header, linearAxis, Panel, svgDocument, textEl, type Axis, type Markup } from './svg.js';

const ROW = 24;
const MIN_LEFT = 190;
const WIDTH = 460;

export function studyPlotSvg(result: StudyResult): string {
  const stats = result.statistics;
  const rows = Math.max(stats.length, 1);
  const label = (s: (typeof stats)[number]) => `${s.measure} (${s.networks})`;
  // The measure names sit left of the panel: it starts where the longest one ends (rho columns are long).
  const LEFT = Math.max(MIN_LEFT, Math.ceil(Math.max(0, ...stats.map((s) => textWidth(label(s), 12))) + 20));
  const canvas = LEFT + WIDTH + 40;
  const p = result.protocol;
  const subtitle = `${result.networks.length} networks, ${result.reached} reached training loss <= ${p.targetLoss}, ${result.excluded} left out; axes: ${p.axes.join(', ') || 'none'}\n95% bootstrap intervals (${p.resamples} resamples); (n) = networks in the statistic`;
  const head = header(canvas, 'Generalization measures against the gap', subtitle, [
    { text: 'tau (all networks)', color: COLORS.blue, kind: 'dot' },
    { text: 'granulated tau', color: COLORS.orange, kind: 'dot' },
  ]);
  const top = head.bottom + 16;
  const height = rows * ROW;
  // One row per measure, top to bottom; no numeric ticks on this axis.
  const yAxis: Axis = { min: 0, max: rows, log: false, position: (v: number) => 1 - v / rows, ticks: [] };
  const panel = new Panel(LEFT, top, WIDTH, height, linearAxis(-1, 1, 4, true), yAxis);
  const body: Markup[] = [head.markup, panel.frame('Kendall tau with the generalization gap', '')];
  const zero = panel.px(0);
  body.push(el('line', { x1: zero, y1: top, x2: zero, y2: top + height, stroke: COLORS.grey, 'stroke-dasharray': '4,3' }));
  stats.forEach((s, i) => {
    const y = top + (i + 0.5) * ROW;
    body.push(textEl('text', { x: LEFT - 8, y: y + 4, 'text-anchor': 'end', 'font-size': 12, fill: COLORS.text }, label(s)));
    const mark = (value: number | null, low: number | null, high: number | null, dy: number, color: string, kind: string) => {
      if (value === null) return;
      if (low !== null && high !== null)
        body.push(el('line', { x1: panel.px(low), y1: y + dy, x2: panel.px(high), y2: y + dy, stroke: color, 'stroke-width': 1.6, 'data-kind': `${kind}-interval` }));
      body.push(el('circle', { cx: panel.px(value), cy: y + dy, r: 3.5, fill: color, 'data-kind': kind, 'data-value': String(value) }));
    };
    mark(s.tau, s.tauInterval.low, s.tauInterval.high, -4, COLORS.blue, 'tau');
    mark(s.granulated, s.granulatedInterval.low, s.granulatedInterval.high, 4, COLORS.orange, 'granulated');
    if (s.tau === null && s.granulated === null)
      body.push(textEl('text', { x: zero + 6, y: y + 4, 'font-size': 12, fill: COLORS.muted }, 'n/a'));
  });
  return svgDocument(canvas, top + height + Panel.X_TITLE_OFFSET + 20, 'Generalization measures against the gap', body);
}
