// Bounded, time-ordered series per (kind, instance): the charts' only data. Every buffer is capped by time window
// and by point count, and the number of instances is capped too, so the page's memory stays flat however long it
// stays open and however many instances report.

/** Field name (as in /api/metrics/history) -> how to read it from a stream sample. */
export const FIELDS = {
  system: {
    cpu_percent: s => s.cpu_percent,
    memory_percent: s => s.memory_percent,
    disk_usage_percent: s => s.disk_usage_percent,
    network_recv_bytes_per_sec: s => s.network_recv_bytes_per_sec,
    network_sent_bytes_per_sec: s => s.network_sent_bytes_per_sec,
    active_connections: s => s.active_connections,
    load_average_1m: s => (s.load_average || [])[0],
    load_average_5m: s => (s.load_average || [])[1],
    load_average_15m: s => (s.load_average || [])[2],
  },
  app: {
    active_users: s => s.active_users,
    messages_per_minute: s => s.messages_per_minute,
    response_time_avg: s => s.response_time_avg,
    error_rate: s => s.error_rate,
    ai_requests_per_minute: s => s.ai_requests_per_minute,
    file_transfers_active: s => s.file_transfers_active,
    database_connections: s => s.database_connections,
  },
};

/** Points dropped in one go once this many are past the window: trimming is a splice, not a shift per point. */
const TRIM_SLACK = 32;

export class Store {
  constructor({windowSeconds = 900, maxPoints = 1200, maxInstances = 64} = {}) {
    this.windowSeconds = windowSeconds;
    this.maxPoints = maxPoints;
    this.maxInstances = maxInstances;
    this.kinds = {system: new Map(), app: new Map()};
    this.newest = 0;
    this.clock = 0;
  }

  /** Adds one sample; false if it was already there (a backfill overlapping what the page had) or unusable. */
  add(kind, sample) {
    const fields = FIELDS[kind];
    const t = sample && sample.timestamp;
    if (!fields || !Number.isFinite(t)) return false;
    const buffer = this.buffer(kind, String(sample.instance === undefined ? 'unknown' : sample.instance));
    const times = buffer.t;
    let at = times.length;
    if (at > 0 && t <= times[at - 1]) {
      at = insertionPoint(times, t);
      if (times[at] === t) return false;
    }
    times.splice(at, 0, t);
    for (const [name, read] of Object.entries(fields)) {
      const v = read(sample);
      buffer.cols[name].splice(at, 0, Number.isFinite(v) ? v : null);
    }
    buffer.last = sample;
    buffer.touched = ++this.clock;
    if (t > this.newest) this.newest = t;
    trim(buffer, times[times.length - 1] - this.windowSeconds, this.maxPoints);
    return true;
  }

  buffer(kind, instance) {
    const map = this.kinds[kind];
    let buffer = map.get(instance);
    if (!buffer) {
      if (map.size >= this.maxInstances) this.evictOldest(map);
      buffer = {t: [], cols: {}, last: null, touched: 0};
      for (const name of Object.keys(FIELDS[kind])) buffer.cols[name] = [];
      map.set(instance, buffer);
    }
    return buffer;
  }

  evictOldest(map) {
    let victim = null;
    let oldest = Infinity;
    for (const [name, b] of map) {
      if (b.touched < oldest) {
        oldest = b.touched;
        victim = name;
      }
    }
    map.delete(victim);
  }

  instances(kind) {
    return [...this.kinds[kind].keys()].sort();
  }

  has(kind, instance) {
    return this.kinds[kind].has(instance);
  }

  /** [times, field1, field2, ...] for uPlot (the arrays themselves: read, never modify). */
  columns(kind, instance, fields) {
    const buffer = this.kinds[kind].get(instance);
    if (!buffer) return [[], ...fields.map(() => [])];
    return [buffer.t, ...fields.map(f => buffer.cols[f])];
  }

  latest(kind, instance) {
    const buffer = this.kinds[kind].get(instance);
    return buffer ? buffer.last : null;
  }

  /** Sizes, for the page's own bound checks and the tests. */
  stats() {
    const out = {};
    for (const [kind, map] of Object.entries(this.kinds)) {
      out[kind] = {};
      for (const [name, b] of map) out[kind][name] = b.t.length;
    }
    return out;
  }
}

function insertionPoint(times, t) {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] < t) lo = mid + 1; else hi = mid;
  }
  return lo;
}

function trim(buffer, cutoff, maxPoints) {
  const times = buffer.t;
  let drop = 0;
  while (drop < times.length && times[drop] < cutoff) drop++;
  const over = times.length - maxPoints;
  if (over > drop) drop = over;
  if (drop > 0 && (drop >= TRIM_SLACK || over > 0)) {
    times.splice(0, drop);
    for (const col of Object.values(buffer.cols)) col.splice(0, drop);
  }
}
