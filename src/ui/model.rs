//! The UI's domain model as plain data, and the decisions made on it as plain functions.
//!
//! Nothing here touches leptos signals or the browser: sorting and grouping the roster, deciding what counts
//! as unread, marking a bounced message as failed. (Cutting message text into text and links is
//! [`crate::links`], which compiles natively.) The store in [`super::state`] holds these types (the `Store`
//! derive only adds field accessors), `apply` calls these functions, and components only display the result.
//! Keeping the logic here keeps it testable without a DOM.

use std::collections::HashMap;

use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::presence::{Availability, Show};
use crate::xmpp::stanza::roster::{RosterItem, Subscription};

/// The group shown for roster contacts that are in no group.
pub const DEFAULT_GROUP: &str = "Contacts";
/// The group shown for people we have a conversation with but who are not in the roster.
pub const STRANGERS_GROUP: &str = "Not in your contacts";
/// People not in the roster who may get an entry (and a conversation) by writing to us. Past this, messages
/// from new strangers are not shown (the person is told so): a flood of senders must not grow the list for ever.
pub const MAX_STRANGERS: usize = 100;

/// One person in the contact list: a roster item, or someone who wrote to us without being in the roster.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub jid: BareJid,
    pub name: Option<String>,
    pub groups: Vec<String>,
    pub subscription: Subscription,
    /// Our subscription request is waiting for their answer.
    pub pending_out: bool,
    /// `false` for someone who is only here because of a conversation.
    pub in_roster: bool,
    /// Aggregated presence; `None` = offline (or unknown).
    pub presence: Option<Availability>,
    /// Messages received while the conversation was not open.
    pub unread: u32,
    /// They are typing (XEP-0085 "composing"): the notice's token, so that a timer can end it when nothing
    /// follows (their client may close without a word).
    pub typing: Option<u64>,
    /// We asked to see their presence and they have not answered yet. The roster's `ask`, but kept until
    /// their answer arrives: the server may clear `ask` (roster push) before it delivers a refusal.
    pub asked: bool,
    /// Why the last presence we sent them bounced (a request to a server that does not exist, say), in words.
    pub presence_error: Option<String>,
}

impl Contact {
    pub fn from_roster(item: &RosterItem) -> Contact {
        Contact {
            jid: item.jid.clone(),
            name: item.name.clone(),
            groups: item.groups.clone(),
            subscription: item.subscription,
            pending_out: item.pending_out,
            in_roster: true,
            presence: None,
            unread: 0,
            typing: None,
            asked: item.pending_out && !item.subscription.sees_their_presence(),
            presence_error: None,
        }
    }

    /// Whether `contacts` has room for one more stranger ([`MAX_STRANGERS`]). A pass over the contacts, made
    /// only when someone new writes.
    pub fn room_for_stranger(contacts: &HashMap<BareJid, Contact>) -> bool {
        contacts.values().filter(|c| !c.in_roster).nth(MAX_STRANGERS - 1).is_none()
    }

    /// Someone not in the roster (a message arrived from them).
    pub fn stranger(jid: BareJid) -> Contact {
        Contact {
            jid,
            name: None,
            groups: Vec::new(),
            subscription: Subscription::None,
            pending_out: false,
            in_roster: false,
            presence: None,
            unread: 0,
            typing: None,
            asked: false,
            presence_error: None,
        }
    }

    /// Takes a roster item's fields, keeping what the roster does not carry (presence, unread).
    pub fn update_from_roster(&mut self, item: &RosterItem) {
        self.name = item.name.clone();
        self.groups = item.groups.clone();
        self.subscription = item.subscription;
        self.pending_out = item.pending_out;
        self.asked = (self.asked || item.pending_out) && !item.subscription.sees_their_presence();
        self.in_roster = true;
    }

    pub fn display_name(&self) -> String {
        display_name(&self.jid, self.name.as_deref())
    }

