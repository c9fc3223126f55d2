// Pieces of the browser benchmark (e2e/bench.mjs) that are not scenarios: seeding the bench accounts into the
// running Prosody, a static server for the release build, the scripted peer's build, the in-page stopwatch,
// memory readings and the summary statistics.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';

// ---- seeding ------------------------------------------------------------------------------------------------

/** The accounts the benchmark uses (fixed names, so repeated runs reuse them; seeding overwrites them). */
export const BENCH = {
  password: 'natbench-pw',
  roster100: 'natbench100',
  roster2000: 'natbench2000',
  me: 'natbencha', // receives the bursts
  peer: 'natbenchb', // sends the bursts (the scripted peer)
  receiver: 'natbenchc', // receives the peer-to-peer burst (a second scripted peer: the no-browser floor)
  empty: 'natbench0', // an empty roster (the login floor)
  peerName: 'Bench peer',
};

/** Contact number i (1-based) of the big rosters: natbc0001@DOMAIN, "Contact 0001", in one of `groups` groups. */
export function contactJid(i, domain) {
  return `natbc${String(i).padStart(4, '0')}@${domain}`;
}

function luaString(s) {
  return JSON.stringify(s); // the bench's strings are ASCII letters, digits, spaces, '@' and '.': same in Lua
}

/** Prosody 0.12 roster file (mod_storage_internal, the format of scripts/servers/prosody-seed/). */
function rosterFile(owner, items) {
  const lines = [`-- Roster of ${owner}, written by e2e/bench-support.mjs`, 'return {', '\t[false] = { version = 1; pending = {}; };'];
  for (const it of items) {
    const groups = it.groups.map((g) => `[${luaString(g)}] = true;`).join(' ');
    lines.push(`\t[${luaString(it.jid)}] = { subscription = ${luaString(it.subscription)}; name = ${luaString(it.name)}; groups = { ${groups} }; };`);
  }
  lines.push('};', '');
  return lines.join('\n');
}

/** N contacts, subscription "both", 4 of 5 spread over named groups ("Team 01" …), every fifth in none. */
export function bigRoster(n, domain) {
  const groupCount = Math.max(2, Math.round(n / 100));
  return Array.from({ length: n }, (_, k) => {
    const i = k + 1;
    const name = `Contact ${String(i).padStart(4, '0')}`;
    const groups = i % 5 === 0 ? [] : [`Team ${String((i % groupCount) + 1).padStart(2, '0')}`];
    return { jid: contactJid(i, domain), name, subscription: 'both', groups };
  });
}

function adduser(root, user, password) {
  return new Promise((resolve, reject) => {
    execFile(path.join(root, 'scripts/prosody.sh'), ['adduser', user, password], { cwd: root }, (err, _out, stderr) => {
      if (err) reject(new Error(`scripts/prosody.sh adduser ${user} failed: ${err.message} ${stderr}`));
      else resolve();
    });
  });
}

/**
 * Registers the bench accounts (prosodyctl, which overwrites the password of an existing account) and writes
 * their rosters straight into Prosody's data dir. mod_storage_internal reads a roster file from disk whenever a
 * user without a live session logs in, so this works while the server runs. The 2,000 contacts are not
 * accounts: Prosody drops the presence probes to them without an answer, so a login brings the roster and no
 * presence flood (every contact shows offline).
 */
