/**
 * Progress of one run: a redrawn bar on a terminal, one plain line per epoch otherwise (CI logs,
 * pipes, files).
 */
export interface ProgressSink {
  write(text: string): void;
  isTTY: boolean;
}

export class Progress {
  private lastDraw = 0;
  constructor(
    private readonly out: ProgressSink,
    private readonly label: string,
    private readonly epochs: number,
  ) {}

  update(p: { epoch: number; step: number; stepsPerEpoch: number; time: number; last?: { trainLoss: number; testAccuracy: number } }): void {
    const summary = p.last ? `loss ${p.last.trainLoss.toFixed(4)}  test acc ${(100 * p.last.testAccuracy).toFixed(1)}%` : '';
    if (!this.out.isTTY) {
      if (p.last && p.step === p.stepsPerEpoch) this.out.write(`${this.label}  epoch ${p.epoch}/${this.epochs}  ${summary}  ${p.time.toFixed(1)} s\n`);
      return;
    }
    const now = Date.now();
    if (!p.last && now - this.lastDraw < 100) return; // redraw at most 10 times a second
    this.lastDraw = now;
    if (p.last) this.summary = summary;
    const done = (p.epoch - 1 + p.step / p.stepsPerEpoch) / this.epochs;
    const width = 24;
    const filled = Math.round(done * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    this.out.write(`\r\x1b[2K${this.label}  ${bar} ${String(Math.round(100 * done)).padStart(3)}%  epoch ${p.epoch}/${this.epochs}  ${p.time.toFixed(1)} s  ${this.summary}`);
  }

  /** Ends the line of a finished run (on a terminal). */
  done(): void {
    if (this.out.isTTY) this.out.write('\n');
  }

  private summary = '';
}
