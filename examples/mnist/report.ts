/** The results table printed at the end of the demo. */

export interface RunSummary {
  model: string;
  optimizer: string;
  hyperparameters: string;
  finalTrainLoss: number;
  testAccuracy: number;
  wallTime: number;
  stepsPerSecond: number;
}

/** A Markdown table (it reads well in a terminal too). */
export function formatTable(runs: readonly RunSummary[]): string {
  const header = ['model', 'optimizer', 'hyperparameters', 'final train loss', 'test accuracy', 'wall time', 'steps/s'];
  const rows = runs.map((r) => [
    r.model,
    r.optimizer,
    r.hyperparameters,
    Number.isFinite(r.finalTrainLoss) ? r.finalTrainLoss.toFixed(4) : 'diverged',
    `${(100 * r.testAccuracy).toFixed(2)}%`,
    `${r.wallTime.toFixed(1)} s`,
    r.stepsPerSecond >= 100 ? r.stepsPerSecond.toFixed(0) : r.stepsPerSecond.toFixed(1),
  ]);
  const numeric = [false, false, false, true, true, true, true];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((s, c) => (numeric[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (numeric[c] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
