//! A scripted XMPP server with XEP-0198 stream management, for the cut-anywhere property test: it keeps a
//! session across a dropped connection (to be resumed) or forgets it (then the client's `<resume/>` fails),
//! counts and acknowledges like Prosody and ejabberd do (an `<r/>` after each stanza it sends), stores
//! messages for an absent user offline, re-routes the unacknowledged ones of a forgotten session there (the
//! source of duplicates a client must drop), and records what reaches the peer `bob`.
//!
//! Logins use the RFC 7677 SCRAM-SHA-256 exchange with its fixed nonce (see `fake::rfc7677_config`).

#![allow(dead_code)]

use std::collections::VecDeque;

use natter::xmpp::xml::Element;

use super::fake::b64;

const SM: &str = "urn:xmpp:sm:3";
const CLIENT: &str = "jabber:client";
pub const ACCOUNT: &str = "user@example.com";

/// How the server treats a dropped connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCut {
    /// Keep the session for resumption (`<resumed/>`).
    Keep,
    /// Forget it: `<failed/>` without `h`.
    Forget,
    /// Forget it but remember how much it had received: `<failed h=…/>`.
    ForgetWithH,
}

struct Session {
    id: String,
    jid: String,
    /// Stanzas handled from the client.
    h_in: u32,
    out_acked: u32,
    out_unacked: VecDeque<String>,
}

#[derive(Default)]
struct Conn {
    authed: bool,
    jid: Option<String>,
    sm: bool,
    online: bool,
}

pub struct Server {
    pub on_cut: OnCut,
    session: Option<Session>,
    forgotten_h: Option<u32>,
    conn: Conn,
    offline: Vec<String>,
    sessions: u32,
    binds: u32,
    /// Frames for the client, in order.
    pub to_client: VecDeque<String>,
    /// Messages that reached bob, as the server routed them.
    pub bob_inbox: Vec<Element>,
}

impl Server {
    pub fn new(on_cut: OnCut) -> Server {
        Server {
            on_cut,
            session: None,
            forgotten_h: None,
            conn: Conn::default(),
            offline: Vec::new(),
            sessions: 0,
            binds: 0,
            to_client: VecDeque::new(),
            bob_inbox: Vec::new(),
        }
    }

    fn push(&mut self, frame: impl Into<String>) {
        self.to_client.push_back(frame.into());
    }

    /// A stanza for the client on this connection, counted and followed by an `<r/>` when SM is on.
    fn deliver(&mut self, xml: String) {
        match (&mut self.session, self.conn.sm) {
            (Some(s), true) => {
                s.out_unacked.push_back(xml.clone());
                self.push(xml);
                self.push(format!("<r xmlns='{SM}'/>"));
            }
            _ => self.push(xml),
        }
    }

    fn ack(&mut self, h: u32) {
        if let Some(s) = &mut self.session {
            let n = h.wrapping_sub(s.out_acked) as usize;
            assert!(n <= s.out_unacked.len(), "the client acknowledged more than the server sent");
            s.out_unacked.drain(..n);
            s.out_acked = h;
        }
    }

