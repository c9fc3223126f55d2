// The minimal test harness of the end-to-end suite: `test(name, fn)` registers a test; helpers drive the app
// like a person (labelled fields, buttons by name) and wait on conditions, never on the clock.
//
// Every test runs twice (unless registered with `once`): with dist/ served under a subpath
// (http://127.0.0.1:PORT/some/path/), as on a host that keeps the app in a folder, and at the root.
//
// Each test function receives one object:
//   page, context          a fresh browser context and page (console errors and page errors fail the test)
//   baseURL                where dist/ is served (http://127.0.0.1:PORT/some/path/ or http://127.0.0.1:PORT/)
//   env                    the servers the scripts started: { ws, domain, alicePassword, bobPassword, … }
//   peer(opts)             starts the scripted peer (examples/peer.rs); stopped after the test
//   adduser(prefix)        registers a fresh, unique Prosody account; returns { user, jid, password }
//   serve(config)          serves dist/ with this config.json (an object) at / of a new port; resolves to its URL
//   shot(name)             saves a screenshot of the page to docs/screenshots/NAME.png
//   allowConsole(re)       console errors matching `re` no longer fail the test (the browser's own errors while a
//                          server is down on purpose)
//   log(...)               a line of detail, printed only when the test fails

import { spawn, execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export const tests = [];

/**
 * Registers a test. Files in e2e/tests/ run in name order; tests in a file in the order they are declared.
 * Options: `once` (run it at / only, not also under the subpath: for long tests whose subject is not the
 * hosting path), `timeout` (ms, instead of the runner's default), `allowConsole` (regular expressions of
 * console errors the test causes on purpose, e.g. the browser's own lines while the server is down: logged,
 * not failed).
 */
export function test(name, fn, { once = false, timeout, allowConsole } = {}) {
  tests.push({ name, fn, once, timeout, allowConsole });
}

/** How long a single condition may take before the test fails (loopback server, release build). */
export const PATIENCE = 15_000;

/** Polls `cond` (sync or async) until it returns a truthy value; fails with `what` after `timeout` ms. */
export async function until(cond, what, { timeout = PATIENCE, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Opens the app and logs in through the form, like a person: type the address and password, click "Log in". */
export async function logIn(page, baseURL, jid, password) {
  if (baseURL) await page.goto(baseURL); // null: the login form already open (e.g. with Advanced filled in)
  const address = page.getByLabel('Address', { exact: true });
  await address.waitFor();
  await address.fill(jid);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Logs in and waits for the chat screen (its "Log out" button). */
export async function logInAndWait(page, baseURL, jid, password) {
  await logIn(page, baseURL, jid, password);
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** The scripted peer: a child process speaking JSON lines (see examples/peer.rs). */
export class Peer {
  constructor(bin, { ws, jid, password, show, status, resource, priority }, log) {
    const args = ['--ws', ws, '--jid', jid, '--password', password];
    if (priority !== undefined) args.push('--priority', String(priority));
    if (show) args.push('--show', show);
    if (status) args.push('--status', status);
    if (resource) args.push('--resource', resource);
    this.jid = jid;
    this.events = [];
    this.waiters = new Set();
    this.stderr = '';
    this.log = log;
    this.child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitCode = code ?? signal;
        this.notify();
        resolve(this.exitCode);
      });
    });
    this.child.on('error', (e) => {
      this.spawnError = e;
      this.notify();
    });
    this.child.stdin.on('error', () => {}); // a peer that already exited must not crash the runner
    this.child.stderr.on('data', (d) => (this.stderr += d));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let ev;
      try {
        ev = JSON.parse(line);
      } catch {
        ev = { event: 'unparsed', line };
      }
      this.events.push(ev);
      this.log(`peer ${jid} → ${line.length > 300 ? line.slice(0, 300) + '…' : line}`);
      this.notify();
    });
  }

  notify() {
    for (const w of this.waiters) w();
  }

  /** Sends one command object (see examples/peer.rs). */
  send(cmd) {
    this.log(`peer ${this.jid} ← ${JSON.stringify(cmd)}`);
    this.child.stdin.write(JSON.stringify(cmd) + '\n');
  }

  /** A position in the event stream, for `waitFor(…, { since })`. */
  mark() {
    return this.events.length;
  }

  /** Resolves with the first event (already received, from position `since` on, or still to come) matching `pred`. */
  waitFor(pred, what, { timeout = PATIENCE, since = 0 } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const ev = this.events.slice(since).find(pred);
        if (ev) {
          done();
          resolve(ev);
        } else if (this.spawnError || this.exitCode !== undefined) {
          done();
          reject(new Error(`peer ${this.jid} ended (${this.spawnError?.message ?? `exit ${this.exitCode}`}) while waiting for ${what}; stderr: ${this.stderr.trim()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`peer ${this.jid}: timed out after ${timeout} ms waiting for ${what}; events: ${JSON.stringify(this.events.slice(-10))}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  online() {
    return this.waitFor((e) => e.event === 'online', 'online');
  }

  /** Closes politely; kills the process if it does not exit in time. Safe to call twice. */
  async stop() {
    if (this.exitCode !== undefined || this.spawnError) return;
    try {
      this.child.stdin.end(JSON.stringify({ cmd: 'close' }) + '\n');
    } catch {}
    const timedOut = await Promise.race([this.exited.then(() => false), new Promise((r) => setTimeout(() => r(true), 8000))]);
    if (timedOut) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

let unique = 0;

/** Registers a fresh account on the Prosody the scripts started (scripts/prosody.sh adduser). */
export function adduser(root, prefix, domain) {
  const user = `${prefix}-${process.pid}-${Date.now().toString(36)}-${unique++}`;
  const password = `pw-${Math.random().toString(36).slice(2)}-x`;
  return new Promise((resolve, reject) => {
    execFile(path.join(root, 'scripts/prosody.sh'), ['adduser', user, password], { cwd: root }, (err, stdout, stderr) => {
      if (err) reject(new Error(`scripts/prosody.sh adduser ${user} failed: ${err.message} ${stderr}`));
      else resolve({ user, jid: `${user}@${domain}`, password });
    });
  });
}

/** Saves a screenshot into docs/screenshots/ (created when missing). */
export async function screenshot(root, page, name) {
  const dir = path.join(root, 'docs/screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), animations: 'disabled' });
}
