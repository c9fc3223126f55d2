// Browser scenarios of Natter, timed: the release build (dist/) in headless Debian Chromium, the real Prosody
// of scripts/prosody.sh and the scripted peer (examples/peer.rs). Figures are reported, never asserted; a run
// fails only when the app shows the wrong thing (a missing contact, a message missing or out of order, a page
// error), and then the script exits 1 after printing the table of the runs that worked.
//
//   scripts/prosody.sh start; eval "$(scripts/prosody.sh env)"
//   PATH=$PWD/node_modules/.bin:$PATH TRUNK_SKIP_VERSION_CHECK=true trunk build --release
//   node e2e/bench.mjs [FILTER]          FILTER: only scenarios whose name contains it (roster, burst, …)
//
// Scenarios (each run in a fresh browser context, logged out at the end):
//   login-empty               click "Log in" → the chat screen of an empty roster painted (the login floor)
//   roster-100, roster-2000   click "Log in" → a 100 / 2,000-contact roster arrived and its first screen of rows
//                             painted (the list is virtualized: only rows in view are in the DOM, so the stopwatch
//                             waits for the list's `data-rows`, its number of contact rows, to be N and a row to
//                             be on the page); untimed, the list is then scrolled from top to bottom to check that
//                             every contact shows exactly once, in order; then click "Log out" → the login form
//                             painted
//   burst-peers               no browser: one scripted peer bursts to another (the server + transport floor)
//   burst-open                the peer starts a burst → the last message is the transcript's last item, painted,
//                             with the conversation open; then every message is checked, once and in order
//   burst-closed              the same burst with no conversation open → the contact's unread badge reads the
//                             count, painted (core + store + one roster row; no transcript)
//   open-after-burst          in the burst-closed run: click the contact → its whole transcript painted
//   cuts                      issue 12: Alice (this page, through the cutting proxy of e2e/proxy.mjs) and Bob (a
//                             scripted peer) exchange numbered messages while the proxy resets the WebSocket
//                             NATTER_BENCH_CUTS times (100); timed per cut: the reset → the page online again,
//                             showing Bob's message sent right after the reset, and Bob holding Alice's (e2e/fault.mjs,
//                             abrupt closes only); one run, the figures over the cuts. Uses alice and bob of
//                             hashed.localhost (their SCRAM salt stays, so the app logs in again with its keys).
//   outbox-1000               issue 12: with the browser offline, 1,000 messages sent from the composer wait in the
//                             outbox; the browser back online → Bob (a scripted peer) has received all 1,000, and
//                             (second figure) every one shows "sent" on the page; then checked: each once, in order
//   reload-10000              issue 13: this browser's store holds 10,000 messages over 50 conversations, a
//                             2,000-contact roster and a "Stay logged in" token; the page is reloaded with its
//                             WebSocket held back (no network reply ever) → the roster (2,000 rows in the list) and
//                             the open conversation's latest 50 messages painted. Timed from the navigation, and
//                             from the moment the wasm file was downloaded (second figure)
// Memory (after each run, after a forced GC): V8 heap in use, wasm linear memory, live DOM nodes. How each
// figure is taken: bench-support.mjs (installStopwatch, measureMemory) and docs/performance.md.
//
// Environment: NATTER_PROSODY_WS, NATTER_PROSODY_RUN_DIR (required; from `scripts/prosody.sh env`),
//   NATTER_PROSODY_DOMAIN (localhost), NATTER_PROSODY_CONFIG (for prosodyctl; RUN_DIR/prosody.cfg.lua),
//   NATTER_BENCH_RUNS (5), NATTER_BENCH_WARMUP (1 unrecorded run per scenario), NATTER_BENCH_SCROLLBACK (5000
//   messages in the scroll-5000 archive), NATTER_BENCH_BURST (1000
//   messages), NATTER_BENCH_BURST_TIMEOUT_S (300 per run), NATTER_BENCH_BURST_BUDGET_S (900: no new burst-open
//   run starts after this much time in that scenario), NATTER_BENCH_DIST or NATTER_E2E_DIST (another build than
//   dist/), NATTER_BENCH_COMMIT (names the source of a build served from elsewhere), NATTER_BENCH_JSON (also
//   write the raw runs there), NATTER_BENCH_PROFILE=1 (sample the page's CPU during each timed span and print
//   where the time went: wasm, JS, GC, the browser's own work, idle; the profiler slows the page a little),
//   NATTER_CHROMIUM (/usr/bin/chromium), NATTER_E2E_PEER (a prebuilt peer binary).
// Prints the Markdown table on stdout and progress on stderr. Starts and stops its own static server, browser
// and peers. Seeds the accounts natbench0, natbench100, natbench2000, natbencha, natbenchb, natbenchc into the
// running Prosody and empties their archives and offline queues before each burst run (bench-support.mjs).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Peer } from './harness.mjs';
import { runFaults, median } from './fault.mjs';
import {
  BENCH, seed, buildPeer, serve, installStopwatch, readStopwatch, epochNow, measureMemory, stats, fmtMs, fmtMiB,
  contactJid, startProfile, stopProfile, resetMessageStores, endSessions,
} from './bench-support.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(process.env.NATTER_BENCH_DIST || process.env.NATTER_E2E_DIST || path.join(root, 'dist'));
const int = (name, dflt) => {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) die(`${name} must be a whole number (got ${JSON.stringify(v)})`);
  return n;
};
const RUNS = Math.max(1, int('NATTER_BENCH_RUNS', 5));
const WARMUP = int('NATTER_BENCH_WARMUP', 1);
const BURST = Math.max(1, int('NATTER_BENCH_BURST', 1000));
const BURST_TIMEOUT = int('NATTER_BENCH_BURST_TIMEOUT_S', 300) * 1000;
const BURST_BUDGET = int('NATTER_BENCH_BURST_BUDGET_S', 900) * 1000;
const CUTS = Math.max(1, int('NATTER_BENCH_CUTS', 100));
const QUEUED = Math.max(1, int('NATTER_BENCH_QUEUED', 1000));
const SCROLLBACK = Math.max(1, int('NATTER_BENCH_SCROLLBACK', 5000));
const LOGIN_TIMEOUT = 120_000;
const PROFILE = process.env.NATTER_BENCH_PROFILE === '1';
const filter = process.argv[2];

function die(msg) {
  console.error(`bench: ${msg}`);
  process.exit(1);
}
const progress = (...a) => console.error(`bench: ${a.join(' ')}`);

// ---- preconditions, before anything starts ----
const env = {
  ws: process.env.NATTER_PROSODY_WS,
  runDir: process.env.NATTER_PROSODY_RUN_DIR,
  domain: process.env.NATTER_PROSODY_DOMAIN || 'localhost',
  hashedDomain: process.env.NATTER_PROSODY_HASHED_DOMAIN || 'hashed.localhost',
  config: process.env.NATTER_PROSODY_CONFIG, // for prosodyctl (default: RUN_DIR/prosody.cfg.lua)
  alicePassword: process.env.NATTER_DEMO_ALICE_PASSWORD || 'alice-demo-pw',
  bobPassword: process.env.NATTER_DEMO_BOB_PASSWORD || 'bob-demo-pw',
};
if (!env.ws || !env.runDir) {
  die('NATTER_PROSODY_WS and NATTER_PROSODY_RUN_DIR must be set. Start the server and load its environment first:\n' +
    '  scripts/prosody.sh start && eval "$(scripts/prosody.sh env)"');
}
if (!existsSync(path.join(dist, 'index.html'))) {
  die(`${dist}/index.html is missing: build the app first (trunk build --release).`);
}
const chromiumPath = process.env.NATTER_CHROMIUM || '/usr/bin/chromium';
if (!existsSync(chromiumPath)) die(`no Chromium at ${chromiumPath} (apt-get install -y chromium)`);

