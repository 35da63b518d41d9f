// The live operations page: wires the stream, the bounded store, the charts and the panels together.
import {el, fill, text, byId, num} from './dom.js';
import {Store} from './store.js';
import {PulseStream} from './stream.js';
import {ChartPanel, RedrawScheduler, SYSTEM_CHARTS, APP_CHARTS} from './charts.js';
import {ALL, RANGES, liveView, historyView} from './views.js';
import {AlertsPanel} from './alerts.js';
import {SummaryPanel, OptimizerPanel} from './panels.js';
import {setUpAdminForm} from './admin.js';

const BACKFILL_MINUTES = 15;
const HISTORY_REFRESH_MS = 60000;
const SUMMARY_REFRESH_MS = 60000;

/**
 * Live charts are redrawn at most once a second: samples come at 1 Hz per instance, and in a 15-minute window a second
 * is less than a pixel, so redrawing more often only costs (ten instances measured, BENCHMARKS.md "Dashboard").
 */
const LIVE_REDRAW_MS = 1000;

const store = new Store({windowSeconds: BACKFILL_MINUTES * 60, maxPoints: 1200, maxInstances: 64});
const scheduler = new RedrawScheduler(LIVE_REDRAW_MS);
/** Tables, a range loaded from history and resizes: in the next animation frame, however many requests came. */
const panels = new RedrawScheduler(0);
const charts = {
  system: SYSTEM_CHARTS.map(def => new ChartPanel(def, 'system', byId('system-charts'))),
  app: APP_CHARTS.map(def => new ChartPanel(def, 'app', byId('app-charts'))),
};
const view = {instance: sessionStorage.getItem('pulse.instance') || ALL, range: 'live', node: null, generation: 0};
const schedule = job => panels.request(job);
const alerts = new AlertsPanel(() => stream.serverNow(), schedule);
const summary = new SummaryPanel();
const optimizer = new OptimizerPanel(schedule);
const dirty = new Set();
let knownInstances = '';

const stream = new PulseStream({
  backfillMinutes: BACKFILL_MINUTES,
  onFrame,
  onStatus: showStatus,
  onConnected: (hello, reconnect) => {
    view.node = hello.instance;
    alerts.reload();
    if (!reconnect) {
      optimizer.load();
      loadSummary();
    }
  },
});

function onFrame(frame) {
  switch (frame.type) {
    case 'system':
    case 'app':
      if (store.add(frame.type, frame.data)) {
        dirty.add(frame.type);
        scheduler.request(render);
      }
      break;
    case 'alerts':
      alerts.onEvent(frame.data);
      break;
    case 'optimizer':
      optimizer.onEvent(frame.data);
      break;
    default:
      break;
  }
}

/** One animation frame: the instance picker, then the live charts whose kind got new samples. */
function render() {
  updatePicker();
  if (view.range === 'live') {
    for (const kind of dirty) {
      for (const chart of charts[kind]) chart.show(liveView(store, kind, chart.def, view.instance));
    }
  }
  dirty.clear();
  const hasApp = store.instances('app').length > 0;
  byId('app-charts').hidden = !hasApp && view.range === 'live';
  fill(byId('app-note'), hasApp ? '' : 'No application samples on metrics.app in the last ' + BACKFILL_MINUTES
    + ' minutes. The chat gateway publishes them when it is deployed; any service can post them to /api/metrics/app.');
}

function updatePicker() {
  const instances = [...new Set([...store.instances('system'), ...store.instances('app')])].sort();
  const signature = instances.join('\u0000');
  if (signature === knownInstances) return;
  knownInstances = signature;
  const picker = byId('instance');
  const options = [el('option', {value: ALL}, 'All instances (' + instances.length + ')')];
  for (const name of instances) options.push(el('option', {value: name}, name));
  if (view.instance !== ALL && !instances.includes(view.instance)) {
    options.push(el('option', {value: view.instance}, view.instance + ' (no recent samples)'));
  }
  fill(picker, options);
  picker.value = view.instance;
}

