// The live stream: backfill on open, reconnect with backoff, fill the gap with ?since=, and measure how late
// samples arrive (clock offset from ping/pong with server_time, then now - sample timestamp).

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;
const PING_EVERY_MS = 5000;
/** A connection whose pongs stop for this long is dead (a half-open TCP connection never closes by itself). */
const PONG_TIMEOUT_MS = 12000;
/** Live but no sample for this long (and at least 5 sampling intervals): stale. */
const STALE_MIN_SECONDS = 10;
/**
 * Re-asked on reconnect: instances' clocks and the stream's seam differ by a little, and the store drops the
 * duplicates, so asking for a bit more costs nothing and a bit less would leave a hole.
 */
const SINCE_OVERLAP_SECONDS = 2;
/** The server closed us for sending nothing (the optimizer's reap_idle): see onClose. */
const CLOSE_IDLE = 4001;

export class PulseStream {
  /**
   * @param options.backfillMinutes history asked for on the first connect
   * @param options.onFrame (frame) => void for every data frame (system, app, alerts, optimizer)
   * @param options.onStatus ({state, lag, detail}) => void when the badge should change
   * @param options.onConnected (hello, reconnect) => void after each hello
   */
  constructor(options) {
    this.options = options;
    this.ws = null;
    this.attempt = 0;
    this.lastTs = 0;
    this.lastDataAt = 0;
    this.interval = 1;
    this.offset = 0;
    this.bestRtt = Infinity;
    this.lag = null;
    this.pingId = 0;
    this.pings = new Map();
    this.lastPongAt = 0;
    this.lastPingAt = 0;
    this.state = 'connecting';
    this.connectedOnce = false;
    this.retryAt = 0;
    this.backfilled = 0;
    /** While the server sheds load it aggregates samples into one frame per instance per this window (0: every sample). */
    this.throttleMs = 0;
  }

  start() {
    this.connect();
    setInterval(() => this.tick(), 1000);
  }

  /** Server time now, in epoch seconds, as well as the ping/pong estimate of the clock offset knows it. */
  serverNow() {
    return Date.now() / 1000 + this.offset;
  }

  url() {
    const base = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/metrics/stream';
    const from = this.lastTs > 0
      ? 'since=' + (this.lastTs - SINCE_OVERLAP_SECONDS).toFixed(3)
      : 'backfill_minutes=' + this.options.backfillMinutes;
    return base + '?' + from;
  }

  connect() {
    this.retryAt = 0;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    this.helloSeen = false;
    ws.onmessage = event => this.onMessage(event.data);
    ws.onclose = event => this.onClose(ws, event);
    ws.onerror = () => { /* onclose follows with the code */ };
  }

  onMessage(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch (e) {
      return;
    }
    switch (frame.type) {
      case 'hello': return this.onHello(frame);
      case 'pong': return this.onPong(frame);
      case 'backfill_done':
        this.backfilled = frame.frames;
        return this.setState('live');
      case 'system':
      case 'app':
        this.onSample(frame);
        break;
      case 'notice':
        if (frame.code === 'throttled' || frame.code === 'unthrottled') {
          this.throttleMs = Number.isFinite(frame.interval_ms) ? frame.interval_ms : 0;
          this.report();
        }
        break;
      default:
        break;
    }
    this.options.onFrame(frame);
  }

  onHello(hello) {
    // a first estimate until a pong measures the round trip: the hello left the server a one-way delay ago
    if (!Number.isFinite(this.bestRtt) && Number.isFinite(hello.server_time)) {
      this.offset = hello.server_time - Date.now() / 1000;
    }
    const reconnect = this.connectedOnce;
    this.connectedOnce = true;
    this.helloSeen = true;
    this.throttleMs = Number.isFinite(hello.throttle_interval_ms) ? hello.throttle_interval_ms : 0;
    this.attempt = 0;
    this.lastPongAt = Date.now();
    this.lastDataAt = Date.now();
    this.setState(hello.backfill_since === null || hello.backfill_since === undefined ? 'live' : 'backfilling');
    this.ping();
    this.options.onConnected(hello, reconnect);
  }

