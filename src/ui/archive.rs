//! One-to-one history from the server's archive (XEP-0313) in the transcripts: the core's archive events
//! applied to the store, and the commands that ask for more.
//!
//! - **Catch-up** pages (at login) land in their conversations by archive time: after what is shown, or, when
//!   live messages came first, in their place among them (the rows after that point are numbered again, so the
//!   transcript stays in order). Messages from them newer than our last message there count as unread (unless
//!   the conversation is open in front of the person). Ours come as sent (from this device or another).
//! - **Scroll-back** ([`load_older`]): one page before the oldest message held, put in front as new pages (the
//!   others keep their keys: nothing already shown is built again). [`Transcript`] says whether a page is on its
//!   way, whether the start of the conversation was reached, and why the last one failed.
//! - **Gaps**: a range the archive has and this device does not is kept as a row after the message before it
//!   (never a continuous transcript across it); its button asks for it ([`fill_gap`]). A gap across the whole
//!   archive (the catch-up stopped early) is filled at once, a page at a time ([`follow_up`]).
//! - **A bounded window**: a conversation holds at most [`MAX_HELD`] messages. Past that, new messages push the
//!   oldest pages out (scroll-back fetches them again), and scroll-back pushes the newest out (a row at the
//!   bottom brings them back: [`show_newest`]).
//! - The same message twice (live and archived, or in two pages) is shown once: the core leaves out what it
//!   showed; here, by its archive id and by our own message id.
//!
//! Stored history: [`load_older`] is the one place a conversation asks for older messages; it reads this
//! device's store first (`persist::older`, a page of 50 at a time, offline too), then the archive from the
//! oldest stored message on.
//!
//! What this module does not do: rooms' archives (pages whose archive is not our account go to
//! [`room_page`], a hook for the group chat UI), store anything, or speak XMPP (the core does).

use std::collections::HashSet;

use leptos::prelude::*;
use wasm_bindgen_futures::spawn_local;

use super::model::{self, ChatMessage, Delivery, MessagePage, PAGE_SIZE};
use super::state::{self, AppState, Conversation, SessionHandle, Stamp, name_of, next_seq, prev_seq};
use crate::storage::PagePoint;
use crate::transport::TransportEvent;
use crate::xmpp::client::{ArchiveError, ArchivePage, ArchiveQuery, ArchivedMessage, Gap, GapEnd, HistoryPoint};
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::message::split_me;
use crate::xmpp::{Command, CommandError, Event};

/// Messages a conversation holds at most (the rest stays in the archive).
pub const MAX_HELD: usize = 1_000;
/// Gap rows a conversation keeps at most; past this, the messages before the oldest gap are let go.
pub const MAX_GAPS: usize = 16;
/// How long a query refused as busy waits before it is asked again.
const BUSY_RETRY: std::time::Duration = std::time::Duration::from_millis(700);

/// A conversation's history as far as the archive goes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    /// The key of the first page (`pages[0]`); page `i` is keyed `first_page + i` (wrapping). Putting pages in
    /// front lowers it, so the pages already shown keep their keys.
    pub first_page: u64,
    /// A page of older messages is on its way.
    pub loading: bool,
    /// The start of the conversation was reached (nothing older in the archive).
    pub complete: bool,
    /// Why the last scroll-back failed, in words.
    pub error: Option<String>,
    /// Where the next scroll-back reads back from (the last page's oldest result), if known.
    pub before: Option<HistoryPoint>,
    /// Ranges not held, each after a message of the transcript.
    pub gaps: Vec<GapRow>,
    /// Newer messages were let go to bound the window (after a long scroll-back).
    pub newer_dropped: bool,
    /// Scroll-back has read everything this device's store holds of the conversation (or there is no store):
    /// older pages come from the archive.
    pub store_done: bool,
    /// Where scroll-back reads the store back from next (the oldest stored message read so far).
    pub store_point: Option<PagePoint>,
}

/// A gap in a transcript, shown after the message `after_seq` (`None`: before every message held).
#[derive(Debug, Clone, PartialEq)]
pub struct GapRow {
    pub gap: Gap,
    pub after_seq: Option<u64>,
    pub loading: bool,
    pub error: Option<String>,
}