function hostDir(runDir, domain) {
  // Prosody's datamanager escapes every non-alphanumeric character of the host as %xx.
  return path.join(runDir, 'data', domain.replace(/[^a-zA-Z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/**
 * Empties the message archives (MAM) and offline queues of the bench accounts, through Prosody's admin shell
 * so that the server's cached item counts are reset too (deleting the files alone would leave them stale).
 * - Prosody 0.12's internal storage keeps at most `storage_archive_item_limit` (10,000) items per account; past
 *   that, mod_mam truncates the archive for every new message, loading and rewriting the whole file (megabytes)
 *   each time, for the sender and the receiver: a 1,000-message burst then takes 10–30 s instead of 1–3 s. Each
 *   burst run adds 1,000 items.
 * - Messages that reach an account with no session online (a run that was interrupted) wait in mod_offline and
 *   arrive at the next login, in front of the burst being timed.
 * Sessions the accounts still have on the server are ended first ([`endSessions`]).
 */
export async function resetMessageStores({ root, runDir, domain, config, users = [BENCH.me, BENCH.peer, BENCH.receiver] }) {
  await endSessions({ root, runDir, domain, config, users });
  // One line of Lua run inside the server; it prints "natbencha=true natbenchb=true …" (twice) when all went well.
  const lua = `>local sm = require"core.storagemanager"; local r = {}; ` +
    `for _, store in ipairs({ "archive", "offline" }) do local s = sm.open(${luaString(domain)}, store, "archive"); ` +
    `for _, u in ipairs({ ${users.map(luaString).join(', ')} }) do local ok, err = s:delete(u); ` +
    `r[#r + 1] = u .. "=" .. tostring(ok) .. (err and (":" .. tostring(err)) or "") end end; return table.concat(r, " ")`;
  const want = [...users, ...users].map((u) => `${u}=true`).join(' ');
  const cfg = config || path.join(runDir, 'prosody.cfg.lua');
  return new Promise((resolve, reject) => {
    const child = execFile('prosodyctl', ['--config', cfg, 'shell'], { cwd: root, timeout: 20_000 }, (err, stdout, stderr) => {
      const ok = stdout.includes(want);
      if (err || !ok) reject(new Error(`could not empty the bench accounts' archives and offline queues via prosodyctl shell: ${err?.message ?? ''} ${stdout.slice(-300)} ${stderr.slice(-300)}`));
      else resolve();
    });
    child.stdin.end(`${lua}\n`);
  });
}

/**
 * Ends every session the `users` still have on the server, a hibernating one (XEP-0198: a page closed before its
 * stream was) included. Such a session is still "online": a burst sent to the account goes to it, not to offline
 * storage, and when its hibernation ends (a minute here) mod_smacks lets go of those messages (they are in the
 * archive), so a run after it would miss the start of its burst. Resolves to how many were ended.
 */
export function endSessions({ root, runDir, domain, config, users }) {
  const lua = `>local sm = require"core.sessionmanager"; local n = 0; ` +
    `for _, u in ipairs({ ${users.map(luaString).join(', ')} }) do ` +
    `local h = prosody.hosts[${luaString(domain)}].sessions[u]; ` +
    `local list = {}; for _, s in pairs(h and h.sessions or {}) do list[#list + 1] = s end; ` +
    `for _, s in ipairs(list) do n = n + 1; if s.hibernating then sm.destroy_session(s, "bench reset") else s:close() end end end; ` +
    `return "ended=" .. n`;
  const cfg = config || path.join(runDir, 'prosody.cfg.lua');
  return new Promise((resolve, reject) => {
    const child = execFile('prosodyctl', ['--config', cfg, 'shell'], { cwd: root, timeout: 20_000 }, (err, stdout, stderr) => {
      const m = stdout.match(/ended=(\d+)/);
      if (err || !m) reject(new Error(`could not end the bench accounts' sessions via prosodyctl shell: ${err?.message ?? ''} ${stdout.slice(-300)} ${stderr.slice(-300)}`));
      else resolve(Number(m[1]));
    });
    child.stdin.end(`${lua}\n`);
  });
}

export async function seed({ root, runDir, domain, config }) {
  const rosterDir = path.join(hostDir(runDir, domain), 'roster');
  if (!existsSync(path.dirname(rosterDir))) {
    throw new Error(`no Prosody data dir for ${domain} at ${path.dirname(rosterDir)} (is NATTER_PROSODY_RUN_DIR right?)`);
  }
  mkdirSync(rosterDir, { recursive: true });
  const users = [BENCH.empty, BENCH.roster100, BENCH.roster2000, BENCH.me, BENCH.peer, BENCH.receiver];
  for (const u of users) await adduser(root, u, BENCH.password);
  const write = (user, items) => {
    const file = path.join(rosterDir, `${user}.dat`); // plain lowercase alphanumerics need no escaping
    writeFileSync(`${file}.tmp`, rosterFile(`${user}@${domain}`, items));
    renameSync(`${file}.tmp`, file);
  };
  write(BENCH.empty, []);
  write(BENCH.roster100, bigRoster(100, domain));
  write(BENCH.roster2000, bigRoster(2000, domain));
  write(BENCH.me, [{ jid: `${BENCH.peer}@${domain}`, name: BENCH.peerName, subscription: 'both', groups: [] }]);
  write(BENCH.peer, [
    { jid: `${BENCH.me}@${domain}`, name: 'Bench me', subscription: 'both', groups: [] },
    { jid: `${BENCH.receiver}@${domain}`, name: 'Bench receiver', subscription: 'both', groups: [] },
  ]);
  write(BENCH.receiver, [{ jid: `${BENCH.peer}@${domain}`, name: BENCH.peerName, subscription: 'both', groups: [] }]);
  await resetMessageStores({ root, runDir, domain, config });
}

export { buildPeer, serve } from './support.mjs';

// ---- the in-page stopwatch -------------------------------------------------------------------------------------

/**
 * Installs a stopwatch in the page (run through page.evaluate, so the page's CSP does not apply). It stops at
 * the first animation frame (before its rendering) in which `spec`'s condition holds after DOM changes (`dom`),
 * and again once that frame has been produced (`paint`: a message-channel task posted from that animation frame
 * callback, which runs after the frame's style, layout and paint). `spec.click` starts it at a click (capture phase, before the app sees
 * it) on a button matching the selector (and text); without it, the caller supplies the start on the epoch clock.
 * Long tasks (≥ 50 ms) are recorded meanwhile.
 *
 * Conditions: {rows: N}  at least N contact rows (`button.contact-main`) in the document;
 *             {last: TEXT} the last <li> of the transcript (role=log) contains TEXT;
 *             {badge: JID, n: N} the unread badge of JID's row reads N or more;
 *             {selector: CSS} an element matches CSS.
 * With `spec.count` (the expected number of transcript items, for {last}), `steps` holds the time each tenth of
 * the target count (rows, items, unread) was first reached.
 * `spec.marks` ({name: selector}) records when each selector first matches (same clock as t0, dom, paint).
 */
export function installStopwatch(spec) {
  const b = (window.__natbench = { t0: null, dom: null, paint: null, domEpoch: null, paintEpoch: null, longTasks: [] });
  try {
    b.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longTasks.push({ start: e.startTime, duration: e.duration });
    });
    b.observer.observe({ type: 'longtask' });
  } catch {}
  if (spec.click) {
    const onClick = (e) => {
      const btn = e.target instanceof Element ? e.target.closest(spec.click.selector) : null;
      if (btn && (!spec.click.text || btn.textContent.trim() === spec.click.text) && b.t0 === null) {
        b.t0 = performance.now();
        document.removeEventListener('click', onClick, true);
      }
    };
    document.addEventListener('click', onClick, true);
  }
  // How far along the condition is (rows, transcript items, badge count), sampled at every mutation: the time
  // at which each tenth of the target was first reached shows whether the per-item cost grows.
  let count = () => 0;
  const target = spec.rows ?? spec.n ?? spec.count ?? 0;
  b.steps = [];
  let cond;
  if (spec.rows !== undefined) {
    const rows = document.getElementsByClassName('contact-main'); // live collection: length is cheap
    count = () => rows.length;
    cond = () => rows.length >= spec.rows;
  } else if (spec.last !== undefined) {
    let log = null;
    let items = null;
    count = () => (items ? items.length : 0);
    cond = () => {
      if (!log || !log.isConnected) {
        log = document.querySelector('[role="log"]');
        items = log && log.getElementsByTagName('li');
      }
      // The last one shown, and (with `count`) that many rows: history can show the newest before the rest.
      return !!items && items.length >= Math.max(1, spec.count ?? 0) && items[items.length - 1].textContent.includes(spec.last);
    };
  } else if (spec.badge !== undefined) {
    const unread = () => {
      const badge = document.querySelector(`button.contact-main[data-jid="${spec.badge}"] .badge`);
      return badge ? parseInt(badge.textContent, 10) || 0 : 0;
    };
    count = unread;
    cond = () => unread() >= spec.n;
  } else if (spec.selector !== undefined) {
    cond = () => !!document.querySelector(spec.selector);
  } else {
    throw new Error('stopwatch: no condition');
  }
  b.marks = {};
  const pendingMarks = Object.entries(spec.marks ?? {});
  b.done = new Promise((resolve) => {
    let fired = false;
    const check = () => {
      if (target > 0 && b.steps.length < 10) {
        const c = count();
        while (b.steps.length < 10 && c >= Math.ceil((target * (b.steps.length + 1)) / 10)) b.steps.push(performance.now());
      }
      for (let i = pendingMarks.length - 1; i >= 0; i--) {
        if (document.querySelector(pendingMarks[i][1])) {
          b.marks[pendingMarks[i][0]] = performance.now();
          pendingMarks.splice(i, 1);
        }
      }
      if (fired || !cond()) return;
      fired = true;
      obs.disconnect();
      b.dom = performance.now();
      b.domEpoch = performance.timeOrigin + b.dom;
      (inFrame ? (f) => f() : requestAnimationFrame)(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => {
          b.paint = performance.now();
          b.paintEpoch = performance.timeOrigin + b.paint;
          // Long tasks are reported a little late: give the observer one more task.
          setTimeout(() => {
            try {
              b.observer?.disconnect();
            } catch {}
            resolve();
          }, 0);
        };
        ch.port2.postMessage(null);
      });
    };
    // Checked once per frame in which the DOM changed (in its animation frame callback, before it is drawn), not
    // at every mutation: counting the rows of a long transcript a thousand times was a tenth of a burst's time.
    let inFrame = false;
    let scheduled = false;
    const obs = new MutationObserver(() => {
      if (scheduled) return;
      scheduled = true;
      requestAnimationFrame(() => {
        scheduled = false;
        inFrame = true;
        check();
        inFrame = false;
      });
    });
    obs.observe(document.body, { childList: true, subtree: true, characterData: true });
    check();
  });
}

/**
 * Waits for the stopwatch, or `timeout` ms on the runner's clock (a timer inside a page whose main thread is
 * busy would fire late); returns its readings, `timedOut` when the condition did not hold in time.
 */
export async function readStopwatch(page, timeout) {
  let timer;
  const read = page.evaluate(async () => {
    const b = window.__natbench;
    await b.done;
    const inWindow = b.longTasks.filter((t) => t.start + t.duration >= (b.t0 ?? 0));
    return {
      timedOut: false,
      t0: b.t0,
      dom: b.dom,
      paint: b.paint,
      domEpoch: b.domEpoch,
      paintEpoch: b.paintEpoch,
      marks: b.marks,
      steps: b.steps,
      timeOrigin: performance.timeOrigin,
      longestTask: inWindow.reduce((m, t) => Math.max(m, t.duration), 0),
      longTaskTotal: inWindow.reduce((s, t) => s + t.duration, 0),
      longTasks: inWindow.length,
    };
  });
  read.catch(() => {}); // the context may be closed after a timeout
  try {
    return await Promise.race([read, new Promise((r) => (timer = setTimeout(() => r({ timedOut: true }), timeout)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Milliseconds on the same clock as the page's `performance.timeOrigin + performance.now()`. */
export function epochNow() {
  return performance.timeOrigin + performance.now();
}

// ---- memory --------------------------------------------------------------------------------------------------

/**
 * After a forced garbage collection (CDP HeapProfiler.collectGarbage): the V8 heap in use (CDP
 * Runtime.getHeapUsage usedSize; precise, unlike the bucketed performance.memory), the wasm linear memory
 * (byteLength of the app's WebAssembly.Memory: the wasm-bindgen glue's default export returns the already
 * initialised instance's exports when called again, and ES modules are cached per URL, so importing the URL
 * boot.js imported gives the same instance), and the live DOM nodes (CDP Memory.getDOMCounters).
 */
export async function measureMemory(page, cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const dom = await cdp.send('Memory.getDOMCounters').catch(() => ({}));
  const wasm = await page.evaluate(async () => {
    const meta = document.querySelector('meta[name="natter-app"]');
    if (!meta) return null;
    const glue = await import(new URL(meta.dataset.js, document.baseURI).href);
    const exports = await glue.default();
    return exports?.memory?.buffer?.byteLength ?? null;
  });
  return { jsHeapUsed: heap.usedSize, jsHeapTotal: heap.totalSize, wasmMemory: wasm, domNodes: dom.nodes ?? null };
}

// ---- statistics and formatting ---------------------------------------------------------------------------------

export function stats(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { n: v.length, median, min: v[0], max: v[v.length - 1] };
}

export function fmtMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return '–';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 100_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 1000).toFixed(0)} s`;
}

export function fmtMiB(bytes) {
  if (bytes == null || !Number.isFinite(bytes)) return '–';
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

// ---- optional CPU profile (NATTER_BENCH_PROFILE=1) -------------------------------------------------------------

/** Starts V8's sampling profiler in the page (CDP Profiler, 1 ms sampling). */
export async function startProfile(cdp) {
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
  await cdp.send('Profiler.start');
}

/**
 * Stops the profiler and splits the sampled main-thread time: wasm code (the release wasm has no name section,
 * so no function names), JavaScript (the wasm-bindgen glue, boot.js, the bench's observer), garbage collection,
 * "(program)" (the browser's own work: style, layout, paint, DOM bindings, event dispatch) and idle.
 */
export async function stopProfile(cdp) {
  const { profile } = await cdp.send('Profiler.stop');
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const deltas = profile.timeDeltas;
  const total = (profile.endTime - profile.startTime) / 1000;
  const per = profile.samples.length ? total / profile.samples.length : 0;
  const cat = { wasm: 0, js: 0, gc: 0, program: 0, idle: 0 };
  const topJs = new Map();
  for (const [id, n] of hits) {
    const f = byId.get(id).callFrame;
    const ms = n * per;
    if (f.functionName === '(idle)') cat.idle += ms;
    else if (f.functionName === '(garbage collector)') cat.gc += ms;
    else if (f.functionName === '(program)' || f.functionName === '(root)') cat.program += ms;
    else if (f.url.endsWith('.wasm') || /^(\$|wasm-function)/.test(f.functionName)) cat.wasm += ms;
    else {
      cat.js += ms;
      const k = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
      topJs.set(k, (topJs.get(k) ?? 0) + ms);
    }
  }
  void deltas;
  await cdp.send('Profiler.disable');
  return {
    totalMs: total,
    ...cat,
    topJs: [...topJs].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, ms]) => `${k} ${ms.toFixed(0)} ms`),
  };
}
