// Active alerts (silence and acknowledge with the admin token), silences and the alert history.
// Alert texts, labels and instance names come from outside: they are placed as text only (see dom.js).
import {el, fill, byId, num, ago, dateTime} from './dom.js';
import {adminFetch, AdminTokenMissing} from './admin.js';

const ACTIVE_STATES = new Set(['pending', 'firing', 'flapping']);
const MAX_HISTORY = 200;
const SHOWN_HISTORY = 50;
/** Severity is told by a word and a symbol, not only by colour. */
const SEVERITY = {critical: '▲ critical', warning: '◆ warning', info: 'ℹ info'};

export class AlertsPanel {
  constructor(clock) {
    this.clock = clock;
    this.active = new Map();
    this.history = [];
    this.silences = [];
    this.available = null;
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
    this.render();
  }

  /** An AlertEvent from the stream. */
  onEvent(event) {
    if (!event || typeof event.rule !== 'string') return;
    if (ACTIVE_STATES.has(event.state)) this.active.set(key(event), event);
    else this.active.delete(key(event));
    if (!this.history.some(h => h.id === event.id)) {
      this.history.unshift(event);
      if (this.history.length > MAX_HISTORY) this.history.length = MAX_HISTORY;
    }
    this.render();
  }

  render() {
    this.renderActive();
    this.renderHistory();
    this.renderSilences();
  }

  renderActive() {
    const note = byId('alerts-note');
    const body = byId('alerts-rows');
    if (this.available === false) {
      fill(note, 'The alert API did not answer (' + this.unavailableReason + '): alerts are not shown.');
      fill(body);
      return;
    }
    const alerts = [...this.active.values()].sort((a, b) => rank(a) - rank(b) || (a.active_since || 0) - (b.active_since || 0));
    fill(note, alerts.length === 0 ? 'No active alerts.' : alerts.length + ' active alert' + (alerts.length > 1 ? 's' : '') + '.');
    fill(body, alerts.map(a => this.activeRow(a)));
  }

  activeRow(a) {
    const now = this.clock();
    const flags = [a.silenced ? '🔕 silenced' : null, a.acknowledged ? '✔ acknowledged' + (a.acknowledged_by ? ' by ' + a.acknowledged_by : '') : null]
      .filter(Boolean).join(', ');
    const silence = el('button', {type: 'button', className: 'silence', onclick: () => this.silence(a)}, 'Silence 1 h');
    const ack = el('button', {type: 'button', className: 'ack', disabled: a.state !== 'firing' || a.acknowledged,
      onclick: () => this.acknowledge(a)}, 'Acknowledge');
    silence.setAttribute('aria-label', 'Silence ' + a.rule + ' on ' + a.instance + ' for 1 hour');
    ack.setAttribute('aria-label', 'Acknowledge ' + a.rule + ' on ' + a.instance);
    return el('tr', {className: 'sev-' + severityClass(a.severity), dataset: {rule: a.rule}},
      el('td', {className: 'severity'}, SEVERITY[a.severity] || String(a.severity)),
      el('td', {}, a.state),
      el('td', {}, a.rule),
      el('td', {className: 'instance'}, a.instance),
      el('td', {className: 'summary'}, summary(a)),
      el('td', {title: a.active_since ? dateTime(a.active_since) : ''}, a.active_since ? ago(a.active_since, now) : '–'),
      el('td', {className: 'num'}, num(a.value) + ' ' + (a.op || '') + ' ' + num(a.threshold)),
      el('td', {className: 'flags'}, flags),
      el('td', {className: 'actions'}, silence, ' ', ack));
  }

  renderHistory() {
    fill(byId('history-rows'), this.history.slice(0, SHOWN_HISTORY).map(e => el('tr', {className: 'sev-' + severityClass(e.severity)},
      el('td', {title: dateTime(e.changed_at)}, e.changed_at ? dateTime(e.changed_at) : '–'),
      el('td', {className: 'severity'}, SEVERITY[e.severity] || String(e.severity)),
      el('td', {}, e.rule),
      el('td', {className: 'instance'}, e.instance),
      el('td', {}, (e.previous_state ? e.previous_state + ' → ' : '') + e.state),
      el('td', {}, e.reason || ''),
      el('td', {className: 'summary'}, summary(e)))));
    fill(byId('history-note'), this.history.length === 0 ? 'No alert changes yet.' : '');
  }

  renderSilences() {
    fill(byId('silences-rows'), this.silences.map(s => el('tr', {},
      el('td', {}, s.rule || '*'),
      el('td', {}, Object.entries(s.labels || {}).map(([k, v]) => k + '=' + v).join(', ')),
      el('td', {}, s.ends_at ? new Date(s.ends_at).toLocaleString() : '–'),
      el('td', {}, [s.comment, s.created_by ? '(' + s.created_by + ')' : ''].filter(Boolean).join(' ')),
      el('td', {}, el('button', {type: 'button', onclick: () => this.endSilence(s)}, 'End')))));
    fill(byId('silences-note'), this.silences.length === 0 ? 'No silences in force.' : '');
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