/// The key of a page at `index`.
pub fn page_key(t: &Transcript, index: usize) -> u64 {
    t.first_page.wrapping_add(index as u64)
}

/// The index of the page keyed `key`.
pub fn page_index(t: &Transcript, key: u64) -> usize {
    key.wrapping_sub(t.first_page) as usize
}

/// Reads the conversation with `jid` (untracked: these are event handlers).
fn conversation<T>(store: AppState, jid: &BareJid, f: impl FnOnce(&Conversation) -> T) -> Option<T> {
    store.conversations.try_with_untracked(|c| c.get(jid).map(f)).flatten()
}

/// The gap row after the message `seq`.
pub fn gap_after(c: &Conversation, seq: u64) -> Option<&GapRow> {
    c.archive.gaps.iter().find(|g| g.after_seq == Some(seq))
}

/// The page keyed `key` of a conversation.
pub fn page_of(c: &Conversation, key: u64) -> Option<&MessagePage> {
    c.pages.get(page_index(&c.archive, key))
}

// ---- events -------------------------------------------------------------------------------------------------

/// `ArchivePage`: its messages go into their conversations.
pub fn page(store: AppState, page: ArchivePage) {
    let Some(account) = store.account.get_untracked() else { return };
    if page.archive != account {
        return room_page(store, page);
    }
    let catching_up = page.query == ArchiveQuery::CatchUp;
    // One page may hold several conversations (catch-up, a whole-archive gap): each gets its part, in order.
    let mut parts: Vec<(BareJid, Vec<ArchivedMessage>)> = Vec::new();
    for m in page.messages {
        match parts.iter_mut().find(|(w, _)| *w == m.with) {
            Some((_, list)) => list.push(m),
            None => parts.push((m.with.clone(), vec![m])),
        }
    }
    if let ArchiveQuery::Older { with } = &page.query
        && !parts.iter().any(|(w, _)| w == with)
    {
        parts.push((with.clone(), Vec::new()));
    }
    let own = state::own_name(&account);
    for (with, messages) in parts {
        let older = matches!(&page.query, ArchiveQuery::Older { with: w } if *w == with);
        if !state::admit(store, &with) {
            continue;
        }
        let sender = name_of(store, &with);
        let rows: Vec<ChatMessage> = messages.into_iter().filter_map(|m| row(store, m, &own, &sender)).collect();
        place(store, &with, rows, catching_up, older);
        if older {
            store.update_conversation(&with, |c| {
                let t = &mut c.archive;
                t.loading = false;
                t.error = None;
                t.complete = page.complete;
                if page.oldest.is_some() {
                    t.before = page.oldest.clone();
                }
            });
        }
    }
}

/// Pages of a room's archive: for the group chat UI (not shown here).
pub fn room_page(_store: AppState, _page: ArchivePage) {}

/// `ArchiveGap`: a range of one conversation gets its row; a gap across the whole archive is filled at once
/// ([`follow_up`] asked for it already).
pub fn gap(store: AppState, gap: Gap) {
    let Some(with) = gap.with.clone() else { return };
    if store.account.with_untracked(|a| a.as_ref() != Some(&gap.archive)) {
        return;
    }
    state::ensure_conversation(store, &with);
    store.update_conversation(&with, |c| add_gap(store, &with, c, gap));
}

/// `GapFilled`: the gap's row now stands for what is left of it (or goes).
pub fn gap_filled(store: AppState, gap: Gap, rest: Option<Gap>) {
    let Some(with) = gap.with.clone() else { return };
    store.update_conversation(&with, |c| {
        c.archive.gaps.retain(|g| g.gap != gap);
        if let Some(rest) = rest {
            add_gap(store, &with, c, rest);
        }
    });
}

