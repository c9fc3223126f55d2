#!/usr/bin/python3
"""Smoke check of a running server from scripts/prosody.sh, prosody13.sh, ejabberd.sh or ejabberd24.sh (stdlib only).

    scripts/servers/check.py prosody|prosody13|ejabberd|ejabberd24 [--slow]

Reads the server's `env` output, then checks, printing one line per check and exiting non-zero on failure:
  * XEP-0156 host-meta (XML) and host-meta.json are served with Access-Control-Allow-Origin
  * the WebSocket upgrade answers 101 with subprotocol "xmpp" (RFC 7395), and the SASL mechanisms offered
  * alice and bob log in with SCRAM-SHA-256 (server signature verified), bind, find the seeded roster;
    alice gets an XEP-0363 upload slot, PUTs and GETs a file; the stream ends with <close/> both ways
  * after login: XEP-0198 stream management (enable with resume, <r/>/<a/>, resume on a new connection after
    the socket was dropped), XEP-0352 CSI offered, XEP-0280 carbons enabled
  * XEP-0313 MAM on accounts (archiving on by default, a sent message found in the sender's archive) and
    offline storage (the same message delivered when the recipient comes online)
  * PEP and XEP-0402: the seeded bookmark of the demo room, with autojoin; vcard-temp stored and read back
  * MUC: the demo room is persistent, archived and lists bob and carol as members; in a fresh room a message
    comes back with a stanza-id and is found in the room's archive; XEP-0410 self-ping is answered; XEP-0421
    occupant ids where the version has them
  * modern generation only: SASL2 (XEP-0388) with Bind2 (XEP-0386), inline SM and FAST (XEP-0484) offered; a
    SASL2 SCRAM login that binds, enables carbons and SM and gets a FAST token in one exchange; a FAST login
    with that token that resumes the dropped session inline; a forged token refused; on Prosody 13's
    shortfast.localhost a token kept when fresh and rotated after 2 s (with --slow: refused after 10 s)
  * plain-TCP c2s offers SCRAM without TLS (for scripted peers)
Accounts other than the demo ones are fresh (`<script> adduser`), so the demo accounts' archives stay empty.
"""
import base64, json, os, re, secrets, shlex, socket, subprocess, sys, time
import urllib.request
import xml.etree.ElementTree as ET

from xmpp_client import (NS_BIND2, NS_CLIENT, NS_FAST, NS_FRAMING, NS_SASL, NS_SASL2, NS_SM, Session, b64,
                         esc, fast_initiator, fast_responder_ok, sasl2_authenticate, sasl2_scram, tag)

HERE = os.path.dirname(os.path.abspath(__file__))
# What each server must offer (checked, not assumed: scripts/servers/README.md has the table).
SERVERS = {
    "prosody": dict(prefix="NATTER_PROSODY", mechs={"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"},
                    modern=False, occupant_id=True),
    "prosody13": dict(prefix="NATTER_PROSODY13", mechs={"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"},
                      modern=True, occupant_id=True),
    "ejabberd": dict(prefix="NATTER_EJABBERD", mechs={"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512"},
                     modern=False, occupant_id=False),
    "ejabberd24": dict(prefix="NATTER_EJABBERD24",
                       mechs={"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512"},
                       modern=True, occupant_id=True),
}
NS_MAM = "urn:xmpp:mam:2"
NS_MUC = "http://jabber.org/protocol/muc"
NS_DISCO = "http://jabber.org/protocol/disco#info"
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f" — {detail}" if detail else ""))
    if not ok:
        failures.append(name)
    return ok


