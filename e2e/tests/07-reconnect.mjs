// The network drops while Alice chats with Bob: the app says "Reconnecting…", keeps the roster, the open
// conversation and what she types, and disables Send with a reason. When the network is back it logs in again
// by itself with the SCRAM keys of the session (never the password). That needs a server that keeps the same
// salt from login to login: the scripts' Prosody host hashed.localhost (salted+hashed storage, Prosody's
// default). Its host localhost stores passwords in plain (for SCRAM-SHA-256) and draws a new salt at every
// login, so it refuses the kept keys: then the app asks for the password on the chat screen, the conversation
// staying in view, and logging in there resumes with everything kept. Either way, Bob's next message arrives,
// the message Alice sent while offline (shown as not sent yet, with the reason) goes out exactly once, and what
// she had typed without sending is still in the composer. Alice's messages show their state: delivered (Bob's
// client sends receipts).
import assert from 'node:assert/strict';
import { test, logIn } from '../harness.mjs';

for (const resalting of [false, true]) {
  const name = resalting
    ? 'reconnect, server with a new salt per login: asks for the password in place, logging in keeps everything'
    : 'reconnect: offline and back, logs in again by itself, nothing typed is lost, messages flow again';
  test(name, async ({ page, context, baseURL, env, peer, shot }) => {
    const domain = resalting ? env.domain : env.hashedDomain;
    const alice = `alice@${domain}`;
    const token = Math.random().toString(36).slice(2, 8);
    const bob = peer({ jid: `bob@${domain}`, password: env.bobPassword, priority: 100 });
    await bob.online();
    await page.goto(baseURL);
    await page.getByText('Advanced').click();
    await page.getByLabel('Server URL').fill(env.ws); // no XEP-0156 discovery for hashed.localhost on port 80
    await logIn(page, null, alice, env.alicePassword);
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    const bobButton = page.getByRole('list').getByRole('button', { name: /^Bob — available/ });
    await bobButton.click();
    const logEl = page.getByRole('log');
    const before = `before the drop ${token}`;
    bob.send({ cmd: 'send', to: alice, body: before });
    await logEl.getByText(before, { exact: true }).waitFor();
    const composer = page.getByLabel('Message', { exact: true });
    const hello = `hello bob ${token}`;
    await composer.fill(hello);
    await composer.press('Enter');
    await bob.waitFor((e) => e.event === 'message' && e.from === alice && e.body === hello, `bob receives "${hello}"`);
    const row = (body) => logEl.locator('li.message.from-me').filter({ has: page.getByText(body, { exact: true }) });
    // Bob's client confirmed it (XEP-0184): the mark says so, and its words are there for screen readers.
    await row(hello).locator('.message-state[data-state="delivered"]').waitFor();
    assert.equal((await row(hello).locator('.message-state-text').textContent()).trim(), 'Delivered');

    // The network goes away.
    await context.setOffline(true);
    await page.getByRole('status').filter({ hasText: 'Reconnecting…' }).first().waitFor();
    await page.getByText('Connection lost.').waitFor();
    await page.getByRole('button', { name: 'Reconnect now' }).waitFor();
    await page.getByRole('list').getByRole('button', { name: /^Bob — offline/ }).waitFor();
    assert.ok(await logEl.getByText(before, { exact: true }).isVisible(), 'the transcript stays');
    // Sending while offline: the message shows at once, as not sent yet, with the reason and a way to cancel it.
    assert.ok(await page.getByRole('button', { name: 'Send' }).isEnabled(), 'Send works while offline');
    await page.getByText('Not connected: what you send now waits and goes out when the connection is back.').waitFor();
    const queued = `sent offline ${token}`;
    await composer.fill(queued);
    await composer.press('Enter');
    assert.equal(await composer.inputValue(), '', 'sent: the composer is empty');
    const pending = row(queued).locator('.message-state[data-state="pending"]');
    await pending.waitFor();
    assert.equal((await pending.locator('.message-state-text').textContent()).trim(), 'Not sent yet: reconnecting to the server.');
    assert.ok(await pending.getByRole('button', { name: 'Cancel sending' }).isVisible());
    // Typed and not sent: stays in the composer.
    const typed = `typed offline ${token}`;
    await composer.fill(typed);
    if (!resalting) await shot('e2e-reconnecting');

    // The network comes back: the app tries at once.
    await context.setOffline(false);
    const online = page.getByRole('status').filter({ hasText: /^\s*Connection: Online\s*$/ });
    const needsPassword = page.getByRole('alert').filter({ hasText: 'Your server asks for your password again to reconnect.' });
    await online.or(needsPassword).first().waitFor();
    assert.equal(await needsPassword.isVisible(), resalting, resalting ? 'the kept keys cannot fit a new salt' : 'the kept keys log in again');
    if (resalting) {
      assert.ok(await logEl.getByText(before, { exact: true }).isVisible(), 'the conversation stays behind the prompt');
      await page.getByRole('button', { name: 'Cancel', exact: true }).waitFor();
      await page.getByLabel(`Password for ${alice}`).fill(env.alicePassword);
      await page.getByRole('button', { name: 'Log in', exact: true }).click();
      await online.first().waitFor();
    }
    assert.equal(await page.getByRole('button', { name: 'Reconnect now' }).count(), 0, 'the banner is gone');
    await page.getByRole('list').getByRole('button', { name: /^Bob — available/ }).waitFor();
    assert.ok(await logEl.getByText(before, { exact: true }).isVisible(), 'the transcript is still there');
    assert.equal(await composer.inputValue(), typed, 'what was typed offline is still in the composer');
    // What was sent offline went out once the session was back, exactly once.
    await bob.waitFor((e) => e.event === 'message' && e.from === alice && e.body === queued, `bob receives "${queued}"`);
    await row(queued).locator('.message-state[data-state="delivered"]').waitFor();
    assert.equal(await row(queued).count(), 1, 'shown once');

    // Messages flow both ways again.
    const after = `after the reconnect ${token}`;
    bob.send({ cmd: 'send', to: alice, body: after });
    await logEl.getByText(after, { exact: true }).waitFor();
    assert.ok(await page.getByRole('button', { name: 'Send' }).isEnabled());
    await composer.press('Enter');
    await bob.waitFor((e) => e.event === 'message' && e.from === alice && e.body === typed, `bob receives "${typed}"`);
    const copies = bob.events.filter((e) => e.event === 'message' && e.body === queued).length;
    assert.equal(copies, 1, `bob got "${queued}" ${copies} times`);
  });
}
