// Client for a wsfast echo server: sends text, binary, a fragmented message
// and a ping, checks each echo, closes with 1000, prints a JSON report.
const WebSocket = require('ws');
const crypto = require('crypto');

const url = process.argv[2];
const ws = new WebSocket(url, { perMessageDeflate: process.argv[3] === 'deflate' });
const report = { echoes: [], pong: null, close: null, extensions: null };
const big = crypto.randomBytes(1024 * 1024);
const expected = [
  ['text', 'hello from node κόσμε 🎉'],
  ['binary', Buffer.from([0, 1, 2, 255])],
  ['binary', big],
  ['text', 'fragmented message'],
];
let received = 0;

ws.on('open', () => {
  report.extensions = ws.extensions;
  ws.send(expected[0][1]);
  ws.send(expected[1][1]);
  ws.send(expected[2][1]);
  ws.send('fragmented ', { fin: false });
  ws.send('message', { fin: true });
  ws.ping(Buffer.from('ping!'));
});
ws.on('pong', (data) => { report.pong = data.toString(); });
ws.on('message', (data, isBinary) => {
  const [kind, want] = expected[received++];
  const ok = (kind === 'binary') === isBinary &&
    Buffer.compare(Buffer.from(data), Buffer.from(want)) === 0;
  report.echoes.push({ kind, ok, length: data.length });
  if (received === expected.length) ws.close(1000, 'bye');
});
ws.on('close', (code, reason) => {
  report.close = [code, reason.toString()];
  console.log(JSON.stringify(report));
  process.exit(0);
});
ws.on('error', (err) => { console.log(JSON.stringify({ error: String(err) })); process.exit(1); });
setTimeout(() => { console.log(JSON.stringify({ error: 'timeout', report })); process.exit(1); }, 20000);
