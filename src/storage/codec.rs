//! Records to and from the plain JS objects IndexedDB stores (wasm32 only).
//!
//! Field names are one or two letters (every stored object repeats them; 10,000 messages × 12 fields): the
//! table of each store is in `docs/storage.md`. Absent optional values are left out of the object, so an index
//! over them (stanza-id, origin-id) holds only the records that have one. A record that does not decode (a
//! field missing or of the wrong type, a JID that no longer parses) gives `None`: the caller skips it and counts
//! it, so one bad record never hides the rest.
//!
//! The field helpers are kept out of line (`#[inline(never)]`): inlined at each of their ~70 call sites they
//! cost several KB of wasm.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::plan::Write;
use super::records::{
    ConversationKind, ConversationRecord, GapRecord, MessageKey, MessageRecord, MessageState, OutboxRecord,
    StoredMessage,
};
use crate::xmpp::client::HistoryPoint;
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::roster::{RosterItem, Subscription};

#[inline(never)]
fn set(object: &Object, field: &str, value: &JsValue) {
    // Reflect.set on a fresh plain object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(field), value);
}

#[inline(never)]
fn set_str(object: &Object, field: &str, value: &str) {
    set(object, field, &JsValue::from_str(value));
}

#[inline(never)]
fn set_opt(object: &Object, field: &str, value: Option<&str>) {
    if let Some(value) = value {
        set_str(object, field, value);
    }
}

#[inline(never)]
fn set_num(object: &Object, field: &str, value: f64) {
    set(object, field, &JsValue::from_f64(value));
}

#[inline(never)]
fn set_flag(object: &Object, field: &str, value: bool) {
    if value {
        set(object, field, &JsValue::TRUE);
    }
}

#[inline(never)]
fn get(value: &JsValue, field: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(field)).unwrap_or(JsValue::UNDEFINED)
}

#[inline(never)]
fn get_str(value: &JsValue, field: &str) -> Option<String> {
    get(value, field).as_string()
}

#[inline(never)]
fn get_num(value: &JsValue, field: &str) -> Option<f64> {
    get(value, field).as_f64()
}

#[inline(never)]
fn get_flag(value: &JsValue, field: &str) -> bool {
    get(value, field).is_truthy()
}

/// An integer stored as a JS number (exact up to 2^53, far beyond any time in milliseconds or key).
#[inline(never)]
fn get_int(value: &JsValue, field: &str) -> Option<i64> {
    let n = get_num(value, field)?;
    (n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0).then_some(n as i64)
}

/// JIDs decoded often (the account, the conversation being read) are compared as text and cloned instead of
/// being prepared again.
pub struct Known(Vec<(String, BareJid)>);

impl Known {
    pub fn new<'a>(jids: impl IntoIterator<Item = &'a BareJid>) -> Known {
        Known(jids.into_iter().map(|j| (j.to_string(), j.clone())).collect())
    }

    fn jid(&self, value: &JsValue, field: &str) -> Option<BareJid> {
        let text = get_str(value, field)?;
        match self.0.iter().find(|(known, _)| *known == text) {
            Some((_, jid)) => Some(jid.clone()),
            None => BareJid::parse(&text).ok(),
        }
    }
}

/// A key of several parts, e.g. `[conversation, time, key]`.
pub fn key(parts: &[&JsValue]) -> JsValue {
    parts.iter().copied().collect::<Array>().into()
}

pub fn meta(name: &str, value: &str) -> JsValue {
    let o = Object::new();
    set_str(&o, "k", name);
    set_str(&o, "v", value);
    o.into()
}

/// `(name, value)` of a meta record.
pub fn meta_entry(value: &JsValue) -> Option<(String, JsValue)> {
    Some((get_str(value, "k")?, get(value, "v")))
}

pub fn roster_item(item: &RosterItem) -> JsValue {
    let o = Object::new();
    set_str(&o, "j", &item.jid.to_string());
    set_opt(&o, "n", item.name.as_deref());
    let subscription = match item.subscription {
        Subscription::None | Subscription::Remove => "none",
        Subscription::To => "to",
        Subscription::From => "from",
        Subscription::Both => "both",
    };
    set_str(&o, "s", subscription);
    set_flag(&o, "a", item.pending_out);
    set_flag(&o, "p", item.approved);
    if !item.groups.is_empty() {
        let groups: Array = item.groups.iter().map(|g| JsValue::from_str(g)).collect();
        set(&o, "g", &groups);
    }
    o.into()
}

pub fn decode_roster_item(value: &JsValue) -> Option<RosterItem> {
    let jid = BareJid::parse(&get_str(value, "j")?).ok()?;
    let subscription = match get_str(value, "s")?.as_str() {
        "none" => Subscription::None,
        "to" => Subscription::To,
        "from" => Subscription::From,
        "both" => Subscription::Both,
        _ => return None,
    };
    let groups = get(value, "g");
    let groups = if groups.is_undefined() {
        Vec::new()
    } else {
        let groups: Array = groups.dyn_into().ok()?;
        groups.iter().map(|g| g.as_string()).collect::<Option<Vec<String>>>()?
    };
    Some(RosterItem {
        jid,
        name: get_str(value, "n"),
        subscription,
        pending_out: get_flag(value, "a"),
        approved: get_flag(value, "p"),
        groups,
    })
}