    /// One frame from the client.
    pub fn handle(&mut self, frame: &str) {
        let el = Element::parse(frame).expect("the client sends well-formed frames");
        match (el.ns.as_str(), el.name.as_str()) {
            (_, "open") => {
                self.push(
                    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s' version='1.0'/>",
                );
                if self.conn.authed {
                    self.push(format!("<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='{SM}'/></stream:features>"));
                } else {
                    self.push("<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256</mechanism></mechanisms></stream:features>");
                }
            }
            (_, "close") => self.push("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"),
            (_, "auth") => self.push(format!(
                "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
                b64("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
            )),
            (_, "response") => {
                self.conn.authed = true;
                self.push(format!(
                    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</success>",
                    b64("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
                ));
            }
            (SM, "enable") => {
                // A session still hibernating is replaced: as when it times out, its unacknowledged
                // messages go to offline storage (delivered after this connection's initial presence).
                if let Some(old) = self.session.take() {
                    self.offline.extend(old.out_unacked.into_iter().filter(|x| x.starts_with("<message")));
                }
                self.sessions += 1;
                let id = format!("S{}", self.sessions);
                let jid = self.conn.jid.clone().expect("enable after bind");
                self.session =
                    Some(Session { id: id.clone(), jid, h_in: 0, out_acked: 0, out_unacked: VecDeque::new() });
                self.conn.sm = true;
                self.push(format!("<enabled xmlns='{SM}' id='{id}' resume='true' max='60'/>"));
            }
            (SM, "resume") => {
                let h: u32 = el.attr("h").unwrap().parse().unwrap();
                let known = self.session.as_ref().is_some_and(|s| Some(s.id.as_str()) == el.attr("previd"));
                if known {
                    self.ack(h);
                    let s = self.session.as_ref().unwrap();
                    let (id, h_in, replay, jid) = (s.id.clone(), s.h_in, s.out_unacked.clone(), s.jid.clone());
                    self.conn = Conn { authed: true, jid: Some(jid), sm: true, online: true };
                    self.push(format!("<resumed xmlns='{SM}' previd='{id}' h='{h_in}'/>"));
                    for xml in replay {
                        self.push(xml);
                    }
                    self.push(format!("<r xmlns='{SM}'/>"));
                } else {
                    match self.forgotten_h.take() {
                        Some(h) => self.push(format!("<failed xmlns='{SM}' h='{h}'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>")),
                        None => self.push(format!("<failed xmlns='{SM}'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>")),
                    }
                }
            }
            (SM, "r") => {
                let h = self.session.as_ref().map_or(0, |s| s.h_in);
                self.push(format!("<a xmlns='{SM}' h='{h}'/>"));
            }
            (SM, "a") => self.ack(el.attr("h").unwrap().parse().unwrap()),
            (CLIENT, _) => {
                if self.conn.sm
                    && let Some(s) = &mut self.session
                {
                    s.h_in = s.h_in.wrapping_add(1);
                }
                self.stanza(&el);
            }
            _ => {}
        }
    }

    fn stanza(&mut self, el: &Element) {
        let id = el.attr("id").unwrap_or("").to_owned();
        match (el.name.as_str(), el.attr("type")) {
            ("iq", Some("set")) if el.get_child("urn:ietf:params:xml:ns:xmpp-bind", "bind").is_some() => {
                self.binds += 1;
                let jid = format!("{ACCOUNT}/r{}", self.binds);
                self.conn.jid = Some(jid.clone());
                self.deliver(format!("<iq xmlns='jabber:client' type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>{jid}</jid></bind></iq>"));
            }
            ("iq", Some("get")) if el.get_child("jabber:iq:roster", "query").is_some() => {
                self.deliver(format!("<iq xmlns='jabber:client' type='result' id='{id}'><query xmlns='jabber:iq:roster'><item jid='bob@example.com' subscription='both'/></query></iq>"));
            }
            ("iq", Some("get" | "set")) => self.deliver(format!("<iq xmlns='jabber:client' type='result' id='{id}'/>")),
            ("presence", None) if el.attr("to").is_none() => {
                self.conn.online = true;
                for xml in std::mem::take(&mut self.offline) {
                    self.deliver(xml);
                }
            }
            ("message", _)
                if el.attr("to").is_some_and(|t| t.starts_with("bob@example.com"))
                    && el.get_child(CLIENT, "body").is_some() =>
            {
                self.bob_inbox.push(el.clone());
            }
            _ => {}
        }
    }

    /// Bob sends message number `n` with `body` (archived by our server: it stamps a stanza-id).
    pub fn bob_says(&mut self, n: u32, body: &str) {
        let xml = format!(
            "<message xmlns='jabber:client' from='bob@example.com/phone' to='{ACCOUNT}' type='chat' id='b{n}'><body>{body}</body><origin-id xmlns='urn:xmpp:sid:0' id='b{n}'/><stanza-id xmlns='urn:xmpp:sid:0' id='arch-{n}' by='{ACCOUNT}'/></message>"
        );
        let hibernating = !self.conn.sm;
        match &mut self.session {
            _ if self.conn.online => self.deliver(xml),
            // The session hibernates: queued, counted as sent, delivered when resumed.
            Some(s) if hibernating => s.out_unacked.push_back(xml),
            _ => self.offline.push(xml),
        }
    }

    /// The connection dropped.
    pub fn cut(&mut self) {
        self.conn = Conn::default();
        if self.on_cut != OnCut::Keep
            && let Some(s) = self.session.take()
        {
            self.forgotten_h = (self.on_cut == OnCut::ForgetWithH).then_some(s.h_in);
            // Like Prosody and ejabberd: what the client never acknowledged goes to offline storage.
            self.offline.extend(s.out_unacked.into_iter().filter(|x| x.starts_with("<message")));
        }
    }
}
