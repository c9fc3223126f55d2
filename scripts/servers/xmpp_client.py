"""A minimal, synchronous XMPP client over RFC 7395 WebSocket, for the server scripts (stdlib only).

Used by check.py (the smoke test of a running server) and seed.py (the demo room and bookmarks at start).
It speaks just enough: the WebSocket handshake and text frames, legacy SASL SCRAM-SHA-1/-256/-512 (server
signature verified) and resource binding, SASL2 (XEP-0388) with SCRAM or a FAST token (XEP-0484), and a
request/response helper that answers pings and XEP-0198 <r/> on the way. It is test tooling, not a client:
no reconnects, no TLS, no parsing beyond xml.etree.
"""
import base64, hashlib, hmac, re, secrets, socket, struct, time
import xml.etree.ElementTree as ET

NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_SASL2 = "urn:xmpp:sasl:2"
NS_BIND2 = "urn:xmpp:bind:0"
NS_FAST = "urn:xmpp:fast:0"
NS_SM = "urn:xmpp:sm:3"
NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
NS_STREAM = "http://etherx.jabber.org/streams"
NS_CLIENT = "jabber:client"
HASHES = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}


def esc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;").replace('"', "&quot;"))


def b64(b):
    return base64.b64encode(b if isinstance(b, bytes) else b.encode()).decode()


def tag(ns, name):
    return f"{{{ns}}}{name}"