// ---- what we start, and how it is stopped ----
let server;
let browser;
const livePeers = new Set();
let cleaning;
async function cleanup() {
  cleaning ??= (async () => {
    await Promise.allSettled([...livePeers].map((p) => p.stop()));
    if (browser) await browser.close().catch(() => {});
    if (server) await new Promise((r) => server.close(r));
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => cleanup().finally(() => process.exit(130)));
}

let peerBin;
let baseURL;
let chromeVersion = '?';
const peerLog = [];
function startPeer(opts) {
  const p = new Peer(peerBin, { ws: env.ws, ...opts }, (l) => {
    peerLog.push(l);
    if (peerLog.length > 200) peerLog.shift();
  });
  livePeers.add(p);
  p.exited.then(() => livePeers.delete(p));
  return p;
}

/** A fresh context and page; page errors and console errors are collected (they fail the run). */
async function openPage() {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`unexpected ${d.type()} dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  const cdp = await context.newCDPSession(page);
  await page.goto(baseURL);
  await page.getByLabel('Address', { exact: true }).waitFor();
  return { context, page, cdp, problems };
}

async function fillLogin(page, user) {
  await page.getByLabel('Address', { exact: true }).fill(`${user}@${env.domain}`);
  await page.getByLabel('Password', { exact: true }).fill(BENCH.password);
}

/** Logs out through the UI (so Prosody keeps no hibernating session), then closes the context. */
async function finish({ context, page }, { logout = true } = {}) {
  if (logout) {
    try {
      await logoutButton(page).click({ timeout: 10_000 });
      await page.getByLabel('Address', { exact: true }).waitFor({ timeout: 10_000 });
    } catch {}
  }
  await context.close().catch(() => {});
}

/**
 * The "Log out" button. Not getByRole: Playwright's role engine computes the accessible name of every button on
 * the page, which took about 17 s with the 4,000 buttons of a 2,000-contact roster before the list was virtualized.
 */
const logoutButton = (page) => page.locator('button').filter({ hasText: /^\s*Log out\s*$/ });

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

// ---- scenarios: each run returns { ms, mem, ...details } or throws ----

async function rosterRun(user, n, { baseline }) {
  const s = await openPage();
  try {
    const result = {};
    if (baseline) result.baselineMem = await measureMemory(s.page, s.cdp);
    await fillLogin(s.page, user);
    await s.page.evaluate(installStopwatch, {
      selector: n > 0 ? `nav.roster ul.groups[data-rows="${n}"] button.contact-main` : 'nav.roster .empty-note',
      click: { selector: 'button', text: 'Log in' },
      marks: { chat: '.app', firstRow: 'button.contact-main' },
    });
    if (PROFILE) await startProfile(s.cdp);
    await s.page.getByRole('button', { name: 'Log in' }).click();
    const w = await readStopwatch(s.page, LOGIN_TIMEOUT);
    if (PROFILE) result.profile = await stopProfile(s.cdp);
    if (w.timedOut) {
      const rows = await Promise.race([
        s.page.evaluate(() => document.querySelector('nav.roster ul.groups')?.dataset.rows ?? 0),
        new Promise((r) => setTimeout(() => r('?'), 10_000)),
      ]).catch(() => '?');
      throw new Error(`the list holds ${rows} of ${n} contact rows after ${LOGIN_TIMEOUT / 1000} s`);
    }
    check(w.t0 !== null, 'the click on "Log in" was not seen');
    if (n === 0) await s.page.getByText('No contacts yet', { exact: false }).waitFor();
    const mem = await measureMemory(s.page, s.cdp); // before the sweep below renders other rows
    // Every contact exactly once: scroll the list from top to bottom, collecting the rows rendered at each step.
    if (n > 0) {
      const seen = await s.page.evaluate(rosterSweep);
      const want = new Set(Array.from({ length: n }, (_, k) => contactJid(k + 1, env.domain)));
      check(seen.maxRendered < Math.min(n, 200), `${seen.maxRendered} rows in the DOM at once: the list is not virtualized`);
      check(seen.jids.length === n, `${seen.jids.length} contact rows seen while scrolling, expected ${n} (stalled frames: ${seen.stalls})`);
      check(new Set(seen.jids).size === n && seen.jids.every((j) => want.has(j)), 'the contact rows are not the seeded roster');
      check(seen.inOrder, `rows out of order while scrolling: ${seen.firstDisorder}`);
      check(seen.lastName === `Contact ${String(n).padStart(4, '0')}`, `the last row is ${seen.lastName}`);
    }
    check(s.problems.length === 0, s.problems.join('; '));
    Object.assign(result, {
      ms: w.paint - w.t0,
      domMs: w.dom - w.t0,
      steps: w.steps.map((t) => t - w.t0),
      chatMs: w.marks.chat - w.t0, // the chat screen replaced the login form (the session is online)
      firstRowMs: w.marks.firstRow - w.t0,
      longestTask: w.longestTask,
      longTaskTotal: w.longTaskTotal,
      mem,
    });
    // Logging out: click "Log out" → the login form painted (the chat screen and its rows torn down).
    await s.page.evaluate(installStopwatch, { selector: '#login-address', click: { selector: 'button', text: 'Log out' } });
    await logoutButton(s.page).click();
    const out = await readStopwatch(s.page, LOGIN_TIMEOUT);
    check(!out.timedOut, `the login form did not come back within ${LOGIN_TIMEOUT / 1000} s of "Log out"`);
    result.logoutMs = out.paint - out.t0;
    check(s.problems.length === 0, s.problems.join('; '));
    return result;
  } finally {
    await finish(s, { logout: s.page.url() && !(await s.page.locator('#login-address').count().catch(() => 0)) });
  }
}

/**
 * Runs in the page: scrolls the roster's scroller from top to bottom, a view at a time (the rendered rows reach
 * beyond the view, so the steps overlap), waiting two frames at each step, and collects every contact row
 * rendered (by group and position in it, so each counts once).
 * Returns the jids in list order, whether each group's rows came in `aria-posinset` order with no gap, the most
 * rows in the DOM at once, and the name on the last row.
 */
async function rosterSweep() {
  const scroller = document.querySelector('.sidebar-scroll');
  // Headless Chromium now and then stops running animation frames for a while (seen with builds before and
  // after 2026-11-27, with the page visible and focused); a frame that does not come within a second is given up,
  // so the sweep goes on (and fails on missing rows) instead of waiting for ever.
  let stalls = 0;
  const frame = () =>
    new Promise((r) => {
      const timer = setTimeout(() => { stalls++; r(); }, 1000);
      requestAnimationFrame(() => { clearTimeout(timer); r(); });
    });
  const rows = new Map(); // "group\u0000position" → { group, pos, jid, name }
  const groups = []; // group names in the order they came into view
  let maxRendered = 0;
  for (let top = 0, steps = 0; ; top += Math.max(50, scroller.clientHeight)) {
    if (++steps > 2000) throw new Error(`the roster did not scroll to its end in 2000 steps (stalled frames: ${stalls})`);
    scroller.scrollTop = top;
    await frame();
    await frame();
    const rendered = document.querySelectorAll('nav.roster li.contact');
    maxRendered = Math.max(maxRendered, rendered.length);
    for (const li of rendered) {
      const group = li.closest('li.group').dataset.group;
      if (!groups.includes(group)) groups.push(group);
      const pos = Number(li.getAttribute('aria-posinset'));
      const button = li.querySelector('button.contact-main');
      const name = button.querySelector('.contact-name').firstChild.textContent;
      rows.set(`${group}\u0000${pos}`, { group, pos, jid: button.dataset.jid, name });
    }
    if (scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 1) break;
  }
  const all = [...rows.values()];
  all.sort((a, b) => groups.indexOf(a.group) - groups.indexOf(b.group) || a.pos - b.pos);
  // The bench contacts are all offline, so each group is sorted by name.
  let firstDisorder = null;
  for (let i = 1; i < all.length && !firstDisorder; i++) {
    const [a, b] = [all[i - 1], all[i]];
    if (a.group === b.group && (b.pos !== a.pos + 1 || !(a.name < b.name))) firstDisorder = `${a.group}: ${a.pos} ${a.name} → ${b.pos} ${b.name}`;
    if (a.group !== b.group && b.pos !== 1) firstDisorder = `${b.group} starts at ${b.pos}`;
  }
  scroller.scrollTop = 0;
  return { jids: all.map((r) => r.jid), inOrder: !firstDisorder, firstDisorder, maxRendered, lastName: all.at(-1)?.name, stalls };
}

/** Logs in as the burst receiver with the peer online; resolves once the peer's row shows. */
async function burstSetup() {
  await resetMessageStores({ root, ...env });
  const peer = startPeer({ jid: `${BENCH.peer}@${env.domain}`, password: BENCH.password, resource: `bench${process.pid}` });
  let s;
  try {
    await peer.online();
    s = await openPage();
    s.peer = peer;
    await fillLogin(s.page, BENCH.me);
    await s.page.getByRole('button', { name: 'Log in' }).click();
    await logoutButton(s.page).waitFor({ timeout: LOGIN_TIMEOUT });
    s.row = s.page.locator(`button.contact-main[data-jid="${BENCH.peer}@${env.domain}"]`);
    await s.row.waitFor();
    return s;
  } catch (e) {
    if (s) await finish(s);
    await peer.stop();
    throw e;
  }
}

function burstBodies(prefix, n) {
  const width = Math.max(4, String(n).length);
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}`);
}

