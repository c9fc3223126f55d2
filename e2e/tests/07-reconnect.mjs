// The network drops while Alice chats with Bob: the app says "Reconnecting…", keeps the roster, the open
// conversation and what she types, and disables Send with a reason. When the network is back it logs in again
// by itself with the SCRAM keys of the session (never the password). That needs a server that keeps the same
// salt from login to login: the scripts' Prosody host hashed.localhost (salted+hashed storage, Prosody's
// default). Its host localhost stores passwords in plain (for SCRAM-SHA-256) and draws a new salt at every
// login, so it refuses the kept keys: then the app asks for the password on the chat screen, the conversation
// staying in view, and logging in there resumes with everything kept. Either way, Bob's next message arrives and what was typed offline is sent.
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

    // The network goes away.
    await context.setOffline(true);
    await page.getByRole('status').filter({ hasText: 'Reconnecting…' }).first().waitFor();
    await page.getByText('Connection lost.').waitFor();
    await page.getByRole('button', { name: 'Reconnect now' }).waitFor();
    await page.getByRole('list').getByRole('button', { name: /^Bob — offline/ }).waitFor();
    assert.ok(await logEl.getByText(before, { exact: true }).isVisible(), 'the transcript stays');
    const composer = page.getByLabel('Message', { exact: true });
    const typed = `typed offline ${token}`;
    await composer.fill(typed);
    assert.ok(await page.getByRole('button', { name: 'Send' }).isDisabled(), 'Send is disabled while offline');
    await page.getByText('Not connected: what you type stays here').waitFor();
    await composer.press('Enter');
    assert.equal(await composer.inputValue(), typed, 'Enter while offline keeps the text');
    if (!resalting) await shot('e2e-reconnecting');

    // The network comes back: the app tries at once.
    await context.setOffline(false);
    const online = page.getByRole('status').filter({ hasText: /^\s*Connection: Online\s*$/ });
    const needsPassword = page.getByRole('alert').filter({ hasText: 'Your server asks for your password again to reconnect.' });
    await online.or(needsPassword).first().waitFor();
    assert.equal(await needsPassword.isVisible(), resalting, resalting ? 'the kept keys cannot fit a new salt' : 'the kept keys log in again');
    if (resalting) {
      assert.ok(await logEl.getByText(before, { exact: true }).isVisible(), 'the conversation stays behind the prompt');
      await page.getByRole('button', { name: 'Cancel' }).waitFor();
      await page.getByLabel(`Password for ${alice}`).fill(env.alicePassword);
      await page.getByRole('button', { name: 'Log in', exact: true }).click();
      await online.first().waitFor();
    }
    assert.equal(await page.getByRole('button', { name: 'Reconnect now' }).count(), 0, 'the banner is gone');
    await page.getByRole('list').getByRole('button', { name: /^Bob — available/ }).waitFor();
    assert.ok(await logEl.getByText(before, { exact: true }).isVisible(), 'the transcript is still there');
    assert.equal(await composer.inputValue(), typed, 'what was typed offline is still in the composer');

    // Messages flow both ways again.
    const after = `after the reconnect ${token}`;
    bob.send({ cmd: 'send', to: alice, body: after });
    await logEl.getByText(after, { exact: true }).waitFor();
    assert.ok(await page.getByRole('button', { name: 'Send' }).isEnabled());
    await composer.press('Enter');
    await bob.waitFor((e) => e.event === 'message' && e.from === alice && e.body === typed, `bob receives "${typed}"`);
  });
}
