/**
 * A container process for the harness's own tests: an HTTP server on 127.0.0.1:<port> that logs each request as a
 * JSON line on stdout (the container's log: path, source address, User-Agent) and answers by path: /ok 200,
 * /fail 500, /hang never. It starts listening after --listen-after ms, and on SIGTERM logs it and exits 0.
 *
 *   node test/support/kubelet/listener.ts --port 8080 [--listen-after 1500]
 */
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, 'listen-after': { type: 'string', default: '0' } } });
const server = http.createServer((request, response) => {
  console.log(JSON.stringify({ event: 'request', path: request.url, from: request.socket.remoteAddress, userAgent: request.headers['user-agent'] }));
  if (request.url === '/hang') return;
  response.writeHead(request.url === '/ok' ? 200 : 500).end();
});
setTimeout(() => server.listen(Number(values.port), '127.0.0.1'), Number(values['listen-after']));
process.on('SIGTERM', () => {
  console.log(JSON.stringify({ event: 'SIGTERM' }));
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
