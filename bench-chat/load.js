'use strict';
// Load client for WS /chat (and the reference server, which speaks the same frames).
//   node load.js --scenario room  --members 5000 --rate 10          one room, one sender, rate msg/s in total
//   node load.js --scenario rooms --rooms 100 --members 50 --rate 1  every member sends rate msg/s to its room
//   node load.js --scenario idle  --connections 10000                memory per idle connection (each in a room)
// Common: --url ws://127.0.0.1:8888/chat --pid <server pid> --metrics http://127.0.0.1:8888/metrics --duration 30
//         --warmup 5 --size 100 --label pulse. Prints one JSON line with the figures, after a readable summary.
const WebSocket = require('ws');
const fs = require('fs');
const { execFileSync } = require('child_process');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']);
  return acc;
}, []));
const num = (k, d) => (args[k] === undefined ? d : Number(args[k]));
const scenario = args.scenario || 'room';
const url = args.url || 'ws://127.0.0.1:8888/chat';
const pid = args.pid ? Number(args.pid) : null;
const duration = num('duration', 30);
const warmup = num('warmup', 5);
const size = num('size', 100);
// one clock for send stamps and receipts (same process): a double, cheaper than hrtime's BigInt on every receipt
const { performance } = require('perf_hooks');
const nowUs = () => Math.round(performance.now() * 1000);

// log-bucketed latency histogram, 1% resolution, 1 us .. 100 s
const RATIO = Math.log(1.01);
const hist = new Float64Array(2000);
let samples = 0;
function record(us) {
  hist[Math.min(1999, Math.max(0, Math.floor(Math.log(Math.max(1, us)) / RATIO)))]++;
  samples++;
}
function percentile(p) {
  let target = samples * p, acc = 0;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i];
    if (acc >= target) return Math.exp((i + 1) * RATIO) / 1000; // ms
  }
  return NaN;
}

