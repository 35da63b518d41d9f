// The 1 h / 24 h summary with trends and forecasts, and the optimizer's actions.
import {el, fill, byId, num, rate, dateTime} from './dom.js';

const SUMMARY_METRICS = [
  ['cpu_percent', 'CPU %', num], ['memory_percent', 'Memory %', num], ['disk_usage_percent', 'Disk %', num],
  ['active_connections', 'TCP connections', num], ['load_average_1m', 'Load (1 min)', num],
  ['network_recv_bytes_per_sec', 'Network received', rate], ['network_sent_bytes_per_sec', 'Network sent', rate],
];
const STATS = ['avg', 'min', 'max', 'p95'];

export class SummaryPanel {
  /** Reads /api/metrics/summary for 1 h and 24 h of one instance and shows them side by side with the trends. */
  async load(instance) {
    const query = h => '/api/metrics/summary?hours=' + h + '&instance=' + encodeURIComponent(instance);
    const generation = this.generation = (this.generation || 0) + 1;
    const [hour, day] = await Promise.all([fetchSummary(query(1)), fetchSummary(query(24))]);
    if (generation !== this.generation) return; // a newer request (another instance) is on its way
    fill(byId('summary-title'), 'Summary of ' + instance);
    if (!hour.ok && !day.ok) {
      fill(byId('summary-note'), hour.status === 404 ? 'No history for ' + instance + ' yet.' : 'History did not answer (' + hour.status + ').');
      fill(byId('summary-rows'));
      fill(byId('forecast'));
      return;
    }
    const h = hour.body || {};
    const d = day.body || {};
    fill(byId('summary-note'), (d.sample_count || h.sample_count || 0) + ' samples in the last 24 h'
      + (d.computed_from ? ' (' + d.computed_from.hour_rollups + ' hour rollups, ' + d.computed_from.minute_rollups
        + ' minute rollups, ' + d.computed_from.raw_samples + ' raw samples)' : '') + '.');
    const trends = d.trends || h.trends || {};
    fill(byId('summary-rows'), SUMMARY_METRICS.map(([name, label, format]) => {
      const a = (h.metrics || {})[name] || {};
      const b = (d.metrics || {})[name] || {};
      const slope = trends[name] ? trends[name].slope_per_hour : null;
      return el('tr', {},
        el('th', {scope: 'row'}, label),
        STATS.map(s => el('td', {className: 'num'}, format(a[s]))),
        STATS.map(s => el('td', {className: 'num'}, format(b[s]))),
        el('td', {className: 'num'}, Number.isFinite(slope) ? (slope > 0 ? '↗ +' : slope < 0 ? '↘ ' : '→ ') + format(slope) + ' /h' : '–'));
    }));
    const forecast = d.forecast || h.forecast || {};
    fill(byId('forecast'),
      el('li', {}, 'Disk full: ' + eta(forecast.disk_full_in_hours)),
      el('li', {}, 'Memory full: ' + eta(forecast.memory_full_in_hours)));
  }
}

async function fetchSummary(url) {
  const r = await fetch(url, {credentials: 'same-origin'});
  return {ok: r.ok, status: r.status, body: r.ok ? await r.json() : null};
}

function eta(hours) {
  if (!Number.isFinite(hours)) return 'not rising (no forecast)';
  if (hours < 48) return 'in about ' + num(hours, 1) + ' h at the current trend';
  return 'in about ' + num(hours / 24, 1) + ' days at the current trend';
}

const MAX_ACTIONS = 100;

/** Renders are requested through `schedule` (the page's animation-frame batcher): a burst of actions costs one render. */
export class OptimizerPanel {
  constructor(schedule) {
    this.schedule = schedule;
    this.renderJob = () => this.render();
    this.actions = [];
    this.apiStatus = null;
    this.apiMessage = null;
  }

  async load() {
    try {
      const r = await fetch('/api/optimizer/actions', {credentials: 'same-origin'});
      this.apiStatus = r.status;
      if (r.ok) {
        const body = await r.json();
        const list = Array.isArray(body) ? body : body.actions || [];
        this.actions = list.slice(0, MAX_ACTIONS);
      } else {
        const body = await r.json().catch(() => null);
        this.apiMessage = body && typeof body.message === 'string' ? body.message : null;
      }
    } catch (e) {
      this.apiStatus = 'unreachable';
    }
    this.schedule(this.renderJob);
  }

  /** An optimizer.actions event from the stream: applied, reverted, skipped, failed, or verified with a result. */
  onEvent(action) {
    if (!action || typeof action !== 'object') return;
    this.actions.unshift(action);
    if (this.actions.length > MAX_ACTIONS) this.actions.length = MAX_ACTIONS;
    this.schedule(this.renderJob);
  }

  render() {
    let note;
    if (this.apiStatus === 404) {
      note = 'The optimizer is not part of this build: GET /api/optimizer/actions answered 404. '
        + (this.actions.length ? 'Actions received live on the stream are shown.' : 'Its actions will appear here once it runs.');
    } else if (this.apiStatus !== null && this.apiStatus !== 200) {
      note = 'The optimizer API did not answer (' + this.apiStatus + ')' + (this.apiMessage ? ': ' + this.apiMessage : '') + '.';
    } else {
      note = this.actions.length ? '' : 'No optimizer actions yet.';
    }
    fill(byId('optimizer-note'), note);
    fill(byId('optimizer-rows'), this.actions.map(a => el('tr', {className: 'state-' + cssWord(a.state)},
      el('td', {}, Number.isFinite(a.timestamp) ? dateTime(epochSeconds(a.timestamp)) : '–'),
      el('td', {className: 'instance'}, a.instance),
      el('td', {}, a.rule),
      el('td', {}, a.action),
      el('td', {}, a.state),
      el('td', {className: 'result'}, result(a)),
      el('td', {className: 'summary'}, a.reason),
      el('td', {className: 'metrics'}, metrics(a.metrics)))));
  }
}

/** The optimizer's contract stamps actions in epoch milliseconds; seconds are accepted too. */
function epochSeconds(t) {
  return t > 1e11 ? t / 1000 : t;
}

function result(a) {
  if (a.state !== 'verified') return '';
  if (a.result === 'effective') return '✓ effective';
  if (a.result === 'ineffective') return '✗ ineffective';
  return String(a.result);
}

function metrics(m) {
  if (!m || typeof m !== 'object') return m === undefined || m === null ? '' : String(m);
  return Object.entries(m).map(([k, v]) => k + '=' + (typeof v === 'number' ? num(v) : JSON.stringify(v))).join(', ');
}

function cssWord(value) {
  return /^[a-z_]{1,20}$/.test(String(value)) ? value : 'other';
}
