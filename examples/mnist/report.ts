/** The results table printed at the end of the demo. */

export interface RunSummary {
  task: string;
  /** the problem: logistic, mlp, conditioned, autoencoder */
  problem: string;
  optimizer: string;
  hyperparameters: string;
  finalTrainLoss: number;
  /** test accuracy (classes), or the fraction of pixels on the right side of ½ (autoencoder) */
  testAccuracy: number;
  wallTime: number;
  stepsPerSecond: number;
  /** the target of this run's time-to-target: the best first-order method's final training loss */
  target: number | undefined;
  /** seconds until the training loss first reached the target; undefined: not reached */
  timeToTarget: number | undefined;
  /** timeToTarget / the best first-order method's own time to it */
  timeToTargetRatio: number | undefined;
}

function seconds(v: number): string {
  return v >= 10 ? `${v.toFixed(0)} s` : `${v.toFixed(1)} s`;
}

/** A Markdown table (it reads well in a terminal too). */
export function formatTable(runs: readonly RunSummary[]): string {
  const header = ['task', 'problem', 'optimizer', 'hyperparameters', 'final train loss', 'test acc.', 'wall time', 'steps/s', 'time to target'];
  const rows = runs.map((r) => [
    r.task,
    r.problem,
    r.optimizer,
    r.hyperparameters,
    Number.isFinite(r.finalTrainLoss) ? r.finalTrainLoss.toFixed(4) : 'diverged',
    `${(100 * r.testAccuracy).toFixed(2)}%`,
    seconds(r.wallTime),
    r.stepsPerSecond >= 100 ? r.stepsPerSecond.toFixed(0) : r.stepsPerSecond.toFixed(1),
    r.target === undefined
      ? ''
      : r.timeToTarget === undefined
        ? 'not reached'
        : `${seconds(r.timeToTarget)} (${r.timeToTargetRatio!.toFixed(2)}×)`,
  ]);
  const numeric = [false, false, false, false, true, true, true, true, true];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((s, c) => (numeric[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (numeric[c] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
