// Own presence reaches contacts; "Log out" ends the session (contacts see Alice go offline) and returns to
// the login screen.
import assert from 'node:assert/strict';
import { test, logInAndWait } from '../harness.mjs';

test('own presence and log out: contacts see it, back to the login screen', async ({ page, baseURL, env, peer }) => {
  const alice = `alice@${env.domain}`;
  const bob = peer({ jid: `bob@${env.domain}`, password: env.bobPassword });
  await bob.online();
  const start = bob.mark();

  await logInAndWait(page, baseURL, alice, env.alicePassword);
  await bob.waitFor((e) => e.event === 'presence' && e.jid === alice && e.show === 'available', 'alice online', { since: start });

  const afterLogin = bob.mark();
  await page.getByLabel('Your presence', { exact: true }).selectOption('away');
  await bob.waitFor((e) => e.event === 'presence' && e.jid === alice && e.show === 'away', 'alice away', { since: afterLogin });

  const beforeLogout = bob.mark();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  await page.getByLabel('Address', { exact: true }).waitFor();
  assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'no password left in the form');
  await bob.waitFor((e) => e.event === 'presence' && e.jid === alice && e.show === null, 'alice offline', { since: beforeLogout });
});
