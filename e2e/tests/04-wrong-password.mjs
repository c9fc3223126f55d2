// A wrong password gives a readable error and keeps what was typed in Address.
import assert from 'node:assert/strict';
import { test, logIn } from '../harness.mjs';

test('wrong password: readable error, address kept', async ({ page, baseURL, env }) => {
  const alice = `alice@${env.domain}`;
  await logIn(page, baseURL, alice, 'not-the-password');
  await page.getByRole('alert').filter({ hasText: /password/i }).waitFor();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  assert.equal(await page.getByLabel('Address', { exact: true }).inputValue(), alice);
  assert.equal(await page.getByRole('button', { name: 'Log out' }).count(), 0, 'not logged in');
});
