// What each chart shows: live buffers (the last 15 minutes, kept up to date by the stream) or a longer range read
// from history rollups, for one instance or overlaid for all instances.
import {overlay} from './charts.js';

export const ALL = '*';

/** Longer ranges, read from /api/metrics/history; the server picks the tier (raw, minute, hour) from the step. */
export const RANGES = {
  live: {label: 'last 15 min, live'},
  '1h': {seconds: 3600, step: 15, label: '1 h, 15 s averages'},
  '24h': {seconds: 86400, step: 300, label: '24 h, 5 min averages'},
  '7d': {seconds: 7 * 86400, step: 3600, label: '7 days, hourly rollups'},
};
const MAX_OVERLAY = 10;
/** The live overlay's grid: 1 s cells (the samplers' default rate), coarser only if a window would need more cells. */
const LIVE_MAX_CELLS = 1200;
const PARALLEL = 4;

/** The view of one chart from the live store. */
export function liveView(store, kind, def, selected) {
  if (selected !== ALL) {
    const fields = def.fields.map(f => f[0]);
    return {
      key: 'live|' + selected + '|' + fields.join(','),
      labels: def.fields.map(f => f[1]),
      data: store.columns(kind, selected, fields),
    };
  }
  const [field, label] = def.fields[0];
  const instances = store.instances(kind);
  const tables = instances.map(i => store.columns(kind, i, [field]));
  return {
    key: 'live|*|' + instances.join('\u0000'),
    labels: instances,
    data: overlay(tables, Math.max(1, Math.ceil(store.windowSeconds / LIVE_MAX_CELLS))),
    note: def.fields.length > 1 ? 'per instance: ' + label : '',
  };
}

/** The view of one chart over a longer range, from history (averages per step). */
export async function historyView(kind, def, selected, instances, rangeKey, nowSeconds) {
  const range = RANGES[rangeKey];
  const to = Math.floor(nowSeconds);
  const from = to - range.seconds;
  const path = kind === 'app' ? '/api/metrics/app/history' : '/api/metrics/history';
  const series = selected === ALL
    ? instances.slice(0, MAX_OVERLAY).map(i => ({instance: i, field: def.fields[0][0], label: i}))
    : def.fields.map(([field, label]) => ({instance: selected, field, label}));
  const tables = await limited(series.map(s => () => fetchRange(path, s, from, to, range.step)));
  const note = selected === ALL
    ? (def.fields.length > 1 ? 'per instance: ' + def.fields[0][1] + '; ' : '') + range.label
      + (instances.length > MAX_OVERLAY ? ' (first ' + MAX_OVERLAY + ' instances)' : '')
    : range.label;
  return {
    key: rangeKey + '|' + selected + '|' + series.map(s => s.label).join('\u0000'),
    labels: series.map(s => s.label),
    data: overlay(tables, range.step),
    note,
  };
}

async function fetchRange(path, s, from, to, step) {
  const query = new URLSearchParams({metric: s.field, instance: s.instance, from, to, step});
  const response = await fetch(path + '?' + query, {credentials: 'same-origin'});
  if (!response.ok) return [[], []];
  const body = await response.json();
  const points = (body.points || []).filter(p => Number.isFinite(p.t));
  return [points.map(p => p.t), points.map(p => (Number.isFinite(p.avg) ? p.avg : null))];
}


/** Runs the tasks PARALLEL at a time (the browser would queue them per host anyway), keeping their order. */
async function limited(tasks) {
  const results = new Array(tasks.length);
  let next = 0;
  async function worker() {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  }
  await Promise.all(Array.from({length: Math.min(PARALLEL, tasks.length)}, worker));
  return results;
}
