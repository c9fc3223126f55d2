// What outlives the page (issue 13 items 2, 4, 5; issue 14), on Prosody 13 (SASL2, FAST), where "Stay logged in"
// means something: Alice logs in with it ticked and chats with Bob (the scripted peer). A reload with the
// network held back paints her conversation from this browser's store, marked as connecting, before any answer
// from the server; a reload with the network back logs her in with the kept token, without typing anything,
// the conversation and an unsent draft there. Log out: the next reload shows the login form (address filled in),
// and the token taken from the store before logging out is refused by the server when put back. "Forget this
// device's data" then deletes the account's database and the address.
//
// Runs when the Prosody 13 environment is loaded (NATTER_PROSODY13_WS; scripts/test.sh loads it).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test, logIn, until } from '../harness.mjs';

const ws = process.env.NATTER_PROSODY13_WS;
const domain = process.env.NATTER_PROSODY13_DOMAIN || 'localhost';

/** The IndexedDB database of `jid` (src/storage/mod.rs database_name). */
const databaseOf = (jid) => `natter-${createHash('sha256').update(jid).digest('hex')}`;

/** Reads (value `undefined`) or writes a `meta` record of a database, in the page. */
function meta(page, db, key, value) {
  return page.evaluate(
    ({ db, key, value, write }) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open(db);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('meta', write ? 'readwrite' : 'readonly');
          const store = tx.objectStore('meta');
          const req = write ? store.put({ k: key, v: value }) : store.get(key);
          tx.oncomplete = () => {
            open.result.close();
            resolve(write ? null : (req.result?.v ?? null));
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    { db, key, value: value ?? null, write: value !== undefined },
  );
}

if (ws) {
  test('persist: stay logged in, reload paints before the server answers, log out revokes the token, forget', async ({ page, env, peer, serve }) => {
    const alice = `alice@${domain}`;
    const db = databaseOf(alice);
    const token = Math.random().toString(36).slice(2, 8);
    const url = await serve({ websocket_url: ws, domain });
    // Strict on Prosody 13: logging in, reloading, logging out and the short login that revokes the token close
    // politely, so Chromium reports no frame after a close (the runner tolerates that message, for Prosody 0.12).
    const afterClose = [];
    let step = 'login';
    page.on('console', (m) => m.text().includes('Data frame received after close') && afterClose.push(step));
    const bob = peer({ jid: `bob@${domain}`, password: env.bobPassword, priority: 100, ws });
    await bob.online();

    await page.goto(url);
    await page.getByLabel('Address', { exact: true }).fill(alice);
    await page.getByLabel('Stay logged in on this device').check();
    await logIn(page, null, alice, env.alicePassword);
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.getByRole('list').getByRole('button', { name: /^Bob — / }).click();
    const log = page.getByRole('log');
    const hello = `stored hello ${token}`;
    bob.send({ cmd: 'send', to: alice, body: hello });
    await log.getByText(hello, { exact: true }).waitFor();
    const composer = page.getByLabel('Message', { exact: true });
    const reply = `stored reply ${token}`;
    await composer.fill(reply);
    await composer.press('Enter');
    await bob.waitFor((e) => e.event === 'message' && e.from === alice && e.body === reply, 'bob gets the reply');
    await log.locator('li.message.from-me').filter({ hasText: reply }).locator('.message-state:not([data-state="sending"]):not([data-state="pending"])').waitFor();
    const draft = `a draft ${token}`;
    await composer.fill(draft);
    // The token is in the store (never shown).
    await until(async () => (await meta(page, db, 'fast_token'))?.length > 10, 'a FAST token kept with "Stay logged in"');
    await new Promise((r) => setTimeout(r, 600)); // the draft's debounced save

    step = 'held reload';
    // Reload with the WebSocket held back: the conversation is painted from the store, marked as connecting.
    let hold = true; // while held, the page's WebSocket never reaches the server
    await page.routeWebSocket(/.*/, (socket) => {
      if (!hold) socket.connectToServer();
    });
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Connecting…' }).first().waitFor();
    await page.getByRole('list').getByRole('button', { name: /^Bob/ }).click();
    await log.getByText(hello, { exact: true }).waitFor();
    await log.getByText(reply, { exact: true }).waitFor();
    assert.equal(await page.getByLabel('Password', { exact: true }).count(), 0, 'no login form');

    // Reload with the network: logged in with the token, nothing typed; the conversation and the draft are there.
    hold = false;
    step = 'token reload';
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Online' }).first().waitFor();
    await page.getByRole('list').getByRole('button', { name: /^Bob/ }).click();
    await log.getByText(hello, { exact: true }).waitFor();
    await log.getByText(reply, { exact: true }).waitFor();
    assert.equal(await composer.inputValue(), draft, 'the draft survived two reloads');
    const after = `after the reload ${token}`;
    bob.send({ cmd: 'send', to: alice, body: after });
    await log.getByText(after, { exact: true }).waitFor();
    const current = await meta(page, db, 'fast_token');
    assert.ok(current, 'still kept');

    step = 'log out';
    // Log out: the token is revoked on the server and deleted here; a reload shows the login form.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await until(async () => (await meta(page, db, 'fast_token')) === null, 'the token deleted here');
    await new Promise((r) => setTimeout(r, 1500)); // the revoking login runs
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    assert.equal(await page.getByLabel('Address', { exact: true }).inputValue(), alice, 'the address is filled in');

    step = 'refused';
    // The old token put back: the server refuses it, and the login form says so.
    await meta(page, db, 'fast_token', current);
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await page.locator('.login-error p').waitFor({ timeout: 15_000 });
    await until(async () => (await meta(page, db, 'fast_token')) === null, 'the refused token deleted');

    // Forget this device's data: the database and the address go.
    await page.getByRole('button', { name: "Forget this device's data" }).click();
    await page.getByText("This device's data was deleted.").waitFor();
    assert.equal(await page.getByLabel('Address', { exact: true }).inputValue(), '');
    const names = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    assert.ok(!names.includes(db), `the database is gone: ${names}`);
    // (After the refused token, 1 run in 7 showed one: the server ends that stream itself; not checked here.)
    assert.deepEqual(afterClose.filter((at) => at !== 'refused'), [], 'no frame after a close on Prosody 13');
  }, { once: true });

  // Without "Stay logged in", every login on a server with FAST still asks for a token, kept in memory only:
  // on Prosody 13's localhost, which stores passwords in plain (kept SCRAM keys never log in there again),
  // a dropped connection logs in again by itself, no password asked; and nothing is kept for a reload.
  test('persist: without staying logged in, a drop on Prosody 13 logs in again with the token in memory', async ({ page, context, env, serve }) => {
    const alice = `alice@${domain}`;
    const url = await serve({ websocket_url: ws, domain });
    await logIn(page, url, alice, env.alicePassword);
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Online' }).first().waitFor();
    assert.equal(await meta(page, databaseOf(alice), 'fast_token'), null, 'no token stored');
    await context.setOffline(true);
    await page.getByRole('status').filter({ hasText: 'Reconnecting…' }).first().waitFor();
    await context.setOffline(false);
    await page.getByRole('status').filter({ hasText: 'Online' }).first().waitFor();
    assert.equal(await page.getByLabel('Password', { exact: true }).count(), 0, 'no password asked');
    assert.equal(await meta(page, databaseOf(alice), 'fast_token'), null, 'still no token stored');
  }, { once: true });
}

// Without "Stay logged in" (Prosody 0.12 has no FAST anyway): a reload shows the login form with the address
// filled in, nothing of the account on the page; logging in paints the stored conversation again, each message
// once. (What came meanwhile arrives through the archive's catch-up, which the history UI shows: e2e 11-history.)
test('persist: without staying logged in, a reload asks for the password and then shows the kept conversation', async ({ page, baseURL, env, peer, adduser }) => {
  const me = await adduser('e2e-keep');
  const friend = await adduser('e2e-keepfriend');
  const token = Math.random().toString(36).slice(2, 8);
  const other = peer({ jid: friend.jid, password: friend.password });
  await other.online();
  await logIn(page, baseURL, me.jid, me.password);
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  const hello = `kept hello ${token}`;
  other.send({ cmd: 'send', to: me.jid, body: hello });
  const row = page.getByRole('list').getByRole('button', { name: new RegExp(`^${friend.jid.replace(/[.]/g, '\\.')}`) });
  await row.click();
  const log = page.getByRole('log');
  await log.getByText(hello, { exact: true }).waitFor();
  const composer = page.getByLabel('Message', { exact: true });
  const reply = `kept reply ${token}`;
  await composer.fill(reply);
  await composer.press('Enter');
  await other.waitFor((e) => e.event === 'message' && e.from === me.jid && e.body === reply, 'the reply');
  // The server confirmed it (until then, leaving asks first unless the store has it written).
  await log.locator('li.message.from-me').filter({ hasText: reply }).locator('.message-state:not([data-state="sending"]):not([data-state="pending"])').waitFor();

  await page.reload();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  assert.equal(await page.getByLabel('Address', { exact: true }).inputValue(), me.jid, 'the address is filled in');
  assert.equal(await page.getByText(hello).count(), 0, 'nothing of the account shows before the password');
  await page.getByLabel('Password', { exact: true }).fill(me.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  await row.click();
  await log.getByText(hello, { exact: true }).waitFor();
  await log.getByText(reply, { exact: true }).waitFor();
  const text = await log.innerText();
  assert.ok(text.indexOf(hello) < text.indexOf(reply), `in order:\n${text}`);
  assert.equal(text.split(hello).length - 1, 1, 'shown once');
  assert.equal(text.split(reply).length - 1, 1, 'shown once');
});
