// Group chat on the real Prosody (lobby@conference.localhost: alice owns it and has it bookmarked with autojoin).
// Two scripted peers: Carol takes the nick "alice" first, so Alice's autojoin meets a nick conflict, solved with
// the nick the page offers; Alice and Bob talk both ways, Bob mentions her; Alice kicks Carol (shown in the room
// and to Carol), invites her back, and Carol's join shows.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, logIn, logInAndWait } from '../harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('rooms: autojoin, nick conflict resolved, talk both ways, a mention, kick shown, invite and join', async ({ page, baseURL, env, peer, shot }) => {
  const room = `lobby@conference.${env.domain}`;
  const token = Math.random().toString(36).slice(2, 8);
  const bob = peer({ jid: `bob@${env.domain}`, password: env.bobPassword });
  const carol = peer({ jid: `carol@${env.domain}`, password: env.carolPassword });
  await Promise.all([bob.online(), carol.online()]);
  carol.send({ cmd: 'join', room, nick: 'alice' });
  await carol.waitFor((e) => e.event === 'room_joined' && e.room === room, 'carol in the lobby as "alice"');
  bob.send({ cmd: 'join', room, nick: 'bob' });
  await bob.waitFor((e) => e.event === 'room_joined' && e.room === room, 'bob in the lobby');

  await logInAndWait(page, baseURL, `alice@${env.domain}`, env.alicePassword);
  // The bookmark's autojoin runs into the nick "alice" taken: the room is listed, and says so when opened.
  const row = page.locator(`li.room-row[data-room="${room}"]`);
  await row.getByText('Could not join').waitFor();
  await row.getByRole('button').click();
  await page.getByText('Someone in the room already uses this nickname.').waitFor();
  const other = page.locator('#join-other-nick');
  const offered = (await other.innerText()).replace(/^Join as /, '');
  assert.ok(offered.startsWith('alice') && offered !== 'alice', `another nick offered: ${offered}`);
  await other.click();
  await page.locator('.room-status').waitFor({ state: 'detached' });
  await page.locator('.occupant-row.me .occupant-nick', { hasText: offered }).waitFor();
  await page.locator('button.occupant[data-nick="bob"]').waitFor();

  // Both ways.
  const log = page.getByRole('log', { name: 'Messages in the room' });
  const composer = page.getByLabel('Message to the room');
  const hello = `Hello room ${token}`;
  await composer.fill(hello);
  await composer.press('Enter');
  await bob.waitFor((e) => e.event === 'room_message' && e.room === room && e.body === hello, 'bob gets alice\'s message');
  await page.locator('.message.from-me .message-state[data-state="delivered"]').last().waitFor();
  const reply = `Hi there ${token}`;
  bob.send({ cmd: 'room_send', room, body: reply });
  await log.getByText(reply, { exact: true }).waitFor();
  // A mention: highlighted.
  const mention = `${offered}: look at this ${token}`;
  bob.send({ cmd: 'room_send', room, body: mention });
  await page.locator('.message.mention .message-body', { hasText: mention }).waitFor();

  // Kick Carol (as "alice"), with a reason: shown in the room, and Carol is told.
  await page.locator('button.occupant[data-nick="alice"]').click();
  await page.locator('#moderation-reason').fill(`nick squatting ${token}`);
  await page.locator('#occupant-kick').click();
  await carol.waitFor((e) => e.event === 'room_left' && e.room === room && /kicked/.test(e.why), 'carol is kicked');
  await page.locator('.room-event', { hasText: `alice was kicked` }).filter({ hasText: token }).waitFor();

  // Invite Carol back; she accepts and joins; her arrival shows.
  await page.locator('#room-invite').click();
  await page.locator('#room-panel-field').fill(`carol@${env.domain}`);
  await page.locator('#room-panel button[type=submit]').click();
  await carol.waitFor((e) => e.event === 'room_invited' && e.room === room, 'carol gets the invitation');
  carol.send({ cmd: 'join', room, nick: 'carol' });
  await page.locator('.room-event', { hasText: 'carol joined' }).waitFor();
  await page.locator('button.occupant[data-nick="carol"]').waitFor();
  await shot('e2e-rooms');

  bob.send({ cmd: 'leave', room });
  carol.send({ cmd: 'leave', room });
}, { once: true });

// The server restarts (its data kept) while Alice is in the lobby: the page reconnects by itself (her account on
// hashed.localhost keeps its SCRAM salt, so the kept keys log in again), the core joins the room again, and the
// room says so; messages flow again with a peer who joined after the restart.
// Prosody removes its occupants while shutting down (status 333, "Kicked: recipient unavailable"): the core joins
// again instead of leaving, so the room is still there to join on the new connection.
test('rooms: joined again after the server restarts', async ({ page, baseURL, env, peer }) => {
  const room = `lobby@conference.${env.domain}`;
  const token = Math.random().toString(36).slice(2, 8);
  const nick = `alice-${token}`;
  await page.goto(baseURL);
  await page.getByText('Advanced').click();
  await page.getByLabel('Server URL').fill(env.ws);
  await logIn(page, null, `alice@${env.hashedDomain}`, env.alicePassword);
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  await page.locator('details.join-room summary').click();
  await page.locator('#join-address').fill(room);
  await page.locator('#join-nick').fill(nick);
  await page.locator('#join-submit').click();
  await page.locator('.occupant-row.me .occupant-nick', { hasText: nick }).waitFor();

  await new Promise((resolve, reject) => {
    execFile(path.join(root, 'scripts/prosody.sh'), ['reboot'], { cwd: root }, (err, _out, stderr) => {
      if (err) reject(new Error(`scripts/prosody.sh reboot failed: ${err.message} ${stderr}`));
      else resolve();
    });
  });
  await page.locator('.room-event', { hasText: 'You are back in the room.' }).waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('.room-status').count(), 0, 'no "Rejoining…" once back');

  const bob = peer({ jid: `bob@${env.domain}`, password: env.bobPassword });
  await bob.online();
  bob.send({ cmd: 'join', room, nick: `bob-${token}` });
  await bob.waitFor((e) => e.event === 'room_joined' && e.room === room, 'bob in the lobby');
  const hello = `after the restart ${token}`;
  bob.send({ cmd: 'room_send', room, body: hello });
  await page.getByRole('log', { name: 'Messages in the room' }).getByText(hello, { exact: true }).waitFor();
  const composer = page.getByLabel('Message to the room');
  const answer = `still here ${token}`;
  await composer.fill(answer);
  await composer.press('Enter');
  await bob.waitFor((e) => e.event === 'room_message' && e.room === room && e.body === answer, 'bob gets the answer');
  bob.send({ cmd: 'leave', room });
}, {
  once: true,
  timeout: 120_000,
  // While the server is down, Chromium logs each refused reconnection attempt itself.
  allowConsole: [/WebSocket connection to .* failed|ERR_EMPTY_RESPONSE|ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET/],
});
