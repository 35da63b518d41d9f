// Chart panels on uPlot (from its WebJar; Maven writes the pom's uplot.version into the import path), and the scheduler
// that batches every redraw into an animation frame.
import uPlot from '/webjars/uplot/@uplot.version@/dist/uPlot.esm.js';
import {el, fill, num, rate} from './dom.js';

const percent = v => num(v, 1) + ' %';
/** Counts read as integers; only an axis tick between two integers gets decimals. */
const count = v => (Number.isInteger(v) ? String(v) : num(v));
const ratioPercent = v => (Number.isFinite(v) ? num(v * 100, 2) + ' %' : '–');

/** fields: [history metric name, label]; the first field is the one overlaid per instance in "all instances". */
export const SYSTEM_CHARTS = [
  {id: 'cpu', title: 'CPU', fields: [['cpu_percent', 'CPU']], format: percent, range: [0, 100]},
  {id: 'memory', title: 'Memory', fields: [['memory_percent', 'memory']], format: percent, range: [0, 100]},
  {id: 'disk', title: 'Disk', fields: [['disk_usage_percent', 'disk']], format: percent, range: [0, 100]},
  {id: 'network', title: 'Network', fields: [['network_recv_bytes_per_sec', 'received'], ['network_sent_bytes_per_sec', 'sent']], format: rate},
  {id: 'connections', title: 'TCP connections', fields: [['active_connections', 'established']], format: count},
  {id: 'load', title: 'Load average', fields: [['load_average_1m', '1 min'], ['load_average_5m', '5 min'], ['load_average_15m', '15 min']]},
];

export const APP_CHARTS = [
  {id: 'users', title: 'Active users', fields: [['active_users', 'users']], format: count},
  {id: 'messages', title: 'Messages per minute', fields: [['messages_per_minute', 'messages/min']]},
  {id: 'response', title: 'Response time', fields: [['response_time_avg', 'average']], format: v => num(v, 1) + ' ms'},
  {id: 'errors', title: 'Error rate', fields: [['error_rate', 'errors']], format: ratioPercent},
  {id: 'ai', title: 'AI requests per minute', fields: [['ai_requests_per_minute', 'AI requests/min']]},
  {id: 'files', title: 'File transfers', fields: [['file_transfers_active', 'active']], format: count},
  {id: 'db', title: 'Database connections', fields: [['database_connections', 'connections']], format: count},
];

// distinguishable colours (Okabe–Ito, then Tableau); series are also told apart by their legend label
const COLORS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#8c564b', '#7f7f7f', '#bcbd22', '#17becf'];
const HEIGHT = 170;
/** Flush durations kept for pulseDebug.redrawCosts(): the last 2,048 (about 7 minutes at five flushes a second). */
const COST_RING = 2048;

export class ChartPanel {
  constructor(def, kind, container) {
    this.def = def;
    this.kind = kind;
    this.format = def.format || (v => num(v));
    this.caption = el('figcaption', {}, def.title);
    this.note = el('span', {className: 'chart-note'});
    this.box = el('div', {className: 'plot'});
    this.latest = el('p', {className: 'latest'});
    this.root = el('figure', {className: 'chart', id: 'chart-' + def.id}, this.caption, this.note, this.box, this.latest);
    container.appendChild(this.root);
    this.key = null;
    this.plot = null;
    this.latestKey = null;
    this.latestText = [];
  }

  /** view: {key, labels, data: [times, ...columns], note}; rebuilt only when the set of series changes. */
  show(view) {
    if (!this.plot || view.key !== this.key) {
      this.rebuild(view);
    } else {
      // immediate mode: drawn now, inside the scheduler's frame (and its measured cost), not in a microtask after it
      this.plot.batch(u => u.setData(view.data));
    }
    fill(this.note, view.note || '');
    const times = view.data[0];
    this.root.dataset.points = String(times.length);
    this.root.dataset.series = String(view.labels.length);
    this.root.dataset.last = times.length ? String(times[times.length - 1]) : '';
    this.showLatest(view);
  }

  /** The latest value of each line, written out under the chart; the spans are kept while the lines stay the same. */
  showLatest(view) {
    if (this.latestKey !== view.key) {
      this.latestKey = view.key;
      this.latestText = view.labels.map(() => document.createTextNode(''));
      fill(this.latest, view.labels.map((label, i) => el('span', {className: 'value'},
        el('span', {className: 'swatch', ariaHidden: 'true', dataset: {c: String(i % COLORS.length)}}), this.latestText[i])));
    }
    view.labels.forEach((label, i) => {
      const text = label + ': ' + this.format(lastValue(view.data[i + 1]));
      if (this.latestText[i].data !== text) this.latestText[i].data = text;
    });
  }