function cpuSeconds(p) {
  if (!p) return NaN;
  const f = fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks of 10 ms
}
function rssBytes(p) {
  const m = fs.readFileSync(`/proc/${p}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) * 1024;
}
async function jvmHeapDirect() {
  if (!args.metrics || !pid) return NaN;
  try { execFileSync('jcmd', [String(pid), 'GC.run'], { stdio: 'ignore' }); } catch (e) { return NaN; }
  await sleep(500);
  const text = await (await fetch(args.metrics)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('jvm_memory_used_bytes{') && line.includes('area="heap"')) total += Number(line.split(' ').pop());
    if (line.startsWith('jvm_buffer_memory_used_bytes{') && line.includes('id="direct"')) total += Number(line.split(' ').pop());
  }
  return total;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let received = 0, measuredReceived = 0, reorders = 0, gaps = 0, errors = 0, closes = 0;
let measuring = false;
const closeCodes = {};

const MESSAGE = Buffer.from('{"type":"message"');
const SEQ = Buffer.from('"seq":');
const STAMP = Buffer.from('"text":"t:');
/** The non-negative integer written in ASCII digits at buf[i...]; -1 if there is none. */
function intAt(buf, i) {
  if (i < 0 || i >= buf.length || buf[i] < 48 || buf[i] > 57) return -1;
  let n = 0;
  for (let c = buf[i]; c >= 48 && c <= 57; c = buf[++i]) n = n * 10 + (c - 48);
  return n;
}

function connect(i, room) {
  return new Promise((resolve, reject) => {
    // the client must not be the bottleneck: both servers' frames are validated by the server side, so the client
    // skips ws's UTF-8 check, and reads a message's seq and stamp from the bytes without decoding the frame
    const ws = new WebSocket(`${url}?nickname=u${i}`, { perMessageDeflate: false, skipUTF8Validation: true });
    ws.lastSeq = new Map();
    ws.acks = 0;
    ws.on('message', (data) => {
      if (data.length > MESSAGE.length && data[9] === 0x6d && data.compare(MESSAGE, 0, MESSAGE.length, 0, MESSAGE.length) === 0) {
        received++;
        const seq = intAt(data, data.indexOf(SEQ) + SEQ.length);
        const last = ws.lastSeq.get(room);
        if (last !== undefined && seq <= last) reorders++;
        else if (last !== undefined && seq > last + 1) gaps += seq - last - 1;
        ws.lastSeq.set(room, Math.max(seq, last || 0));
        const t = data.indexOf(STAMP);
        if (t >= 0) {
          const stamp = intAt(data, t + STAMP.length);
          if (stamp >= measureFromUs && stamp < measureToUs) { record(nowUs() - stamp); measuredReceived++; }
        }
        return;
      }
      const s = data.toString();
      if (s.startsWith('{"type":"ack"')) {
        ws.acks++;
        const id = s.slice(s.indexOf('"id":"') + 6, s.indexOf('"', s.indexOf('"id":"') + 6));
        const pending = inWindow.get(id);
        if (pending !== undefined) { inWindow.delete(id); expectedMeasured += pending; }
      } else if (s.startsWith('{"type":"joined"')) {
        const j = JSON.parse(s);
        ws.lastSeq.set(room, j.last_seq);
        resolve(ws);
      } else if (s.startsWith('{"type":"hello"')) {
        ws.send(JSON.stringify({ type: 'join', room }));
      } else if (s.startsWith('{"type":"error"')) {
        errors++;
      }
    });
    ws.on('close', (code) => { closes++; closeCodes[code] = (closeCodes[code] || 0) + 1; });
    ws.on('error', reject);
  });
}

async function connectAll(n, roomOf) {
  const sockets = new Array(n);
  for (let i = 0; i < n; i += 200) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 200); j++) batch.push(connect(j, roomOf(j)).then((ws) => { sockets[j] = ws; }));
    await Promise.all(batch);
  }
  return sockets;
}

let measureFromUs = Infinity;
let measureToUs = Infinity;
let sentMeasured = 0, expectedMeasured = 0;
// messages sent in the window, until acknowledged: id -> members of the room (a refused one is never expected)
const inWindow = new Map();
const pad = 'x'.repeat(Math.max(0, size - 30));

function startSenders(senders, ratePerSender, roomSizes) {
  let id = 0;
  const timers = [];
  for (const { ws, room } of senders) {
    const interval = 1000 / ratePerSender;
    const start = () => timers.push(setInterval(() => {
      const t = nowUs();
      const msgId = `m${++id}`;
      if (t >= measureFromUs && t < measureToUs) { sentMeasured++; inWindow.set(msgId, roomSizes.get(room)); }
      ws.send(`{"type":"send","room":"${room}","id":"${msgId}","text":"t:${t}:${pad}"}`);
    }, interval));
    timers.push(setTimeout(start, Math.random() * interval));
  }
  return () => timers.forEach((t) => { clearInterval(t); clearTimeout(t); });
}

async function chatScenario() {
  const rooms = scenario === 'room' ? 1 : num('rooms', 100);
  const members = num('members', scenario === 'room' ? 5000 : 50);
  const rate = num('rate', scenario === 'room' ? 10 : 1);
  const n = rooms * members;
  const roomOf = (i) => `bench-${i % rooms}`;
  const t0 = Date.now();
  const sockets = await connectAll(n, roomOf);
  const connectSeconds = (Date.now() - t0) / 1000;
  const roomSizes = new Map();
  for (let i = 0; i < n; i++) roomSizes.set(roomOf(i), (roomSizes.get(roomOf(i)) || 0) + 1);
  const senders = scenario === 'room' ? [{ ws: sockets[0], room: roomOf(0) }] : sockets.map((ws, i) => ({ ws, room: roomOf(i) }));
  const stop = startSenders(senders, scenario === 'room' ? rate : rate, roomSizes);
  await sleep(warmup * 1000);
  const cpu0 = cpuSeconds(pid), own0 = process.cpuUsage(), recv0 = received;
  measureFromUs = nowUs();
  measuring = true;
  await sleep(duration * 1000);
  measureToUs = nowUs();
  measuring = false;
  const cpu1 = cpuSeconds(pid), own1 = process.cpuUsage(own0), recv1 = received;
  stop();
  const deadline = Date.now() + 10000;
  while (measuredReceived < expectedMeasured && Date.now() < deadline) await sleep(100);
  const deliveries = recv1 - recv0;
  const result = {
    label: args.label || 'target', scenario, rooms, members, connections: n, rate_per_sender: rate,
    senders: senders.length, connect_seconds: connectSeconds, duration_s: duration,
    sent: sentMeasured, acked: sentMeasured - inWindow.size, deliveries_per_s: Math.round(deliveries / duration),
    expected: expectedMeasured, received: measuredReceived, loss: expectedMeasured - measuredReceived,
    reorders, gaps, errors, closes, close_codes: closeCodes,
    p50_ms: +percentile(0.5).toFixed(2), p99_ms: +percentile(0.99).toFixed(2), p999_ms: +percentile(0.999).toFixed(2),
    max_ms: +percentile(1).toFixed(2),
    server_cpu_s: +(cpu1 - cpu0).toFixed(2), server_cpu_us_per_delivery: +(((cpu1 - cpu0) * 1e6) / deliveries).toFixed(2),
    client_cpu_s: +((own1.user + own1.system) / 1e6).toFixed(2),
  };
  sockets.forEach((ws) => ws.terminate());
  return result;
}

async function idleScenario() {
  const n = num('connections', 10000);
  const before = { rss: rssBytes(pid), heapDirect: await jvmHeapDirect() };
  const sockets = await connectAll(n, (i) => `lobby-${i % 100}`);
  await sleep(3000);
  const after = { rss: rssBytes(pid), heapDirect: await jvmHeapDirect() };
  const result = {
    label: args.label || 'target', scenario, connections: n, closes, errors,
    rss_before_mb: +(before.rss / 1048576).toFixed(1), rss_after_mb: +(after.rss / 1048576).toFixed(1),
    rss_kb_per_connection: +((after.rss - before.rss) / n / 1024).toFixed(2),
    heap_direct_kb_per_connection: +((after.heapDirect - before.heapDirect) / n / 1024).toFixed(2),
    client_cpu_s: +((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(2),
  };
  sockets.forEach((ws) => ws.terminate());
  return result;
}

(scenario === 'idle' ? idleScenario() : chatScenario()).then((r) => {
  console.error(Object.entries(r).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' '));
  console.log(JSON.stringify(r));
  process.exit(0);
}, (e) => { console.error('load failed:', e.message); process.exit(1); });
