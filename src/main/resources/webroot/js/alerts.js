// Active alerts (silence and acknowledge with the admin token), silences and the alert history.
// Alert texts, labels and instance names come from outside: they are placed as text only (see dom.js).
import {el, fill, text, attr, byId, num, ago, dateTime} from './dom.js';
import {adminFetch, AdminTokenMissing} from './admin.js';

const ACTIVE_STATES = new Set(['pending', 'firing', 'flapping']);
const MAX_HISTORY = 200;
const SHOWN_HISTORY = 50;
/** Severity is told by a word and a symbol, not only by colour. */
const SEVERITY = {critical: '▲ critical', warning: '◆ warning', info: 'ℹ info'};

/**
 * Renders are requested, not run: events, reloads and the 5 s "since" refresh all go through `schedule` (the page's
 * animation-frame batcher), so a burst of alert events costs one render. The two tables with buttons (active alerts,
 * silences) are updated by key: a row stays the same element while its alert or silence exists, only the cells whose
 * text changed are rewritten, and a button that has the keyboard focus keeps it.
 */
export class AlertsPanel {
  constructor(clock, schedule) {
    this.clock = clock;
    this.schedule = schedule;
    this.renderJob = () => this.render();
    this.renders = 0;
    this.active = new Map();
    this.history = [];
    this.historyDirty = true;
    this.silences = [];
    this.available = null;
    /** alert key -> its row's elements */
    this.activeRows = new Map();
    /** silence id -> its row's elements */
    this.silenceRows = new Map();
  }

  requestRender() {
    this.schedule(this.renderJob);
  }

  /** Reads the current state from the API: on open and after every reconnect (events are not backfilled). */
  async reload() {
    try {
      const [active, history, silences] = await Promise.all([
        getJson('/api/alerts'), getJson('/api/alerts/history?limit=' + SHOWN_HISTORY), getJson('/api/alerts/silences')]);
      this.available = true;
      this.active.clear();
      for (const a of active.alerts || []) this.active.set(key(a), a);
      this.history = (history.events || []).slice(0, MAX_HISTORY);
      this.silences = silences.silences || [];
    } catch (e) {
      this.available = false;
      this.unavailableReason = e.message;
    }
    this.historyDirty = true;
    this.requestRender();
  }

  /** An AlertEvent from the stream. */
  onEvent(event) {
    if (!event || typeof event.rule !== 'string') return;
    if (ACTIVE_STATES.has(event.state)) this.active.set(key(event), event);
    else this.active.delete(key(event));
    if (!this.history.some(h => h.id === event.id)) {
      this.history.unshift(event);
      if (this.history.length > MAX_HISTORY) this.history.length = MAX_HISTORY;
      this.historyDirty = true;
    }
    this.requestRender();
  }

  render() {
    this.renders++;
    this.renderActive();
    if (this.historyDirty) this.renderHistory();
    this.renderSilences();
  }

  renderActive() {
    const note = byId('alerts-note');
    if (this.available === false) {
      text(note, 'The alert API did not answer (' + this.unavailableReason + '): alerts are not shown.');
      keyedRows(byId('alerts-rows'), this.activeRows, []);
      return;
    }
    const alerts = [...this.active.values()].sort((a, b) => rank(a) - rank(b) || (a.active_since || 0) - (b.active_since || 0));
    text(note, alerts.length === 0 ? 'No active alerts.' : alerts.length + ' active alert' + (alerts.length > 1 ? 's' : '') + '.');
    const now = this.clock();
    keyedRows(byId('alerts-rows'), this.activeRows, alerts.map(a => [key(a), a]),
      k => this.activeRow(k), (row, a) => updateActiveRow(row, a, now));
  }

  /** The elements of one active alert's row; its buttons act on whatever that alert is when they are pressed. */
  activeRow(k) {
    const cells = {};
    for (const name of ['severity', 'state', 'rule', 'instance', 'summary', 'since', 'value', 'flags']) {
      cells[name] = el('td', {className: name === 'value' ? 'num' : name});
    }
    const silence = el('button', {type: 'button', className: 'silence', onclick: () => this.act(k, a => this.silence(a))}, 'Silence 1 h');
    const ack = el('button', {type: 'button', className: 'ack', onclick: () => this.act(k, a => this.acknowledge(a))}, 'Acknowledge');
    const tr = el('tr', {}, Object.values(cells), el('td', {className: 'actions'}, silence, ' ', ack));
    return {tr, cells, silence, ack};
  }

  act(k, action) {
    const a = this.active.get(k);
    if (a) action(a);
  }

  renderHistory() {
    this.historyDirty = false;
    fill(byId('history-rows'), this.history.slice(0, SHOWN_HISTORY).map(e => el('tr', {className: 'sev-' + severityClass(e.severity)},
      el('td', {title: dateTime(e.changed_at)}, e.changed_at ? dateTime(e.changed_at) : '–'),
      el('td', {className: 'severity'}, SEVERITY[e.severity] || String(e.severity)),
      el('td', {}, e.rule),
      el('td', {className: 'instance'}, e.instance),
      el('td', {}, (e.previous_state ? e.previous_state + ' → ' : '') + e.state),
      el('td', {}, e.reason || ''),
      el('td', {className: 'summary'}, summary(e)))));
    text(byId('history-note'), this.history.length === 0 ? 'No alert changes yet.' : '');
  }