  rebuild(view) {
    if (this.plot) this.plot.destroy();
    this.key = view.key;
    const format = this.format;
    const range = this.def.range;
    const opts = {
      width: this.width(),
      height: HEIGHT,
      series: [{}, ...view.labels.map((label, i) => ({
        label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true, points: {show: false},
        value: (u, v) => format(v),
      }))],
      scales: {x: {time: true}, y: {range: range ? () => range : (u, min, max) => [0, max > 0 ? max * 1.1 : 1]}},
      axes: [{}, {size: axisWidth, values: (u, splits) => splits.map(v => format(v))}],
      legend: {show: view.labels.length > 1},
      cursor: {drag: {x: false, y: false}},
    };
    this.plot = new uPlot(opts, view.data, this.box);
  }

  width() {
    return Math.max(220, this.box.clientWidth || this.root.clientWidth - 16 || 300);
  }

  resize() {
    if (this.plot) this.plot.setSize({width: this.width(), height: HEIGHT});
  }
}

/** Wide enough for the longest tick label (uPlot's default is fixed and clips '132 KiB/s'). */
function axisWidth(u, values) {
  const longest = values ? Math.max(0, ...values.map(v => String(v).length)) : 4;
  return 16 + longest * 7.5;
}

function lastValue(column) {
  for (let i = column.length - 1; i >= 0; i--) {
    if (column[i] !== null && column[i] !== undefined) return column[i];
  }
  return null;
}

/**
 * One table per instance ([times, values]) into uPlot's aligned form, on a shared grid of `step` seconds (each
 * instance's samples in a cell averaged; cells no instance has are left out; gaps are nulls that lines span).
 * Instances sample on their own clocks, so their times almost never coincide: joined as they are, ten instances at
 * 1 Hz over 15 minutes make 9,000 rows, each line has a value in one row of ten, and every redraw walks all of them
 * for every line. On a grid they make at most one row per step.
 */
export function overlay(tables, step) {
  if (tables.length === 0) return [[], []];
  if (tables.length === 1) return tables[0];
  let lo = Infinity;
  let hi = -Infinity;
  for (const [times] of tables) {
    if (times.length === 0) continue;
    lo = Math.min(lo, times[0]);
    hi = Math.max(hi, times[times.length - 1]);
  }
  if (lo > hi) return [[], ...tables.map(() => [])];
  const first = Math.floor(lo / step);
  const cells = Math.floor(hi / step) - first + 1;
  const used = new Uint8Array(cells);
  const sums = tables.map(([times, values]) => {
    const sum = new Float64Array(cells);
    const count = new Uint32Array(cells);
    for (let i = 0; i < times.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) continue;
      const c = Math.floor(times[i] / step) - first;
      sum[c] += v;
      count[c]++;
      used[c] = 1;
    }
    return {sum, count};
  });
  const out = [[], ...tables.map(() => [])];
  for (let c = 0; c < cells; c++) {
    if (!used[c]) continue;
    out[0].push((first + c) * step);
    for (let k = 0; k < sums.length; k++) {
      const n = sums[k].count[c];
      out[k + 1].push(n ? sums[k].sum[c] / n : null);
    }
  }
  return out;
}

/**
 * Batches redraws: any number of new samples between two frames cost one redraw per chart, at most every
 * minIntervalMs, and none while the tab is hidden (animation frames pause there; the data keeps arriving).
 * The time each flush takes is kept in a small ring, so a benchmark can read what a redraw costs.
 */
export class RedrawScheduler {
  constructor(minIntervalMs) {
    this.minIntervalMs = minIntervalMs;
    this.jobs = new Set();
    this.pending = false;
    this.last = 0;
    this.frames = 0;
    this.costs = new Float64Array(COST_RING);
  }

  request(job) {
    this.jobs.add(job);
    if (this.pending) return;
    this.pending = true;
    const wait = Math.max(0, this.last + this.minIntervalMs - performance.now());
    setTimeout(() => requestAnimationFrame(() => this.flush()), wait);
  }

  flush() {
    this.pending = false;
    const start = performance.now();
    this.last = start;
    const jobs = [...this.jobs];
    this.jobs.clear();
    for (const job of jobs) job();
    this.costs[this.frames % COST_RING] = performance.now() - start;
    this.frames++;
  }

  /** Milliseconds spent in each of the last (up to COST_RING) flushes, oldest first. */
  recentCosts() {
    const n = Math.min(this.frames, COST_RING);
    const out = [];
    for (let i = this.frames - n; i < this.frames; i++) out.push(this.costs[i % COST_RING]);
    return out;
  }
}