/// `ArchiveFailed`: the loading row or the gap's row says why, with a way to try again. A busy archive is
/// asked again a moment later, without a word.
pub fn failed(store: AppState, query: ArchiveQuery, error: ArchiveError) {
    let text = model::sentence(&error.describe());
    match query {
        ArchiveQuery::Older { with } => {
            if error == ArchiveError::Busy {
                return; // asked again ([`follow_up`]), the loading row stays
            }
            store.update_conversation(&with, |c| {
                c.archive.loading = false;
                c.archive.error = Some(text);
            });
        }
        ArchiveQuery::Gap { gap, .. } => {
            let Some(with) = gap.with.clone() else { return };
            store.update_conversation(&with, |c| {
                if let Some(row) = c.archive.gaps.iter_mut().find(|g| g.gap == gap) {
                    row.loading = false;
                    row.error = Some(text);
                }
            });
        }
        ArchiveQuery::CatchUp => {
            store.catching_up.set(false);
            if !matches!(error, ArchiveError::ConnectionLost | ArchiveError::Unsupported) {
                state::notify(store, state::NoticeKind::Error, format!("Could not load missed messages: {text}"));
            }
        }
        ArchiveQuery::RoomCatchUp { room } => {
            if !matches!(error, ArchiveError::ConnectionLost | ArchiveError::Unsupported) {
                let name = crate::ui::rooms::model::room_title(&room, None);
                state::notify(
                    store,
                    state::NoticeKind::Error,
                    format!("Could not load what was said in {name}: {text}"),
                );
            }
        }
    }
}

/// What the transcripts ask the session after an event ([`follow_up`]).
pub enum FollowUp {
    /// The next page of a gap across the whole archive.
    Fill(Gap),
    /// A scroll-back refused as busy, asked again a moment later.
    Older(BareJid),
    /// A scroll-back page with nothing to show (receipts, markers: the archive keeps those too): the next one,
    /// at once, since the transcript did not move and scrolling up again would not ask.
    More(BareJid),
}

/// What to ask the session right after `event`, once it is applied ([`run`]).
pub fn follow_up(event: &TransportEvent) -> Option<FollowUp> {
    match event {
        TransportEvent::Core(Event::ArchiveGap(gap) | Event::GapFilled { rest: Some(gap), .. }) => {
            gap.with.is_none().then(|| FollowUp::Fill(gap.clone()))
        }
        TransportEvent::Core(Event::ArchiveFailed {
            query: ArchiveQuery::Older { with },
            error: ArchiveError::Busy,
        }) => Some(FollowUp::Older(with.clone())),
        TransportEvent::Core(Event::ArchivePage(ArchivePage {
            query: ArchiveQuery::Older { with },
            messages,
            complete: false,
            ..
        })) if messages.iter().all(|m| m.message.body(None).is_none()) => Some(FollowUp::More(with.clone())),
        _ => None,
    }
}

/// Asks what [`follow_up`] said.
pub fn run(store: AppState, session: SessionHandle, follow_up: FollowUp) {
    match follow_up {
        FollowUp::Fill(gap) => send(store, session, Command::FillGap { gap, from: GapEnd::Older }),
        FollowUp::Older(with) => retry_older(store, session, with),
        FollowUp::More(with) => load_older(store, session, &with),
    }
}

/// Sends an archive command; a busy archive gets it again a moment later.
fn send(store: AppState, session: SessionHandle, command: Command) {
    if let Err(CommandError::Archive(ArchiveError::Busy)) = session.send(command.clone()) {
        set_timeout(
            move || {
                if store.account.try_get_untracked().flatten().is_some() {
                    send(store, session, command)
                }
            },
            BUSY_RETRY,
        );
    }
}

// ---- commands from the transcript -------------------------------------------------------------------------