    /// The name for a sentence: the roster name, else the user part of the address ("carol"), else the address.
    pub fn short_name(&self) -> String {
        match self.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => n.to_owned(),
            None => self.jid.local().map_or_else(|| self.jid.to_string(), str::to_owned),
        }
    }

    /// Our request to see their presence is waiting for their answer (the server says so).
    pub fn waiting_for_answer(&self) -> bool {
        self.in_roster && self.pending_out && !self.subscription.sees_their_presence()
    }

    /// The roster row's second line: typing, a bounced request, a pending request, the status message, or
    /// else the presence in words.
    pub fn status_line(&self) -> String {
        if self.typing.is_some() {
            return "typing…".to_owned();
        }
        if let Some(e) = &self.presence_error {
            return format!("Could not reach: {e}");
        }
        let status = self.presence.as_ref().and_then(|p| p.status.as_deref()).filter(|s| !s.trim().is_empty());
        match status {
            Some(s) => s.to_owned(),
            None if self.presence.is_none() && self.waiting_for_answer() => {
                format!("Waiting for {} to accept", self.short_name())
            }
            None => presence_label(self.presence.as_ref()).to_owned(),
        }
    }
}

/// The address typed in "Add contact", checked: a user at a server, not ours. A bare word ("carol") is a
/// server name to XMPP; the error suggests the person of that name on our own server (`own`).
pub fn contact_address(typed: &str, own: Option<&BareJid>) -> Result<BareJid, String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err("Enter the address of the person to add, like bob@example.org.".into());
    }
    let jid = BareJid::parse(typed).map_err(|e| format!("This is not a valid address: {e}."))?;
    if jid.local().is_none() {
        return Err(match own {
            Some(own) if !jid.domain().contains('.') && !typed.contains('/') => {
                format!("An address needs a server: did you mean {}@{}?", jid.domain(), own.domain())
            }
            _ => format!("{} is a server, not a person: add the user name, like name@{}.", jid.domain(), jid.domain()),
        });
    }
    if own == Some(&jid) {
        return Err("That is your own address.".into());
    }
    Ok(jid)
}

/// What the composer sends for `text`: the text itself, or why not. `/me` needs an action after it, and
/// other `/commands` (`/help`, `/nick` …) are not sent as text by mistake; a text that really starts with a
/// slash word is typed with two (`//help` sends "/help"). Slashes not followed by a word ("/usr/bin") are text.
pub fn composer_text(text: &str) -> Result<String, String> {
    if let Some(rest) = text.strip_prefix("//") {
        return Ok(format!("/{rest}"));
    }
    let Some(rest) = text.strip_prefix('/') else { return Ok(text.to_owned()) };
    let word_len = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
    let (word, after) = rest.split_at(word_len);
    if word.is_empty() || !(after.is_empty() || after.starts_with(char::is_whitespace)) {
        return Ok(text.to_owned());
    }
    if word == "me" {
        return match after.trim() {
            "" => Err("Write what you are doing after /me, like “/me waves”.".into()),
            action => Ok(format!("/me {action}")),
        };
    }
    Err(format!(
        "/{word} is not a command Natter knows; the only one is /me, like “/me waves”. \
         To send text that starts with /{word}, type //{word}."
    ))
}

/// The name to show for `jid`: the roster name when there is one, else the whole address.
pub fn display_name(jid: &BareJid, name: Option<&str>) -> String {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => n.to_owned(),
        None => jid.to_string(),
    }
}

/// Presence in words, for people and screen readers ("available", "away", …, "offline").
pub fn presence_label(presence: Option<&Availability>) -> &'static str {
    presence.map_or("offline", |a| a.show.label())
}

/// A CSS modifier for the presence dot.
pub fn presence_class(presence: Option<&Availability>) -> &'static str {
    match presence.map(|a| a.show) {
        None => "offline",
        Some(Show::Chat | Show::Available) => "available",
        Some(Show::Away) => "away",
        Some(Show::Xa) => "xa",
        Some(Show::Dnd) => "dnd",
    }
}

/// Whether a contact matches what was typed in the filter box (name or address; case and accents do not
/// count). `needle` must already be trimmed and folded by [`fold_case`].
pub fn matches_filter(c: &Contact, needle: &str) -> bool {
    needle.is_empty()
        || fold_case(&c.jid.to_string()).contains(needle)
        || c.name.as_deref().is_some_and(|n| fold_case(n).contains(needle))
}

