// Own presence reaches contacts; "Log out" ends the session (contacts see the person go offline) and returns
// to the login screen. Two fresh accounts, so no other session of a demo account can blur what the peer sees.
import assert from 'node:assert/strict';
import { test, logInAndWait } from '../harness.mjs';

test('own presence and log out: contacts see it, back to the login screen', async ({ page, baseURL, peer, adduser }) => {
  const me = await adduser('e2e-me');
  const friend = await adduser('e2e-friend');
  const watcher = peer({ jid: friend.jid, password: friend.password });
  await watcher.online();

  await logInAndWait(page, baseURL, me.jid, me.password);
  // The friend asks to see my presence; I approve in the UI, and they see me online.
  watcher.send({ cmd: 'subscribe', to: me.jid });
  await page.getByRole('button', { name: `Approve ${friend.jid}` }).click();
  await watcher.waitFor((e) => e.event === 'subscription_approved' && e.from === me.jid, 'the approval');
  await watcher.waitFor((e) => e.event === 'presence' && e.jid === me.jid && e.show === 'available', 'me online');

  const afterLogin = watcher.mark();
  await page.getByLabel('Your presence', { exact: true }).selectOption('away');
  await watcher.waitFor((e) => e.event === 'presence' && e.jid === me.jid && e.show === 'away', 'me away', { since: afterLogin });

  const beforeLogout = watcher.mark();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  await page.getByLabel('Address', { exact: true }).waitFor();
  assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'no password left in the form');
  await watcher.waitFor((e) => e.event === 'presence' && e.jid === me.jid && e.show === null, 'me offline', { since: beforeLogout });
});