/// Loads older messages of the conversation with `with` (the transcript's top was reached, or it has none): the
/// one place that asks for them. Nothing when a page is on its way or the start was reached.
pub fn load_older(store: AppState, session: SessionHandle, with: &BareJid) {
    let (busy, done, store_done, store_point) = conversation(store, with, |c| {
        (c.archive.loading, c.archive.complete, c.archive.store_done, c.archive.store_point)
    })
    .unwrap_or((false, false, false, None));
    if busy || done {
        return;
    }
    if store_done {
        return ask_older(store, session, with.clone());
    }
    // This device's store first (what it holds needs no round trip and works offline), then the archive.
    state::ensure_conversation(store, with);
    store.update_conversation(with, |c| c.archive.loading = true);
    let with = with.clone();
    spawn_local(async move {
        let page = super::persist::older(&with, store_point, STORE_PAGE).await;
        let Some(account) = store.account.get_untracked() else { return };
        let own = state::own_name(&account);
        let (rows, complete, oldest) = match page {
            Ok(page) => {
                let oldest = page.messages.first().map(|m| (m.point(), m.message.stanza_id.clone(), m.message.time));
                let held = conversation(store, &with, held_ids).unwrap_or_default();
                let rows: Vec<ChatMessage> = page
                    .messages
                    .iter()
                    .filter(|m| !m.message.id.as_ref().is_some_and(|id| held.contains(id)))
                    .map(|m| {
                        let shown = super::persist::shown_state(&with, &m.message);
                        super::persist::chat_message(store, &own, &m.message, &shown)
                    })
                    .collect();
                (rows, page.complete || page.messages.is_empty(), oldest)
            }
            // No store open (or it failed): the archive it is.
            Err(_) => (Vec::new(), true, None),
        };
        let shown = !rows.is_empty();
        let to_archive = !shown && complete;
        store.update_conversation(&with, |c| {
            let t = &mut c.archive;
            // Going on to the archive: the loading row stays (no flash of an empty transcript between the two).
            t.loading = to_archive;
            t.store_done = complete;
            if let Some((point, stanza_id, time)) = &oldest {
                t.store_point = Some(*point);
                // The archive reads on from the oldest stored message.
                t.before = Some(HistoryPoint { id: stanza_id.clone(), unix_ms: Some(time.max(&0).unsigned_abs()) });
            }
        });
        if shown {
            place(store, &with, rows, false, true);
        } else if to_archive {
            // Nothing (more) stored: straight on to the archive.
            ask_older(store, session, with);
        } else {
            // A stored page of messages shown already (painted at start, or live): read on, from its oldest.
            load_older(store, session, &with);
        }
    });
}

/// Stored messages read per scroll-back step (the archive's pages are 50 too).
const STORE_PAGE: usize = 50;

/// The message ids the conversation shows (its window is bounded, so this is too): a stored page read after
/// the same messages were painted or came live leaves them out.
fn held_ids(c: &Conversation) -> HashSet<String> {
    c.pages.iter().flat_map(|p| &p.messages).filter_map(|m| m.id.clone()).collect()
}

fn ask_older(store: AppState, session: SessionHandle, with: BareJid) {
    let Some(before) = conversation(store, &with, |c| {
        c.archive.before.clone().or_else(|| c.pages.first()?.messages.first().map(point_of))
    }) else {
        return;
    };
    if before.is_none() && store.catching_up.get_untracked() {
        // Nothing held: the newest page would be the catch-up's own range, and two streams of one range cannot
        // be merged by time (archives stamp whole seconds). The catch-up brings the newest; the transcript asks
        // again when it is over (it watches `catching_up`).
        if conversation(store, &with, |c| c.archive.loading) == Some(true) {
            store.update_conversation(&with, |c| c.archive.loading = false);
        }
        return;
    }
    let result = session.send(Command::LoadOlder { with: with.clone(), before });
    let error = match &result {
        Ok(()) | Err(CommandError::Archive(ArchiveError::Busy)) => None,
        // Offline: asked again when the session is back (the transcript watches the connection).
        Err(CommandError::NotOnline) => {
            store.update_conversation(&with, |c| c.archive.loading = false);
            return;
        }
        Err(e) => Some(model::sentence(&format!("could not load earlier messages: {e}"))),
    };
    let busy = result.is_err() && error.is_none();
    store.update_conversation(&with, |c| {
        c.archive.loading = error.is_none();
        c.archive.error = error;
    });
    if busy {
        retry_older(store, session, with);
    }
}

fn retry_older(store: AppState, session: SessionHandle, with: BareJid) {
    set_timeout(
        move || {
            if store.conversations.try_with_untracked(|c| c.get(&with).is_some_and(|c| c.archive.loading)) == Some(true)
            {
                ask_older(store, session, with);
            }
        },
        BUSY_RETRY,
    );
}