/// One heading in the contact list and the contacts under it, in display order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterGroup {
    pub name: String,
    pub jids: Vec<BareJid>,
    /// How many of `jids` are online.
    pub online: usize,
}

/// Sorts and groups the contacts for display: named groups alphabetically, then [`DEFAULT_GROUP`], then
/// [`STRANGERS_GROUP`]; within a group, most reachable first (offline last), then by name ([`fold_case`]), then
/// by address. A contact in several groups appears in each. Groups with no match are left out.
pub fn group_contacts(contacts: &HashMap<BareJid, Contact>, filter: &str) -> Vec<RosterGroup> {
    let needle = fold_case(filter.trim());
    // Sort keys computed once per contact, not once per comparison (this runs on every presence change).
    let matching: Vec<&Contact> = contacts.values().filter(|c| matches_filter(c, &needle)).collect();
    let order = sorted_order(matching.iter().map(|c| {
        let rank = c.presence.as_ref().map_or(u8::MAX, |p| p.show.rank());
        // Orders like `BareJid`'s own `Ord` (local part, then domain): '\0' sorts before any character.
        let jid = [c.jid.local().unwrap_or_default(), "\0", c.jid.domain()].concat();
        (rank, fold_case(&c.display_name()), jid)
    }));
    let sorted = order.into_iter().map(|i| matching[i]);

    let mut named: HashMap<&str, RosterGroup> = HashMap::new();
    let mut ungrouped = RosterGroup { name: DEFAULT_GROUP.into(), jids: Vec::new(), online: 0 };
    let mut strangers = RosterGroup { name: STRANGERS_GROUP.into(), jids: Vec::new(), online: 0 };
    for c in sorted {
        let online = usize::from(c.presence.is_some());
        if !c.in_roster {
            strangers.jids.push(c.jid.clone());
            strangers.online += online;
        } else if c.groups.is_empty() {
            ungrouped.jids.push(c.jid.clone());
            ungrouped.online += online;
        } else {
            for g in &c.groups {
                let group = named.entry(g.as_str()).or_insert_with(|| RosterGroup {
                    name: g.clone(),
                    jids: Vec::new(),
                    online: 0,
                });
                group.jids.push(c.jid.clone());
                group.online += online;
            }
        }
    }
    let mut named: Vec<Option<RosterGroup>> = named.into_values().map(Some).collect();
    let order = sorted_order(named.iter().flatten().map(|g| (0, fold_case(&g.name), g.name.clone())));
    let mut groups: Vec<RosterGroup> = order.into_iter().filter_map(|i| named[i].take()).collect();
    // A roster group literally called "Contacts" already holds the ungrouped ones' place.
    if let Some(same) = groups.iter_mut().find(|g| g.name == DEFAULT_GROUP) {
        same.jids.append(&mut ungrouped.jids);
        same.online += ungrouped.online;
    }
    groups.extend([ungrouped, strangers].into_iter().filter(|g| !g.jids.is_empty()));
    groups
}