/** Every message of the burst in the transcript, once, in order (other text in the log is ignored). */
async function checkTranscript(page, prefix, expected) {
  const bodies = await page.evaluate((prefix) => {
    const log = document.querySelector('[role="log"]');
    const re = new RegExp(`^${prefix}-\\d+$`);
    return [...(log?.querySelectorAll('li') ?? [])]
      .map((li) => (li.querySelector('.message-body') ?? li).textContent.trim())
      .map((t) => t.match(new RegExp(`${prefix}-\\d+`))?.[0] ?? t)
      .filter((t) => re.test(t));
  }, prefix);
  check(bodies.length === expected.length, `${bodies.length} of ${expected.length} burst messages in the transcript`);
  const firstWrong = bodies.findIndex((b, i) => b !== expected[i]);
  check(firstWrong === -1, `message ${firstWrong + 1} is ${bodies[firstWrong]}, expected ${expected[firstWrong]} (order)`);
}

/** What the transcript shows when a run failed: its rows, the burst's missing and doubled messages, its end. */
async function describeTranscript(page, prefix, expected) {
  const rows = await page.evaluate(() =>
    [...(document.querySelector('[role="log"]')?.querySelectorAll('li') ?? [])].map((li) => li.textContent.trim().slice(-60)),
  );
  const re = new RegExp(`${prefix}-\\d+`);
  const seen = new Map();
  for (const r of rows) {
    const m = r.match(re);
    if (m) seen.set(m[0], (seen.get(m[0]) ?? 0) + 1);
  }
  const missing = expected.filter((b) => !seen.has(b));
  const doubled = [...seen].filter(([, n]) => n > 1).map(([b]) => b);
  const other = rows.filter((r) => !re.test(r));
  const some = (list) => list.slice(0, 5).join(', ') + (list.length > 5 ? ', …' : '');
  return `${rows.length} rows; ${missing.length} missing (${some(missing)}); ${doubled.length} doubled (${some(doubled)}); ${other.length} other rows (${other.slice(0, 3).join(' | ')}); the last: ${rows.slice(-2).join(' | ')}`;
}

async function sendBurst(peer, prefix) {
  const since = peer.mark();
  const t0 = epochNow();
  peer.send({ cmd: 'burst', to: `${BENCH.me}@${env.domain}`, count: BURST, prefix });
  const sent = peer
    .waitFor((e) => e.event === 'burst_done', 'the burst sent', { since, timeout: BURST_TIMEOUT })
    .then(() => epochNow() - t0);
  sent.catch(() => {});
  return { t0, sent };
}

/** The floor without a browser: one scripted peer bursts to another through the same Prosody. */
async function burstPeersRun() {
  await resetMessageStores({ root, ...env });
  const receiver = startPeer({ jid: `${BENCH.receiver}@${env.domain}`, password: BENCH.password, resource: `bench${process.pid}` });
  const sender = startPeer({ jid: `${BENCH.peer}@${env.domain}`, password: BENCH.password, resource: `bench${process.pid}` });
  try {
    await Promise.all([receiver.online(), sender.online()]);
    const prefix = `p${Math.random().toString(36).slice(2, 7)}`;
    const expected = burstBodies(prefix, BURST);
    const since = receiver.mark();
    const t0 = epochNow();
    sender.send({ cmd: 'burst', to: `${BENCH.receiver}@${env.domain}`, count: BURST, prefix });
    const sent = sender.waitFor((e) => e.event === 'burst_done', 'the burst sent', { timeout: BURST_TIMEOUT }).then(() => epochNow() - t0);
    sent.catch(() => {});
    await receiver.waitFor((e) => e.event === 'message' && e.body === expected[BURST - 1], 'the last message', { since, timeout: BURST_TIMEOUT });
    const ms = epochNow() - t0;
    const got = receiver.events.slice(since).filter((e) => e.event === 'message' && e.body?.startsWith(`${prefix}-`)).map((e) => e.body);
    check(got.length === BURST && got.every((b, i) => b === expected[i]), `the receiving peer got ${got.length} messages, not all ${BURST} in order`);
    return { ms, domMs: ms, peerSendMs: await sent };
  } finally {
    await Promise.allSettled([sender.stop(), receiver.stop()]);
  }
}

