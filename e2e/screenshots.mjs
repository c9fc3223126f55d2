// The README's screenshots, taken from the real UI: the demo of the first README command (scripts/dev.sh must
// be running: Prosody 13 with alice, bob and carol, the lobby room) driven in headless Debian Chromium like a
// person (three browser profiles), written to docs/screenshots/. Not a test: it fails only when the app does not
// show what it should.
//
//   scripts/dev.sh &                      # in another terminal
//   node e2e/screenshots.mjs              # NATTER_DEV_URL (http://127.0.0.1:8080/), NATTER_SHOTS_DIR
//
// The demo passwords are those scripts/dev.sh prints (alice-demo-pw, …). Messages pile up in the demo server's
// archive across runs; `scripts/prosody13.sh stop && rm -rf run/prosody13` starts the demo afresh.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const URL = process.env.NATTER_DEV_URL || 'http://127.0.0.1:8080/';
const OUT = process.env.NATTER_SHOTS_DIR || path.join(root, 'docs/screenshots');
const ROOM = 'lobby@conference.localhost';
const WIDE = { width: 1200, height: 760 };
const PHONE = { width: 390, height: 800 };

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--disable-gpu'] });
const problems = [];

async function person(name, { viewport = WIDE, dark = false } = {}) {
  const context = await browser.newContext({ viewport, colorScheme: dark ? 'dark' : 'light' });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`${name}: ${e}`));
  return page;
}

async function logIn(page, user, { stay = false, screenshot } = {}) {
  await page.goto(URL);
  await page.getByLabel('Address', { exact: true }).fill(`${user}@localhost`);
  if (stay) await page.getByLabel('Stay logged in on this device').check();
  if (screenshot) await shot(page, screenshot);
  await page.getByLabel('Password', { exact: true }).fill(`${user}-demo-pw`);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('status').filter({ hasText: 'Online' }).first().waitFor({ timeout: 30_000 });
}

async function shot(page, name) {
  await page.waitForTimeout(400); // let transitions end: these are pictures, not measurements
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
  console.log(`screenshots: ${name}.png`);
}

const openChat = (page, name) => page.getByRole('list').getByRole('button', { name: new RegExp(`^${name}`) }).first().click();
const openRoom = (page) => page.locator(`li.room-row[data-room="${ROOM}"]`).getByRole('button').first().click();

async function say(page, text, label = 'Message') {
  const composer = page.getByLabel(label, { exact: true });
  await composer.fill(text);
  await composer.press('Enter');
}

try {
  const alice = await person('alice');
  const bob = await person('bob');
  const carol = await person('carol');
  await logIn(alice, 'alice', { stay: true, screenshot: 'login' });
  await logIn(bob, 'bob');
  await logIn(carol, 'carol');

  // One to one: alice and bob.
  await openChat(alice, 'Bob');
  await openChat(bob, 'Alice');
  await say(alice, 'Hi Bob! The agenda for Thursday is at https://example.org/agenda');
  await bob.getByText('The agenda for Thursday', { exact: false }).last().waitFor();
  await say(bob, 'Thanks! See you in the lobby.');
  await alice.getByText('See you in the lobby', { exact: false }).last().waitFor();
  await say(alice, 'שלום — right-to-left text reads right, too');
  await bob.getByText('right-to-left text', { exact: false }).last().waitFor();
  await shot(alice, 'main');

  // The lobby: all three talk, bob mentions alice.
  for (const p of [alice, bob, carol]) await openRoom(p);
  await alice.getByLabel('Message to the room').waitFor();
  await say(carol, 'Morning, everyone!', 'Message to the room');
  await say(bob, 'alice: the release notes are ready for review', 'Message to the room');
  await alice.getByText('the release notes are ready', { exact: false }).last().waitFor();
  await say(alice, 'Great, reading them now.', 'Message to the room');
  await carol.getByText('reading them now', { exact: false }).last().waitFor();
  await shot(alice, 'room');

  // Dark theme and a phone.
  const dark = await person('alice-dark', { dark: true });
  await logIn(dark, 'alice');
  await openChat(dark, 'Bob');
  await dark.getByText('right-to-left text', { exact: false }).last().waitFor();
  await shot(dark, 'main-dark');
  const phone = await person('alice-phone', { viewport: PHONE });
  await logIn(phone, 'alice');
  await shot(phone, 'mobile-contacts');
  await openChat(phone, 'Bob');
  await phone.getByText('right-to-left text', { exact: false }).last().waitFor();
  await shot(phone, 'mobile-conversation');
  await phone.goBack();
  await openRoom(phone);
  await phone.getByText('reading them now', { exact: false }).last().waitFor();
  await shot(phone, 'mobile-room');
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(`screenshots: page errors:\n${problems.join('\n')}`);
  process.exit(1);
}
