// The end-to-end suite: the release build (dist/) served as static files, driven in headless Chromium like a
// person would, against the real Prosody the scripts start and a scripted peer (examples/peer.rs).
//
//   scripts/prosody.sh start; eval "$(scripts/prosody.sh env)"
//   PATH=$PWD/node_modules/.bin:$PATH TRUNK_SKIP_VERSION_CHECK=true trunk build --release
//   node e2e/run.mjs [FILTER]        FILTER: run only tests whose name contains it
//
// Runs e2e/tests/*.mjs in name order, one fresh browser context per test, each test twice (but those
// registered with `once`, at / only): with dist/ served under /some/path/ and at /, by e2e/support.mjs's static server with the headers docs/deploy/ configures (its
// config.json points the app at this run's Prosody). NATTER_E2E_URL=http://…/ runs every test once against a
// server of your own instead (e.g. nginx with docs/deploy/nginx.conf; its config.json must name the Prosody of
// NATTER_PROSODY_WS). A console error, an uncaught page error or a dialog (alert) fails the test. Prints one
// line per run and finally `e2e: N passed, M failed`; exits non-zero on any failure. Always stops what it
// started: peers, the static servers, the browser.

import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { tests, Peer, adduser, screenshot } from './harness.mjs';
import { buildPeer, serve } from './support.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(process.env.NATTER_E2E_DIST || path.join(root, 'dist')); // NATTER_E2E_DIST: serve another build
const TEST_TIMEOUT = 90_000;
const SUBPATH = '/some/path/';
const externalURL = process.env.NATTER_E2E_URL;
const filter = process.argv[2];

function die(msg) {
  console.error(`e2e: ${msg}`);
  process.exit(1);
}

// ---- preconditions: check before starting anything ----
const env = {
  ws: process.env.NATTER_PROSODY_WS,
  domain: process.env.NATTER_PROSODY_DOMAIN || 'localhost',
  hashedDomain: process.env.NATTER_PROSODY_HASHED_DOMAIN || 'hashed.localhost', // salted+hashed passwords
  alicePassword: process.env.NATTER_DEMO_ALICE_PASSWORD || 'alice-demo-pw',
  bobPassword: process.env.NATTER_DEMO_BOB_PASSWORD || 'bob-demo-pw',
  carolPassword: process.env.NATTER_DEMO_CAROL_PASSWORD || 'carol-demo-pw',
};
if (!env.ws) {
  die('NATTER_PROSODY_WS is not set. Start the server and load its environment first:\n' +
    '  scripts/prosody.sh start && eval "$(scripts/prosody.sh env)"   (scripts/test.sh does this)');
}
if (!externalURL && !existsSync(path.join(dist, 'index.html'))) {
  die(`${path.relative(root, dist)}/index.html is missing: build the app first (trunk build --release).`);
}
const chromiumPath = process.env.NATTER_CHROMIUM || '/usr/bin/chromium';
if (!existsSync(chromiumPath)) die(`no Chromium at ${chromiumPath} (apt-get install -y chromium)`);