async function burstOpenRun() {
  const s = await burstSetup();
  try {
    await s.row.click();
    await s.page.getByRole('log').waitFor();
    const prefix = `o${Math.random().toString(36).slice(2, 7)}`;
    const expected = burstBodies(prefix, BURST);
    await s.page.evaluate(installStopwatch, { last: expected[BURST - 1], count: BURST });
    if (PROFILE) await startProfile(s.cdp);
    const { t0, sent } = await sendBurst(s.peer, prefix);
    const w = await readStopwatch(s.page, BURST_TIMEOUT);
    const profile = PROFILE ? await stopProfile(s.cdp) : undefined;
    if (w.timedOut) {
      const shown = await Promise.race([
        s.page.evaluate(() => document.querySelector('[role="log"]')?.getElementsByTagName('li').length ?? 0),
        new Promise((r) => setTimeout(() => r('?'), 10_000)),
      ]).catch(() => '?');
      const err = new Error(`timed out after ${BURST_TIMEOUT / 1000} s with ${shown} of ${BURST} messages shown`);
      err.partial = { shown, ms: epochNow() - t0 };
      throw err;
    }
    await checkTranscript(s.page, prefix, expected);
    check(s.problems.length === 0, s.problems.join('; '));
    return {
      ms: w.paintEpoch - t0,
      domMs: w.domEpoch - t0,
      steps: w.steps.map((t) => w.timeOrigin + t - t0),
      peerSendMs: await sent,
      longestTask: w.longestTask,
      longTaskTotal: w.longTaskTotal,
      profile,
      mem: await measureMemory(s.page, s.cdp),
    };
  } finally {
    await finish(s, { logout: true });
    await s.peer.stop();
  }
}

async function burstClosedRun() {
  const s = await burstSetup();
  try {
    const prefix = `c${Math.random().toString(36).slice(2, 7)}`;
    const expected = burstBodies(prefix, BURST);
    const jid = `${BENCH.peer}@${env.domain}`;
    await s.page.evaluate(installStopwatch, { badge: jid, n: BURST });
    if (PROFILE) await startProfile(s.cdp);
    const { t0, sent } = await sendBurst(s.peer, prefix);
    const w = await readStopwatch(s.page, BURST_TIMEOUT);
    const profile = PROFILE ? await stopProfile(s.cdp) : undefined;
    check(!w.timedOut, `the unread badge did not reach ${BURST} within ${BURST_TIMEOUT / 1000} s`);
    const badge = await s.row.locator('.badge').innerText();
    check(parseInt(badge, 10) === BURST, `the unread badge reads ${JSON.stringify(badge)}, expected ${BURST}`);
    const closed = {
      ms: w.paintEpoch - t0,
      domMs: w.domEpoch - t0,
      steps: w.steps.map((t) => w.timeOrigin + t - t0),
      peerSendMs: await sent,
      longestTask: w.longestTask,
      longTaskTotal: w.longTaskTotal,
      profile,
      mem: await measureMemory(s.page, s.cdp),
    };
    // Now open it: the whole transcript at once.
    await s.page.evaluate(installStopwatch, { last: expected[BURST - 1], count: BURST, click: { selector: 'button.contact-main' } });
    if (PROFILE) await startProfile(s.cdp);
    await s.row.click();
    const o = await readStopwatch(s.page, BURST_TIMEOUT);
    const openProfile = PROFILE ? await stopProfile(s.cdp) : undefined;
    check(!o.timedOut, `opening the conversation did not show all ${BURST} messages within ${BURST_TIMEOUT / 1000} s`);
    await checkTranscript(s.page, prefix, expected);
    check(s.problems.length === 0, s.problems.join('; '));
    const opened = {
      ms: o.paint - o.t0,
      domMs: o.dom - o.t0,
      steps: o.steps.map((t) => t - o.t0),
      profile: openProfile,
      longestTask: o.longestTask,
      longTaskTotal: o.longTaskTotal,
      mem: await measureMemory(s.page, s.cdp),
    };
    return { ...closed, opened };
  } finally {
    await finish(s, { logout: true });
    await s.peer.stop();
  }
}

/**
 * History (issue 13): BURST messages sent while Alice is logged out, then she logs in with the conversation
 * named in the URL: the time from "Log in" to all of them shown, once each and in order.
 * - `known` (away-1000): this browser was logged in before (it received a message from a third account, so it
 *   holds the archive's point after it) and logged out; the app catches up from that point, a page at a time
 *   (Prosody: 50), while the server's offline storage delivers the same messages.
 * - `elsewhere` (away-elsewhere-1000): as `known`, but another device of the account (a scripted peer) is online
 *   while the burst arrives and goes before the login: the server delivered the burst there, so nothing waits
 *   in offline storage and the catch-up's pages are the only way the messages come.
 * - a new browser (away-new-1000): no point held; the offline delivery and the archive's newest page.
 */
async function awayRun({ known, elsewhere: other = false }) {
  await resetMessageStores({ root, ...env });
  const peer = startPeer({ jid: `${BENCH.peer}@${env.domain}`, password: BENCH.password, resource: `bench${process.pid}` });
  let s;
  let elsewhere;
  try {
    await peer.online();
    const prefix = `w${Math.random().toString(36).slice(2, 7)}`;
    const expected = burstBodies(prefix, BURST);
    const chat = `#/chat/${encodeURIComponent(`${BENCH.peer}@${env.domain}`)}`;
    s = await openPage();
    if (known) {
      await fillLogin(s.page, BENCH.me);
      await s.page.getByRole('button', { name: 'Log in' }).click();
      await logoutButton(s.page).waitFor({ timeout: LOGIN_TIMEOUT });
      // A message from someone else (the window of the burst's conversation stays at 1,000): the archive's point.
      const other = startPeer({ jid: `${BENCH.receiver}@${env.domain}`, password: BENCH.password, resource: `bench${process.pid}` });
      try {
        await other.online();
        other.send({ cmd: 'send', to: `${BENCH.me}@${env.domain}`, body: `${prefix}-before` });
        await s.page.locator(`button.contact-main[data-jid="${BENCH.receiver}@${env.domain}"] .badge`).waitFor({ timeout: LOGIN_TIMEOUT });
      } finally {
        await other.stop();
      }
      await logoutButton(s.page).click();
      await s.page.getByLabel('Address', { exact: true }).waitFor();
      // The server must have let the session go, or the burst would be delivered to it.
      await waitFor(async () => (await endSessions({ root, ...env, users: [BENCH.me] })) === 0, 'the session logged out ended on the server');
    }
    if (other) {
      elsewhere = startPeer({ jid: `${BENCH.me}@${env.domain}`, password: BENCH.password, resource: `elsewhere${process.pid}` });
      await elsewhere.online();
    }
    const since = peer.mark();
    const seen = elsewhere?.mark();
    await (await sendBurst(peer, prefix)).sent;
    // All of them on the server (stored for offline delivery and archived) before the login: acknowledged
    // (XEP-0198). The peer writes a burst much faster than the server takes it in.
    await waitFor(() => peer.events.slice(since).filter((e) => e.event === 'acked').length >= BURST, 'the burst acknowledged by the server', BURST_TIMEOUT);
    if (elsewhere) {
      await elsewhere.waitFor((e) => e.event === 'message' && e.body === expected[BURST - 1], 'the burst received elsewhere', { since: seen, timeout: BURST_TIMEOUT });
      await elsewhere.stop();
    }
    await s.page.evaluate((hash) => (location.hash = hash), chat);
    await fillLogin(s.page, BENCH.me);
    await s.page.evaluate(installStopwatch, { last: expected[BURST - 1], count: BURST, click: { selector: 'button', text: 'Log in' } });
    if (PROFILE) await startProfile(s.cdp);
    await s.page.getByRole('button', { name: 'Log in' }).click();
    const w = await readStopwatch(s.page, BURST_TIMEOUT);
    const profile = PROFILE ? await stopProfile(s.cdp) : undefined;
    if (w.timedOut) {
      check(false, `not all ${BURST} messages were shown within ${BURST_TIMEOUT / 1000} s of logging in: ${await describeTranscript(s.page, prefix, expected)}`);
    }
    await checkTranscript(s.page, prefix, expected);
    check(s.problems.length === 0, s.problems.join('; '));
    return {
      profile,
      ms: w.paint - w.t0,
      domMs: w.dom - w.t0,
      steps: w.steps.map((t) => t - w.t0),
      longestTask: w.longestTask,
      longTaskTotal: w.longTaskTotal,
      mem: await measureMemory(s.page, s.cdp),
    };
  } finally {
    if (s) await finish(s);
    await elsewhere?.stop();
    await peer.stop();
  }
}