class WebSocket:
    """Just enough RFC 6455 for text frames (client side, masked)."""

    def __init__(self, url, origin="http://127.0.0.1:8080", timeout=10):
        m = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        host, port, path = m.group(1), int(m.group(2)), m.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = b64(secrets.token_bytes(16))
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
        accept = b64(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.accept_ok = self.headers.get("sec-websocket-accept") == accept

    def send(self, text):
        data = text.encode()
        mask = secrets.token_bytes(4)
        n = len(data)
        if n < 126:
            hdr = bytes([0x81, 0x80 | n])
        elif n < 65536:
            hdr = bytes([0x81, 0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr = bytes([0x81, 0x80 | 127]) + struct.pack(">Q", n)
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

    def close(self):
        self.sock.close()


class Scram:
    """The client side of one SCRAM exchange (RFC 5802 / 7677), no channel binding."""

    def __init__(self, mech, user, password):
        self.hname = HASHES[mech]
        self.password = password
        self.bare = f"n={user},r={b64(secrets.token_bytes(18))}"

    def first(self):
        return "n,," + self.bare

    def final(self, server_first):
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        self.iterations = int(attrs["i"])
        salted = hashlib.pbkdf2_hmac(self.hname, self.password.encode(), base64.b64decode(attrs["s"]),
                                     self.iterations)
        without_proof = f"c=biws,r={attrs['r']}"
        self.auth_msg = f"{self.bare},{server_first},{without_proof}".encode()
        ckey = hmac.new(salted, b"Client Key", self.hname).digest()
        sig = hmac.new(hashlib.new(self.hname, ckey).digest(), self.auth_msg, self.hname).digest()
        self.server_key = hmac.new(salted, b"Server Key", self.hname).digest()
        return f"{without_proof},p={b64(bytes(a ^ b for a, b in zip(ckey, sig)))}"

    def verify(self, server_final):
        v = dict(kv.split("=", 1) for kv in server_final.split(",")).get("v", "")
        return base64.b64decode(v) == hmac.new(self.server_key, self.auth_msg, self.hname).digest()


class Session:
    """One WebSocket XMPP stream. `login()` does legacy SASL + bind; `sasl2()` does SASL2 (+ inline)."""

    def __init__(self, ws_url, domain):
        self.ws = WebSocket(ws_url)
        self.domain = domain
        self.n = 0
        self.jid = None
        self.h = 0              # XEP-0198 inbound count, once enabled
        self.sm_on = False
        self.features = None

    def send(self, xml):
        self.ws.send(xml)

    def recv(self):
        el = ET.fromstring(self.ws.recv())
        if el.tag == tag(NS_SM, "r"):
            self.send(f"<a xmlns='{NS_SM}' h='{self.h}'/>")
            return self.recv()
        if self.sm_on and el.tag.startswith(f"{{{NS_CLIENT}}}"):
            self.h = (self.h + 1) % 2**32
        # Answer pings (XEP-0199; the room's forwarded XEP-0410 self-ping) so the server is never kept waiting.
        if (el.tag == tag(NS_CLIENT, "iq") and el.get("type") == "get"
                and el.find("{urn:xmpp:ping}ping") is not None):
            self.send(f"<iq xmlns='{NS_CLIENT}' type='result' id='{esc(el.get('id', ''))}'"
                      + (f" to='{esc(el.get('from'))}'" if el.get("from") else "") + "/>")
        return el

    def recv_until(self, pred, limit=200):
        for _ in range(limit):
            el = self.recv()
            if pred(el):
                return el
        raise AssertionError("expected element not received")

    def open(self, from_jid=None):
        f = f" from='{esc(from_jid)}'" if from_jid else ""
        self.send(f"<open xmlns='{NS_FRAMING}' to='{esc(self.domain)}' version='1.0'{f}/>")
        self.recv_until(lambda e: e.tag == tag(NS_FRAMING, "open"))
        self.features = self.recv_until(lambda e: e.tag == tag(NS_STREAM, "features"))
        return self.features

    def mechanisms(self):
        return [m.text for m in self.features.iter(tag(NS_SASL, "mechanism"))]

    def auth(self, user, password, mech):
        """Legacy SASL (RFC 6120) with SCRAM; returns (ok, detail)."""
        s = Scram(mech, user, password)
        self.send(f"<auth xmlns='{NS_SASL}' mechanism='{mech}'>{b64(s.first())}</auth>")
        ch = self.recv_until(lambda e: e.tag in (tag(NS_SASL, "challenge"), tag(NS_SASL, "failure")))
        if ch.tag != tag(NS_SASL, "challenge"):
            return False, ET.tostring(ch).decode()
        self.send(f"<response xmlns='{NS_SASL}'>{b64(s.final(base64.b64decode(ch.text).decode()))}</response>")
        res = self.recv_until(lambda e: e.tag in (tag(NS_SASL, "success"), tag(NS_SASL, "failure")))
        if res.tag != tag(NS_SASL, "success"):
            return False, ET.tostring(res).decode()
        ok = s.verify(base64.b64decode(res.text or "").decode())
        return ok, f"{s.iterations} iterations" + ("" if ok else ", server signature WRONG")

    def bind(self, resource):
        bound = self.iq(f"<iq type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                        f"<resource>{esc(resource)}</resource></bind></iq>")
        j = bound.find(".//{urn:ietf:params:xml:ns:xmpp-bind}jid")
        self.jid = j.text if j is not None else None
        return bound

    def login(self, user, password, resource="script", mech=None):
        """open + the strongest SCRAM offered (or `mech`) + restart + bind; raises on failure."""
        self.open()
        offered = self.mechanisms()
        mech = mech or next(m for m in ("SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1") if m in offered)
        ok, detail = self.auth(user, password, mech)
        if not ok:
            raise AssertionError(f"{user}@{self.domain}: {mech} login failed: {detail}")
        self.open()
        if self.bind(resource).get("type") != "result":
            raise AssertionError(f"{user}@{self.domain}: bind failed")
        return self

    def iq(self, xml, timeout_frames=200):
        """Sends an <iq> (adds xmlns and a fresh id) and returns the server's answer to it."""
        self.n += 1
        iq_id = f"s{self.n}"
        xml = xml.replace("<iq ", f"<iq xmlns='{NS_CLIENT}' id='{iq_id}' ", 1)
        self.send(xml)
        return self.recv_until(lambda e: e.tag == tag(NS_CLIENT, "iq") and e.get("id") == iq_id
                               and e.get("type") in ("result", "error"), timeout_frames)

    def close(self, wait=True):
        """Sends <close/> and, with `wait`, waits for the server's (ejabberd takes ~100 ms to send it)."""
        try:
            self.send(f"<close xmlns='{NS_FRAMING}'/>")
            if wait:
                self.recv_until(lambda e: e.tag == tag(NS_FRAMING, "close"), 50)
            return True
        except (ConnectionError, AssertionError, OSError, ET.ParseError):
            return False
        finally:
            self.ws.close()


def sasl2_authenticate(sess, mech, initial, inline="", user_agent_id=None):
    """Sends a SASL2 <authenticate> and returns the first answer (challenge/success/failure)."""
    ua = user_agent_id or "d4b5f6c0-1b4e-4a0e-9c1a-5f3e2b8a7c6d"
    sess.send(f"<authenticate xmlns='{NS_SASL2}' mechanism='{mech}'>"
              f"<initial-response>{b64(initial)}</initial-response>"
              f"<user-agent id='{ua}'><software>Natter check.py</software><device>ci</device></user-agent>"
              f"{inline}</authenticate>")
    return sess.recv_until(lambda e: e.tag in (tag(NS_SASL2, "challenge"), tag(NS_SASL2, "success"),
                                               tag(NS_SASL2, "failure"), tag(NS_SASL2, "continue")))


def sasl2_scram(sess, user, password, mech, inline=""):
    """A SASL2 SCRAM login; returns (success-or-failure element, Scram)."""
    s = Scram(mech, user, password)
    ans = sasl2_authenticate(sess, mech, s.first(), inline)
    if ans.tag != tag(NS_SASL2, "challenge"):
        return ans, s
    sess.send(f"<response xmlns='{NS_SASL2}'>{b64(s.final(base64.b64decode(ans.text).decode()))}</response>")
    ans = sess.recv_until(lambda e: e.tag in (tag(NS_SASL2, "success"), tag(NS_SASL2, "failure"),
                                              tag(NS_SASL2, "continue")))
    return ans, s


def fast_initiator(user, token):
    """HT-SHA-256-NONE initial response (XEP-0484): the username, NUL, HMAC(token, "Initiator")."""
    return user.encode() + b"\0" + hmac.new(token.encode(), b"Initiator", "sha256").digest()


def fast_responder_ok(token, additional_data_b64):
    return base64.b64decode(additional_data_b64 or "") == hmac.new(token.encode(), b"Responder", "sha256").digest()


def now_ms():
    return int(time.monotonic() * 1000)
