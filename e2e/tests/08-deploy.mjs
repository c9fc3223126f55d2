// What a deployment must get right, checked against the server the suite runs with (e2e/support.mjs, or
// NATTER_E2E_URL: nginx or Caddy with docs/deploy/'s configuration):
// - the response headers the <meta> CSP cannot set: no framing, no MIME sniffing, no referrer, a year's
//   immutable cache for the hashed files and revalidation for index.html and config.json, application/wasm;
// - framing is really refused by Chromium;
// - the page's CSP connect-src lets through every WebSocket URL Natter accepts (tests/ws-urls.txt, the list
//   src/transport/url.rs is tested against), and a loopback URL the CSP cannot allow gets a clear error.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test, logIn } from '../harness.mjs';

const YEAR = 365 * 24 * 3600;

test('deployment: security and cache headers, no framing', async ({ page, context, baseURL, log }) => {
  const get = async (url) => {
    const res = await fetch(url);
    assert.equal(res.status, 200, `${url}: HTTP ${res.status}`);
    await res.arrayBuffer();
    return res.headers;
  };
  const index = await get(baseURL);
  const html = await (await fetch(baseURL)).text();
  // The files index.html names (relative, so the app works under any path), and config.json beside them.
  const names = [...html.matchAll(/(?:href|src|data-js|data-wasm)=["']?([^"' >]+)/g)].map((m) => m[1]);
  const files = [...new Set(names.filter((n) => /\.(js|wasm|css)$/.test(n)))];
  assert.ok(files.length >= 4, `index.html names the app's files: ${files}`);
  for (const f of files) assert.ok(!f.startsWith('/'), `${f} is relative to the page`);

  const common = (h, what) => {
    assert.equal(h.get('content-security-policy'), "frame-ancestors 'none'", `${what}: CSP header`);
    assert.equal(h.get('x-frame-options'), 'DENY', `${what}: X-Frame-Options`);
    assert.equal(h.get('x-content-type-options'), 'nosniff', `${what}: X-Content-Type-Options`);
    assert.equal(h.get('referrer-policy'), 'no-referrer', `${what}: Referrer-Policy`);
  };
  const revalidated = (h, what) => assert.match(h.get('cache-control') ?? '', /^no-cache$/, `${what}: Cache-Control`);
  common(index, 'index.html');
  revalidated(index, 'index.html');
  assert.match(index.get('content-type'), /^text\/html/);
  const config = await get(new URL('config.json', baseURL));
  common(config, 'config.json');
  revalidated(config, 'config.json');
  assert.match(config.get('content-type'), /^application\/json/);
  const types = { js: /^(text|application)\/javascript/, wasm: /^application\/wasm$/, css: /^text\/css/ };
  for (const f of files) {
    const h = await get(new URL(f, baseURL));
    log(`${f}: ${[...h].map(([k, v]) => `${k}: ${v}`).join('; ')}`);
    common(h, f);
    const cache = h.get('cache-control') ?? '';
    assert.match(cache, /\bimmutable\b/, `${f}: Cache-Control ${cache}`);
    const maxAge = Number(/max-age=(\d+)/.exec(cache)?.[1]);
    assert.ok(maxAge >= YEAR, `${f}: max-age ${maxAge} is at least a year`);
    assert.match(h.get('content-type'), types[f.split('.').pop()], `${f}: Content-Type`);
  }

  // Another site frames the app: Chromium refuses (an error page in the frame, never the login form). A page
  // of its own: the harness counts console errors of `page`, and the refusal is logged as one.
  const framer = await context.newPage();
  await framer.setContent(`<iframe src="${baseURL}"></iframe>`);
  await framer.locator('iframe').waitFor();
  const frame = await (await framer.locator('iframe').elementHandle()).contentFrame();
  await frame.waitForLoadState('load');
  assert.equal(frame.url(), 'chrome-error://chromewebdata/', 'the framed app is replaced by an error page');
  await framer.close();
});

test('deployment: the CSP lets through every WebSocket URL Natter accepts; [::1] gets a clear error', async ({ page, context, baseURL, env }) => {
  const list = readFileSync(new URL('../../tests/ws-urls.txt', import.meta.url), 'utf8');
  const accepted = list.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('accept ')).map((l) => l.slice(7));
  assert.ok(accepted.length >= 5);

  // In a page of the app (its real CSP), open each URL and, right after it, one the CSP certainly blocks: CSP
  // checks run in the WebSocket constructor and their violation events are queued in order, so once the
  // sentinel's arrives, a violation of the URL before it would have arrived too. Nothing waits on a network.
  const probe = await context.newPage();
  await probe.goto(baseURL);
  const sentinel = 'ws://blocked.example/';
  const control = 'ws://[::1]:5280/'; // blocked: shows the method sees a violation when there is one
  const verdicts = await probe.evaluate(
    async ({ urls, sentinel }) => {
      const out = {};
      for (const url of urls) {
        const blocked = [];
        const seen = new Promise((resolve) => {
          const on = (e) => {
            blocked.push(e.blockedURI);
            if (e.blockedURI.startsWith(sentinel)) {
              document.removeEventListener('securitypolicyviolation', on);
              resolve();
            }
          };
          document.addEventListener('securitypolicyviolation', on);
        });
        const socket = new WebSocket(url);
        socket.onerror = () => {};
        new WebSocket(sentinel).onerror = () => {};
        await seen;
        socket.close();
        out[url] = blocked.filter((b) => !b.startsWith(sentinel));
      }
      return out;
    },
    { urls: [control, ...accepted], sentinel },
  );
  await probe.close();
  assert.equal(verdicts[control].length, 1, `the control URL is blocked: ${JSON.stringify(verdicts)}`);
  for (const url of accepted) assert.deepEqual(verdicts[url], [], `the CSP blocks ${url}, which Natter accepts`);

  // A loopback URL the CSP cannot express is refused by Natter with words, before any connection.
  await page.goto(baseURL);
  await page.getByText('Advanced').click();
  const port = new URL(env.ws).port;
  await page.getByLabel('Server URL').fill(`ws://[::1]:${port}/xmpp-websocket`);
  await logIn(page, null, `alice@${env.domain}`, env.alicePassword);
  await page.getByRole('alert').filter({ hasText: 'is this computer, but the page' }).waitFor();
  await page.getByRole('alert').filter({ hasText: 'write the address that way' }).waitFor();
});