/** Polls `cond` (async) every 200 ms for up to `timeout` ms. */
async function waitFor(cond, what, timeout = 10_000) {
  for (let i = 0; i < timeout / 200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * History (issue 13): SCROLLBACK messages in the archive only (sent while Alice was online elsewhere); she logs
 * in, opens the conversation and scrolls back to its first message, a page at a time (Prosody: 50). Memory is
 * read after the first page and at the start of the conversation: the transcript keeps a bounded window.
 */
async function scrollBackRun() {
  await resetMessageStores({ root, ...env });
  const me = `${BENCH.me}@${env.domain}`;
  const elsewhere = startPeer({ jid: me, password: BENCH.password, resource: `elsewhere${process.pid}` });
  const peer = startPeer({ jid: `${BENCH.peer}@${env.domain}`, password: BENCH.password, resource: `bench${process.pid}` });
  let s;
  try {
    await Promise.all([elsewhere.online(), peer.online()]);
    // In bursts of 1,000 (the peer's core takes at most 2,000 unacknowledged messages), each received before the next.
    const tag = `s${Math.random().toString(36).slice(2, 7)}`;
    const chunks = Math.ceil(SCROLLBACK / 1000);
    for (let c = 0; c < chunks; c++) {
      const count = Math.min(1000, SCROLLBACK - c * 1000);
      const since = elsewhere.mark();
      peer.send({ cmd: 'burst', to: me, count, prefix: `${tag}${c}` });
      const last = burstBodies(`${tag}${c}`, count)[count - 1];
      await elsewhere.waitFor((e) => e.event === 'message' && e.body === last, `part ${c + 1} of the history received`, { since, timeout: BURST_TIMEOUT });
    }
    const prefix = `${tag}0`;
    await elsewhere.stop();
    s = await openPage();
    await fillLogin(s.page, BENCH.me);
    await s.page.getByRole('button', { name: 'Log in' }).click();
    await logoutButton(s.page).waitFor({ timeout: LOGIN_TIMEOUT });
    const row = s.page.locator(`button.contact-main[data-jid="${BENCH.peer}@${env.domain}"]`);
    await row.click();
    const log = s.page.getByRole('log');
    await s.page.waitForFunction(() => document.querySelectorAll('[role="log"] .message').length > 0);
    const start = { ms: 0, mem: await measureMemory(s.page, s.cdp) };
    const marker = s.page.getByText('Start of the conversation');
    const t0 = Date.now();
    let pages = 0;
    while (!(await marker.isVisible())) {
      const first = await s.page.evaluate(() => document.querySelector('[role="log"] .message-body')?.textContent);
      await log.evaluate((el) => {
        el.scrollTop = Math.min(el.scrollTop, 50);
        el.scrollTop = 0;
      });
      await s.page
        .waitForFunction(
          (first) => document.querySelector('[role="log"] .message-body')?.textContent !== first || !!document.querySelector('.history-start'),
          first,
          { timeout: 30_000, polling: 20 },
        )
        .catch(async (e) => {
          const state = await s.page.evaluate(() => {
            const t = document.querySelector('[role="log"]');
            return `${t.querySelectorAll('.message').length} rows, top ${t.scrollTop} of ${t.scrollHeight}, rows: ${[...t.querySelectorAll('.history-row')].map((r) => r.textContent).join(' | ')}`;
          });
          throw new Error(`page ${pages + 1}: ${state}: ${e.message.split('\n')[0]}`);
        });
      pages++;
      check(pages < SCROLLBACK, 'scroll-back does not end');
    }
    const ms = Date.now() - t0;
    const first = await s.page.evaluate(() => document.querySelector('[role="log"] .message-body')?.textContent);
    check(first === `${prefix}-0001`, `the first message shown is ${first}`);
    check(s.problems.length === 0, s.problems.join('; '));
    return { ms, domMs: ms, pages, mem: await measureMemory(s.page, s.cdp), start };
  } finally {
    if (s) await finish(s);
    await Promise.allSettled([peer.stop(), elsewhere.stop()]);
  }
}

/** Serves dist/ with this config.json on a port of its own for one run; resolves to { url, close }. */
async function serveWith(config) {
  const s = await serve(dist, { config });
  return { url: `http://127.0.0.1:${s.address().port}/`, close: () => new Promise((r) => s.close(r)) };
}

/** Issue 12: cut → back online with nothing missing, per cut, over NATTER_BENCH_CUTS abrupt closes. */
async function cutsRun() {
  await resetMessageStores({ root, ...env, domain: env.hashedDomain, users: ['alice', 'bob'] });
  const s = await openPage();
  const servers = [];
  const peers = [];
  const ctx = {
    page: s.page,
    env,
    log: () => {},
    peer: (opts) => {
      const p = startPeer(opts);
      peers.push(p);
      return p;
    },
    serve: async (config) => {
      const w = await serveWith(config);
      servers.push(w);
      return w.url;
    },
  };
  try {
    const r = await runFaults(ctx, { name: 'Prosody', ws: env.ws, domain: env.hashedDomain }, { cycles: CUTS, only: 'close', readAtEnd: false });
    check(s.problems.every((p) => p.includes('Data frame received after close')), s.problems.join('; '));
    const cuts = r.recoveries.close;
    return { ms: median(cuts), samples: cuts, seconds: r.seconds };
  } finally {
    await finish(s);
    await Promise.allSettled(peers.map((p) => p.stop()));
    await Promise.all(servers.map((w) => w.close()));
  }
}

/** Issue 12: 1,000 messages queued while offline, flushed once the browser is back online. */
async function outboxRun() {
  // Prosody's file-backed archive gets slower to append to as it grows: start each run from empty ones.
  await resetMessageStores({ root, ...env, domain: env.hashedDomain, users: ['alice', 'bob'] });
  const alice = `alice@${env.hashedDomain}`;
  const bob = startPeer({ jid: `bob@${env.hashedDomain}`, password: env.bobPassword, priority: 100 });
  const app = await serveWith({ websocket_url: env.ws });
  const s = await openPage();
  try {
    await bob.online();
    await s.page.goto(app.url);
    await s.page.getByLabel('Address', { exact: true }).fill(alice);
    await s.page.getByLabel('Password', { exact: true }).fill(env.alicePassword);
    await s.page.getByRole('button', { name: 'Log in' }).click();
    await logoutButton(s.page).waitFor({ timeout: LOGIN_TIMEOUT });
    await s.page.getByRole('list').getByRole('button', { name: /^Bob — / }).click();
    await s.page.getByLabel('Message', { exact: true }).waitFor();
    await s.context.setOffline(true);
    await s.page.getByText('Connection lost.').waitFor();
    const prefix = `q${Math.random().toString(36).slice(2, 7)}-`;
    // Through the composer's own Enter handler, in the page (1,000 Playwright round trips would take a minute).
    const left = await s.page.evaluate(({ prefix, n }) => {
      const composer = document.getElementById('composer');
      for (let i = 1; i <= n; i++) {
        composer.value = `${prefix}${i}`;
        composer.dispatchEvent(new Event('input', { bubbles: true }));
        composer.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
        if (composer.value !== '') return composer.value;
      }
      return '';
    }, { prefix, n: QUEUED });
    check(left === '', `the composer kept ${JSON.stringify(left)}`);
    const pending = await s.page.locator('.message-state[data-state="pending"]').count();
    check(pending === QUEUED, `${pending} of ${QUEUED} messages shown as not sent yet`);
    const since = bob.mark();
    if (PROFILE) await startProfile(s.cdp);
    const t0 = epochNow();
    await s.context.setOffline(false);
    await bob.waitFor((e) => e.event === 'message' && e.body === `${prefix}${QUEUED}`, 'the last queued message', { since, timeout: BURST_TIMEOUT });
    const ms = epochNow() - t0;
    await s.page.waitForFunction(
      (n) => document.querySelectorAll('.message-state[data-state="sent"], .message-state[data-state="delivered"], .message-state[data-state="read"]').length >= n,
      QUEUED,
      { timeout: BURST_TIMEOUT, polling: 50 },
    );
    const sentMs = epochNow() - t0;
    const profile = PROFILE ? await stopProfile(s.cdp) : undefined;
    const mark = bob.mark();
    bob.send({ cmd: 'check', from: alice, prefix, count: QUEUED });
    const c = await bob.waitFor((e) => e.event === 'check', 'the check', { since: mark });
    check(c.ok, `Bob's check: ${JSON.stringify(c)}`);
    check(s.problems.length === 0, s.problems.join('; '));
    return { ms, domMs: sentMs, profile, mem: await measureMemory(s.page, s.cdp) };
  } finally {
    await finish(s);
    await bob.stop();
    await app.close();
  }
}

/** Durations of the ten tenths from the times each tenth was reached (the first counted from the start). */
function tenths(steps) {
  return steps.map((t, i) => t - (i === 0 ? 0 : steps[i - 1]));
}


// ---- reload-10000: instant start from the local store (issue 13 item 8) ----

const RELOAD_CONVERSATIONS = 50;
const RELOAD_PER_CONVERSATION = 200;
const RELOAD_CONTACTS = 2000;

/** In the page: writes the seeded store of `account` (the layout of src/storage/indexed.rs) and the last-account record. */
function seedReloadStore({ db, account, domain, contacts, conversations, perConversation }) {
  localStorage.setItem('natter.last-account', account);
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(db, 1);
    open.onupgradeneeded = () => {
      const d = open.result;
      d.createObjectStore('meta', { keyPath: 'k' });
      d.createObjectStore('roster', { keyPath: 'j' });
      d.createObjectStore('conversations', { keyPath: 'j' });
      const m = d.createObjectStore('messages', { keyPath: 'k', autoIncrement: true });
      m.createIndex('page', ['c', 't', 'k']);
      m.createIndex('stanza', 'z');
      m.createIndex('origin', ['s', 'o']);
      d.createObjectStore('outbox', { keyPath: 'q', autoIncrement: true });
      d.createObjectStore('gaps', { keyPath: ['c', 's'] });
    };
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const d = open.result;
      const tx = d.transaction(['meta', 'roster', 'conversations', 'messages'], 'readwrite');
      const jid = (i) => `c${String(i).padStart(4, '0')}@${domain}`;
      tx.objectStore('meta').put({ k: 'device_id', v: 'bench-device' });
      tx.objectStore('meta').put({ k: 'roster_ver', v: 'bench-1' });
      tx.objectStore('meta').put({ k: 'fast_token', v: 'HT-SHA-256-NONE\n0\n\nbench-token-never-used' });
      for (let i = 1; i <= contacts; i++) {
        tx.objectStore('roster').put({ j: jid(i), n: `Contact ${String(i).padStart(4, '0')}`, s: 'both' });
      }
      const base = Date.UTC(2026, 11, 1);
      for (let c = 1; c <= conversations; c++) {
        const last = base + c * 1_000_000 + perConversation * 1000;
        tx.objectStore('conversations').put({ j: jid(c), y: 'chat', u: c % 3, t: last });
        for (let k = 1; k <= perConversation; k++) {
          const mine = k % 2 === 0;
          tx.objectStore('messages').put({
            c: jid(c), t: base + c * 1_000_000 + k * 1000, s: mine ? account : jid(c), ...(mine ? { m: true } : {}),
            b: `message ${k} of conversation ${c}`, i: `id-${c}-${k}`, o: `id-${c}-${k}`, z: `sid-${c}-${k}`, st: mine ? 3 : 0,
          });
        }
      }
      tx.oncomplete = () => { d.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  });
}

/** Installed before the app loads: the times the roster and the open transcript were first complete, painted. */
function reloadWatch({ rows, last }) {
  const w = (window.__reload = { roster: null, transcript: null, paint: null });
  const done = () => {
    if (w.roster === null && document.querySelector(`nav.roster ul.groups[data-rows="${rows}"] button.contact-main`)) w.roster = performance.now();
    if (w.transcript === null) {
      const items = document.querySelector('[role="log"]')?.getElementsByTagName('li');
      if (items && items.length > 0 && items[items.length - 1].textContent.includes(last)) w.transcript = performance.now();
    }
    if (w.roster !== null && w.transcript !== null && w.paint === null) {
      observer.disconnect();
      requestAnimationFrame(() => setTimeout(() => { w.paint = performance.now(); }, 0));
    }
  };
  const observer = new MutationObserver(done);
  document.addEventListener('DOMContentLoaded', () => observer.observe(document.body, { childList: true, subtree: true, attributes: true }));
}

async function reloadRun() {
  const s = await openPage();
  try {
    const account = `natreload@${env.domain}`;
    const db = `natter-${createHash('sha256').update(account).digest('hex')}`;
    const open = `c${String(RELOAD_CONVERSATIONS).padStart(4, '0')}@${env.domain}`;
    await s.page.evaluate(seedReloadStore, {
      db, account, domain: env.domain, contacts: RELOAD_CONTACTS, conversations: RELOAD_CONVERSATIONS, perConversation: RELOAD_PER_CONVERSATION,
    });
    await s.page.routeWebSocket(/.*/, () => {}); // held: no reply from the network, ever
    const last = `message ${RELOAD_PER_CONVERSATION} of conversation ${RELOAD_CONVERSATIONS}`;
    await s.page.addInitScript(reloadWatch, { rows: RELOAD_CONTACTS, last });
    await s.page.goto(`${baseURL}?reload#/chat/${encodeURIComponent(open)}`); // a new document, not a hash change
    await s.page.waitForFunction(() => window.__reload?.paint != null, null, { timeout: LOGIN_TIMEOUT });
    const w = await s.page.evaluate(() => ({
      ...window.__reload,
      wasm: performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm'))?.responseEnd ?? null,
      items: document.querySelector('[role="log"]').getElementsByTagName('li').length,
      connecting: document.body.innerText.includes('Connecting…'),
    }));
    check(w.connecting, 'the page does not say it is connecting');
    check(w.items >= 50, `${w.items} messages in the open transcript`);
    const mem = await measureMemory(s.page, s.cdp);
    check(s.problems.length === 0, s.problems.join('; '));
    return { ms: w.paint, fromWasmMs: w.wasm == null ? null : w.paint - w.wasm, rosterMs: w.roster, transcriptMs: w.transcript, mem };
  } finally {
    await s.context.close().catch(() => {});
  }
}

const SCENARIOS = [
  { name: 'login-empty', what: 'click "Log in" → chat screen of an empty roster painted (the login floor)', run: () => rosterRun(BENCH.empty, 0, {}) },
  { name: 'roster-100', what: 'click "Log in" → 100-contact roster painted', run: () => rosterRun(BENCH.roster100, 100, { baseline: true }) },
  { name: 'roster-2000', what: 'click "Log in" → 2,000-contact roster painted', run: () => rosterRun(BENCH.roster2000, 2000, {}) },
  { name: 'burst-peers', what: `no browser: one scripted peer bursts ${BURST.toLocaleString('en')} messages to another → the last one received (server + transport floor)`, run: burstPeersRun, noMemory: true },
  { name: 'burst-open', what: `peer starts ${BURST.toLocaleString('en')}-message burst → last message painted, conversation open`, run: burstOpenRun, budget: BURST_BUDGET },
  { name: 'burst-closed', what: `same burst, no conversation open → unread badge reads ${BURST}`, run: burstClosedRun, child: { name: 'open-after-burst', what: `then click the contact → ${BURST.toLocaleString('en')}-message transcript painted`, key: 'opened' } },
  { name: 'away-1000', what: `${BURST.toLocaleString('en')} messages sent while logged out; click "Log in" again (conversation named in the URL) → all shown, once, in order`, run: () => awayRun({ known: true }) },
  { name: 'away-elsewhere-1000', what: `the same, received meanwhile by another device of the account (nothing in offline storage: the archive's pages only)`, run: () => awayRun({ known: true, elsewhere: true }) },
  { name: 'away-new-1000', what: `the same on a browser that never logged in (no archive point: offline delivery and the newest page)`, run: () => awayRun({ known: false }) },
  { name: 'scroll-5000', what: `scroll back through a ${SCROLLBACK.toLocaleString('en')}-message archive to its first message (memory at the start of the conversation)`, run: scrollBackRun, once: true, child: { name: 'scroll-5000-first-page', what: 'the same conversation after its first page (memory)', key: 'start' } },
  { name: 'cuts', what: `WebSocket reset → back online with nothing missing, each of ${CUTS} cuts (one run; the figures are over the cuts)`, run: cutsRun, once: true },
  { name: 'reload-10000', what: `reload with ${(RELOAD_CONVERSATIONS * RELOAD_PER_CONVERSATION).toLocaleString('en')} stored messages in ${RELOAD_CONVERSATIONS} conversations, ${RELOAD_CONTACTS.toLocaleString('en')} contacts, network held → roster and open conversation painted (from navigation)`, run: reloadRun },
  { name: 'outbox-1000', what: `${QUEUED.toLocaleString('en')} messages queued offline; back online → the peer has the last (then: all shown sent)`, run: outboxRun },
];

// ---- run ----
const results = []; // { name, what, runs: [...], failures: [...], note }
let failures = 0;
try {
  const selected = SCENARIOS.filter((s) => !filter || s.name.includes(filter) || s.child?.name.includes(filter));
  if (selected.length === 0) die(`no scenario matches "${filter}" (${SCENARIOS.map((s) => s.name).join(', ')})`);
  progress(`seeding accounts into ${env.runDir} …`);
  await seed({ root, ...env });
  peerBin = await buildPeer(root);
  // config.json names this run's Prosody (the one in dist/ names the default port).
  server = await serve(dist, { config: { websocket_url: env.ws, domain: env.domain } });
  baseURL = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    ],
  });
  chromeVersion = browser.version();
  progress(`load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  progress(`${RUNS} runs per scenario (+${WARMUP} warm-up), burst ${BURST}, app ${dist} at ${baseURL}, server ${env.ws}`);

  for (const sc of selected) {
    const entry = { name: sc.name, what: sc.what, runs: [], failures: [], notes: [] };
    const child = sc.child ? { name: sc.child.name, what: sc.child.what, runs: [], failures: [], notes: [] } : null;
    results.push(entry);
    if (child) results.push(child);
    const started = Date.now();
    const [warmup, runs] = sc.once ? [0, 1] : [WARMUP, RUNS];
    for (let i = -warmup; i < runs; i++) {
      if (i >= 0 && sc.budget && i > 0 && Date.now() - started > sc.budget) {
        entry.notes.push(`stopped after ${i} runs: the ${sc.budget / 1000} s budget was used`);
        progress(`${sc.name}: budget of ${sc.budget / 1000} s used after ${i} runs; no more runs`);
        break;
      }
      const label = i < 0 ? 'warm-up' : `run ${i + 1}/${runs}`;
      const t = Date.now();
      try {
        const r = await sc.run(i);
        if (i >= 0) {
          entry.runs.push(r);
          if (child && r[sc.child.key]) child.runs.push(r[sc.child.key]);
        }
        for (const [n, x] of [[sc.name, r], [child?.name, child && r[sc.child.key]]]) {
          const p = x?.profile;
          if (p) progress(`  ${n} CPU profile over ${fmtMs(p.totalMs)}: wasm ${fmtMs(p.wasm)}, JS ${fmtMs(p.js)}, GC ${fmtMs(p.gc)}, browser (style/layout/paint/DOM) ${fmtMs(p.program)}, idle ${fmtMs(p.idle)}; top JS: ${p.topJs.join('; ')}`);
        }
        if (r.steps?.length === 10) progress(`  ${sc.name} each tenth took: ${tenths(r.steps).map(fmtMs).join(', ')}`);
        const extra = child && r[sc.child.key] ? `; ${child.name} ${fmtMs(r[sc.child.key].ms)}` : '';
        progress(`${sc.name} ${label}: ${fmtMs(r.ms)} (DOM ${fmtMs(r.domMs)}${r.chatMs != null ? `, chat screen ${fmtMs(r.chatMs)}, first row ${fmtMs(r.firstRowMs)}, logout ${fmtMs(r.logoutMs)}` : ''}${r.peerSendMs != null ? `, peer sent in ${fmtMs(r.peerSendMs)}` : ''}, longest task ${fmtMs(r.longestTask)})${extra} [${((Date.now() - t) / 1000).toFixed(1)} s]`);
      } catch (e) {
        const msg = String(e.message || e).split('\n')[0];
        progress(`${sc.name} ${label}: FAILED: ${msg}`);
        if (i >= 0 || !e.partial) {
          failures++;
          entry.failures.push(msg);
        }
        if (e.partial) entry.notes.push(`a run timed out: ${e.partial.shown} of ${BURST} messages shown after ${fmtMs(e.partial.ms)}`);
        if (e.partial && sc.budget) {
          entry.notes.push('no more runs after a timeout');
          break;
        }
      }
    }
  }
} catch (e) {
  failures++;
  console.error(`bench: FAILED: ${e.stack || e}`);
  if (peerLog.length) console.error(peerLog.slice(-20).join('\n'));
} finally {
  await cleanup();
}

// ---- report ----
const cpu = (() => {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? os.cpus()[0]?.model;
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
})();
// Which source the build came from: NATTER_BENCH_COMMIT when given (a build made elsewhere), else this checkout.
let commit = process.env.NATTER_BENCH_COMMIT || 'unknown';
if (!process.env.NATTER_BENCH_COMMIT) {
  try {
    commit = `this checkout (${execFileSync('git', ['-C', root, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).trim()})`;
  } catch {}
}
const med = (runs, f) => stats(runs.map(f))?.median;

const lines = [];
lines.push(`- date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; machine: ${os.cpus().length} CPUs, ${cpu}; load average at end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
lines.push(`- Chromium ${chromeVersion} headless (--disable-gpu), viewport 1100×720; Prosody at ${env.ws}; build ${dist.startsWith(root + path.sep) ? path.relative(root, dist) : dist} from ${commit}`);
lines.push(`- ${RUNS} recorded runs per scenario after ${WARMUP} warm-up run(s) (cuts: one run, its figures over the cuts); memory is the median over the runs, read at the end of each run after a forced GC`);
lines.push('');
lines.push('| scenario | what is timed | runs | median | min | max | longest task (median) | JS heap | wasm memory | DOM nodes |');
lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
const baseline = results.find((r) => r.name === 'roster-100')?.runs.map((r) => r.baselineMem).filter(Boolean) ?? [];
if (baseline.length) {
  lines.push(`| login screen | (memory only: the app loaded, before logging in) | ${baseline.length} | | | | | ${fmtMiB(med(baseline, (m) => m.jsHeapUsed))} | ${fmtMiB(med(baseline, (m) => m.wasmMemory))} | ${med(baseline, (m) => m.domNodes) ?? '–'} |`);
}
for (const r of results) {
  // A run that times many things (the cuts) reports each as a sample.
  const samples = r.runs.flatMap((x) => x.samples ?? [x.ms]);
  const st = stats(samples);
  const cells = st ? [fmtMs(st.median), fmtMs(st.min), fmtMs(st.max)] : ['–', '–', '–'];
  const counted = r.runs.some((x) => x.samples) ? `${samples.length} cuts` : r.runs.length;
  const n = counted + (r.failures.length ? ` (+${r.failures.length} failed)` : '');
  lines.push(`| ${r.name} | ${r.what} | ${n} | ${cells.join(' | ')} | ${fmtMs(med(r.runs, (x) => x.longestTask))} | ${fmtMiB(med(r.runs, (x) => x.mem?.jsHeapUsed))} | ${fmtMiB(med(r.runs, (x) => x.mem?.wasmMemory))} | ${med(r.runs, (x) => x.mem?.domNodes) ?? '–'} |`);
}
const details = results.filter((r) => r.runs.some((x) => x.peerSendMs != null));
const logins = results.filter((r) => r.runs.some((x) => x.chatMs != null));
if (details.length || logins.length || results.some((r) => r.notes.length || r.failures.length)) lines.push('');
for (const r of logins) {
  lines.push(`- ${r.name}: chat screen shown (session online) at ${fmtMs(med(r.runs, (x) => x.chatMs))}, first contact row at ${fmtMs(med(r.runs, (x) => x.firstRowMs))}, the whole roster in the list and its first screen of rows in the DOM at ${fmtMs(med(r.runs, (x) => x.domMs))}, painted at ${fmtMs(med(r.runs, (x) => x.ms))} (medians); long tasks ${fmtMs(med(r.runs, (x) => x.longTaskTotal))} in total; "Log out" → login form painted: ${fmtMs(med(r.runs, (x) => x.logoutMs))}`);
}
for (const r of results.filter((x) => x.runs.some((y) => y.fromWasmMs != null))) {
  lines.push(`- ${r.name}: painted ${fmtMs(med(r.runs, (x) => x.fromWasmMs))} after the wasm file was downloaded (it is compiled and started in that time); roster complete at ${fmtMs(med(r.runs, (x) => x.rosterMs))}, open transcript at ${fmtMs(med(r.runs, (x) => x.transcriptMs))} from the navigation (medians)`);
}
for (const r of details) {
  const page = r.runs.some((x) => x.mem)
    ? `; in the DOM at ${fmtMs(med(r.runs, (x) => x.domMs))}; long tasks ${fmtMs(med(r.runs, (x) => x.longTaskTotal))} in total`
    : '';
  lines.push(`- ${r.name}: the peer had sent all ${BURST} messages after ${fmtMs(med(r.runs, (x) => x.peerSendMs))}${page} (medians)`);
}
for (const r of results) {
  const full = r.runs.filter((x) => x.steps?.length === 10);
  if (full.length && /burst|open/.test(r.name)) {
    const per = Array.from({ length: 10 }, (_, k) => stats(full.map((x) => tenths(x.steps)[k])).median);
    lines.push(`- ${r.name}: time per tenth of the messages (median over runs, first → last): ${per.map(fmtMs).join(', ')}`);
  }
}
for (const r of results.filter((r) => r.name === 'outbox-1000' && r.runs.length)) {
  lines.push(`- ${r.name}: every message shown as sent (acknowledged by the server) at ${fmtMs(med(r.runs, (x) => x.domMs))} (median)`);
}
for (const r of results) {
  for (const n of r.notes) lines.push(`- ${r.name}: ${n}`);
  for (const f of r.failures) lines.push(`- ${r.name}: FAILED run: ${f}`);
}
console.log(lines.join('\n'));

if (process.env.NATTER_BENCH_JSON) {
  writeFileSync(process.env.NATTER_BENCH_JSON, JSON.stringify({ cpu, nproc: os.cpus().length, commit, chromeVersion, runs: RUNS, burst: BURST, results }, null, 2));
}
process.exit(failures > 0 ? 1 : 0);
