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

/**
 * The `config.json` that points the app at the Prosody the scripts started (`scripts/prosody.sh env`), when that
 * is not the default one dist/config.json names (ports moved with NATTER_PROSODY_HTTP_PORT); else undefined.
 */
export function localConfig() {
  const ws = process.env.NATTER_PROSODY_WS;
  if (!ws || ws === 'ws://127.0.0.1:5280/xmpp-websocket') return undefined;
  return JSON.stringify({ websocket_url: ws, domain: process.env.NATTER_PROSODY_DOMAIN || 'localhost' });
}

/**
 * Serves `dist` (an absolute path) on 127.0.0.1 at `port` (0: a free one); resolves to the http.Server.
 * `config`: a body to answer /config.json with instead of the file (see localConfig).
 */
export function serve(dist, port = 0, config = undefined) {
  const s = http.createServer((req, res) => {
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (config !== undefined && rel === '/config.json') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(config);
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
        'Content-Type': MIME[path.extname(file)] || 'application/octet-stream',
        'Content-Length': st.size,
        'Cache-Control': 'no-store',
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