/// Asks for the gap after the message `after_seq` of the conversation with `with` (its gap row's button).
pub fn fill_gap(store: AppState, session: SessionHandle, with: &BareJid, after_seq: Option<u64>) {
    let Some(gap) =
        conversation(store, with, |c| c.archive.gaps.iter().find(|g| g.after_seq == after_seq).map(|g| g.gap.clone()))
            .flatten()
    else {
        return;
    };
    let error = match session.send(Command::FillGap { gap: gap.clone(), from: GapEnd::Older }) {
        Ok(()) => None,
        Err(CommandError::Archive(ArchiveError::Busy)) => {
            Some("The history is still loading: try again in a moment.".into())
        }
        Err(e) => Some(model::sentence(&format!("could not load these messages: {e}"))),
    };
    store.update_conversation(with, |c| {
        if let Some(row) = c.archive.gaps.iter_mut().find(|g| g.gap == gap) {
            row.loading = error.is_none();
            row.error = error;
        }
    });
}

/// Lets go of what the conversation with `with` holds and loads its newest page (after a long scroll-back).
pub fn show_newest(store: AppState, session: SessionHandle, with: &BareJid) {
    store.update_conversation(with, forget_transcript);
    ask_newest(store, session, with.clone());
}

fn ask_newest(store: AppState, session: SessionHandle, with: BareJid) {
    let result = session.send(Command::LoadOlder { with: with.clone(), before: None });
    store.update_conversation(&with, |c| c.archive.loading = result.is_ok());
    if let Err(CommandError::Archive(ArchiveError::Busy)) = result {
        set_timeout(move || ask_newest(store, session, with), BUSY_RETRY);
    }
}

/// Empties a transcript (its history starts over from the newest message).
pub fn forget_transcript(c: &mut Conversation) {
    let first_page = page_key(&c.archive, c.pages.len() + 1);
    c.pages.clear();
    c.archive = Transcript { first_page, ..Transcript::default() };
}

// ---- placing messages ---------------------------------------------------------------------------------------

/// A place in the archive to read back from: the message's archive id, else its time.
fn point_of(m: &ChatMessage) -> HistoryPoint {
    HistoryPoint { id: m.archive_id.clone(), unix_ms: Some(m.unix_ms) }
}

/// The transcript row of an archived message (`None`: nothing to show, or ours shown already).
fn row(store: AppState, m: ArchivedMessage, own: &str, their_name: &str) -> Option<ChatMessage> {
    let (body, is_me_action) = split_me(m.message.body(None)?);
    let id = if m.outgoing { m.message.origin_id.clone().or(m.message.id.clone()) } else { m.message.id.clone() };
    if m.outgoing
        && let Some(id) = &id
        && store.own_ids.with_value(|ids| ids.contains_key(id))
    {
        // Sent from here and shown already: the archive having it says the server has it.
        super::outbox::advance(store, None, id, Delivery::Sent);
        return None;
    }
    let stamp = match m.unix_ms {
        Some(ms) => Stamp::from_ms(ms),
        None => Stamp::from_delay(m.message.delay.as_deref()),
    };
    let sender = if m.outgoing { own } else { their_name };
    Some(ChatMessage {
        id,
        from_me: m.outgoing,
        archive_id: Some(m.id),
        is_me_action,
        delivery: m.outgoing.then_some(Delivery::Sent),
        ..ChatMessage::at(stamp, sender.to_owned(), body)
    })
}

