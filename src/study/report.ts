/** A short markdown report of a study: the protocol, the counts, what was left out, tau per measure. */
import { STUDY_AXES, type StudyResult } from './study.js';

const num = (v: number | null, digits = 3) => (v === null ? 'n/a' : Number(v.toFixed(digits)).toString());
const range = (i: { low: number | null; high: number | null }) => (i.low === null || i.high === null ? '—' : `[${num(i.low, 2)}, ${num(i.high, 2)}]`);

export function studyReportMarkdown(r: StudyResult, context = ''): string {
  const p = r.protocol;
  const excluded = r.networks.filter((n) => !n.reached);
  const values = (k: keyof StudyResult['networks'][number]['axes']) => [...new Set(r.networks.map((n) => n.axes[k] ?? '—'))].join(', ');
  const cell = (v: string | number | null) => (v === null ? '—' : String(v));
  const lines = [
    '# Generalization study',
    '',
    ...(context ? [context, ''] : []),
    '## Protocol',
    '',
    `- Data: ${p.data}; ${p.trainSamples} training and ${p.testSamples} test samples (stratified split, fraction ${p.testFraction}, seed ${p.splitSeed}); backend ${p.backend}.`,
    `- Grid: widths ${values('width')}; depths ${values('depth')}; seeds ${values('seed')}; weight decay ${values('weightDecay')}; label noise ${values('labelNoise')}; learning rates ${values('lr')}; batch sizes ${values('batchSize')} (0: full batch); activations ${values('activation')}; training-set sizes ${values('trainSize')}; rho ${values('rho')} (${r.networks.length} networks).`,
    `- Every network trained until its training cross-entropy was <= ${p.targetLoss}; the gap is training accuracy (on the labels trained on) minus test accuracy.`,
    `- Kendall's tau-b over the networks that reached the target, Jiang et al.'s granulated tau over the axes that vary (${p.axes.join(', ') || 'none'}), 95% percentile bootstrap intervals (${p.resamples} resamples).`,
    '',
    '## Counts',
    '',
    `${r.reached} of ${r.networks.length} networks reached the target and are in the statistics; ${r.excluded} were left out.`,
    ...(excluded.length ? ['', `| ${STUDY_AXES.join(' | ')} | stopped by | training loss |`, `|${'---|'.repeat(STUDY_AXES.length + 2)}`,
      ...excluded.map((n) => `| ${STUDY_AXES.map((a) => cell(n.axes[a])).join(' | ')} | ${n.stopReason} | ${num(n.trainLoss, 4)} |`)] : []),
    ...(r.note ? ['', `**${r.note}**`] : []),
    '',
    '## Rank correlation with the gap',
    '',
    '| measure | networks | tau | 95% interval | granulated tau | 95% interval |',
    '|---|---|---|---|---|---|',
    ...r.statistics.map((s) => `| ${s.measure} | ${s.networks} | ${num(s.tau)} | ${range(s.tauInterval)} | ${num(s.granulated)} | ${range(s.granulatedInterval)} |`),
    '',
    'A measure with fewer networks than reached the target was undefined for the others (docs/measures.md).',
    '',
  ];
  return lines.join('\n');
}
