#!/usr/bin/python3
"""Creates the demo room at server start: scripts/prosody.sh and scripts/ejabberd.sh call it (stdlib only).

    scripts/servers/seed.py WS_URL DOMAIN ROOM_JID "alice:pw bob:pw carol:pw"

The first account creates ROOM_JID (named "Lobby"), makes it persistent and public (listed by the service), makes the others members (the
first one is its owner), and leaves it; then every account publishes a XEP-0402 bookmark of it with
autojoin (PEP node urn:xmpp:bookmarks:1, whitelist access model). Everything goes over the server's own
WebSocket, so the same code seeds Prosody and ejabberd of either generation. Sends no presence and no
messages: rosters, archives and offline stores stay as they were. Exits non-zero, saying why, on failure.
"""
import sys
import xml.etree.ElementTree as ET

from xmpp_client import NS_CLIENT, Session, esc, now_ms, tag

NS_MUC = "http://jabber.org/protocol/muc"


def form(form_type, fields):
    out = [f"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
           f"<value>{form_type}</value></field>"]
    for var, value in fields.items():
        out.append(f"<field var='{var}'><value>{esc(value)}</value></field>")
    out.append("</x>")
    return "".join(out)


def expect_result(what, answer):
    if answer.get("type") != "result":
        raise SystemExit(f"seed: {what} failed: {ET.tostring(answer).decode()}")


def create_room(sess, room, owner, members):
    occupant = f"{room}/{owner}"
    sess.send(f"<presence xmlns='{NS_CLIENT}' to='{esc(occupant)}'><x xmlns='{NS_MUC}'>"
              f"<history maxchars='0'/></x></presence>")
    self_presence = sess.recv_until(lambda e: e.tag == tag(NS_CLIENT, "presence") and e.get("from") == occupant)
    if self_presence.get("type") == "error":
        raise SystemExit(f"seed: joining {occupant} failed: {ET.tostring(self_presence).decode()}")
    # A new room is locked (status 201) until configured; configuring an existing one does no harm.
    expect_result("room configuration", sess.iq(
        f"<iq type='set' to='{esc(room)}'><query xmlns='{NS_MUC}#owner'>"
        + form(f"{NS_MUC}#roomconfig", {"muc#roomconfig_roomname": "Lobby",
                                        "muc#roomconfig_roomdesc": "The demo accounts' room",
                                        "muc#roomconfig_persistentroom": "1",
                                        "muc#roomconfig_publicroom": "1"})
        + "</query></iq>"))
    for m in members:  # one item per request: Prosody applies only the first item of a muc#admin set
        expect_result(f"membership of {m}", sess.iq(
            f"<iq type='set' to='{esc(room)}'><query xmlns='{NS_MUC}#admin'>"
            f"<item affiliation='member' jid='{esc(m)}'/></query></iq>"))
    sess.send(f"<presence xmlns='{NS_CLIENT}' to='{esc(occupant)}' type='unavailable'/>")


def bookmark(sess, room, nick):
    options = {"pubsub#persist_items": "true", "pubsub#max_items": "max",
               "pubsub#send_last_published_item": "never", "pubsub#access_model": "whitelist"}
    publish = ("<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
               "<publish node='urn:xmpp:bookmarks:1'>"
               f"<item id='{esc(room)}'><conference xmlns='urn:xmpp:bookmarks:1' name='Lobby' autojoin='true'>"
               f"<nick>{esc(nick)}</nick></conference></item></publish><publish-options>{{}}</publish-options>"
               "</pubsub></iq>")
    while True:
        answer = sess.iq(publish.format(form("http://jabber.org/protocol/pubsub#publish-options", options)))
        # ejabberd 23.01 refuses publish options it does not know ("Unknown field 'pubsub#max_items'", then
        # 'pubsub#send_last_published_item'); 24.12 and Prosody know them all. Drop the one named and retry.
        unknown = [f for f in options if f"Unknown field '{f}'" in ET.tostring(answer).decode()]
        if answer.get("type") != "error" or not unknown:
            break
        del options[unknown[0]]
    expect_result(f"bookmark of {nick}", answer)


def main():
    ws_url, domain, room, accounts = sys.argv[1:5]
    users = [a.split(":", 1) for a in accounts.split()]
    t0 = now_ms()
    (owner, owner_pw), others = users[0], users[1:]
    sess = Session(ws_url, domain).login(owner, owner_pw, "seed")
    create_room(sess, room, owner, [f"{u}@{domain}" for u, _ in others])
    bookmark(sess, room, owner)
    sess.close(wait=False)
    for user, pw in others:
        sess = Session(ws_url, domain).login(user, pw, "seed")
        bookmark(sess, room, user)
        sess.close(wait=False)
    print(f"{room}: persistent, {owner} owner, {', '.join(u for u, _ in others)} members; "
          f"bookmarked with autojoin by all ({now_ms() - t0} ms)")


if __name__ == "__main__":
    main()
