// The Node.js peer proxies the bench compares against, one per process:
//   node bench/proxy/peers.mjs node-http <listenPort> <upstreamPort>
//   node bench/proxy/peers.mjs undici    <listenPort> <upstreamPort>
// Both are the idiomatic way to write a reverse proxy on those libraries, with keep-alive
// upstream connections, so the comparison measures the data-path design, not a misconfiguration.
import http from 'node:http';
import { Pool } from 'undici';

const [kind, listenPort, upstreamPort] = process.argv.slice(2);
const upstream = { host: '127.0.0.1', port: Number(upstreamPort) };

if (kind === 'node-http') {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  http
    .createServer((req, res) => {
      const up = http.request(
        { ...upstream, method: req.method, path: req.url, headers: req.headers, agent },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => {
        res.statusCode = 503;
        res.end();
      });
      req.pipe(up);
    })
    .listen(Number(listenPort), '127.0.0.1');
} else if (kind === 'undici') {
  const pool = new Pool(`http://${upstream.host}:${upstream.port}`, { connections: 256, pipelining: 1 });
  http
    .createServer(async (req, res) => {
      try {
        const { statusCode, headers, body } = await pool.request({
          method: req.method,
          path: req.url,
          headers: { ...req.headers, connection: undefined },
          body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req,
        });
        res.writeHead(statusCode, headers);
        for await (const chunk of body) res.write(chunk);
        res.end();
      } catch {
        res.statusCode = 503;
        res.end();
      }
    })
    .listen(Number(listenPort), '127.0.0.1');
} else {
  console.error(`unknown peer ${kind}`);
  process.exit(2);
}
