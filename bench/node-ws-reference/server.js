'use strict';
// Reference fan-out server for bench/run-stream-fanout.sh --target node.
//
// A plain Node.js `ws` server doing what Pulse's /metrics/stream does for one local instance, and nothing more:
// every SAMPLER_INTERVAL_MS after the previous tick finished it builds one frame of the same shape and about the
// same size as Pulse's ({"type":"system","data":{"timestamp":<epoch s, 3 decimals>,...,"seq":N,...}}), encodes it
// once, and writes that one buffer to every subscriber. Like Pulse it greets with a hello frame, replays the latest
// sample to a new subscriber, and skips frames for a subscriber whose socket buffer is over 64 KiB, telling it with a
// {"type":"skipped","count":N,"total":T} frame once it has drained. It takes no real host sample (the values are
// fixed), so its CPU is the fan-out alone.
//
//   HTTP_PORT=8890 INSTANCE_ID=vm node bench/node-ws-reference/server.js
// Endpoints: ws /metrics/stream, GET /health/ready, GET /metrics (Prometheus text, Pulse's stream counter names).

const http = require('http');
const os = require('os');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.env.HTTP_PORT || 8890);
const host = process.env.HTTP_HOST || '127.0.0.1';
const interval = Number(process.env.SAMPLER_INTERVAL_MS || 1000);
const instance = process.env.INSTANCE_ID || os.hostname();
const maxSubscribers = Number(process.env.STREAM_MAX_SUBSCRIBERS || 20000);
const writeQueueBytes = Number(process.env.STREAM_WRITE_QUEUE_BYTES || 65536);

let seq = 0;
let latest = null; // Buffer of the newest frame, replayed to new subscribers
let framesSent = 0;
let framesSkipped = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health/ready') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'UP', outcome: 'UP', seq }));
  } else if (req.method === 'GET' && req.url === '/metrics') {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(
      '# TYPE pulse_stream_frames_sent_total counter\n' +
      `pulse_stream_frames_sent_total ${framesSent}\n` +
      '# TYPE pulse_stream_frames_skipped_total counter\n' +
      `pulse_stream_frames_skipped_total ${framesSkipped}\n` +
      '# TYPE pulse_stream_subscribers gauge\n' +
      `pulse_stream_subscribers ${wss.clients.size}\n`);
  } else {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'not_found', message: 'no such resource' }));
  }
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: true });

server.on('upgrade', (req, socket, head) => {
  // the load client subscribes with ?streams=system (Pulse's filter); this server only has that stream
  if (req.url !== '/metrics/stream' && req.url !== '/metrics/stream?streams=system') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (wss.clients.size > maxSubscribers) {
      ws.close(1013, 'too many subscribers');
      return;
    }
    ws.skippedSinceNotice = 0;
    ws.skippedTotal = 0;
    ws.on('error', () => {});
    ws.send(JSON.stringify({ type: 'hello', protocol: 1, instance, streams: ['system'],
      server_time: Date.now() / 1000 }));
    if (latest) {
      offer(ws, latest);
    }
  });
});

function offer(ws, frame) {
  if (ws.readyState !== WebSocket.OPEN) {
    return;
  }
  if (ws.bufferedAmount > writeQueueBytes) {
    ws.skippedSinceNotice++;
    ws.skippedTotal++;
    framesSkipped++;
    return;
  }
  if (ws.skippedSinceNotice > 0) {
    ws.send(JSON.stringify({ type: 'skipped', count: ws.skippedSinceNotice, total: ws.skippedTotal }));
    ws.skippedSinceNotice = 0;
  }
  ws.send(frame, { binary: false, compress: false, fin: true });
  framesSent++;
}

// the same fields as Pulse's SystemMetrics frame, so the frame is about the same size (~520 bytes)
function sample() {
  seq++;
  const load = os.loadavg();
  return {
    type: 'system',
    data: {
      timestamp: Math.round(Date.now()) / 1000,
      cpu_percent: 12.34, memory_percent: 4.32, memory_used_mb: 1041.48, memory_available_mb: 23064.08,
      disk_usage_percent: 21.78, disk_free_gb: 79.36, network_bytes_sent: 455984, network_bytes_recv: 84535217,
      active_connections: 20004,
      load_average: [Math.round(load[0] * 100) / 100, Math.round(load[1] * 100) / 100, Math.round(load[2] * 100) / 100],
      instance, seq,
      memory_total_mb: 24105.56, cpu_count: os.cpus().length,
      network_sent_bytes_per_sec: 0.0, network_recv_bytes_per_sec: 0.0,
      disks: [{ mount: '/', usage_percent: 21.78, free_gb: 79.36, total_gb: 251.97 }],
    },
  };
}

function tick() {
  const frame = Buffer.from(JSON.stringify(sample()));
  latest = frame;
  // like Pulse's sampler: the next sample is scheduled once this one is taken; the fan-out is not part of it
  setTimeout(tick, interval);
  for (const ws of wss.clients) {
    offer(ws, frame);
  }
}

server.listen(port, host, () => {
  console.error(`node ws reference on ${host}:${port}, every ${interval} ms, instance ${instance}`);
  setTimeout(tick, interval);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
