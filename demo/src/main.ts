/**
 * The demo page: controls → the training worker (worker.ts); its losses and accuracies → the
 * curves (chart.ts). All numeric work is in the worker; this thread only draws.
 */
import { DEFAULTS } from '../../examples/mnist/defaults.js';
import { draw, type Series } from './chart.js';
import type { EvalResult, FromWorker, ModelId, OptimizerId, RunConfig, ToWorker, TrainConfig } from './protocol.js';

const NAMES: Record<OptimizerId, string> = { ef: 'empirical Fisher (auto)', kronecker: 'EF kronecker', ekfac: 'EF ekfac', sgd: 'SGD', adam: 'Adam' };
const COLORS: Record<OptimizerId, string> = { ef: '#d9480f', kronecker: '#c2255c', ekfac: '#7048e8', sgd: '#1c7ed6', adam: '#2b8a3e' };
const IDS: OptimizerId[] = ['ef', 'kronecker', 'ekfac', 'sgd', 'adam'];
const FIRST_ORDER: OptimizerId[] = ['sgd', 'adam'];
const CURVATURE: OptimizerId[] = ['ef', 'kronecker', 'ekfac'];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('chart');
const status = $('status');
const startButton = $<HTMLButtonElement>('start');
const pauseButton = $<HTMLButtonElement>('pause');

interface Track {
  /** test loss and accuracy after x steps, and the milliseconds of steps taken by then */
  evals: { x: number; loss: number; accuracy: number; ms: number }[];
  /** exponential moving average of the training minibatch loss */
  smooth: { x: number; y: number }[];
  ema: number | undefined;
  ms: number;
  msCount: number;
  error?: string;
}

/** What the page knows; also read by the end-to-end test (window.__demo). */
const state = {
  ready: false,
  running: false,
  step: 0,
  config: undefined as TrainConfig | undefined,
  d: 0,
  tracks: new Map<OptimizerId, Track>(),
  errors: [] as string[],
  /** the best first-order run's latest test loss, and each run's time to reach it */
  target: undefined as number | undefined,
  timeToTarget: new Map<OptimizerId, { ms: number; ratio: number } | undefined>(),
};
(window as unknown as { __demo: typeof state }).__demo = state;

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (m: ToWorker) => worker.postMessage(m);

function num(id: string, fallback: number): number {
  const v = Number($<HTMLInputElement>(id).value);
  return Number.isFinite(v) ? v : fallback;
}

function readConfig(): TrainConfig {
  const model = $<HTMLSelectElement>('model').value as ModelId;
  const runs: RunConfig[] = [];
  for (const id of IDS) {
    const hp = DEFAULTS[model][id];
    if (!hp || !$<HTMLInputElement>(`on-${id}`).checked) continue;
    const lr = num(`lr-${id}`, hp.lr);
    if (CURVATURE.includes(id)) {
      runs.push({ id, lr, damping: Math.max(0, num(`damping-${id}`, hp.damping ?? 0.01)), decay: hp.decay, updateEvery: hp.updateEvery, momentum: hp.momentum, lossChangeBound: hp.lossChangeBound });
    } else runs.push(id === 'sgd' ? { id, lr, momentum: hp.momentum ?? 0.9 } : { id, lr });
  }
  return {
    model,
    batch: Math.max(1, Math.round(num('batch', 128))),
    runs,
    evalEvery: Math.max(1, Math.round(num('evalEvery', 10))),
    maxSteps: Math.max(0, Math.round(num('maxSteps', 0))),
    seed: 1,
  };
}

let scheduled = false;
function redraw(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    render();
  });
}

