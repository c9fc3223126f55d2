// A peer sending many messages as fast as it can: every one shows in the transcript, in order, and the page
// stays free of errors.
import assert from 'node:assert/strict';
import { test, logInAndWait, until } from '../harness.mjs';

const COUNT = Number(process.env.NATTER_E2E_BURST || 300); // more with NATTER_E2E_BURST=1000

test(`burst: ${COUNT} messages from a peer all arrive, in order`, async ({ page, baseURL, env, peer }) => {
  const alice = `alice@${env.domain}`;
  const bob = peer({ jid: `bob@${env.domain}`, password: env.bobPassword });
  await bob.online();
  await logInAndWait(page, baseURL, alice, env.alicePassword);
  await page.getByRole('list').getByRole('button', { name: /^Bob\b/ }).click();
  const log = page.getByRole('log');
  await log.waitFor();

  const prefix = `b${Math.random().toString(36).slice(2, 7)}`;
  bob.send({ cmd: 'burst', to: alice, count: COUNT, prefix });
  await bob.waitFor((e) => e.event === 'burst_done', 'the burst sent', { timeout: 30_000 });
  const last = `${prefix}-${String(COUNT).padStart(4, '0')}`;
  await log.getByText(last, { exact: true }).waitFor({ timeout: 30_000 });

  const bodies = await until(async () => {
    const all = await log.getByText(new RegExp(`^${prefix}-\\d{4}$`)).allInnerTexts();
    return all.length >= COUNT ? all : null;
  }, `${COUNT} messages in the transcript`);
  const expected = Array.from({ length: COUNT }, (_, i) => `${prefix}-${String(i + 1).padStart(4, '0')}`);
  assert.deepEqual(bodies, expected, 'every message once, in order');
});