pub fn conversation(c: &ConversationRecord) -> JsValue {
    let o = Object::new();
    set_str(&o, "j", &c.jid.to_string());
    set_str(
        &o,
        "y",
        match c.kind {
            ConversationKind::Chat => "chat",
            ConversationKind::Groupchat => "groupchat",
        },
    );
    if let Some(read) = c.last_read {
        set_num(&o, "r", read as f64);
    }
    set_num(&o, "u", f64::from(c.unread));
    if c.mentions > 0 {
        set_num(&o, "m", f64::from(c.mentions));
    }
    if let Some(t) = c.peer_read {
        set_num(&o, "pr", t as f64);
    }
    if !c.draft.is_empty() {
        set_str(&o, "d", &c.draft);
    }
    set_num(&o, "t", c.last_activity as f64);
    set_opt(&o, "n", c.nick.as_deref());
    if let Some(h) = &c.history {
        set_opt(&o, "h", h.id.as_deref());
        if let Some(ms) = h.unix_ms {
            set_num(&o, "hm", ms as f64);
        }
    }
    set_flag(&o, "in", c.joined);
    o.into()
}

pub fn decode_conversation(value: &JsValue) -> Option<ConversationRecord> {
    let kind = match get_str(value, "y")?.as_str() {
        "chat" => ConversationKind::Chat,
        "groupchat" => ConversationKind::Groupchat,
        _ => return None,
    };
    let last_read = match get(value, "r") {
        r if r.is_undefined() => None,
        _ => Some(get_int(value, "r")?),
    };
    Some(ConversationRecord {
        jid: BareJid::parse(&get_str(value, "j")?).ok()?,
        kind,
        last_read,
        unread: u32::try_from(get_int(value, "u")?).ok()?,
        // Absent in records written before they were kept.
        mentions: get_int(value, "m").and_then(|m| u32::try_from(m).ok()).unwrap_or(0),
        peer_read: get_int(value, "pr"),
        draft: get_str(value, "d").unwrap_or_default(),
        last_activity: get_int(value, "t")?,
        nick: get_str(value, "n"),
        history: get_str(value, "h").map(|id| HistoryPoint {
            id: Some(id),
            unix_ms: get_int(value, "hm").and_then(|ms| u64::try_from(ms).ok()),
        }),
        joined: get_flag(value, "in"),
    })
}

pub fn message(write: &Write) -> JsValue {
    let o = Object::new();
    let m = &write.message;
    if let Some(MessageKey(key)) = write.key {
        set_num(&o, "k", key as f64);
    }
    set_str(&o, "c", &m.conversation.to_string());
    set_num(&o, "t", m.time as f64);
    set_str(&o, "s", &m.sender.to_string());
    set_flag(&o, "m", m.from_me);
    set_str(&o, "b", &m.body);
    set_flag(&o, "a", m.is_me_action);
    set_opt(&o, "n", m.nick.as_deref());
    set_opt(&o, "i", m.id.as_deref());
    set_opt(&o, "o", m.origin_id.as_deref());
    set_opt(&o, "z", m.stanza_id.as_deref());
    let state = match &m.state {
        MessageState::Received => 0,
        MessageState::Pending => 1,
        MessageState::Sent => 2,
        MessageState::Delivered => 3,
        MessageState::Read => 4,
        MessageState::Failed(reason) => {
            set_str(&o, "e", reason);
            5
        }
    };
    set_num(&o, "st", f64::from(state));
    o.into()
}

pub fn decode_message(value: &JsValue, known: &Known) -> Option<StoredMessage> {
    let key = u64::try_from(get_int(value, "k")?).ok()?;
    let state = match get_int(value, "st")? {
        0 => MessageState::Received,
        1 => MessageState::Pending,
        2 => MessageState::Sent,
        3 => MessageState::Delivered,
        4 => MessageState::Read,
        5 => MessageState::Failed(get_str(value, "e").unwrap_or_default()),
        _ => return None,
    };
    let message = MessageRecord {
        conversation: known.jid(value, "c")?,
        time: get_int(value, "t")?,
        sender: known.jid(value, "s")?,
        from_me: get_flag(value, "m"),
        body: get_str(value, "b")?,
        is_me_action: get_flag(value, "a"),
        nick: get_str(value, "n"),
        id: get_str(value, "i"),
        origin_id: get_str(value, "o"),
        stanza_id: get_str(value, "z"),
        state,
    };
    Some(StoredMessage { key: MessageKey(key), message })
}

pub fn outbox(r: &OutboxRecord) -> JsValue {
    let o = Object::new();
    set_str(&o, "i", &r.id);
    set_str(&o, "to", &r.to.to_string());
    set_str(&o, "b", &r.body);
    set_num(&o, "t", r.created as f64);
    o.into()
}

pub fn decode_outbox(value: &JsValue) -> Option<OutboxRecord> {
    Some(OutboxRecord {
        id: get_str(value, "i")?,
        to: BareJid::parse(&get_str(value, "to")?).ok()?,
        body: get_str(value, "b")?,
        created: get_int(value, "t")?,
    })
}

/// The `c` of a gap: the conversation, or "" for the account's archive.
pub fn gap_scope(conversation: Option<&BareJid>) -> String {
    conversation.map(BareJid::to_string).unwrap_or_default()
}

pub fn gap(g: &GapRecord) -> JsValue {
    let o = Object::new();
    set_str(&o, "c", &gap_scope(g.conversation.as_ref()));
    set_num(&o, "s", g.start as f64);
    set_num(&o, "e", g.end as f64);
    set_opt(&o, "a", g.after_id.as_deref());
    set_opt(&o, "b", g.before_id.as_deref());
    o.into()
}

pub fn decode_gap(value: &JsValue) -> Option<GapRecord> {
    let scope = get_str(value, "c")?;
    let conversation = if scope.is_empty() { None } else { Some(BareJid::parse(&scope).ok()?) };
    Some(GapRecord {
        conversation,
        start: get_int(value, "s")?,
        end: get_int(value, "e")?,
        after_id: get_str(value, "a"),
        before_id: get_str(value, "b"),
    })
}
