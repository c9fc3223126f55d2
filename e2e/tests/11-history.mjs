// History from the server's archive (XEP-0313), against the real Prosody (mod_mam, pages of at most 50):
// - Bob (the scripted peer) sends 50 messages while Alice is logged out: after she logs in, all 50 are shown,
//   each once (the offline copies and the archive's are the same messages) and in order;
// - the same account in a second browser profile (a fresh context: nothing shared) sees that conversation
//   through the archive;
// - a 500-message history (sent while Alice was online elsewhere, so only the archive has it): scrolling back
//   reaches its first message, shows the start marker, every message once and in order;
// - a browser that was logged in (it holds its point in the archive) logs in again with a conversation open that
//   holds nothing, after another device of the account received 120 messages: the catch-up shows them in order
//   (Prosody stamps whole seconds; a tie once put a page in front of the one before it).
// Fresh accounts for each test: their archives hold exactly what the test sent.
import assert from 'node:assert/strict';
import { test, logInAndWait, until } from '../harness.mjs';

/** The bodies shown in the open transcript, top to bottom. */
async function bodies(page) {
  return page.getByRole('log').locator('.message-body').allTextContents();
}

function numbered(prefix, from, to) {
  return Array.from({ length: to - from + 1 }, (_, k) => `${prefix}-${String(from + k).padStart(4, '0')}`);
}

test(
  'history: 50 messages sent while logged out are shown once and in order; a second profile sees them through the archive',
  async ({ page, context, baseURL, env, peer, adduser }) => {
    const alice = await adduser('hista');
    const bob = await adduser('histb');
    const prefix = `away${Math.random().toString(36).slice(2, 7)}`;
    const sender = peer({ jid: bob.jid, password: bob.password });
    await sender.online();
    sender.send({ cmd: 'burst', to: alice.jid, count: 50, prefix });
    await sender.waitFor((e) => e.event === 'burst_done', 'the 50 messages sent');

    await logInAndWait(page, baseURL, alice.jid, alice.password);
    const row = page.locator(`button.contact-main[data-jid="${bob.jid}"]`);
    await row.waitFor();
    await row.click();
    const expected = numbered(prefix, 1, 50);
    await until(async () => (await bodies(page)).length >= 50, '50 messages in the transcript');
    // Whatever came first (offline delivery, the archive's catch-up), nothing more comes and nothing twice.
    await page.waitForTimeout(500);
    assert.deepEqual(await bodies(page), expected, 'all 50, once each, in order');

    // A second browser profile: nothing stored, the archive tells it.
    const other = await context.browser().newContext({ viewport: { width: 1100, height: 720 } });
    try {
      const page2 = await other.newPage();
      await logInAndWait(page2, baseURL, alice.jid, alice.password);
      const row2 = page2.locator(`button.contact-main[data-jid="${bob.jid}"]`);
      await row2.waitFor();
      await row2.click();
      await until(async () => (await bodies(page2)).length >= 50, 'the conversation in the second profile');
      assert.deepEqual(await bodies(page2), expected, 'the second profile: the same 50, in order');
    } finally {
      await other.close();
    }
  },
  { once: true, timeout: 90_000 },
);

test(
  'history: scrolling back through 500 archived messages reaches the first one and the start marker',
  async ({ page, baseURL, env, peer, adduser }) => {
    const alice = await adduser('hist5a');
    const bob = await adduser('hist5b');
    const prefix = `old${Math.random().toString(36).slice(2, 7)}`;
    // Alice is online elsewhere (a scripted client) while Bob writes: the messages reach her there and the
    // archive, and nothing waits in offline storage for the browser.
    const elsewhere = peer({ jid: alice.jid, password: alice.password, resource: 'elsewhere' });
    const sender = peer({ jid: bob.jid, password: bob.password });
    await elsewhere.online();
    await sender.online();
    sender.send({ cmd: 'burst', to: alice.jid, count: 500, prefix });
    const last = `${prefix}-0500`;
    await elsewhere.waitFor((e) => e.event === 'message' && e.body === last, 'the last one received elsewhere', { timeout: 60_000 });
    elsewhere.send({ cmd: 'check', from: bob.jid, prefix: `${prefix}-`, count: 500 });
    const check = await elsewhere.waitFor((e) => e.event === 'check', 'the check of what was received elsewhere');
    assert.ok(check.ok && check.received === 500, JSON.stringify(check));
    await elsewhere.stop();

    await logInAndWait(page, baseURL, alice.jid, alice.password);
    const row = page.locator(`button.contact-main[data-jid="${bob.jid}"]`);
    await row.waitFor();
    await row.click();
    const log = page.getByRole('log');
    await until(async () => (await bodies(page)).length > 0, 'the newest messages');
    const start = page.getByText('Start of the conversation');
    for (let i = 0; i < 40 && !(await start.isVisible()); i++) {
      // To the top: the next older page comes in front.
      const before = (await bodies(page)).length;
      await log.evaluate((el) => {
        el.scrollTop = Math.min(el.scrollTop, 50);
        el.scrollTop = 0;
      });
      await until(
        async () => (await bodies(page)).length > before || (await start.isVisible()),
        `an older page (${before} shown)`,
      );
      await page.getByText('Loading earlier messages…').waitFor({ state: 'detached' });
    }
    await start.waitFor();
    assert.deepEqual(await bodies(page), numbered(prefix, 1, 500), 'the whole history, once each, in order');
    assert.ok(await page.getByText(`${prefix}-0001`, { exact: true }).isVisible(), 'the first message in view');
  },
  { once: true, timeout: 180_000 },
);

