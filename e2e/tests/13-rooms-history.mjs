// Room history that outlives the page (issue 15 item 3), on Prosody 13 (where "Stay logged in" keeps a FAST
// token, so a reload starts from the store; lobby@conference.localhost keeps an archive and Alice has it
// bookmarked with autojoin). Bob talks in the lobby before Alice logs in: after her autojoin his message shows
// (the room's archive, fetched once the join is confirmed). A reload with the network held back paints the room
// and what was said from this browser's store before any answer from the server; a reload with the network logs
// in with the token, the room is joined again from the stored point and caught up: what Bob said meanwhile
// shows, and every message once, in order; a mention that came while Alice looked elsewhere is still counted
// (unread and mention badges) after the reload, until she opens the room. Then scroll-back: Bob makes a room and says 120 things in it before
// Alice joins (Prosody pages its archive by 50 at most); Alice joins, loads older messages until "Start of the
// room's history", and sees all 120 once, in order.
//
// Runs when the Prosody 13 environment is loaded (NATTER_PROSODY13_WS; scripts/test.sh loads it).
import assert from 'node:assert/strict';
import { test, logIn } from '../harness.mjs';

const ws = process.env.NATTER_PROSODY13_WS;
const domain = process.env.NATTER_PROSODY13_DOMAIN || 'localhost';

/** Waits until the room has sent `body` (Bob's) back to everyone. */
async function reflected(peer, body) {
  const sent = await peer.waitFor((e) => e.event === 'sent' && e.body === body, `sent: ${body}`);
  await peer.waitFor((e) => e.event === 'room_reflected' && e.id === sent.id, `in the room: ${body}`);
}

if (ws) {
  test('rooms: history on join, and after a reload from the store first, caught up without doubles', async ({ page, env, peer, serve }) => {
    const alice = `alice@${domain}`;
    const room = `lobby@conference.${domain}`;
    const token = Math.random().toString(36).slice(2, 8);
    const url = await serve({ websocket_url: ws, domain });
    const bob = peer({ jid: `bob@${domain}`, password: env.bobPassword, ws });
    await bob.online();
    bob.send({ cmd: 'join', room, nick: `bob-${token}` });
    await bob.waitFor((e) => e.event === 'room_joined' && e.room === room, 'bob in the lobby');
    const before = `said before you came ${token}`;
    bob.send({ cmd: 'room_send', room, body: before });
    await reflected(bob, before);

    // History on join: Bob's earlier message, from the room's archive, once autojoin has Alice in.
    await page.goto(url);
    await page.getByLabel('Address', { exact: true }).fill(alice);
    await page.getByLabel('Stay logged in on this device').check();
    await logIn(page, null, alice, env.alicePassword);
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    const row = page.locator(`li.room-row[data-room="${room}"]`);
    await row.getByRole('button').first().click();
    await page.locator('.occupant-row.me').waitFor();
    const log = page.getByRole('log', { name: 'Messages in the room' });
    await log.getByText(before, { exact: true }).waitFor();
    const live = `said while you were in ${token}`;
    bob.send({ cmd: 'room_send', room, body: live });
    await log.getByText(live, { exact: true }).waitFor();
    // Alice looks at Bob's chat; Bob names her in the room: counted as unread and as a mention.
    await page.getByRole('list').getByRole('button', { name: /^Bob/ }).first().click();
    const calling = `alice, a word please ${token}`;
    bob.send({ cmd: 'room_send', room, body: calling });
    await row.locator('.room-mentions').filter({ hasText: '@1' }).waitFor();
    await new Promise((r) => setTimeout(r, 600)); // saved (debounced) and written in the next transaction

    // A reload with the WebSocket held back: the room and its messages from the store, before any answer.
    let hold = true;
    await page.routeWebSocket(/.*/, (socket) => {
      if (!hold) socket.connectToServer();
    });
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Connecting…' }).first().waitFor();
    // The counts outlive the reload: in the Rooms section before any answer; opening the room reads it.
    await row.locator('.room-unread').filter({ hasText: /^1/ }).waitFor();
    await row.locator('.room-mentions').filter({ hasText: '@1' }).waitFor();
    await row.getByRole('button').first().click();
    await row.locator('.room-mentions').waitFor({ state: 'hidden' });
    await log.getByText(before, { exact: true }).waitFor();
    await log.getByText(live, { exact: true }).waitFor();

    // Meanwhile Bob says more; a reload with the network: joined again, caught up from the stored point.
    const missed = `said while you were away ${token}`;
    bob.send({ cmd: 'room_send', room, body: missed });
    await reflected(bob, missed);
    hold = false;
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Online' }).first().waitFor();
    await row.getByRole('button').first().click();
    await page.locator('.occupant-row.me').waitFor();
    await log.getByText(missed, { exact: true }).waitFor();
    const after = `said after you came back ${token}`;
    bob.send({ cmd: 'room_send', room, body: after });
    await log.getByText(after, { exact: true }).waitFor();
    const text = await log.innerText();
    const at = [before, live, missed, after].map((m) => text.indexOf(m));
    assert.deepEqual([...at].sort((a, b) => a - b), at, `in order:\n${text}`);
    for (const m of [before, live, missed, after]) {
      assert.equal(text.split(m).length - 1, 1, `shown once: ${m}\n${text}`);
    }
    bob.send({ cmd: 'leave', room });
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
  }, { once: true });

  test('rooms: scroll-back through a 120-message room archive to its start, every message once, in order', async ({ page, env, peer, serve }) => {
    const alice = `alice@${domain}`;
    const token = Math.random().toString(36).slice(2, 8);
    const room = `history-${token}@conference.${domain}`;
    const url = await serve({ websocket_url: ws, domain });
    const bob = peer({ jid: `bob@${domain}`, password: env.bobPassword, ws });
    await bob.online();
    // An instant room (not kept once empty: Bob stays in it, so its archive stays).
    bob.send({ cmd: 'create', room, nick: `bob-${token}` });
    await bob.waitFor((e) => e.event === 'room_created' && e.room === room, 'the room made');
    const said = Array.from({ length: 120 }, (_, i) => `h${String(i + 1).padStart(3, '0')} ${token}`);
    for (const body of said) bob.send({ cmd: 'room_send', room, body });
    await reflected(bob, said[said.length - 1]);

    await page.goto(url);
    await logIn(page, null, alice, env.alicePassword);
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.locator('#join-room-summary').click();
    await page.getByLabel('Room address').fill(room);
    await page.locator('#join-submit').click();
    await page.locator('.occupant-row.me').waitFor();
    const log = page.getByRole('log', { name: 'Messages in the room' });
    await log.getByText(said[said.length - 1], { exact: true }).waitFor();

    // Older pages until the start (each press, or the scroll to the top, asks for one).
    const start = log.getByText("Start of the room's history", { exact: true });
    const more = log.getByRole('button', { name: 'Load older messages' });
    for (let pages = 0; !(await start.isVisible()); pages++) {
      assert.ok(pages < 10, 'the start is reached in a few pages');
      await Promise.race([more.waitFor(), start.waitFor()]);
      if (await more.isVisible()) await more.click();
    }
    const shown = (await log.locator('.message .message-body').allInnerTexts()).filter((b) => b.endsWith(token));
    assert.deepEqual(shown, said, 'every message once, in order');
    bob.send({ cmd: 'leave', room });
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
  }, { once: true });
}