/// Puts `rows` (oldest first, as the archive gives them) into the conversation with `with`, each where its time says, leaving out those
/// it shows already. `unread`: theirs newer than our last message there count as unread. `older`: a
/// scroll-back page (the window then lets the newest go, not the oldest).
fn place(store: AppState, with: &BareJid, mut rows: Vec<ChatMessage>, unread: bool, older: bool) {
    state::ensure_conversation(store, with);
    let mut new_unread = 0u32;
    let mut own_moved: Vec<(String, u64)> = Vec::new();
    let mut dropped_own: Vec<String> = Vec::new();
    store.update_conversation(with, |c| {
        // What is shown already (the window is bounded, so this is too).
        // (The core left out what it showed already, live or archived; this is the UI's own check, by archive id.)
        let held: HashSet<&str> =
            c.pages.iter().flat_map(|p| &p.messages).filter_map(|m| m.archive_id.as_deref()).collect();
        rows.retain(|m| !m.archive_id.as_deref().is_some_and(|a| held.contains(a)));
        drop(held);
        if rows.is_empty() {
            return;
        }
        if unread && !older {
            // Our last message there (held, or in these rows) says the person saw what came before it.
            let our_last = c.pages.iter().rev().flat_map(|p| p.messages.iter().rev()).find(|m| m.from_me);
            let ours_here = rows.iter().filter(|m| m.from_me).map(|m| m.unix_ms).max();
            let seen = our_last.map(|m| m.unix_ms).max(ours_here).unwrap_or(0);
            new_unread = rows.iter().filter(|m| !m.from_me && m.unix_ms > seen).count() as u32;
        }
        let count = model::message_count(&c.pages);
        let first_time = rows[0].unix_ms;
        let last_time = rows[rows.len() - 1].unix_ms;
        let oldest_held = c.pages.first().and_then(|p| p.messages.first()).map(|m| m.unix_ms);
        // Archives stamp whole seconds, so times tie: a scroll-back page goes before a held message of the same
        // time, anything else (the catch-up, a gap) after it.
        if oldest_held.is_some_and(|t| last_time < t || (older && last_time == t)) {
            prepend(c, rows);
        } else {
            // The first held message newer than the first row: everything from there on is laid out again.
            let at = flat_position(&c.pages, |m| m.unix_ms > first_time);
            if at == count {
                if c.archive.newer_dropped {
                    return;
                }
                for m in rows {
                    append(c, m, &mut own_moved);
                }
            } else {
                relayout(c, at, rows, &mut own_moved);
            }
        }
        bound_window(c, older, &mut dropped_own);
    });
    store.own_ids.update_value(|ids| {
        for id in dropped_own {
            ids.remove(&id);
        }
        for (id, seq) in own_moved {
            ids.insert(id, (with.clone(), seq));
        }
    });
    if new_unread > 0 && model::counts_as_unread(store.selected.get_untracked().as_ref(), with, state::page_visible()) {
        store.update_contact(with, |c| {
            c.unread += new_unread;
            true
        });
    }
}

/// The index (over all pages) of the first message for which `after` holds, the messages being in time order.
fn flat_position(pages: &[MessagePage], after: impl Fn(&ChatMessage) -> bool) -> usize {
    let page = pages.partition_point(|p| p.messages.last().is_none_or(|m| !after(m)));
    let before: usize = pages[..page].iter().map(|p| p.messages.len()).sum();
    before + pages.get(page).map_or(0, |p| p.messages.partition_point(|m| !after(m)))
}

fn append(c: &mut Conversation, mut m: ChatMessage, own: &mut Vec<(String, u64)>) {
    m.seq = next_seq();
    if let (true, Some(id)) = (m.from_me, &m.id) {
        own.push((id.clone(), m.seq));
    }
    m.continued = model::last_message(&c.pages).is_some_and(|prev| model::continues(prev, &m));
    match model::page_with_room(&c.pages) {
        Some(page) => c.pages[page].messages.push(m),
        None => c.pages.push(MessagePage::starting_with(m)),
    }
}

/// Older messages in front of the transcript, as pages of their own (the others keep their keys and rows).
fn prepend(c: &mut Conversation, mut rows: Vec<ChatMessage>) {
    for m in rows.iter_mut().rev() {
        m.seq = prev_seq();
    }
    for i in 1..rows.len() {
        let (a, b) = rows.split_at_mut(i);
        b[0].continued = model::continues(&a[i - 1], &b[0]);
    }
    let mut pages: Vec<MessagePage> = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        pages.push(MessagePage { messages: rows.by_ref().take(PAGE_SIZE).collect() });
    }
    c.archive.first_page = c.archive.first_page.wrapping_sub(pages.len() as u64);
    c.pages.splice(0..0, pages);
}

