// The fault-injection scenario of issue 12, shared by the e2e test (e2e/tests/09-fault.mjs) and the benchmark
// (e2e/bench.mjs "cuts"): Alice in the browser and Bob, the scripted peer (examples/peer.rs), exchange numbered
// messages while a cutting proxy (e2e/proxy.mjs) between the browser and the server breaks the WebSocket again
// and again. Only the browser goes through the proxy; Bob talks to the server directly.
//
// One cycle (of `cycles`):
//   1. Alice sends message 3i+1 from the composer; Bob sends his 3i+1. (Alice's go through the composer's own
//      Enter handler: the text put into the field, then an Enter keydown on it, in one call into the page: the
//      path a person's typing takes, without Playwright's per-keystroke round trips.)
//   2. A short while later (0.05–0.25 s) the connection breaks, by the cycle's kind:
//        close      an abrupt close (both sockets reset)
//        early      an abrupt close, then another one right after the reconnect's WebSocket upgrade (0–60 ms
//                   in: during the login or the resumption)
//        blackhole  nothing flows for 2–8 s, nothing is closed; then the proxy resumes forwarding (every other
//                   blackhole) or resets the connection. The app runs with a 5 s response timeout
//                   (config.json `timeout_seconds`): Alice's message 3i+2 asks for an acknowledgement at once,
//                   so a blackhole longer than about 5 s is found dead by the app's own deadline, which closes
//                   that stream and resumes on a new connection; a shorter one is survived (resumed forwarding)
//                   or ends in a reset.
//   3. Right after the break both send 3i+2 (Alice's waits in the outbox, or rides the dying stream and comes
//      back as unacknowledged; Bob's waits at the server for the lost session).
//   4. Back online: Alice's page shows Bob's 3i+2 and Bob has Alice's 3i+2. The time from the break to this
//      point is the cycle's recovery ("cut → back online with nothing missing").
//   5. Both send 3i+3.
// Every 8th cycle is a blackhole and every 10th (from the 3rd) an early cut; the rest are closes. When the server
// has a script (`server.script`, e.g. prosody.sh), the middle cycle is a server restart instead (`reboot`: the
// data kept, every session and its stream state lost): Bob's 3i+2 is at the server (acknowledged) but maybe not
// yet on Alice's page when it goes down, so it comes back only through the archive's catch-up; Alice's 3i+2
// is sent while the server is down; Bob (whose process the restart ends) comes back as a new peer. Blackhole
// lengths and pauses come from a seeded generator (NATTER_FAULT_SEED), so a failing run can be repeated.
//
// Then it checks: Bob received Alice's 1…3n exactly once and in order (the peer's own `check`; with a restart,
// each Bob checks his part: the first 1…k, the second the rest, once and in order); Alice's page
// shows Bob's 1…3n exactly once and in order, and her own 1…3n once and in order; every one of her messages
// ends delivered (Bob's client sends receipts); after Bob marks the last one displayed, every one is read.
// It returns the figures (recoveries per kind, cuts, connections, duration) for the caller to print.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { logIn, until } from './harness.mjs';
import { CuttingProxy } from './proxy.mjs';

/** A small seeded generator (mulberry32): the same seed, the same schedule. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The kind of cycle `i` (`only`: every cycle of that kind). */
function kindOf(i, only) {
  if (only) return only;
  if (i % 8 === 7) return 'blackhole';
  if (i % 10 === 2) return 'early';
  return 'close';
}

export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The app's response timeout in the scenario (config.json `timeout_seconds`; the app's least). */
export const TIMEOUT_SECONDS = 5;

/** Restarts the server keeping its data (`scripts/<script> reboot`, with the ports of this environment). */
function reboot(script) {
  const file = fileURLToPath(new URL(`../scripts/${script}`, import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(file, ['reboot'], (err, _out, stderr) => (err ? reject(new Error(`${script} reboot: ${err.message} ${stderr}`)) : resolve()));
  });
}

/**
 * Runs the scenario. `ctx` is the e2e test context (page, peer, serve, log); `server` is
 * { name, ws, domain } (the domain must keep a stable SCRAM salt: the scripts' hashed.localhost).
 * Options: cycles (100), blackholeMax (ms, 8000), seed, patience (ms per wait, 30000), readAtEnd (true),
 * only ('close', 'early' or 'blackhole': every cycle of that kind).
 */
