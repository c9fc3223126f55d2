//! A scripted message archive (XEP-0313 with XEP-0059 paging) for the scripted-server tests: it answers the
//! MAM queries a client sends the way Prosody does (pages capped at `cap`, `item-not-found` for an id it
//! does not hold, `#extended` form fields when `extended`), and can be told to misbehave. An account's
//! archive ([`Archive::new`]) or a room's ([`Archive::room`]: groupchat messages, answered from the room).
//! Below it, what the MAM tests share to serve it to a [`Harness`] and to read the events that come of it.

#![allow(dead_code)]

use natter::xmpp::Event;
use natter::xmpp::client::{ArchivePage, Gap};
use natter::xmpp::jid::BareJid;
use natter::xmpp::stanza::delay;
use natter::xmpp::stanza::disco::ResultSet;
use natter::xmpp::stanza::mam::{Fin, MAM_NS, Page, Query, result_stanza};
use natter::xmpp::xml::Element;

use super::fake::Harness;

/// One archived message.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub unix_ms: u64,
    pub from: String,
    pub to: String,
    pub body: String,
    pub origin_id: Option<String>,
    /// Microseconds past `unix_ms` (ejabberd stamps them; the time filters compare them too).
    pub micros: u16,
    /// `groupchat` in a room's archive, else `chat`.
    pub kind: &'static str,
    /// XEP-0421 occupant id the room stamped.
    pub occupant_id: Option<String>,
    /// Further children (a receipt, a chat marker); an item with an empty body has none.
    pub extra: Vec<Element>,
}

impl Item {
    /// The archived `<message/>`.
    pub fn message(&self) -> Element {
        let mut m = Element::new("jabber:client", "message")
            .with_attr("from", self.from.as_str())
            .with_attr("to", self.to.as_str())
            .with_attr("type", self.kind);
        if !self.body.is_empty() {
            m.push_child(Element::new("jabber:client", "body").with_text(self.body.as_str()));
        }
        for child in &self.extra {
            m.push_child(child.clone());
        }
        if let Some(id) = &self.occupant_id {
            m.push_child(Element::new("urn:xmpp:occupant-id:0", "occupant-id").with_attr("id", id.as_str()));
        }
        if let Some(o) = &self.origin_id {
            m.set_attr("id", o.as_str());
            m.push_child(Element::new("urn:xmpp:sid:0", "origin-id").with_attr("id", o.as_str()));
        }
        m
    }

    /// The XEP-0203 stamp, with microseconds when it has any.
    pub fn stamp(&self) -> String {
        let ms = delay::stamp(self.unix_ms);
        match self.micros {
            0 => ms,
            us => format!("{}{:03}Z", &ms[..ms.len() - 1], us),
        }
    }

    fn micros_since_epoch(&self) -> u64 {
        self.unix_ms * 1000 + u64::from(self.micros)
    }

    fn other_side(&self, account: &str) -> String {
        let bare = |j: &str| j.split('/').next().unwrap_or_default().to_owned();
        if bare(&self.from) == account { bare(&self.to) } else { bare(&self.from) }
    }
}

/// The archive of `account` (a bare JID), oldest first.
pub struct Archive {
    pub account: String,
    /// Where results go (the client's full JID).
    pub to: String,
    pub items: Vec<Item>,
    /// Largest page served, whatever the client asks (Prosody: 50).
    pub cap: usize,
    pub extended: bool,
    /// Every query answered, in order.
    pub asked: Vec<Query>,
    /// Stamp results `from` the account's bare JID (ejabberd does; Prosody leaves `from` out).
    pub with_from: bool,
    /// Send every matching result, whatever `<max/>` says (a hostile server).
    pub ignore_max: bool,
    /// Answer an RSM id it does not hold with an empty, complete page instead of `item-not-found` (Prosody 13).
    pub unknown_ids_are_empty: bool,
    /// A room's archive: groupchat messages; results and answers come from the room (`account`).
    pub room: bool,
}

/// The time of message `n` in the scripted histories: one a minute from 2024-01-01T00:00:00Z.
pub fn time_of(n: usize) -> u64 {
    1_704_067_200_000 + n as u64 * 60_000
}