  onPong(pong) {
    const sent = this.pings.get(pong.id);
    this.pings.delete(pong.id);
    this.lastPongAt = Date.now();
    if (sent === undefined || !Number.isFinite(pong.server_time)) return;
    const now = Date.now();
    const rtt = now - sent;
    // the lowest round trip gives the tightest offset; let an old best age out so a changed clock is noticed
    if (rtt <= this.bestRtt * 1.5 || this.pings.size === 0) {
      this.bestRtt = Math.min(rtt, this.bestRtt * 1.1);
      this.offset = pong.server_time - (sent + now) / 2000;
    }
  }

  onSample(frame) {
    const t = frame.data && frame.data.timestamp;
    if (!Number.isFinite(t)) return;
    if (t > this.lastTs) {
      if (this.lastTs > 0 && !frame.backfill) this.interval = 0.8 * this.interval + 0.2 * Math.max(0.05, t - this.lastTs);
      this.lastTs = t;
    }
    if (!frame.backfill) {
      this.lastDataAt = Date.now();
      this.lag = Math.max(0, this.serverNow() - t);
      if (this.state === 'stale') this.setState('live');
      else this.report();
    }
  }

  ping() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    const id = ++this.pingId;
    this.lastPingAt = Date.now();
    this.pings.set(id, this.lastPingAt);
    if (this.pings.size > 8) this.pings.delete(this.pings.keys().next().value);
    this.ws.send(JSON.stringify({type: 'ping', id}));
  }

  tick() {
    const now = Date.now();
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.helloSeen) {
      if (now - this.lastPongAt > PONG_TIMEOUT_MS) {
        this.ws.close(4000, 'no pong');
        return;
      }
      if (now - this.lastPingAt >= PING_EVERY_MS) this.ping();
      const quiet = (now - this.lastDataAt) / 1000;
      // aggregated frames come once per window: that alone is not staleness
      const expected = Math.max(STALE_MIN_SECONDS, 5 * this.interval, 2 * this.throttleMs / 1000);
      if (this.state === 'live' && quiet > expected) this.setState('stale');
    }
    this.report();
  }

  onClose(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.lag = null;
    if (!this.helloSeen) this.attempt++;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt) * (0.8 + 0.4 * Math.random());
    this.retryAt = Date.now() + delay;
    this.closeCode = event.code;
    this.setState('reconnecting');
    if (this.attempt >= 2) this.checkLogin();
    if (event.code === CLOSE_IDLE && document.hidden) {
      // reaped while the tab was hidden (its timers, and so its pings, were slowed down): come back when someone looks,
      // not at once, which would undo the load the server just shed
      this.retryAt = 0;
      const onVisible = () => {
        if (document.hidden) return;
        document.removeEventListener('visibilitychange', onVisible);
        this.timer = setTimeout(() => this.connect(), delay);
      };
      document.addEventListener('visibilitychange', onVisible);
      return;
    }
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** A refused handshake looks like any dropped connection to a browser: ask the API whether it is the token. */
  checkLogin() {
    fetch('/api/metrics/instances', {credentials: 'same-origin'}).then(r => {
      if (r.status === 401 && !this.ws) {
        clearTimeout(this.timer);
        this.setState('login');
      }
    }, () => { /* the server is away: keep retrying */ });
  }

  setState(state) {
    this.state = state;
    this.report();
  }

  report() {
    const quiet = this.lastDataAt ? Math.round((Date.now() - this.lastDataAt) / 1000) : null;
    this.options.onStatus({
      state: this.state, lag: this.lag, attempt: this.attempt, quiet, backfilled: this.backfilled,
      retryIn: this.retryAt ? Math.max(0, Math.ceil((this.retryAt - Date.now()) / 1000)) : null,
      closeCode: this.closeCode,
      throttleMs: this.throttleMs,
    });
  }
}
