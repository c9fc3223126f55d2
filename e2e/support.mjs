// What the end-to-end suite (e2e/run.mjs) and the browser benchmarks (e2e/bench.mjs) both need from the
// machine: the scripted peer (examples/peer.rs) built once, and a tiny static server for the release build.

import http from 'node:http';
import { spawn } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';

/** Builds examples/peer.rs (or takes NATTER_E2E_PEER) and resolves to the executable's path. */
export function buildPeer(root) {
  if (process.env.NATTER_E2E_PEER) return Promise.resolve(process.env.NATTER_E2E_PEER);
  return new Promise((resolve, reject) => {
    const cargo = spawn('cargo', ['build', '--quiet', '--example', 'peer', '--message-format=json'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    cargo.stdout.on('data', (d) => (out += d));
    cargo.on('error', reject);
    cargo.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`cargo build --example peer failed (exit ${code})`));
      for (const line of out.split('\n')) {
        try {
          const m = JSON.parse(line);
          if (m.reason === 'compiler-artifact' && m.target?.name === 'peer' && m.executable) return resolve(m.executable);
        } catch {}
      }
      reject(new Error('cargo build --example peer did not report the executable'));
    });
  });
}

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The release build's hashed files (`natter-<hash>.js`, `…_bg.wasm`, `main-<hash>.css`, `boot-<hash>.js`; Trunk
 * writes the 64-bit hash in hex without leading zeros, so usually 16 digits, sometimes fewer): their content
 * never changes under a name, so they may be cached for a year. */
export const HASHED = /-[0-9a-f]{8,16}(_bg)?\.(js|wasm|css)$/;

/**
 * The response headers a deployment of dist/ should send, as docs/deploy/nginx.conf and docs/deploy/Caddyfile
 * do: no framing by other sites (the <meta> CSP cannot say frame-ancestors), no MIME sniffing, no referrer,
 * a year's immutable cache for the hashed files and revalidation for everything else (index.html and
 * config.json name the current hashed files and server).
 */
export function deployHeaders(file) {
  return {
    'Content-Security-Policy': "frame-ancestors 'none'",
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': HASHED.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
}

/**
 * The `config.json` that points the app at the Prosody the scripts started (`scripts/prosody.sh env`), when that
 * is not the default one dist/config.json names (ports moved, or the modern Prosody); else undefined.
 */
export function localConfig() {
  const ws = process.env.NATTER_PROSODY_WS;
  if (!ws || ws === 'ws://127.0.0.1:5280/xmpp-websocket') return undefined;
  return { websocket_url: ws, domain: process.env.NATTER_PROSODY_DOMAIN || 'localhost' };
}

/**
 * Serves `dist` (an absolute path) on 127.0.0.1 at a free port, with the headers of deployHeaders(); resolves to
 * the http.Server. Options:
 *   base     the path dist/ is served under ('/' or '/some/path/'); anything outside it is 404, so a page that
 *            asks for its files by absolute path fails
 *   config   an object served as {base}config.json instead of the file (points the app at this run's server)
 *   port     the port to listen on (0: a free one)
 */
export function serve(dist, { base = '/', config, port = 0 } = {}) {
  const s = http.createServer((req, res) => {
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (rel === base.replace(/\/$/, '') && base !== '/') {
      // As static servers do for a folder: /some/path → /some/path/ (relative names resolve from there).
      res.writeHead(301, { Location: base }).end();
      return;
    }
    if (!rel.startsWith(base)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    rel = '/' + rel.slice(base.length);
    if (config && rel === '/config.json') {
      const body = JSON.stringify(config);
      res.writeHead(200, { ...deployHeaders(rel), 'Content-Type': MIME['.json'], 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    let file = path.join(dist, path.normalize(rel));
    if (!file.startsWith(dist + path.sep) && file !== dist) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = path.join(file, 'index.html');
      const st = statSync(file);
      res.writeHead(200, {
        ...deployHeaders(file),
        'Content-Type': MIME[path.extname(file)] || 'application/octet-stream',
        'Content-Length': st.size,
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    s.on('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}