impl Archive {
    pub fn new(account: &str, to: &str) -> Archive {
        Archive {
            account: account.into(),
            to: to.into(),
            items: Vec::new(),
            cap: 50,
            extended: true,
            asked: Vec::new(),
            with_from: false,
            ignore_max: false,
            unknown_ids_are_empty: false,
            room: false,
        }
    }

    /// The archive of room `room` (a bare JID), answering `to`.
    pub fn room(room: &str, to: &str) -> Archive {
        Archive { with_from: true, room: true, ..Archive::new(room, to) }
    }

    /// Appends message number `n` (`id` "a{n}", a minute apart) from occupant `nick` of the room, body "m{n}".
    pub fn said(&mut self, n: usize, nick: &str) -> &mut Item {
        let from = format!("{}/{nick}", self.account);
        let to = self.to.clone();
        self.push(n, &from, &to, &format!("m{n}"));
        let item = self.items.last_mut().unwrap();
        item.kind = "groupchat";
        item
    }

    /// Appends message number `n` (`id` "a{n}", a minute apart) from `from` to `to`.
    pub fn push(&mut self, n: usize, from: &str, to: &str, body: &str) -> &Item {
        self.items.push(Item {
            id: format!("a{n}"),
            unix_ms: time_of(n),
            from: from.into(),
            to: to.into(),
            body: body.into(),
            origin_id: Some(format!("o{n}")),
            micros: 0,
            kind: "chat",
            occupant_id: None,
            extra: Vec::new(),
        });
        self.items.last().unwrap()
    }

    /// `count` messages from `peer` to the account, numbered `first..first+count`, bodies "m{n}".
    pub fn fill(&mut self, peer: &str, first: usize, count: usize) {
        let account = self.account.clone();
        for n in first..first + count {
            self.push(n, &format!("{peer}/phone"), &account, &format!("m{n}"));
        }
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.items.iter().position(|i| i.id == id)
    }

    /// The frames answering the MAM iq `iq` (results, then the iq result or error).
    pub fn answer(&mut self, iq: &Element) -> Vec<String> {
        let query = Query::parse(iq.get_child(MAM_NS, "query").expect("a MAM query")).expect("a valid MAM query");
        self.asked.push(query.clone());
        let iq_id = iq.attr("id").unwrap().to_owned();
        match self.select(&query) {
            Err(condition) => vec![self.error(&iq_id, condition)],
            Ok((page, complete, count)) => {
                let mut frames: Vec<String> =
                    page.iter().map(|i| self.result(&query.queryid, &self.items[*i]).to_xml()).collect();
                let set = ResultSet {
                    first: page.first().map(|i| self.items[*i].id.clone()),
                    last: page.last().map(|i| self.items[*i].id.clone()),
                    count: Some(count as u32),
                };
                let fin = Fin { complete, set };
                frames.push(self.fin(&iq_id, &fin));
                frames
            }
        }
    }

    /// One result stanza for `item` answering `queryid`.
    pub fn result(&self, queryid: &str, item: &Item) -> Element {
        let mut m = result_stanza(&self.to, queryid, &item.id, &item.stamp(), item.message());
        if self.with_from {
            m.set_attr("from", self.account.as_str());
        }
        m
    }

    pub fn fin(&self, iq_id: &str, fin: &Fin) -> String {
        let mut iq = Element::new("jabber:client", "iq").with_attr("type", "result").with_attr("id", iq_id);
        iq.set_attr("to", self.to.as_str());
        if self.room {
            iq.set_attr("from", self.account.as_str());
        }
        iq.push_child(fin.to_element());
        iq.to_xml()
    }

    pub fn error(&self, iq_id: &str, condition: &str) -> String {
        let from = if self.room { format!(" from='{}'", self.account) } else { String::new() };
        format!(
            "<iq xmlns='jabber:client' type='error' id='{iq_id}' to='{}'{from}><error type='cancel'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            self.to
        )
    }

