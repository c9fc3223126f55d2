#!/usr/bin/python3
"""Smoke check of a running scripts/prosody.sh or scripts/ejabberd.sh server (stdlib only).

    scripts/servers/check.py prosody|ejabberd

Reads the server's `env` output, then checks, printing one line per check and exiting non-zero on failure:
  * XEP-0156 host-meta (XML) and host-meta.json are served with Access-Control-Allow-Origin
  * the WebSocket upgrade answers 101 with subprotocol "xmpp" (RFC 7395)
  * the stream features over WebSocket offer the expected SASL mechanisms
  * alice logs in over WebSocket with SCRAM-SHA-256 (server signature verified), binds, and her roster
    holds bob with subscription "both"; the stream is closed with <close/> and the server's <close/>
  * plain-TCP c2s offers SCRAM without TLS (for scripted peers)
"""
import base64, hashlib, hmac, json, os, re, secrets, shlex, socket, struct, subprocess, sys, time
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED_MECHS = {
    "prosody": {"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"},
    "ejabberd": {"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512"},
}
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f" — {detail}" if detail else ""))
    if not ok:
        failures.append(name)


def server_env(name):
    out = subprocess.run([os.path.join(HERE, "..", f"{name}.sh"), "env"], check=True,
                         capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            env[k] = shlex.split(v)[0] if v else ""
    return env


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


class WebSocket:
    """Just enough RFC 6455 for text frames (client side, masked)."""

    def __init__(self, url, origin="http://127.0.0.1:8080"):
        m = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        host, port, path = m.group(1), int(m.group(2)), m.group(3)
        self.sock = socket.create_connection((host, port), timeout=5)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           f"Sec-WebSocket-Protocol: xmpp\r\nOrigin: {origin}\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                  .digest()).decode()
        self.accept_ok = self.headers.get("sec-websocket-accept") == accept

    def send(self, text):
        data = text.encode()
        mask = secrets.token_bytes(4)
        n = len(data)
        hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
        self.sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk

    def recv(self):
        while True:
            self._need(2)
            op, ln = self.buf[0] & 0x0F, self.buf[1] & 0x7F
            off = 2
            if ln == 126:
                self._need(4); ln = struct.unpack(">H", self.buf[2:4])[0]; off = 4
            elif ln == 127:
                self._need(10); ln = struct.unpack(">Q", self.buf[2:10])[0]; off = 10
            self._need(off + ln)
            payload, self.buf = self.buf[off:off + ln], self.buf[off + ln:]
            if op == 0x9:  # ping -> pong
                mask = secrets.token_bytes(4)
                self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask
                                  + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
                continue
            if op == 0x8:
                raise ConnectionError("server closed the websocket")
            return payload.decode()

    def recv_until(self, pred, limit=20):
        for _ in range(limit):
            text = self.recv()
            el = ET.fromstring(text)
            if el.tag.endswith("}r") and "urn:xmpp:sm" in el.tag:
                continue
            if pred(el):
                return el
        raise AssertionError("expected element not received")


def hi(hname, password, salt, it):
    return hashlib.pbkdf2_hmac(hname, password.encode(), salt, it)


def ws_checks(env, name, domain, user, password):
    ws = WebSocket(env[f"NATTER_{name.upper()}_WS"])
    check("websocket upgrade", ws.status == 101 and ws.headers.get("sec-websocket-protocol") == "xmpp"
          and ws.accept_ok, f"HTTP {ws.status}, Sec-WebSocket-Protocol: {ws.headers.get('sec-websocket-protocol')}")
    if ws.status != 101:
        return
    opener = f"<open xmlns='{NS_FRAMING}' to='{domain}' version='1.0'/>"
    ws.send(opener)
    ws.recv_until(lambda e: e.tag == f"{{{NS_FRAMING}}}open")
    feats = ws.recv_until(lambda e: e.tag == "{http://etherx.jabber.org/streams}features")
    mechs = {m.text for m in feats.iter(f"{{{NS_SASL}}}mechanism")}
    check("websocket SASL mechanisms", EXPECTED_MECHS[name] <= mechs, ", ".join(sorted(mechs)))

    # SCRAM-SHA-256 login (RFC 5802 / 7677)
    t0 = time.monotonic()
    cnonce = base64.b64encode(secrets.token_bytes(18)).decode()
    bare = f"n={user},r={cnonce}"
    ws.send(f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-256'>"
            f"{base64.b64encode(('n,,' + bare).encode()).decode()}</auth>")
    ch = ws.recv_until(lambda e: e.tag in (f"{{{NS_SASL}}}challenge", f"{{{NS_SASL}}}failure"))
    if not ch.tag.endswith("challenge"):
        check("SCRAM-SHA-256 login", False, ET.tostring(ch).decode())
        return
    first = base64.b64decode(ch.text).decode()
    attrs = dict(kv.split("=", 1) for kv in first.split(","))
    salted = hi("sha256", password, base64.b64decode(attrs["s"]), int(attrs["i"]))
    final_wo_proof = f"c=biws,r={attrs['r']}"
    auth_msg = f"{bare},{first},{final_wo_proof}".encode()
    ckey = hmac.new(salted, b"Client Key", "sha256").digest()
    sig = hmac.new(hashlib.sha256(ckey).digest(), auth_msg, "sha256").digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(ckey, sig))).decode()
    ws.send(f"<response xmlns='{NS_SASL}'>"
            f"{base64.b64encode((final_wo_proof + ',p=' + proof).encode()).decode()}</response>")
    res = ws.recv_until(lambda e: e.tag in (f"{{{NS_SASL}}}success", f"{{{NS_SASL}}}failure"))
    ok = res.tag.endswith("success")
    if ok:
        v = dict(kv.split("=", 1) for kv in base64.b64decode(res.text or "").decode().split(","))["v"]
        skey = hmac.new(salted, b"Server Key", "sha256").digest()
        ok = base64.b64decode(v) == hmac.new(skey, auth_msg, "sha256").digest()
    check("SCRAM-SHA-256 login", ok, f"{user}@{domain}, {int(attrs['i'])} iterations, "
          f"{(time.monotonic() - t0) * 1000:.0f} ms")
    if not ok:
        return

    ws.send(opener)
    ws.recv_until(lambda e: e.tag == "{http://etherx.jabber.org/streams}features")
    ws.send("<iq xmlns='jabber:client' type='set' id='b1'>"
            "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>check</resource></bind></iq>")
    bound = ws.recv_until(lambda e: e.get("id") == "b1")
    jid = bound.find(".//{urn:ietf:params:xml:ns:xmpp-bind}jid")
    check("resource bind", bound.get("type") == "result", jid.text if jid is not None else "")
    ws.send("<iq xmlns='jabber:client' type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
    roster = ws.recv_until(lambda e: e.get("id") == "r1")
    items = {i.get("jid"): (i.get("subscription"), i.get("name"))
             for i in roster.iter("{jabber:iq:roster}item")}
    want_peer = "bob" if user == "alice" else "alice"
    item = items.get(f"{want_peer}@{domain}")
    check("seeded roster", item is not None and item[0] == "both", f"{user}: {items}")
    if user == "alice":
        upload_check(ws, env[f"NATTER_{name.upper()}_UPLOAD"])
    ws.send(f"<close xmlns='{NS_FRAMING}'/>")
    closed = ws.recv_until(lambda e: e.tag == f"{{{NS_FRAMING}}}close")
    check("stream close", closed is not None)
    ws.sock.close()


def upload_check(ws, service):
    """XEP-0363: request a slot, PUT a small file with an Origin header, GET it back."""
    body = b"hello from check.py\n"
    ws.send(f"<iq xmlns='jabber:client' type='get' id='u1' to='{service}'>"
            f"<request xmlns='urn:xmpp:http:upload:0' filename='check.txt' size='{len(body)}' "
            f"content-type='text/plain'/></iq>")
    slot = ws.recv_until(lambda e: e.get("id") == "u1")
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


def tcp_checks(env, name, domain):
    host, port = env[f"NATTER_{name.upper()}_TCP"].rsplit(":", 1)
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
    check("tcp c2s SASL mechanisms (no TLS)", any(m.startswith("SCRAM-") for m in mechs),
          ", ".join(sorted(mechs)))


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "prosody"
    env = server_env(name)
    domain = env[f"NATTER_{name.upper()}_DOMAIN"]
    accounts = dict(a.split(":", 1) for a in env["NATTER_DEMO_ACCOUNTS"].split())
    print(f"== {name}: {env[f'NATTER_{name.upper()}_WS']}")
    host_meta(env[f"NATTER_{name.upper()}_HOST_META"])
    ws_checks(env, name, domain, "alice", accounts["alice"])
    ws_checks(env, name, domain, "bob", accounts["bob"])
    tcp_checks(env, name, domain)
    if failures:
        print(f"{len(failures)} check(s) failed: {', '.join(failures)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
