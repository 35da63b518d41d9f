// Moderate, steady load for bench/soak.sh (Node 20+ with --experimental-websocket; no npm packages):
//   node --experimental-websocket bench/soak-load.mjs <port> <rooms> <members per room> <ms between a member's sends> <stream subscribers>
// Chat members join as anonymous nicknames and send in their room; stream subscribers read /metrics/stream. A closed
// socket is reopened after 1 s. Every 60 s one line "load <sent> <acked> <received> <errors> <reconnects> <stream frames>".
const [port, rooms, members, everyMs, streams] = process.argv.slice(2).map(Number);
const base = `ws://127.0.0.1:${port}`;
const c = { sent: 0, acked: 0, received: 0, errors: 0, reconnects: 0, frames: 0 };

function chat(room, i) {
  const ws = new WebSocket(`${base}/chat?nickname=soak-${room}-${i}`);
  let timer = null;
  let n = 0;
  ws.onmessage = (e) => {
    const f = JSON.parse(e.data);
    if (f.type === 'hello') ws.send(JSON.stringify({ type: 'join', room: `soak-${room}` }));
    else if (f.type === 'joined') {
      timer = setInterval(() => {
        ws.send(JSON.stringify({ type: 'send', room: `soak-${room}`, id: `${i}-${n++}`, text: 'soak message '.repeat(8) }));
        c.sent++;
      }, everyMs);
    } else if (f.type === 'ack') c.acked++;
    else if (f.type === 'message') c.received++;
    else if (f.type === 'error') c.errors++;
  };
  ws.onclose = () => {
    clearInterval(timer);
    c.reconnects++;
    setTimeout(() => chat(room, i), 1000);
  };
  ws.onerror = () => {};
}

function stream() {
  const ws = new WebSocket(`${base}/metrics/stream`);
  ws.onmessage = () => { c.frames++; };
  ws.onclose = () => {
    c.reconnects++;
    setTimeout(stream, 1000);
  };
  ws.onerror = () => {};
}

for (let r = 0; r < rooms; r++) for (let i = 0; i < members; i++) chat(r, i);
for (let s = 0; s < streams; s++) stream();
setInterval(() => console.log(`load ${c.sent} ${c.acked} ${c.received} ${c.errors} ${c.reconnects} ${c.frames}`), 60_000);