    /// Indices of the page, whether it is the last one in the direction paged, and how many match in all.
    fn select(&self, q: &Query) -> Result<(Vec<usize>, bool, usize), &'static str> {
        let f = &q.filter;
        if !self.extended && (f.after_id.is_some() || f.before_id.is_some()) {
            return Err("bad-request");
        }
        let find = |id: &str| self.position(id).ok_or("item-not-found");
        let after = f.after_id.as_deref().map(find).transpose()?;
        let before = f.before_id.as_deref().map(find).transpose()?;
        let matching: Vec<usize> = (0..self.items.len())
            .filter(|&i| {
                let it = &self.items[i];
                f.with.as_ref().is_none_or(|w: &BareJid| it.other_side(&self.account) == w.to_string())
                    && f.start.is_none_or(|s| it.micros_since_epoch() >= s * 1000)
                    && f.end.is_none_or(|e| it.micros_since_epoch() <= e * 1000)
                    && after.is_none_or(|a| i > a)
                    && before.is_none_or(|b| i < b)
            })
            .collect();
        let max = if self.ignore_max { usize::MAX } else { q.max.min(self.cap) };
        let (page, complete) = match &q.page {
            Page::First => (matching.iter().take(max).copied().collect::<Vec<_>>(), matching.len() <= max),
            Page::After(id) if self.unknown_ids_are_empty && self.position(id).is_none() => (Vec::new(), true),
            Page::Before(id) if self.unknown_ids_are_empty && self.position(id).is_none() => (Vec::new(), true),
            Page::After(id) => {
                let at = find(id)?;
                let rest: Vec<usize> = matching.iter().copied().filter(|&i| i > at).collect();
                (rest.iter().take(max).copied().collect(), rest.len() <= max)
            }
            Page::Before(id) => {
                let at = find(id)?;
                let rest: Vec<usize> = matching.iter().copied().filter(|&i| i < at).collect();
                (rest[rest.len().saturating_sub(max)..].to_vec(), rest.len() <= max)
            }
            Page::Last => (matching[matching.len().saturating_sub(max)..].to_vec(), matching.len() <= max),
        };
        Ok((page, complete, matching.len()))
    }
}

/// The MAM queries the client sent since the last call, as iqs.
pub fn queries(h: &mut Harness) -> Vec<Element> {
    h.sent().into_iter().filter(|e| e.is("jabber:client", "iq") && e.get_child(MAM_NS, "query").is_some()).collect()
}

pub fn query_of(iq: &Element) -> Query {
    Query::parse(iq.get_child(MAM_NS, "query").unwrap()).unwrap()
}

/// The server answers the MAM query `iq` from `archive`.
pub fn answer_query(h: &mut Harness, archive: &mut Archive, iq: &Element) {
    for frame in archive.answer(iq) {
        h.recv(&frame);
    }
}

/// Answers every MAM query the client sends, until it sends none; returns how many it answered. A room's
/// archive checks that each query was addressed to the room.
pub fn serve(h: &mut Harness, archive: &mut Archive) -> usize {
    let mut n = 0;
    loop {
        let qs = queries(h);
        if qs.is_empty() {
            return n;
        }
        for iq in qs {
            if archive.room {
                assert_eq!(iq.attr("to"), Some(archive.account.as_str()), "asked of the room's archive");
            }
            n += 1;
            answer_query(h, archive, &iq);
        }
    }
}

pub fn pages(events: &[Event]) -> Vec<ArchivePage> {
    events.iter().filter_map(|e| if let Event::ArchivePage(p) = e { Some(p.clone()) } else { None }).collect()
}

pub fn bodies(pages: &[ArchivePage]) -> Vec<String> {
    pages.iter().flat_map(|p| p.messages.iter().map(|m| m.message.body(None).unwrap().to_owned())).collect()
}

pub fn gaps(events: &[Event]) -> Vec<Gap> {
    events.iter().filter_map(|e| if let Event::ArchiveGap(g) = e { Some(g.clone()) } else { None }).collect()
}

/// The bodies of messages `from` to `to` (both included), as [`Archive::said`] and [`Archive::fill`] write them.
pub fn range(from: usize, to: usize) -> Vec<String> {
    (from..=to).map(|n| format!("m{n}")).collect()
}