/// The order of `keys` (indices into it, smallest key first). Every sort of the UI goes through this one
/// instantiation of the standard sort: each distinct `sort_by` closure or element type would add its own copy
/// (2–3 KB of wasm each).
fn sorted_order(keys: impl Iterator<Item = (u8, String, String)>) -> Vec<usize> {
    let mut keyed: Vec<((u8, String, String), usize)> = keys.zip(0..).collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Builds the contact map from a full roster, keeping presence and unread counts already known, and keeping
/// people outside the roster who have a conversation (`keep`).
pub fn merge_roster(
    old: &HashMap<BareJid, Contact>,
    items: &[RosterItem],
    keep: impl Fn(&BareJid) -> bool,
) -> HashMap<BareJid, Contact> {
    let mut map: HashMap<BareJid, Contact> = items
        .iter()
        .filter(|i| i.subscription != Subscription::Remove)
        .map(|item| {
            let mut c = Contact::from_roster(item);
            if let Some(prev) = old.get(&item.jid) {
                c.presence = prev.presence.clone();
                c.unread = prev.unread;
                c.typing = prev.typing;
            }
            (item.jid.clone(), c)
        })
        .collect();
    for (jid, c) in old {
        if !map.contains_key(jid) && keep(jid) {
            let mut stranger = c.clone();
            stranger.in_roster = false;
            stranger.groups.clear();
            stranger.subscription = Subscription::None;
            map.insert(jid.clone(), stranger);
        }
    }
    map
}

/// One line in a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Unique for the page's lifetime; the key for keyed rendering.
    pub seq: u64,
    /// The stanza id (ours for sent messages): how bounces find the message they belong to.
    pub id: Option<String>,
    pub from_me: bool,
    /// Who wrote it, as shown.
    pub sender: String,
    /// Short local time ("14:03").
    pub time: String,
    /// Full local date and time, for a tooltip.
    pub time_full: String,
    /// Machine-readable instant (ISO 8601) for `<time datetime>`.
    pub time_iso: String,
    /// The same instant in ms since the Unix epoch (UTC): where the message goes among archived ones.
    pub unix_ms: u64,
    /// Its id in our account's archive (its XEP-0359 stanza-id by our server), when known: how an archived
    /// copy of a message shown live is recognised.
    pub archive_id: Option<String>,
    pub body: String,
    /// XEP-0245 `/me` action: `body` is what follows "/me ".
    pub is_me_action: bool,
    /// Same sender as the line before, shortly after it: shown without repeating the sender.
    pub continued: bool,
    /// Where our own message is (`None` for messages from others).
    pub delivery: Option<Delivery>,
    /// Why it was not delivered (sent messages), or the error report itself (`from_me == false`).
    pub error: Option<String>,
}

impl ChatMessage {
    /// What of the row can change after it is built.
    pub fn row_state(&self) -> RowState {
        RowState { delivery: self.delivery, error: self.error.clone() }
    }

    /// Moves our own message forward to `to` (never back, and not once it failed); whether it changed.
    pub fn advance(&mut self, to: Delivery) -> bool {
        match self.delivery {
            Some(d) if d < to && self.error.is_none() => {
                self.delivery = Some(to);
                true
            }
            _ => false,
        }
    }
}

/// Where one of our own messages is, as the person sees it: it only moves forward, except that a message a
/// lost session gave back (`TransportEvent::Unsent`) is pending again. A failed one (bounced, cancelled) keeps
/// its state and carries the reason in [`ChatMessage::error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Delivery {
    /// In the outbox: no session has taken it yet.
    Pending,
    /// Handed to the session; the server has not confirmed it yet.
    Sending,
    /// The server has it (XEP-0198 acknowledgement; without XEP-0198: written to the stream).
    Sent,
    /// The recipient's client has it (XEP-0184 receipt).
    Delivered,
    /// The recipient has seen it (XEP-0333 displayed marker).
    Read,
}

impl Delivery {
    /// In words (for screen readers, and the tooltip of the mark).
    pub fn label(self) -> &'static str {
        match self {
            Delivery::Pending => "Not sent yet",
            Delivery::Sending => "Sending",
            Delivery::Sent => "Sent",
            Delivery::Delivered => "Delivered",
            Delivery::Read => "Read",
        }
    }

    /// The small mark beside the message, and the CSS/`data-state` name.
    pub fn mark(self) -> (&'static str, &'static str) {
        match self {
            Delivery::Pending => ("◷", "pending"),
            Delivery::Sending => ("◷", "sending"),
            Delivery::Sent => ("✓", "sent"),
            Delivery::Delivered => ("✓✓", "delivered"),
            Delivery::Read => ("✓✓", "read"),
        }
    }
}

/// The part of a transcript row that can change after it is built: our message's state, or an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowState {
    pub delivery: Option<Delivery>,
    pub error: Option<String>,
}