def server_env(name):
    out = subprocess.run([os.path.join(HERE, "..", f"{name}.sh"), "env"], check=True,
                         capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            env[k] = shlex.split(v)[0] if v else ""
    return env


def fresh_account(name, prefix):
    user = f"{prefix}{secrets.token_hex(4)}"
    password = f"pw-{secrets.token_hex(6)}"
    subprocess.run([os.path.join(HERE, "..", f"{name}.sh"), "adduser", user, password], check=True,
                   capture_output=True, text=True)
    return user, password


def features_of(answer):
    return {f.get("var") for f in answer.iter(f"{{{NS_DISCO}}}feature")}


def disco(sess, to):
    return sess.iq(f"<iq type='get' to='{esc(to)}'><query xmlns='{NS_DISCO}'/></iq>")


def host_meta(url):
    for suffix, kind in (("", "xml"), (".json", "json")):
        req = urllib.request.Request(url + suffix, headers={"Origin": "http://127.0.0.1:8080"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=5) as r:
                body = r.read().decode()
                acao = r.headers.get("Access-Control-Allow-Origin")
                ctype = r.headers.get("Content-Type")
                status = r.status
        except Exception as e:  # noqa: BLE001
            check(f"host-meta {kind}", False, repr(e))
            continue
        if kind == "json":
            links = json.loads(body).get("links", [])
        else:
            root = ET.fromstring(body)
            links = [l.attrib for l in root.iter("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")]
        ws = [l.get("href") for l in links if l.get("rel") == "urn:xmpp:alt-connections:websocket"]
        check(f"host-meta {kind}", status == 200 and acao is not None and bool(ws),
              f"{status} {ctype}, Access-Control-Allow-Origin: {acao}, websocket: {ws}")


def login_checks(env, spec, domain, user, password):
    """The first login of a demo account, step by step: upgrade, mechanisms, SCRAM-SHA-256, bind, roster."""
    sess = Session(env[f"{spec['prefix']}_WS"], domain)
    ws = sess.ws
    check("websocket upgrade", ws.status == 101 and ws.headers.get("sec-websocket-protocol") == "xmpp"
          and ws.accept_ok, f"HTTP {ws.status}, Sec-WebSocket-Protocol: {ws.headers.get('sec-websocket-protocol')}")
    if ws.status != 101:
        return
    sess.open()
    mechs = set(sess.mechanisms())
    check("websocket SASL mechanisms", spec["mechs"] <= mechs, ", ".join(sorted(mechs)))
    t0 = time.monotonic()
    ok, detail = sess.auth(user, password, "SCRAM-SHA-256")
    check("SCRAM-SHA-256 login", ok, f"{user}@{domain}, {detail}, {(time.monotonic() - t0) * 1000:.0f} ms")
    if not ok:
        return
    sess.open()
    bound = sess.bind("check")
    check("resource bind", bound.get("type") == "result", sess.jid or "")
    roster = sess.iq("<iq type='get'><query xmlns='jabber:iq:roster'/></iq>")
    items = {i.get("jid"): (i.get("subscription"), i.get("name")) for i in roster.iter("{jabber:iq:roster}item")}
    want_peer = "bob" if user == "alice" else "alice"
    item = items.get(f"{want_peer}@{domain}")
    check("seeded roster", item is not None and item[0] == "both", f"{user}: {items}")
    if user == "alice":
        upload_check(sess, env[f"{spec['prefix']}_UPLOAD"])
        bookmark_check(sess, env[f"{spec['prefix']}_ROOM"])
    check("stream close", sess.close())


def upload_check(sess, service):
    """XEP-0363: request a slot, PUT a small file with an Origin header, GET it back."""
    body = b"hello from check.py\n"
    slot = sess.iq(f"<iq type='get' to='{service}'><request xmlns='urn:xmpp:http:upload:0' filename='check.txt' "
                   f"size='{len(body)}' content-type='text/plain'/></iq>")
    put = slot.find(".//{urn:xmpp:http:upload:0}put")
    get = slot.find(".//{urn:xmpp:http:upload:0}get")
    if slot.get("type") != "result" or put is None or get is None:
        check("http upload", False, ET.tostring(slot).decode())
        return
    headers = {h.get("name"): (h.text or "") for h in put.findall("{urn:xmpp:http:upload:0}header")}
    headers.update({"Content-Type": "text/plain", "Origin": "http://127.0.0.1:8080"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(put.get("url"), data=body, method="PUT", headers=headers),
                         timeout=5) as r:
            put_status, acao = r.status, r.headers.get("Access-Control-Allow-Origin")
        with opener.open(get.get("url"), timeout=5) as r:
            got = r.read()
    except Exception as e:  # noqa: BLE001
        check("http upload", False, f"{put.get('url')}: {e!r}")
        return
    check("http upload", put_status in (200, 201) and got == body and acao is not None,
          f"PUT {put_status} (Access-Control-Allow-Origin: {acao}) {put.get('url')}")


def bookmark_check(sess, room):
    """PEP + XEP-0402: the bookmark seed.py published, read back from alice's own PEP node."""
    items = sess.iq("<iq type='get'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
                    "<items node='urn:xmpp:bookmarks:1'/></pubsub></iq>")
    conf = {i.get("id"): i.find("{urn:xmpp:bookmarks:1}conference")
            for i in items.iter("{http://jabber.org/protocol/pubsub}item")}
    c = conf.get(room)
    check("PEP bookmarks (XEP-0402): demo room, autojoin", c is not None and c.get("autojoin") in ("true", "1"),
          f"{room}: {ET.tostring(c).decode() if c is not None else items.get('type')}")


def session_checks(env, spec, name, domain):
    """SM with resumption, CSI, carbons, MAM, offline storage, vcard — with two fresh accounts."""
    ws_url = env[f"{spec['prefix']}_WS"]
    (u1, p1), (u2, p2) = fresh_account(name, "chka"), fresh_account(name, "chkb")
    sess = Session(ws_url, domain)
    sess.open()
    ok, _ = sess.auth(u1, p1, "SCRAM-SHA-256")
    feats = sess.open()
    sess.bind("check")
    offered = {"sm": feats.find(f"{{{NS_SM}}}sm") is not None,
               "csi": feats.find("{urn:xmpp:csi:0}csi") is not None}
    check("XEP-0352 CSI offered", offered["csi"])
    # XEP-0198: enable with resume, count, answer <r/>, ask for an ack, drop the socket, resume elsewhere.
    sess.send(f"<enable xmlns='{NS_SM}' resume='true'/>")
    enabled = sess.recv_until(lambda e: e.tag in (tag(NS_SM, "enabled"), tag(NS_SM, "failed")))
    sess.sm_on = enabled.tag == tag(NS_SM, "enabled")
    check("XEP-0198 enable with resume", offered["sm"] and sess.sm_on and enabled.get("resume") in ("true", "1"),
          f"id={enabled.get('id')}, max={enabled.get('max')}")
    carbons = sess.iq("<iq type='set'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
    check("XEP-0280 carbons enabled", carbons.get("type") == "result")
    sess.send("<r xmlns='urn:xmpp:sm:3'/>")
    a = sess.recv_until(lambda e: e.tag == tag(NS_SM, "a"))
    check("XEP-0198 ack", a.get("h") == "1", f"h={a.get('h')} after 1 stanza sent")
    h_before_drop = sess.h
    sess.ws.close()  # no <close/>: the server keeps the session for resumption
    again = Session(ws_url, domain)
    again.open()
    again.auth(u1, p1, "SCRAM-SHA-256")
    again.open()
    again.send(f"<resume xmlns='{NS_SM}' previd='{esc(enabled.get('id', ''))}' h='{h_before_drop}'/>")
    resumed = again.recv_until(lambda e: e.tag in (tag(NS_SM, "resumed"), tag(NS_SM, "failed")))
    again.sm_on, again.h = True, h_before_drop
    ping = again.iq(f"<iq type='get' to='{domain}'><ping xmlns='urn:xmpp:ping'/></iq>") \
        if resumed.tag == tag(NS_SM, "resumed") else resumed
    check("XEP-0198 resume after a dropped socket", resumed.tag == tag(NS_SM, "resumed") and ping.get("type") == "result",
          f"<{resumed.tag.split('}')[1]} h='{resumed.get('h')}'/>")

    # MAM on by default for accounts, offline storage; u2 is offline.
    own = disco(again, f"{u1}@{domain}")
    prefs = again.iq(f"<iq type='get'><prefs xmlns='{NS_MAM}'/></iq>")
    p = prefs.find(f"{{{NS_MAM}}}prefs")
    check("XEP-0313 MAM for accounts, archiving by default",
          NS_MAM in features_of(own) and p is not None and p.get("default") == "always",
          f"prefs default={p.get('default') if p is not None else prefs.get('type')}")
    body = f"offline and archived {secrets.token_hex(4)}"
    again.send(f"<message xmlns='{NS_CLIENT}' type='chat' to='{u2}@{domain}' id='m1'><body>{body}</body></message>")
    found = mam_query(again, None, {"with": f"{u2}@{domain}"})
    check("XEP-0313 message found in the sender's archive", body in found, f"{len(found)} result(s)")
    vcard = again.iq("<iq type='set'><vCard xmlns='vcard-temp'><FN>Check Py</FN></vCard></iq>")
    got = again.iq("<iq type='get'><vCard xmlns='vcard-temp'/></iq>")
    fn = got.find(".//{vcard-temp}FN")
    check("vcard-temp stored and read back", vcard.get("type") == "result" and fn is not None and fn.text == "Check Py")
    again.close()

    peer = Session(ws_url, domain).login(u2, p2, "check")
    peer.send(f"<presence xmlns='{NS_CLIENT}'/>")
    msg = peer.recv_until(lambda e: e.tag == tag(NS_CLIENT, "message") and e.findtext(f"{{{NS_CLIENT}}}body") == body)
    delay = msg.find("{urn:xmpp:delay}delay")
    check("offline storage: delivered at the next login", delay is not None, f"delay stamp {delay.get('stamp') if delay is not None else None}")
    peer.close()


def mam_query(sess, to, fields):
    """Runs a MAM query, returns the bodies found (collects <result/> messages until the iq answer)."""
    qid = f"q{secrets.token_hex(3)}"
    form = "".join(f"<field var='{k}'><value>{esc(v)}</value></field>" for k, v in fields.items())
    sess.n += 1
    iq_id = f"mam{sess.n}"
    to_attr = f" to='{esc(to)}'" if to else ""
    sess.send(f"<iq xmlns='{NS_CLIENT}' type='set' id='{iq_id}'{to_attr}><query xmlns='{NS_MAM}' queryid='{qid}'>"
              f"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>{NS_MAM}</value>"
              f"</field>{form}</x><set xmlns='http://jabber.org/protocol/rsm'><max>50</max></set></query></iq>")
    bodies = []
    while True:
        el = sess.recv()
        if el.tag == tag(NS_CLIENT, "iq") and el.get("id") == iq_id:
            return bodies if el.get("type") == "result" else []
        r = el.find(f"{{{NS_MAM}}}result")
        if el.tag == tag(NS_CLIENT, "message") and r is not None and r.get("queryid") == qid:
            b = r.find(f".//{{{NS_CLIENT}}}body")
            if b is not None:
                bodies.append(b.text)


def muc_checks(env, spec, name, domain):
    ws_url, room = env[f"{spec['prefix']}_WS"], env[f"{spec['prefix']}_ROOM"]
    muc = env[f"{spec['prefix']}_MUC"]
    sess = Session(ws_url, domain).login("alice", env["NATTER_DEMO_ALICE_PASSWORD"], "check")
    feats = features_of(disco(sess, room))
    check("MUC demo room: persistent, archived (MAM)", {"muc_persistent", NS_MAM} <= feats,
          ", ".join(sorted(f for f in feats if f.startswith(("muc_", "urn:xmpp")))))
    members = sess.iq(f"<iq type='get' to='{room}'><query xmlns='{NS_MUC}#admin'>"
                      "<item affiliation='member'/></query></iq>")
    jids = {i.get("jid") for i in members.iter(f"{{{NS_MUC}#admin}}item")}
    check("MUC demo room: bob and carol are members", {f"bob@{domain}", f"carol@{domain}"} <= jids,
          ", ".join(sorted(j for j in jids if j)))
    sess.close()

    # A fresh room, so the demo room's archive stays empty.
    user, pw = fresh_account(name, "chkm")
    sess = Session(ws_url, domain).login(user, pw, "check")
    fresh = f"check-{secrets.token_hex(4)}@{muc}"
    occupant = f"{fresh}/{user}"
    sess.send(f"<presence xmlns='{NS_CLIENT}' to='{occupant}'><x xmlns='{NS_MUC}'><history maxchars='0'/></x></presence>")
    me = sess.recv_until(lambda e: e.tag == tag(NS_CLIENT, "presence") and e.get("from") == occupant)
    codes = {s.get("code") for s in me.iter(f"{{{NS_MUC}#user}}status")}
    sess.iq(f"<iq type='set' to='{fresh}'><query xmlns='{NS_MUC}#owner'><x xmlns='jabber:x:data' type='submit'/>"
            "</query></iq>")  # accept the default configuration (unlocks a new room)
    check("MUC join (self-presence, status 110)", "110" in codes, f"status codes {sorted(c for c in codes if c)}")
    occ_id = me.find("{urn:xmpp:occupant-id:0}occupant-id")
    room_feats = features_of(disco(sess, fresh))
    has_occ = occ_id is not None and "urn:xmpp:occupant-id:0" in room_feats
    if spec["occupant_id"]:
        check("XEP-0421 occupant id", has_occ, occ_id.get("id") if occ_id is not None else "none")
    else:
        print(f"info XEP-0421 occupant id: {'offered' if has_occ else 'not offered by this version'}")
    body = f"room message {secrets.token_hex(4)}"
    sess.send(f"<message xmlns='{NS_CLIENT}' type='groupchat' to='{fresh}' id='g1'><body>{body}</body></message>")
    echo = sess.recv_until(lambda e: e.tag == tag(NS_CLIENT, "message") and e.findtext(f"{{{NS_CLIENT}}}body") == body)
    sid = echo.find("{urn:xmpp:sid:0}stanza-id")
    check("MUC message reflected with a stanza-id by the room", sid is not None and sid.get("by") == fresh,
          f"by={sid.get('by') if sid is not None else None}")
    found = mam_query(sess, fresh, {})
    check("MUC MAM: the message is in the room's archive", body in found, f"{len(found)} result(s)")
    ping = sess.iq(f"<iq type='get' to='{occupant}'><ping xmlns='urn:xmpp:ping'/></iq>")
    check("XEP-0410 self-ping answered while joined", ping.get("type") == "result",
          "optimised by the room" if "http://jabber.org/protocol/muc#self-ping-optimization" in room_feats
          else "forwarded to the client")
    sess.send(f"<presence xmlns='{NS_CLIENT}' to='{occupant}' type='unavailable'/>")
    sess.close()


def modern_checks(env, spec, domain):
    """SASL2 + Bind2 + inline SM + FAST, as offered (raw features) and as they work (a full exchange)."""
    ws_url = env[f"{spec['prefix']}_WS"]
    user, password = "alice", env["NATTER_DEMO_ALICE_PASSWORD"]
    plain = Session(ws_url, domain)
    no_from = plain.open()
    plain.close()
    sess = Session(ws_url, domain)
    feats = sess.open(from_jid=f"{user}@{domain}")
    auth = feats.find(f"{{{NS_SASL2}}}authentication")
    mechs = [m.text for m in auth.findall(f"{{{NS_SASL2}}}mechanism")] if auth is not None else []
    inline = auth.find(f"{{{NS_SASL2}}}inline") if auth is not None else None
    bind2 = inline.find(f"{{{NS_BIND2}}}bind") if inline is not None else None
    fast = inline.find(f"{{{NS_FAST}}}fast") if inline is not None else None
    fast_mechs = [m.text for m in fast.findall(f"{{{NS_FAST}}}mechanism")] if fast is not None else []
    sm_inline = inline is not None and inline.find(f"{{{NS_SM}}}sm") is not None
    bind_feats = sorted(f.get("var") for f in bind2.iter(f"{{{NS_BIND2}}}feature")) if bind2 is not None else []
    check("SASL2 (XEP-0388) offered", "SCRAM-SHA-256" in mechs, ", ".join(mechs))
    check("Bind2 (XEP-0386) inline", bind2 is not None, "inline features: " + ", ".join(bind_feats))
    check("XEP-0198 inline in SASL2", sm_inline)
    check("FAST (XEP-0484) offered with from=user@domain", "HT-SHA-256-NONE" in fast_mechs, ", ".join(fast_mechs))
    no_from_fast = no_from.find(f".//{{{NS_FAST}}}fast") is not None
    print(f"info FAST without from= on the stream header: {'offered' if no_from_fast else 'not offered'}")

    # One exchange: SCRAM, bind with carbons + SM enabled, a FAST token requested.
    inline_req = (f"<bind xmlns='{NS_BIND2}'><tag>check</tag><enable xmlns='urn:xmpp:carbons:2'/>"
                  f"<enable xmlns='{NS_SM}' resume='true'/></bind>"
                  f"<request-token xmlns='{NS_FAST}' mechanism='HT-SHA-256-NONE'/>")
    t0 = time.monotonic()
    ans, scram = sasl2_scram(sess, user, password, "SCRAM-SHA-256", inline_req)
    ok = ans.tag == tag(NS_SASL2, "success")
    add = ans.findtext(f"{{{NS_SASL2}}}additional-data") if ok else None
    verified = ok and scram.verify(base64.b64decode(add or "").decode())
    authz = ans.findtext(f"{{{NS_SASL2}}}authorization-identifier") if ok else None
    bound = ans.find(f"{{{NS_BIND2}}}bound") if ok else None
    enabled = ans.find(f".//{{{NS_SM}}}enabled") if ok else None
    token = ans.find(f"{{{NS_FAST}}}token") if ok else None
    check("SASL2 SCRAM-SHA-256 login with inline Bind2", verified and bound is not None and bool(authz),
          f"{authz}, {(time.monotonic() - t0) * 1000:.0f} ms" if ok else ET.tostring(ans).decode())
    check("SASL2 inline SM enabled with resume", enabled is not None and enabled.get("resume") in ("true", "1"),
          f"id={enabled.get('id') if enabled is not None else None}")
    check("FAST token issued", token is not None and bool(token.get("token")),
          f"expiry {token.get('expiry')}" if token is not None else "")
    if token is None or enabled is None:
        sess.close()
        return
    sess.sm_on = True
    sess.iq(f"<iq type='get' to='{domain}'><ping xmlns='urn:xmpp:ping'/></iq>")
    h = sess.h
    sess.ws.close()  # dropped, not closed: resumable

    # FAST login with the token that resumes the dropped session inline.
    again = Session(ws_url, domain)
    again.open(from_jid=f"{user}@{domain}")
    t0 = time.monotonic()
    ans = sasl2_authenticate(again, "HT-SHA-256-NONE", fast_initiator(user, token.get("token")),
                             f"<fast xmlns='{NS_FAST}'/><resume xmlns='{NS_SM}' previd='{esc(enabled.get('id'))}' h='{h}'/>")
    ok = ans.tag == tag(NS_SASL2, "success")
    resumed = ans.find(f".//{{{NS_SM}}}resumed") if ok else None
    check("FAST login (HT-SHA-256-NONE), server proof verified",
          ok and fast_responder_ok(token.get("token"), ans.findtext(f"{{{NS_SASL2}}}additional-data")),
          f"{(time.monotonic() - t0) * 1000:.0f} ms" if ok else ET.tostring(ans).decode())
    check("SASL2 inline SM resume", resumed is not None,
          f"h={resumed.get('h')}" if resumed is not None else "no <resumed/>")
    if ok:
        again.close()

    if env.get(f"{spec['prefix']}_SHORT_FAST_DOMAIN"):
        short_fast_checks(ws_url, env[f"{spec['prefix']}_SHORT_FAST_DOMAIN"], user, password)

    forged = Session(ws_url, domain)
    forged.open(from_jid=f"{user}@{domain}")
    ans = sasl2_authenticate(forged, "HT-SHA-256-NONE", fast_initiator(user, "secret-token:forged"),
                             f"<fast xmlns='{NS_FAST}'/>")
    cond = [c.tag.split("}")[1] for c in ans if c.tag.startswith(f"{{{NS_SASL}}}")]
    check("FAST: a forged token is refused", ans.tag == tag(NS_SASL2, "failure"), ", ".join(cond))
    forged.ws.close()


def fast_login(ws_url, domain, user, token):
    """One FAST login; returns (the SASL2 answer's local name, its children's names, a rotated token or None)."""
    sess = Session(ws_url, domain)
    sess.open(from_jid=f"{user}@{domain}")
    ans = sasl2_authenticate(sess, "HT-SHA-256-NONE", fast_initiator(user, token), f"<fast xmlns='{NS_FAST}'/>")
    new = ans.find(f"{{{NS_FAST}}}token")
    sess.ws.close()
    return ans.tag.split("}")[1], [c.tag.split("}")[1] for c in ans], new.get("token") if new is not None else None


def short_fast_checks(ws_url, domain, user, password):
    """The host whose FAST tokens rotate after 2 s and expire after 10 s (Prosody 13's shortfast.localhost)."""
    sess = Session(ws_url, domain)
    sess.open(from_jid=f"{user}@{domain}")
    ans, _ = sasl2_scram(sess, user, password, "SCRAM-SHA-256",
                         f"<bind xmlns='{NS_BIND2}'/><request-token xmlns='{NS_FAST}' mechanism='HT-SHA-256-NONE'/>")
    token = ans.find(f"{{{NS_FAST}}}token")
    sess.close(wait=False)
    if not check(f"{domain}: FAST token issued", token is not None):
        return
    token = token.get("token")
    first = fast_login(ws_url, domain, user, token)
    time.sleep(2.5)
    second = fast_login(ws_url, domain, user, token)
    check(f"{domain}: FAST token kept when fresh, rotated when older than 2 s",
          first[0] == "success" and first[2] is None and second[0] == "success" and second[2] is not None,
          f"at once: {first[0]} {first[1]}; after 2.5 s: {second[0]} {second[1]}")
    if "--slow" in sys.argv and second[2]:
        time.sleep(10.5)
        third = fast_login(ws_url, domain, user, second[2])
        check(f"{domain}: FAST token refused once expired (10 s)", third[0] == "failure", f"{third[0]} {third[1]}")


def tcp_checks(env, spec, domain):
    host, port = env[f"{spec['prefix']}_TCP"].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(f"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
              f"xmlns:stream='http://etherx.jabber.org/streams' to='{domain}' version='1.0'>".encode())
    data = b""
    while b"</stream:features>" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.sendall(b"</stream:stream>")
    s.close()
    mechs = set(re.findall(r"<mechanism>([^<]+)</mechanism>", data.decode()))
    check("tcp c2s SASL mechanisms (no TLS)", any(m.startswith("SCRAM-") for m in mechs), ", ".join(sorted(mechs)))


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "prosody"
    spec = SERVERS[name]
    env = server_env(name)
    domain = env[f"{spec['prefix']}_DOMAIN"]
    accounts = dict(a.split(":", 1) for a in env["NATTER_DEMO_ACCOUNTS"].split())
    print(f"== {name}: {env[spec['prefix'] + '_WS']}")
    t0 = time.monotonic()
    host_meta(env[f"{spec['prefix']}_HOST_META"])
    for user in ("alice", "bob"):
        login_checks(env, spec, domain, user, accounts[user])
    for part in (session_checks, muc_checks):
        try:
            part(env, spec, name, domain)
        except (AssertionError, ConnectionError, OSError, ET.ParseError) as e:
            check(part.__name__, False, repr(e))
    if spec["modern"]:
        try:
            modern_checks(env, spec, domain)
        except (AssertionError, ConnectionError, OSError, ET.ParseError) as e:
            check("modern_checks", False, repr(e))
    tcp_checks(env, spec, domain)
    print(f"{name}: {len(failures)} check(s) failed" + (f": {', '.join(failures)}" if failures else "")
          + f" ({time.monotonic() - t0:.1f} s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