  renderSilences() {
    keyedRows(byId('silences-rows'), this.silenceRows, this.silences.map(s => [String(s.id), s]), id => {
      const cells = [el('td'), el('td'), el('td'), el('td')];
      const end = el('button', {type: 'button', className: 'end', onclick: () => {
        const s = this.silences.find(x => String(x.id) === id);
        if (s) this.endSilence(s);
      }}, 'End');
      return {tr: el('tr', {}, cells, el('td', {}, end)), cells, end};
    }, (row, s) => {
      text(row.cells[0], s.rule || '*');
      text(row.cells[1], Object.entries(s.labels || {}).map(([k, v]) => k + '=' + v).join(', '));
      text(row.cells[2], s.ends_at ? new Date(s.ends_at).toLocaleString() : '–');
      text(row.cells[3], [s.comment, s.created_by ? '(' + s.created_by + ')' : ''].filter(Boolean).join(' '));
      attr(row.end, 'aria-label', 'End the silence of ' + (s.rule || 'every rule'));
    });
    text(byId('silences-note'), this.silences.length === 0 ? 'No silences in force.' : '');
  }

  async silence(a) {
    await this.admin('Silenced ' + a.rule + ' on ' + a.instance + ' for 1 h.', () => adminFetch('POST', '/api/alerts/silences', {
      rule: a.rule, labels: {instance: a.instance}, duration: '1h', comment: 'from the dashboard', created_by: 'dashboard'}));
  }

  async acknowledge(a) {
    await this.admin('Acknowledged ' + a.rule + ' on ' + a.instance + '.', () => adminFetch('POST', '/api/alerts/ack',
      {rule: a.rule, instance: a.instance, by: 'dashboard'}));
  }

  async endSilence(s) {
    await this.admin('Ended the silence.', () => adminFetch('DELETE', '/api/alerts/silences/' + encodeURIComponent(s.id)));
  }

  /** Runs an admin call, says how it went in the live region, and re-reads the state it changed. */
  async admin(success, call) {
    const out = byId('admin-result');
    try {
      await call();
      fill(out, success);
      out.className = 'ok';
    } catch (e) {
      fill(out, e instanceof AdminTokenMissing ? 'Enter the admin token first (Admin token, above).' : e.message);
      out.className = 'error';
      if (e instanceof AdminTokenMissing) byId('admin-token').focus();
    }
    await this.reload();
  }
}

function updateActiveRow(row, a, now) {
  const c = row.cells;
  row.tr.className = 'sev-' + severityClass(a.severity);
  row.tr.dataset.rule = a.rule;
  text(c.severity, SEVERITY[a.severity] || String(a.severity));
  text(c.state, a.state);
  text(c.rule, a.rule);
  text(c.instance, a.instance);
  text(c.summary, summary(a));
  text(c.since, a.active_since ? ago(a.active_since, now) : '–');
  attr(c.since, 'title', a.active_since ? dateTime(a.active_since) : '');
  text(c.value, num(a.value) + ' ' + (a.op || '') + ' ' + num(a.threshold));
  text(c.flags, [a.silenced ? '🔕 silenced' : null, a.acknowledged ? '✔ acknowledged' + (a.acknowledged_by ? ' by ' + a.acknowledged_by : '') : null]
    .filter(Boolean).join(', '));
  row.ack.disabled = a.state !== 'firing' || Boolean(a.acknowledged);
  attr(row.silence, 'aria-label', 'Silence ' + a.rule + ' on ' + a.instance + ' for 1 hour');
  attr(row.ack, 'aria-label', 'Acknowledge ' + a.rule + ' on ' + a.instance);
}

/**
 * Makes body's rows match `items` ([key, data] in order): rows of keys still there are kept and updated, new keys get
 * a row from `create`, rows of keys gone are removed, and only rows out of place are moved. A focused element whose
 * row had to move gets the focus back (moving a node blurs it).
 */
function keyedRows(body, rows, items, create, update) {
  const focused = body.contains(document.activeElement) ? document.activeElement : null;
  const wanted = new Set(items.map(([k]) => k));
  for (const [k, row] of rows) {
    if (!wanted.has(k)) {
      row.tr.remove();
      rows.delete(k);
    }
  }
  let cursor = body.firstChild;
  for (const [k, data] of items) {
    let row = rows.get(k);
    if (!row) {
      row = create(k);
      rows.set(k, row);
    }
    update(row, data);
    if (row.tr === cursor) cursor = cursor.nextSibling;
    else body.insertBefore(row.tr, cursor);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
  if (focused && focused.isConnected && document.activeElement !== focused) focused.focus({preventScroll: true});
}

async function getJson(path) {
  const r = await fetch(path, {credentials: 'same-origin'});
  if (!r.ok) throw new Error(r.status + ' ' + ((await r.json().catch(() => ({}))).message || r.statusText));
  return r.json();
}

function key(a) {
  return a.rule + '\u0000' + a.instance;
}

function rank(a) {
  return {critical: 0, warning: 1, info: 2}[a.severity] ?? 3;
}

function severityClass(severity) {
  return ['critical', 'warning', 'info'].includes(severity) ? severity : 'other';
}

function summary(a) {
  const annotations = a.annotations || {};
  return annotations.summary || annotations.description || (a.metric + ' ' + (a.op || '') + ' ' + a.threshold);
}