/// A message the person sent that no session has taken yet, oldest first in the outbox. Plain data with its
/// own id (the stanza id and XEP-0359 origin-id it will be sent with), so a store can keep the outbox as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: String,
    pub to: BareJid,
    /// As it goes on the wire (a `/me` action included).
    pub body: String,
    /// When the person pressed Send (ms since the Unix epoch).
    pub created_ms: u64,
}

/// Groups typed as "Friends, Work": trimmed, empty ones dropped, sorted, without duplicates (the way the
/// roster parser keeps them, so an unchanged list compares equal).
pub fn parse_groups(text: &str) -> Vec<String> {
    let mut groups: Vec<String> = text.split(',').map(str::trim).filter(|g| !g.is_empty()).map(str::to_owned).collect();
    groups.sort_unstable();
    groups.dedup();
    groups
}

/// Whether `next` is shown as a continuation of `prev` (no repeated sender line): same side, same sender, same
/// minute, and neither is an error.
pub fn continues(prev: &ChatMessage, next: &ChatMessage) -> bool {
    prev.from_me == next.from_me
        && prev.sender == next.sender
        && prev.error.is_none()
        && next.error.is_none()
        && prev.time == next.time
}

/// How many messages a transcript page holds.
///
/// A conversation keeps its messages in pages so that appending one writes (and notifies the views of) only
/// the last page: a page's bookkeeping and keyed list cost `PAGE_SIZE` per new message, never the length of
/// the whole transcript. The store notifies every page when a page is added, so that costs the whole
/// transcript once per `PAGE_SIZE` messages.
pub const PAGE_SIZE: usize = 100;

/// A run of consecutive messages of one conversation, oldest first, at most [`PAGE_SIZE`] of them. New
/// messages go into the last page; older ones from the archive come as new pages in front (see
/// [`super::archive`], which also keys the pages so that prepending one leaves the others' rows alone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessagePage {
    pub messages: Vec<ChatMessage>,
}

impl MessagePage {
    /// A new page holding `first`, with room for a whole page.
    pub fn starting_with(first: ChatMessage) -> MessagePage {
        let mut messages = Vec::with_capacity(PAGE_SIZE);
        messages.push(first);
        MessagePage { messages }
    }

    /// The message with sequence number `seq` (pages are in `seq` order).
    pub fn get(&self, seq: u64) -> Option<&ChatMessage> {
        self.messages.binary_search_by_key(&seq, |m| m.seq).ok().map(|i| &self.messages[i])
    }

    /// The rows of this page that can change (our own messages, errors), as `(seq, state)`.
    pub fn states(&self) -> Vec<(u64, RowState)> {
        self.messages.iter().filter(|m| m.from_me || m.error.is_some()).map(|m| (m.seq, m.row_state())).collect()
    }
}

/// Where the message with sequence number `seq` is: `(page, index in page)`. Pages hold increasing `seq`s.
pub fn position(pages: &[MessagePage], seq: u64) -> Option<(usize, usize)> {
    let page = pages.partition_point(|p| p.messages.last().is_some_and(|m| m.seq < seq));
    let index = pages.get(page)?.messages.binary_search_by_key(&seq, |m| m.seq).ok()?;
    Some((page, index))
}

/// XEP-0333: a `displayed` marker for our message at `(page, index)` means it and every one before it was
/// seen. Marks them read, walking back until one that already is: everything before a read message was marked
/// read with it, so each message is walked over about once however many markers arrive (a marker for a message
/// already read costs nothing). Pending and failed ones are left as they are. Whether anything changed.
pub fn read_up_to(pages: &mut [MessagePage], page: usize, index: usize) -> bool {
    let mut changed = false;
    let mut end = index + 1;
    for p in (0..=page).rev() {
        let messages = &mut pages[p].messages;
        let end = std::mem::replace(&mut end, usize::MAX).min(messages.len());
        for m in messages[..end].iter_mut().rev().filter(|m| m.from_me && m.error.is_none()) {
            match m.delivery {
                Some(Delivery::Read) => return changed,
                Some(Delivery::Sending | Delivery::Sent | Delivery::Delivered) => changed |= m.advance(Delivery::Read),
                _ => {}
            }
        }
    }
    changed
}