export async function runFaults(ctx, server, opts = {}) {
  const { page, log } = ctx;
  const cycles = opts.cycles ?? 100;
  const blackholeMax = Math.min(8000, Math.max(2000, opts.blackholeMax ?? 8000));
  const seed = opts.seed ?? 12;
  const patience = opts.patience ?? 30_000;
  const random = rng(seed);
  const total = 3 * cycles;
  const alice = `alice@${server.domain}`;
  const token = Math.random().toString(36).slice(2, 7);
  const mine = `${token}-alice-`; // Alice's bodies: `${mine}${n}`
  const theirs = `${token}-bob-`;

  const proxy = await CuttingProxy.start(server.ws);
  const started = Date.now();
  try {
    const newBob = () => ctx.peer({ ws: server.ws, jid: `bob@${server.domain}`, password: ctx.env.bobPassword, priority: 100 });
    let bob = newBob();
    await bob.online();
    const restartAt = server.script ? Math.floor(cycles / 2) : -1;
    let restarted = 0; // the last of Alice's messages the first Bob got (0: no restart)
    // The app finds the proxy through config.json, which also sets its response timeout.
    const appURL = await ctx.serve({ websocket_url: proxy.url, timeout_seconds: TIMEOUT_SECONDS });
    await logIn(page, appURL, alice, ctx.env.alicePassword);
    await page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: patience });
    await page.getByRole('list').getByRole('button', { name: /^Bob — / }).click();
    await page.getByLabel('Message', { exact: true }).waitFor();

    let n = 0;
    const say = async () => {
      n++;
      bob.send({ cmd: 'send', to: alice, body: `${theirs}${n}` });
      const left = await page.evaluate((text) => {
        const composer = document.getElementById('composer');
        composer.value = text;
        composer.dispatchEvent(new Event('input', { bubbles: true }));
        composer.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
        return composer.value;
      }, `${mine}${n}`);
      if (left !== '') throw new Error(`the composer kept ${JSON.stringify(left)}: not sent`);
      return n;
    };
    // Alice's page shows Bob's message `k` and is online; Bob has Alice's `k`.
    const recovered = async (k) => {
      await Promise.all([
        page.waitForFunction(
          ({ body }) => {
            const online = document.querySelector('.connection')?.textContent.includes('Online');
            const rows = document.querySelectorAll('.transcript .message:not(.from-me) .message-body');
            return online && [...rows].some((r) => r.textContent === body);
          },
          { body: `${theirs}${k}` },
          { timeout: patience, polling: 20 },
        ),
        bob.waitFor((e) => e.event === 'message' && e.from === alice && e.body === `${mine}${k}`, `Bob gets ${mine}${k}`, {
          timeout: patience,
        }),
      ]);
    };

    const recoveries = { close: [], early: [], blackhole: [], restart: [] };
    let cuts = 0;
    let blackholes = 0;
    let deadlines = 0; // blackholes the app found dead by itself (it reconnected before the blackhole ended)
    for (let i = 0; i < cycles; i++) {
      const kind = i === restartAt ? 'restart' : kindOf(i, opts.only);
      if (kind === 'restart') {
        const k = await say();
        await recovered(k);
        // Alice's messages so far are at the server (nothing of hers in flight), and the first Bob has them all.
        await until(
          () => page.evaluate(() => [...document.querySelectorAll('.transcript .message.from-me .message-state')].every((s) => s.dataset.state !== 'sending' && s.dataset.state !== 'pending')),
          'Alice\'s messages acknowledged before the restart',
          { timeout: patience },
        );
        const mark = bob.mark();
        bob.send({ cmd: 'check', from: alice, prefix: mine, count: k });
        const check = await bob.waitFor((e) => e.event === 'check', 'the first Bob\'s check', { since: mark });
        if (!check.ok) throw new Error(`Bob's check of Alice's messages before the restart failed: ${JSON.stringify(check)}`);
        // Bob's next one reaches the server (acknowledged), then the server goes down at once.
        n++;
        const id = `${token}-restart-${n}`;
        bob.send({ cmd: 'send', to: alice, body: `${theirs}${n}`, id });
        await bob.waitFor((e) => e.event === 'acked' && e.id === id, 'Bob\'s message at the server');
        const t0 = performance.now();
        // While the server is down the browser reports each refused WebSocket handshake itself.
        ctx.allowConsole?.(/WebSocket connection to .* failed|ERR_EMPTY_RESPONSE|ERR_CONNECTION_REFUSED|ERR_SOCKET_NOT_CONNECTED|ERR_CONNECTION_RESET/);
        await Promise.all([reboot(server.script), bob.stop()]);
        log(`cycle ${i}: server restarted`);
        restarted = k;
        // Alice writes while it is down (or just back): her message waits and goes out once.
        await page.evaluate((text) => {
          const composer = document.getElementById('composer');
          composer.value = text;
          composer.dispatchEvent(new Event('input', { bubbles: true }));
          composer.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
        }, `${mine}${n}`);
        bob = newBob();
        await bob.online();
        await recovered(n);
        recoveries.restart.push(performance.now() - t0);
        await say();
        continue;
      }
      await say();
      await sleep(50 + random() * 200);
      const t0 = performance.now();
      let gap = Promise.resolve();
      if (kind === 'blackhole') {
        const ms = 2000 + Math.round(random() * (blackholeMax - 2000));
        const then = blackholes++ % 2 === 0 ? 'resume' : 'close';
        log(`cycle ${i}: blackhole ${ms} ms, then ${then}`);
        const before = proxy.accepted;
        gap = proxy.blackhole(ms, then).then(() => {
          if (proxy.accepted > before) deadlines++;
        });
        cuts++;
      } else {
        const upgraded = new Promise((r) => proxy.once('upgraded', r));
        proxy.cut();
        cuts++;
        if (kind === 'early') {
          const delay = Math.round(random() * 60);
          log(`cycle ${i}: close, then another ${delay} ms after the reconnect's upgrade`);
          gap = upgraded.then(async () => {
            await sleep(delay);
            proxy.cut();
            cuts++;
          });
        }
      }
      const k = await say();
      await gap;
      await recovered(k);
      recoveries[kind].push(performance.now() - t0);
      await say();
    }

    // Everything arrives, once and in order, both ways.
    await recovered(total);
    if (restarted) {
      // The second Bob: Alice's messages after the first Bob's part, each once and in order. (A copy of one the
      // first Bob already had, which the server may hand the new session again, is no message of Alice's twice.)
      const after = bob.events
        .filter((e) => e.event === 'message' && e.from === alice && e.body.startsWith(mine))
        .map((e) => Number(e.body.slice(mine.length)))
        .filter((x) => x > restarted);
      const want = Array.from({ length: total - restarted }, (_, i) => restarted + 1 + i);
      if (after.length !== want.length || !after.every((x, i) => x === want[i])) {
        throw new Error(`the second Bob did not get Alice's ${restarted + 1}…${total} once in order: ${JSON.stringify(after)}`);
      }
    } else {
      const mark = bob.mark();
      bob.send({ cmd: 'check', from: alice, prefix: mine, count: total });
      const check = await bob.waitFor((e) => e.event === 'check', 'the peer\'s check', { since: mark });
      if (!check.ok) throw new Error(`Bob's check of Alice's messages failed: ${JSON.stringify(check)}`);
    }
    const transcript = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('.transcript .message')].map((li) => ({
          mine: li.classList.contains('from-me'),
          body: li.querySelector('.message-body')?.textContent ?? '',
          state: li.querySelector('.message-state')?.getAttribute('data-state') ?? (li.classList.contains('failed') ? 'failed' : null),
        })),
      );
    const numbers = (rows, prefix) => rows.filter((r) => r.body.startsWith(prefix)).map((r) => Number(r.body.slice(prefix.length)));
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
    let rows = await transcript();
    if (!same(numbers(rows.filter((r) => !r.mine), theirs), expected)) {
      throw new Error(`Bob's messages on Alice's page: not 1…${total} once in order: ${JSON.stringify(numbers(rows.filter((r) => !r.mine), theirs))}`);
    }
    if (!same(numbers(rows.filter((r) => r.mine), mine), expected)) {
      throw new Error(`Alice's own messages on her page: not 1…${total} once in order: ${JSON.stringify(numbers(rows.filter((r) => r.mine), mine))}`);
    }
    // Final states: every one delivered (Bob's client answers receipts), then read once Bob marks the last.
    const states = async () => (await transcript()).filter((r) => r.mine && r.body.startsWith(mine)).map((r) => r.state);
    const all = (xs, ok) => xs.length === total && xs.every((s) => ok.includes(s));
    await until(async () => all(await states(), ['delivered', 'read']), `every message of Alice's delivered (${JSON.stringify(await states().catch(() => null))})`, { timeout: patience });
    if (opts.readAtEnd ?? true) {
      const last = await bob.waitFor((e) => e.event === 'message' && e.body === `${mine}${total}`, 'the last message');
      bob.send({ cmd: 'displayed', to: alice, id: last.id });
      await until(async () => all(await states(), ['read']), 'every message of Alice\'s read', { timeout: patience });
    }
    rows = await transcript();
    return {
      cycles,
      messages: total,
      cuts,
      deadlines,
      connections: proxy.accepted,
      seconds: (Date.now() - started) / 1000,
      recoveries,
      states: rows.filter((r) => r.mine).reduce((m, r) => ((m[r.state] = (m[r.state] ?? 0) + 1), m), {}),
    };
  } finally {
    await proxy.close();
  }
}

/** One line about a run's figures. */
export function summary(server, r) {
  const ms = (x) => `${Math.round(x)} ms`;
  const parts = Object.entries(r.recoveries)
    .filter(([, xs]) => xs.length > 0)
    .map(([kind, xs]) => `${kind} ×${xs.length}: median ${ms(median(xs))}, max ${ms(Math.max(...xs))}`);
  return `${server}: ${r.messages} messages each way, ${r.cuts} cuts${r.recoveries.restart.length ? ' and a server restart' : ''} (${r.deadlines} blackholes found dead by the app's deadline), ` +
    `${r.connections} connections, ${r.seconds.toFixed(0)} s; ` +
    `cut → back online with nothing missing: ${parts.join('; ')}; Alice's messages: ${JSON.stringify(r.states)}`;
}