// ---- what we start, and how it is stopped ----
const servers = [];
let browser;
const livePeers = new Set();
let cleaning;
async function cleanup() {
  cleaning ??= (async () => {
    await Promise.allSettled([...livePeers].map((p) => p.stop()));
    if (browser) await browser.close().catch(() => {});
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => cleanup().finally(() => process.exit(130)));
}

// ---- run ----
let passed = 0;
let failed = 0;
try {
  const files = readdirSync(path.join(root, 'e2e/tests')).filter((f) => f.endsWith('.mjs')).sort();
  for (const f of files) await import(pathToFileURL(path.join(root, 'e2e/tests', f)).href);
  const selected = tests.filter((t) => !filter || t.name.includes(filter));
  if (selected.length === 0) die(`no tests${filter ? ` match "${filter}"` : ''}`);

  const peerBin = await buildPeer(root);
  let runs;
  if (externalURL) {
    runs = selected.map((t) => ({ t, baseURL: externalURL }));
  } else {
    const config = { websocket_url: env.ws, domain: env.domain };
    const atPath = await serve(dist, { base: SUBPATH, config });
    const atRoot = await serve(dist, { config });
    servers.push(atPath, atRoot);
    const pathURL = `http://127.0.0.1:${atPath.address().port}${SUBPATH}`;
    const rootURL = `http://127.0.0.1:${atRoot.address().port}/`;
    runs = selected.flatMap((t) => (t.once ? [{ t, baseURL: rootURL }] : [{ t, baseURL: pathURL }, { t, baseURL: rootURL }]));
  }
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    ],
  });
  const where = externalURL ?? `${SUBPATH} and at /`;
  console.log(`e2e: ${selected.length} tests, ${runs.length} runs, app at ${where}, server ${env.ws}`);

  for (const [i, { t, baseURL }] of runs.entries()) {
    const lines = [];
    const log = (...a) => lines.push(a.join(' '));
    const problems = [];
    const peers = [];
    const allowed = []; // console errors a test expects (ctx.allowConsole): logged, not failed
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    page.on('console', (m) => {
      // Prosody 0.12's mod_websocket sometimes writes a frame (seen: the <a/> answering a stream-management
      // <r/> that crossed the page's close) after its own Close frame, against RFC 6455 §5.5.1; Chromium then
      // logs this on the socket the app has already released. The server's fault, and harmless: noted, not failed.
      if (m.type() === 'error' && m.text().includes('Data frame received after close')) log(`console (server quirk): ${m.text()}`);
      // A test that stops the server expects the browser's own "connection refused" lines (not the app's).
      else if (m.type() === 'error' && (t.allowConsole?.some((re) => re.test(m.text())) || allowed.some((re) => re.test(m.text())))) log(`console (expected): ${m.text()}`);
      else if (m.type() === 'error') problems.push(`console error: ${m.text()}${m.location()?.url ? ` (${m.location().url})` : ''}`);
      else if (m.type() === 'warning') log(`console warning: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`unexpected ${d.type()} dialog: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    const ctx = {
      page,
      context,
      baseURL,
      env,
      log,
      peer(opts) {
        const p = new Peer(peerBin, { ws: env.ws, ...opts }, log);
        peers.push(p);
        livePeers.add(p);
        p.exited.then(() => livePeers.delete(p));
        return p;
      },
      adduser: (prefix = 'e2e') => adduser(root, prefix, env.domain),
      // From now on, console errors matching `re` are expected (the browser's own words while a server is down).
      allowConsole: (re) => allowed.push(re),
      // Serves dist/ at / with this config.json for this test only; resolves to its URL.
      async serve(config) {
        const s = await serve(dist, { config });
        servers.push(s);
        return `http://127.0.0.1:${s.address().port}/`;
      },
      shot: (name) => screenshot(root, page, name),
    };

    const started = Date.now();
    let error;
    let timer;
    try {
      await Promise.race([
        t.fn(ctx),
        new Promise((_, reject) => {
          const limit = t.timeout ?? TEST_TIMEOUT;
          timer = setTimeout(() => reject(new Error(`test timed out after ${limit} ms`)), limit);
        }),
      ]);
    } catch (e) {
      error = e;
    } finally {
      clearTimeout(timer);
    }
    let evidence = [];
    if (error || problems.length > 0) {
      // What the page showed when the test failed: a screenshot outside the repo and the visible text.
      const shotPath = path.join(os.tmpdir(), `natter-e2e-${i + 1}.png`);
      await page.screenshot({ path: shotPath, timeout: 5000 }).then(() => evidence.push(`screenshot: ${shotPath}`), () => {});
      const text = await page.locator('body').innerText({ timeout: 5000 }).catch(() => null);
      if (text != null) evidence.push(`page text: ${JSON.stringify(text.length > 1500 ? text.slice(0, 1500) + '…' : text)}`);
    }
    await context.close().catch(() => {});
    await Promise.allSettled(peers.map((p) => p.stop()));
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (!error && problems.length === 0) {
      passed++;
      console.log(`ok   ${i + 1} ${t.name} (at ${new URL(baseURL).pathname}, ${secs}s)`);
    } else {
      failed++;
      console.log(`FAIL ${i + 1} ${t.name} (at ${new URL(baseURL).pathname}, ${secs}s)`);
      if (error) console.log(`     ${String(error.stack || error).split('\n').slice(0, 6).join('\n     ')}`);
      for (const p of problems) console.log(`     ${p}`);
      for (const e of evidence) console.log(`     ${e}`);
      for (const l of lines.slice(-40)) console.log(`     | ${l}`);
    }
  }
} catch (e) {
  failed++;
  console.log(`FAIL runner: ${e.stack || e}`);
} finally {
  await cleanup();
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