/// Merges `rows` into the transcript from message `at` on: that part is numbered and paged again (its rows are
/// built again), and our messages and gap rows there follow their new numbers.
fn relayout(c: &mut Conversation, at: usize, rows: Vec<ChatMessage>, own: &mut Vec<(String, u64)>) {
    let mut page = 0;
    let mut skipped = 0;
    while page < c.pages.len() && skipped + c.pages[page].messages.len() <= at {
        skipped += c.pages[page].messages.len();
        page += 1;
    }
    let mut tail: Vec<ChatMessage> = c.pages.drain(page..).flat_map(|p| p.messages).collect();
    let kept: Vec<ChatMessage> = tail.drain(..at - skipped).collect();
    if !kept.is_empty() {
        c.pages.push(MessagePage { messages: kept });
    }
    let mut merged = Vec::with_capacity(tail.len() + rows.len());
    let (mut a, mut b) = (tail.into_iter().peekable(), rows.into_iter().peekable());
    while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
        merged.push(if y.unix_ms < x.unix_ms { b.next() } else { a.next() }.unwrap_or_else(|| unreachable!()));
    }
    merged.extend(a);
    merged.extend(b);
    append_again(c, merged, own);
}

/// Appends `messages` with new numbers; gap rows after them follow (new rows come numbered 0).
fn append_again(c: &mut Conversation, messages: Vec<ChatMessage>, own: &mut Vec<(String, u64)>) {
    for m in messages {
        let old = m.seq;
        append(c, m, own);
        let new = model::last_message(&c.pages).map_or(0, |n| n.seq);
        for g in c.archive.gaps.iter_mut().filter(|g| old != 0 && g.after_seq == Some(old)) {
            g.after_seq = Some(new);
        }
    }
}

/// Keeps at most [`MAX_HELD`] messages: after a scroll-back the newest pages go, otherwise the oldest.
fn bound_window(c: &mut Conversation, older: bool, dropped_own: &mut Vec<String>) {
    let mut count = model::message_count(&c.pages);
    let mut forget = |p: MessagePage, c: &mut Conversation| {
        for m in p.messages {
            if let (true, Some(id)) = (m.from_me, m.id) {
                dropped_own.push(id);
            }
            c.archive.gaps.retain(|g| g.after_seq != Some(m.seq));
        }
    };
    while count > MAX_HELD && c.pages.len() > 1 {
        let page = if older {
            c.archive.newer_dropped = true;
            c.pages.pop()
        } else {
            c.archive.first_page = c.archive.first_page.wrapping_add(1);
            c.archive.complete = false;
            c.archive.before = None;
            Some(c.pages.remove(0))
        };
        let Some(page) = page else { break };
        count -= page.messages.len();
        forget(page, c);
    }
}

/// Gives `gap` its row after the newest message held before it.
fn add_gap(store: AppState, with: &BareJid, c: &mut Conversation, gap: Gap) {
    let after = &gap.after;
    let by_id = after.id.as_deref().and_then(|id| {
        c.pages.iter().flat_map(|p| &p.messages).find(|m| m.archive_id.as_deref() == Some(id)).map(|m| m.seq)
    });
    let after_seq = by_id.or_else(|| {
        let t = after.unix_ms?;
        let at = flat_position(&c.pages, |m| m.unix_ms > t);
        c.pages.iter().flat_map(|p| &p.messages).nth(at.checked_sub(1)?).map(|m| m.seq)
    });
    // Before every message held: no hole to show, scroll-back reads the archive on from the first one.
    if after_seq.is_none() {
        return;
    }
    c.archive.gaps.retain(|g| g.after_seq != after_seq);
    c.archive.gaps.push(GapRow { gap, after_seq, loading: false, error: None });
    if c.archive.gaps.len() > MAX_GAPS {
        // Too many holes: what lies before the oldest one is let go (scroll-back reads it again, in one piece).
        let oldest = c.archive.gaps.iter().filter_map(|g| g.after_seq).min();
        c.archive.gaps.retain(|g| g.after_seq != oldest);
        if let Some(oldest) = oldest {
            let at = flat_position(&c.pages, |m| m.seq > oldest);
            let mut own = Vec::new();
            let rest: Vec<ChatMessage> = c.pages.drain(..).flat_map(|p| p.messages).skip(at).collect();
            c.archive.first_page = c.archive.first_page.wrapping_add(1 << 20);
            c.archive.complete = false;
            c.archive.before = None;
            append_again(c, rest, &mut own);
            store.own_ids.update_value(|ids| {
                for (id, seq) in own {
                    ids.insert(id, (with.clone(), seq));
                }
            });
        }
    }
}