test(
  'history: a browser that was logged in catches up, in order, what another device received meanwhile',
  async ({ page, baseURL, peer, adduser }) => {
    const alice = await adduser('histca');
    const bob = await adduser('histcb');
    const carol = await adduser('histcc');
    const prefix = `mean${Math.random().toString(36).slice(2, 7)}`;
    // Logged in once: a message (from Carol) gives this browser its point in the archive; then logged out.
    await logInAndWait(page, baseURL, alice.jid, alice.password);
    const third = peer({ jid: carol.jid, password: carol.password });
    await third.online();
    third.send({ cmd: 'send', to: alice.jid, body: `${prefix}-hello` });
    await page.locator(`button.contact-main[data-jid="${carol.jid}"]`).waitFor();
    await third.stop();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Address', { exact: true }).waitFor();

    // Meanwhile Bob writes 120 to Alice's other device: only the archive has them for this browser, and
    // Prosody stamps them in whole seconds, so many share one time.
    const elsewhere = peer({ jid: alice.jid, password: alice.password, resource: 'elsewhere' });
    const sender = peer({ jid: bob.jid, password: bob.password });
    await elsewhere.online();
    await sender.online();
    sender.send({ cmd: 'burst', to: alice.jid, count: 120, prefix });
    await elsewhere.waitFor((e) => e.event === 'message' && e.body === `${prefix}-0120`, 'the last one received elsewhere', { timeout: 60_000 });
    await elsewhere.stop();

    // Back, with Bob's conversation open from the start (named in the URL): it holds nothing yet, so it waits
    // for the catch-up, whose pages must stay in the archive's order.
    await page.evaluate((hash) => (location.hash = hash), `#/chat/${encodeURIComponent(bob.jid)}`);
    await page.getByLabel('Address', { exact: true }).fill(alice.jid);
    await page.getByLabel('Password', { exact: true }).fill(alice.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await until(async () => (await bodies(page)).length >= 120, 'the 120 caught up', { timeout: 60_000 });
    await page.waitForTimeout(500);
    assert.deepEqual(await bodies(page), numbered(prefix, 1, 120), 'caught up once each, in order');
  },
  { once: true, timeout: 120_000 },
);

test(
  'history: messages read on another device stop counting here; a new profile shows ours read and theirs not unread',
  async ({ page, context, baseURL, peer, adduser }) => {
    // Fresh accounts (no rooms to join), made contacts both ways by Alice's other device (a peer) and Bob:
    // markers go only to contacts.
    const a = await adduser('reada');
    const b = await adduser('readb');
    const [alice, bobJid] = [a.jid, b.jid];
    const token = Math.random().toString(36).slice(2, 8);
    const bob = peer({ jid: bobJid, password: b.password });
    const elsewhere = peer({ jid: alice, password: a.password, resource: 'elsewhere' });
    await bob.online();
    await elsewhere.online();
    elsewhere.send({ cmd: 'subscribe', to: bobJid });
    await bob.waitFor((e) => e.event === 'subscription_request' && e.from === alice, 'alice asks bob');
    bob.send({ cmd: 'approve', jid: alice }); // and asks back
    await elsewhere.waitFor((e) => e.event === 'subscription_request' && e.from === bobJid, 'bob asks back');
    elsewhere.send({ cmd: 'approve', jid: bobJid });
    await bob.waitFor((e) => e.event === 'subscription_approved' && e.from === alice, 'contacts both ways');

    await logInAndWait(page, baseURL, alice, a.password);
    await page.getByRole('status').filter({ hasText: 'Online' }).first().waitFor();
    const badge = page.locator(`button.contact-main[data-jid="${bobJid}"] .badge`);

    // Alice writes from her other device; Bob reads it (his marker is archived for Alice).
    const ours = `from elsewhere ${token}`;
    elsewhere.send({ cmd: 'send', to: bobJid, body: ours, id: `own-${token}` });
    await bob.waitFor((e) => e.event === 'message' && e.body === ours, 'bob receives it');
    bob.send({ cmd: 'displayed', to: alice, id: `own-${token}` });
    // Bob writes twice: unread here (the conversation is not open).
    for (const n of [1, 2]) bob.send({ cmd: 'send', to: alice, body: `read elsewhere ${n} ${token}`, id: `r${n}-${token}` });
    await until(async () => (await badge.count()) === 1 && (await badge.innerText()).startsWith('2'), 'two unread from Bob');
    // The other device shows the first, then the second: the badge follows (a sent carbon of its marker).
    elsewhere.send({ cmd: 'displayed', to: bobJid, id: `r1-${token}` });
    await until(async () => (await badge.count()) === 1 && (await badge.innerText()).startsWith('1'), 'one left unread');
    elsewhere.send({ cmd: 'displayed', to: bobJid, id: `r2-${token}` });
    await badge.waitFor({ state: 'detached' });

    // A new browser profile learns all of it from the archive alone.
    const other = await context.browser().newContext({ viewport: { width: 1100, height: 720 } });
    try {
      const page2 = await other.newPage();
      await logInAndWait(page2, baseURL, alice, a.password);
      await page2.getByRole('status').filter({ hasText: 'Online' }).first().waitFor();
      const row2 = page2.locator(`button.contact-main[data-jid="${bobJid}"]`);
      await row2.waitFor();
      await page2.waitForTimeout(1500); // the archive's newest page, and its markers after it
      assert.equal(await row2.locator('.badge').count(), 0, 'read on the other device: not unread here');
      await row2.click();
      const mine = page2.getByRole('log').locator('.message.from-me').filter({ hasText: ours });
      await mine.locator('.message-state[data-state="read"]').waitFor();
    } finally {
      await other.close();
    }
    await elsewhere.stop();
    await bob.stop();
  },
  { once: true, timeout: 90_000 },
);