/** The target (the lowest of the first-order runs' latest test losses) and each run's time to it. */
function updateTimeToTarget(): void {
  const latest = (t: Track) => t.evals[t.evals.length - 1];
  let best: Track | undefined;
  for (const id of FIRST_ORDER) {
    const t = state.tracks.get(id);
    if (t && !t.error && t.evals.length > 1 && (!best || latest(t).loss < latest(best).loss)) best = t;
  }
  state.timeToTarget.clear();
  state.target = best ? latest(best).loss : undefined;
  if (!best) return;
  const target = state.target!;
  const reach = (t: Track) => t.evals.find((e) => e.loss <= target)?.ms;
  const bestMs = reach(best)!;
  for (const [id, t] of state.tracks) {
    const ms = reach(t);
    state.timeToTarget.set(id, ms === undefined ? undefined : { ms, ratio: bestMs > 0 ? ms / bestMs : 1 });
  }
}

function render(): void {
  const loss: Series[] = [];
  const acc: Series[] = [];
  for (const [id, t] of state.tracks) {
    loss.push({ label: NAMES[id], color: COLORS[id], points: t.evals.map((e) => ({ x: e.x, y: e.loss })), faint: t.smooth });
    acc.push({ label: NAMES[id], color: COLORS[id], points: t.evals.map((e) => ({ x: e.x, y: e.accuracy })) });
  }
  draw(
    canvas,
    [
      {
        title: `${state.config?.model === 'autoencoder' ? 'Bernoulli cross-entropy' : 'cross-entropy'} loss (test: thick, training batches: thin)`,
        series: loss,
        format: (y) => (y >= 10 ? y.toFixed(0) : y.toFixed(2)),
        fromZero: true,
      },
      {
        title: state.config?.model === 'autoencoder' ? 'test pixels on the right side of ½' : 'test accuracy',
        series: acc,
        format: (y) => `${Math.round(y * 100)}%`,
        yRange: accuracyRange(),
      },
    ],
    'steps',
  );
  renderStats();
}

function accuracyRange(): [number, number] {
  let lo = 1;
  for (const t of state.tracks.values()) for (const e of t.evals.slice(1)) lo = Math.min(lo, e.accuracy);
  return [Math.max(0, Math.floor(lo * 10) / 10 - 0.1), 1];
}

function renderStats(): void {
  updateTimeToTarget();
  const target = state.target;
  const rows = [...state.tracks].map(([id, t]) => {
    const last = t.evals[t.evals.length - 1];
    const ms = t.msCount ? (t.ms / t.msCount).toFixed(1) : '–';
    const tt = state.timeToTarget.get(id);
    const ttText = target === undefined ? '–' : tt ? `${(tt.ms / 1000).toFixed(2)} s (${tt.ratio.toFixed(2)}×)` : 'not reached';
    return `<tr><td><span class="swatch ${id}"></span>${NAMES[id]}</td><td>test loss ${last ? last.loss.toFixed(3) : '–'}</td>
      <td>accuracy ${last ? (last.accuracy * 100).toFixed(1) + '%' : '–'}</td><td>${ms} ms/step</td>
      <td class="ttt" data-id="${id}">time to target ${ttText}</td><td>${t.error ? 'stopped: ' + t.error : ''}</td></tr>`;
  });
  const caption =
    target === undefined ? '' : `<caption>target: test loss ${target.toFixed(3)}, the best of SGD's and Adam's latest; time to target counts step time only</caption>`;
  $('stats').innerHTML = rows.length ? `<table>${caption}${rows.join('')}</table>` : '';
}

function setStatus(text: string, error = false): void {
  status.textContent = text;
  status.classList.toggle('error', error);
}