/// How many messages the pages hold.
pub fn message_count(pages: &[MessagePage]) -> usize {
    pages.iter().map(|p| p.messages.len()).sum()
}

/// The newest message.
pub fn last_message(pages: &[MessagePage]) -> Option<&ChatMessage> {
    pages.last().and_then(|p| p.messages.last())
}

/// The page a new message goes into: the last one while it has room; `None` when a new page is needed.
pub fn page_with_room(pages: &[MessagePage]) -> Option<usize> {
    pages.last().filter(|p| p.messages.len() < PAGE_SIZE).map(|_| pages.len() - 1)
}

/// Whether the transcript keeps scrolling to new messages after a scroll to `top` (from `previous_top`), with
/// `distance_to_bottom` left below the view: yes within `slack` of the bottom; no once the reader has scrolled
/// up (towards older messages) away from it; otherwise as before. A smooth scroll of ours down to new messages
/// passes through positions away from the bottom while more messages arrive; moving down, it never stops the
/// following.
pub fn follows_after_scroll(following: bool, previous_top: i32, top: i32, distance_to_bottom: i32, slack: i32) -> bool {
    if distance_to_bottom <= slack {
        true
    } else if top < previous_top {
        false
    } else {
        following
    }
}

/// Whether a message from `from` adds to its unread count: it does unless its conversation is open and the
/// page is in front of the person.
pub fn counts_as_unread(selected: Option<&BareJid>, from: &BareJid, page_visible: bool) -> bool {
    !(page_visible && selected == Some(from))
}

/// How many characters of a message a desktop notification shows.
pub const ALERT_PREVIEW_CHARS: usize = 100;

/// The text of a desktop notification for a message: its start (a `/me` action as "* Bob waves"), on one
/// line, at most [`ALERT_PREVIEW_CHARS`] characters (then "…"). Always text: the notification shows no markup.
pub fn alert_text(body: &str, is_me_action: bool, sender: &str) -> String {
    let line: String = body.trim().chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
    let text = if is_me_action { format!("* {sender} {line}") } else { line };
    match text.char_indices().nth(ALERT_PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text,
    }
}

/// Upper-cases the first letter, for error texts the core words as sentence fragments.
pub fn sentence(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => {
            let mut out = upper_case(first);
            out.push_str(chars.as_str());
            if !out.ends_with(['.', '!', '?']) {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

/// One of twelve avatar hues, stable for an address.
pub fn hue_class(jid: &BareJid) -> String {
    let h = jid.to_string().bytes().fold(2166136261u32, |h, b| (h ^ u32::from(b)).wrapping_mul(16777619));
    format!("hue-{}", h % 12)
}

/// The letter shown in an avatar.
pub fn initial(name: &str) -> String {
    name.chars().find(|c| c.is_alphanumeric()).map(upper_case).unwrap_or_else(|| "?".into())
}

thread_local! {
    /// Combining marks, as left by NFD: "É" becomes "E" + U+0301, and the mark is dropped.
    static MARKS: js_sys::RegExp = js_sys::RegExp::new(r"\p{M}+", "gu");
}

/// The form of a name used to sort and filter: lower case, without accents ("ÉMILE" → "emile"), so that
/// "Émile" sorts among the e's and typing "emi" finds it. ASCII is done here; anything else by the browser
/// (`normalize("NFD")`, a `\p{M}` RegExp, `toLowerCase`), so the wasm carries no Unicode tables for it.
pub fn fold_case(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let decomposed = js_sys::JsString::from(s).normalize("NFD");
    MARKS.with(|marks| decomposed.replace_by_pattern(marks, "")).to_lower_case().into()
}

/// One character upper-cased (it may become several: "ß" → "SS"), by the browser outside ASCII.
pub fn upper_case(c: char) -> String {
    if c.is_ascii() {
        c.to_ascii_uppercase().into()
    } else {
        let mut buf = [0u8; 4];
        js_sys::JsString::from(&*c.encode_utf8(&mut buf)).to_upper_case().into()
    }
}
