'use strict';
// The baseline many teams would write instead of a gateway: a plain Node `ws` broadcast server speaking the same
// frames as Pulse's /chat (hello, join/joined, send/ack, message with a per-room seq), with no auth, limits, history
// or back-pressure handling. Usage: node reference-server.js [port]
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 9900);
const rooms = new Map(); // room -> { seq, members: Set<ws> }
let nextUser = 0;

const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 65536 });
wss.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://x');
  const user = { id: 'u' + (++nextUser), name: url.searchParams.get('nickname') || 'anon' };
  ws.rooms = new Set();
  ws.send(JSON.stringify({ type: 'hello', protocol: 1, user }));
  ws.on('message', (data) => {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (e) {
      ws.send(JSON.stringify({ type: 'error', code: 'malformed_json', message: 'malformed JSON' }));
      return;
    }
    if (frame.type === 'join') {
      let room = rooms.get(frame.room);
      if (!room) {
        room = { seq: 0, members: new Set() };
        rooms.set(frame.room, room);
      }
      room.members.add(ws);
      ws.rooms.add(frame.room);
      ws.send(JSON.stringify({ type: 'joined', room: frame.room, last_seq: room.seq, count: room.members.size }));
    } else if (frame.type === 'send') {
      const room = rooms.get(frame.room);
      if (!room || !ws.rooms.has(frame.room)) {
        ws.send(JSON.stringify({ type: 'error', code: 'not_joined', message: 'join first' }));
        return;
      }
      const seq = ++room.seq;
      const out = JSON.stringify({ type: 'message', room: frame.room, seq, id: frame.id, from: user, text: frame.text, ts: Date.now() / 1000 });
      for (const member of room.members) {
        member.send(out);
      }
      ws.send(JSON.stringify({ type: 'ack', id: frame.id, room: frame.room, seq, duplicate: false }));
    } else if (frame.type === 'ping') {
      ws.send(JSON.stringify({ type: 'pong', id: frame.id }));
    }
  });
  ws.on('close', () => {
    for (const name of ws.rooms) {
      const room = rooms.get(name);
      if (room) {
        room.members.delete(ws);
      }
    }
  });
});
wss.on('listening', () => console.log(`reference ws broadcast server on 127.0.0.1:${port} (pid ${process.pid})`));