function describe(): string {
  const c = state.config;
  if (!c) return '';
  const names: Record<ModelId, string> = { logistic: 'logistic regression', mlp: 'MLP', conditioned: 'logistic regression on T x', autoencoder: 'autoencoder' };
  return `${names[c.model]} (d = ${state.d.toLocaleString('en')}), batch ${c.batch}`;
}

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'ready':
      state.ready = true;
      startButton.disabled = false;
      setStatus(
        `ready: ${m.train} training and ${m.test} test digits; WebAssembly SIMD ${m.simd ? 'on' : 'off'}, ` +
          `crossOriginIsolated ${m.isolated}. Press "Train from scratch".`,
      );
      render();
      break;
    case 'started':
      state.config = m.config;
      state.d = m.d;
      state.step = 0;
      state.tracks = new Map(m.config.runs.map((r) => [r.id, { evals: [], smooth: [], ema: undefined, ms: 0, msCount: 0 }]));
      break;
    case 'step':
      state.step = m.step;
      for (const r of m.results) {
        const t = state.tracks.get(r.id)!;
        t.ema = t.ema === undefined ? r.loss : 0.9 * t.ema + 0.1 * r.loss;
        t.smooth.push({ x: m.step, y: t.ema });
        t.ms += r.ms;
        t.msCount++;
      }
      setStatus(`training ${describe()}: step ${m.step}`);
      redraw();
      break;
    case 'eval':
      for (const r of m.results as EvalResult[]) {
        const t = state.tracks.get(r.id);
        t?.evals.push({ x: m.step, loss: r.loss, accuracy: r.accuracy, ms: t.ms });
      }
      redraw();
      break;
    case 'run-error': {
      const t = state.tracks.get(m.id);
      if (t) t.error = m.message;
      state.errors.push(`${m.id} at step ${m.step}: ${m.message}`);
      redraw();
      break;
    }
    case 'state':
      state.running = m.running;
      pauseButton.disabled = state.config === undefined;
      pauseButton.textContent = m.running ? 'Pause' : m.done ? `Continue ${state.config?.maxSteps} more steps` : 'Resume';
      if (!m.running) setStatus(`${describe()}: ${m.step} steps${m.done ? ' (done)' : ' (paused)'}`);
      break;
    case 'error':
      state.errors.push(m.message);
      setStatus(`error: ${m.message}`, true);
      break;
  }
};
worker.onerror = (e) => {
  state.errors.push(e.message);
  setStatus(`worker error: ${e.message}`, true);
};

startButton.onclick = () => {
  const config = readConfig();
  if (config.runs.length === 0) return setStatus('choose at least one optimizer', true);
  send({ type: 'start', config });
};
pauseButton.onclick = () => send(state.running ? { type: 'pause' } : { type: 'resume' });
/** Each optimizer's swept settings for the task (examples/mnist/defaults.ts); a row without any is unavailable. */
function applyDefaults(): void {
  const model = $<HTMLSelectElement>('model').value as ModelId;
  for (const id of IDS) {
    const hp = DEFAULTS[model][id];
    const on = $<HTMLInputElement>(`on-${id}`);
    $(`row-${id}`).classList.toggle('unavailable', !hp);
    on.disabled = !hp;
    on.checked = !!hp;
    if (!hp) continue;
    $<HTMLInputElement>(`lr-${id}`).value = String(hp.lr);
    if (CURVATURE.includes(id)) $<HTMLInputElement>(`damping-${id}`).value = String(hp.damping);
  }
  $('defaults-note').textContent =
    `Defaults: each optimizer's swept settings for this task (examples/mnist/SWEEP.md); the empirical-Fisher runs also use its decay 0.95, loss-change bound ε and refresh period` +
    (DEFAULTS[model].ef ? '.' : `; the 'auto' (low-rank) empirical Fisher is not offered here: seconds per step at ${model === 'autoencoder' ? '437,664' : 'this many'} parameters.`);
}
$('model').addEventListener('change', applyDefaults);
applyDefaults();
// a changed model or batch size needs fresh parameters: say so
for (const id of ['model', 'batch', ...IDS.flatMap((o) => [`lr-${o}`, `on-${o}`]), ...CURVATURE.map((o) => `damping-${o}`)]) {
  $(id).addEventListener('change', () => {
    if (state.config) setStatus('settings changed: press "Train from scratch" to apply them');
  });
}
window.addEventListener('resize', redraw);
render();
