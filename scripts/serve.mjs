// Serves a finished build (dist/) as static files on 127.0.0.1, as any web server would, until Ctrl-C or
// SIGTERM: what scripts/dev.sh runs instead of a watching dev server (nothing rebuilds behind your back).
//
//   node scripts/serve.mjs [DIR] [PORT]     DIR: default dist, PORT: default 8080 (0: any free port)
//
// Prints "serving DIR on http://127.0.0.1:PORT/" once it listens. Same server as the end-to-end suite
// (e2e/support.mjs): correct MIME types (application/wasm), no caching, nothing outside DIR; when the local
// Prosody runs on other ports (NATTER_PROSODY_HTTP_PORT), /config.json points the app at it.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { localConfig, serve } from '../e2e/support.mjs';

const dir = path.resolve(process.argv[2] || 'dist');
const port = Number(process.argv[3] ?? 8080);
if (!existsSync(path.join(dir, 'index.html'))) {
  console.error(`serve: ${dir}/index.html is missing (build first: scripts/build.sh)`);
  process.exit(1);
}
let server;
try {
  server = await serve(dir, { port, config: localConfig() });
} catch (e) {
  console.error(`serve: cannot listen on 127.0.0.1:${port}: ${e.message}`);
  process.exit(1);
}
console.log(`serving ${path.relative(process.cwd(), dir) || '.'} on http://127.0.0.1:${server.address().port}/`);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
