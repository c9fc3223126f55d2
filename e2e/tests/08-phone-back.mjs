// On a phone, the browser's Back button closes the open conversation (back to the list) instead of leaving the
// app and ending the session; the URL names the open conversation (a fragment, so any hosting path works), and
// Forward opens it again. Issue 16, item 10.
import assert from 'node:assert/strict';
import { test, logInAndWait } from '../harness.mjs';

test('phone: Back returns from a conversation to the list, the session stays', async ({ page, baseURL, env }) => {
  await page.setViewportSize({ width: 390, height: 780 });
  await logInAndWait(page, baseURL, `alice@${env.domain}`, env.alicePassword);
  const bob = page.getByRole('list').getByRole('button', { name: /^Bob — / });
  await bob.click();
  const log = page.getByRole('log');
  await log.waitFor();
  assert.ok(page.url().endsWith(`#/chat/bob%40${env.domain}`), page.url());
  assert.ok(!(await bob.isVisible()), 'one pane: the list is hidden behind the conversation');

  await page.goBack();
  await bob.waitFor();
  await log.waitFor({ state: 'detached' });
  assert.ok(page.url().startsWith(baseURL) && !page.url().includes('#/chat/'), page.url());
  assert.ok(await page.getByRole('button', { name: 'Log out' }).isVisible(), 'still logged in');
  assert.equal(await page.getByRole('status').filter({ hasText: /^\s*Connection: Online\s*$/ }).count(), 1, 'still online');

  await page.goForward();
  await log.waitFor();
  // The conversation's own Back button does the same as the browser's.
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await bob.waitFor();
  assert.ok(!page.url().includes('#/chat/'), page.url());
});
