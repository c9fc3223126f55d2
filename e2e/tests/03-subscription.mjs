// A new account asks to see Alice's presence; Alice approves in the UI; the peer learns it was approved.
import assert from 'node:assert/strict';
import { test, logInAndWait } from '../harness.mjs';

test('subscription: a request shows with Approve, approving reaches the peer', async ({ page, baseURL, env, peer, adduser }) => {
  const alice = `alice@${env.domain}`;
  const account = await adduser('e2e-sub');
  const stranger = peer({ jid: account.jid, password: account.password });
  await stranger.online();

  await logInAndWait(page, baseURL, alice, env.alicePassword);
  stranger.send({ cmd: 'subscribe', to: alice });

  const request = page.getByRole('listitem').filter({ hasText: account.jid });
  await request.getByText('wants to see', { exact: false }).waitFor();
  await request.getByRole('button', { name: 'Deny', exact: false }).waitFor();
  const approve = request.getByRole('button', { name: /^Approve/ });
  // Nothing approved the request before the click.
  assert.equal(stranger.events.filter((e) => e.event === 'subscription_approved').length, 0, 'not approved before the click');
  await approve.click();

  await stranger.waitFor((e) => e.event === 'subscription_approved' && e.from === alice, 'the approval from alice');
  await approve.waitFor({ state: 'detached' });
});