/** The badge, the lag and the throttle note: called for every sample, so the DOM is touched only when a text changes. */
function showStatus(s) {
  const badge = byId('status');
  const lag = byId('lag');
  const label = {
    connecting: '… connecting',
    backfilling: '⇣ loading from history',
    live: '● live',
    stale: '⚠ stale: no sample for ' + s.quiet + ' s',
    reconnecting: '↻ reconnecting' + (s.retryIn !== null ? ' in ' + s.retryIn + ' s' : '') + (s.attempt > 1 ? ' (attempt ' + s.attempt + ')' : ''),
    login: '🔒 login needed',
  }[s.state];
  text(badge, label);
  if (badge.dataset.state !== s.state) {
    badge.className = 'badge ' + s.state;
    badge.dataset.state = s.state;
  }
  if (s.state === 'login') {
    if (!lag.querySelector('a')) fill(lag, el('a', {href: '/login.html'}, 'Log in'));
  } else {
    text(lag, s.lag === null ? '' : 'delivery lag ' + num(s.lag, s.lag < 10 ? 2 : 0) + ' s');
  }
  lag.dataset.lag = s.lag === null ? '' : String(s.lag);
  const mode = byId('mode');
  text(mode, s.throttleMs > 0 ? 'server busy: samples averaged over ' + num(s.throttleMs / 1000, 0) + ' s' : '');
  mode.dataset.throttleMs = String(s.throttleMs || 0);
}

/** Instance or range changed: redraw every chart from the store, or load the range from history. */
async function reshow() {
  const generation = ++view.generation;
  sessionStorage.setItem('pulse.instance', view.instance);
  fill(byId('range-note'), view.range === 'live' ? '' : 'Loading ' + RANGES[view.range].label + '…');
  if (view.range === 'live') {
    dirty.add('system');
    dirty.add('app');
    panels.request(render);
  } else {
    const now = stream.serverNow();
    const views = {};
    for (const kind of ['system', 'app']) {
      const instances = store.instances(kind);
      views[kind] = await Promise.all(charts[kind].map(c => historyView(kind, c.def, view.instance, instances, view.range, now)));
      if (generation !== view.generation) return;
    }
    // one frame for every chart and the note, and none if the range changed again meanwhile (a late week must not
    // be drawn over the live charts); the note says "Showing" only once the charts do
    panels.request(() => {
      if (generation !== view.generation) return;
      for (const kind of ['system', 'app']) charts[kind].forEach((c, i) => c.show(views[kind][i]));
      fill(byId('range-note'), 'Showing ' + RANGES[view.range].label + ' from history; refreshed every minute.');
    });
  }
  loadSummary();
}

function loadSummary() {
  const instance = view.instance === ALL ? view.node : view.instance;
  if (instance) summary.load(instance).catch(e => fill(byId('summary-note'), 'Summary failed: ' + e.message));
}

byId('instance').addEventListener('change', e => {
  view.instance = e.target.value;
  reshow();
});
byId('range').addEventListener('change', e => {
  view.range = e.target.value;
  reshow();
});
new ResizeObserver(() => panels.request(() => Object.values(charts).flat().forEach(c => c.resize())))
  .observe(byId('system-charts'));
setInterval(() => view.range !== 'live' && reshow(), HISTORY_REFRESH_MS);
setInterval(loadSummary, SUMMARY_REFRESH_MS);
// the alerts' "since" column ages: a keyed re-render rewrites only the cells whose text changed
setInterval(() => alerts.requestRender(), 5000);
setUpAdminForm();
// the first render at once, not on the first animation frame: the page's notes are there before any answer arrives
render();
stream.start();

// read-only sizes for the browser tests and for anyone checking that the page's memory stays bounded
window.pulseDebug = Object.freeze({
  store: () => store.stats(),
  redraws: () => scheduler.frames,
  redrawCosts: () => scheduler.recentCosts(),
  panelRenders: () => panels.frames,
  panelCosts: () => panels.recentCosts(),
  alertRenders: () => alerts.renders,
  state: () => stream.state,
});
