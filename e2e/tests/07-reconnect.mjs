// The network drops while Alice chats with Bob: the app says "Reconnecting…", keeps the roster, the open
// conversation and what she types, and disables Send with a reason. When the network is back it logs in again
// by itself with the SCRAM keys of the session (never the password). A server that draws a new salt at every
// login (the Prosody of the scripts: internal_plain storage) refuses those keys: then the app says the password
// is needed, and "Log in again" resumes with everything kept. Either way, Bob's next message arrives.
import assert from 'node:assert/strict';
import { test, logInAndWait } from '../harness.mjs';

test('reconnect: offline and back, nothing typed is lost, messages flow again', async ({ page, context, baseURL, env, peer, log }) => {
  const alice = `alice@${env.domain}`;
  const token = Math.random().toString(36).slice(2, 8);
  const bob = peer({ jid: `bob@${env.domain}`, password: env.bobPassword, priority: 100 });
  await bob.online();
  await logInAndWait(page, baseURL, alice, env.alicePassword);
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

  // The network comes back: the app tries at once.
  await context.setOffline(false);
  const online = page.getByRole('status').filter({ hasText: /^\s*Connection: Online\s*$/ });
  const needsPassword = page.getByRole('alert').filter({ hasText: 'Reconnecting needs your password again' });
  await online.or(needsPassword).first().waitFor();
  if (await needsPassword.isVisible()) {
    log('this server refused the kept keys (a new salt at every login): logging in again by hand');
    await page.getByRole('button', { name: 'Log in again' }).click();
    await page.getByRole('alert').filter({ hasText: 'needs your password' }).waitFor();
    assert.equal(await page.getByLabel('Address', { exact: true }).inputValue(), alice, 'the address is kept');
    await page.getByLabel('Password', { exact: true }).fill(env.alicePassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await online.first().waitFor();
  } else {
    log('reconnected with the kept keys');
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
