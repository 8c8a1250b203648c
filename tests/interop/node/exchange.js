// Client for an app: node exchange.js URL deflate|plain MESSAGES_JSON sends
// each text message of the JSON array once the previous one has its reply,
// until the server closes; prints a JSON report of the extensions, the
// replies and the close, or of the error (a refused handshake's status).
const WebSocket = require('ws');

const [url, mode, messages] = process.argv.slice(2);
const toSend = JSON.parse(messages);
const ws = new WebSocket(url, { perMessageDeflate: mode === 'deflate' });
const report = { extensions: null, replies: [], close: null };
// Exit once the report is written: a pipe takes large writes asynchronously.
let finished = false;
const done = (value, status) => {
  if (finished) return;
  finished = true;
  process.stdout.write(JSON.stringify(value) + '\n', () => process.exit(status));
};

const next = () => { if (toSend.length) ws.send(toSend.shift()); };
ws.on('open', () => { report.extensions = ws.extensions; next(); });
ws.on('message', (data, isBinary) => {
  report.replies.push(isBinary ? { binary: data.toString('hex') } : data.toString());
  next();
});
ws.on('close', (code, reason) => {
  report.close = [code, reason.toString()];
  done(report, 0);
});
ws.on('unexpected-response', (req, res) => done({ error: 'status', status: res.statusCode }, 0));
ws.on('error', (err) => done({ error: String(err) }, 1));
setTimeout(() => done({ error: 'timeout', report }, 1), 15000);
