// Echo server on a loopback port chosen by the OS; prints the port, then
// echoes every message with the same type. Exits when stdin closes.
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true });
wss.on('listening', () => console.log(`PORT ${wss.address().port}`));
wss.on('connection', (ws, req) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('close', (code, reason) => console.log(`CLOSE ${code} ${reason}`));
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
