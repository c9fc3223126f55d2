// Alice logs in through the form, sees Bob's presence, and they talk both ways. Bob is the scripted peer.
import assert from 'node:assert/strict';
import { test, logInAndWait } from '../harness.mjs';

test('chat: contact presence, messages both ways, peer text rendered as text, typing notifications', async ({ page, baseURL, env, peer, shot }) => {
  const alice = `alice@${env.domain}`;
  const bobJid = `bob@${env.domain}`;
  const token = Math.random().toString(36).slice(2, 8);
  // A high priority makes this resource Bob's presence even if Bob is also online elsewhere (a demo, a person),
  // and the one that receives messages sent to his bare address.
  const bob = peer({ jid: bobJid, password: env.bobPassword, show: 'away', status: `At lunch ${token}`, priority: 100 });
  await bob.online();

  await logInAndWait(page, baseURL, alice, env.alicePassword);
  await page.getByRole('status').filter({ hasText: 'Online' }).first().waitFor();

  // Bob in the contact list, with his presence in words and his status message.
  const bobButton = page.getByRole('list').getByRole('button', { name: /^Bob — away/ });
  await bobButton.waitFor();
  await page.getByRole('list').getByText(`At lunch ${token}`).waitFor();

  // Open the conversation and send a message: type in "Message", press Enter.
  await bobButton.click();
  const log = page.getByRole('log');
  await log.waitFor();
  const composer = page.getByLabel('Message', { exact: true });
  const hello = `Hello Bob ${token}`;
  await composer.pressSequentially(hello);
  await composer.press('Enter');
  await bob.waitFor((e) => e.event === 'message' && e.from === alice && e.body === hello, `bob receives "${hello}"`);
  await log.getByText(hello, { exact: true }).waitFor();
  assert.equal(await composer.inputValue(), '', 'the composer is empty after sending');

  // Bob answers; the answer appears in the transcript.
  const reply = `Hi Alice, back at 2 ${token}`;
  bob.send({ cmd: 'send', to: alice, body: reply });
  await log.getByText(reply, { exact: true }).waitFor();

  // Markup from a peer is text, never HTML.
  const evil = `<img src=x onerror=alert(1)> ${token}`;
  bob.send({ cmd: 'send', to: alice, body: evil });
  await log.getByText(evil, { exact: true }).waitFor();
  assert.equal(await log.locator('img').count(), 0, 'no <img> element in the transcript');
  assert.equal(await page.locator('img[src="x"]').count(), 0, 'no <img src=x> anywhere in the page');

  // Order in the transcript: ours, then Bob's two.
  const text = await log.innerText();
  const [a, b, c] = [hello, reply, evil].map((s) => text.indexOf(s));
  assert.ok(a >= 0 && a < b && b < c, `messages in order in the transcript:\n${text}`);

  // Typing notifications (XEP-0085), both ways: each side's messages carried <active/>, so each knows the other
  // uses chat states. Bob starts typing: "typing…" in his row and in the conversation header, until he pauses.
  bob.send({ cmd: 'chatstate', to: alice, state: 'composing' });
  await page.getByRole('main').getByText('typing…', { exact: true }).waitFor();
  await page.getByRole('list').getByText('typing…', { exact: true }).waitFor();
  bob.send({ cmd: 'chatstate', to: alice, state: 'paused' });
  await page.getByRole('main').getByText('typing…', { exact: true }).waitFor({ state: 'detached' });
  await page.getByRole('list').getByText(`At lunch ${token}`).waitFor();
  // Alice types: Bob hears "composing"; she clears the composer: "active".
  await composer.pressSequentially('so');
  await bob.waitFor((e) => e.event === 'chatstate' && e.from === alice && e.state === 'composing', 'bob sees alice typing');
  await composer.fill('');
  await bob.waitFor((e) => e.event === 'chatstate' && e.from === alice && e.state === 'active', 'bob sees alice stop');

  await shot('e2e-chat');
});
