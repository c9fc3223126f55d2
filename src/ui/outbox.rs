//! Our own messages from Send to Read: the outbox, and each message's state.
//!
//! ```text
//!  Send ──▶ outbox (Pending) ──flush, in order──▶ session (Sending) ──MessageAcked──▶ Sent ──Receipt──▶ Delivered
//!             ▲    │ Cancel: failed, never sent         │                                     Displayed ──▶ Read
//!             └────┼── TransportEvent::Unsent ◀──────────┘ (the session ended with messages the server never confirmed)
//!                  └── a refusal in words (too long, …): failed
//! ```
//!
//! The composer always takes a message: it shows in the transcript at once, and goes to the session right away
//! when one is online and nothing waits before it; otherwise it waits in [`AppState::outbox`] ("Not sent yet",
//! with the reason in words), in order. [`flush`] hands the outbox to the session oldest first when it comes
//! online, after each acknowledgement (a session with [`CommandError::Backlog`] takes no more for a while), and
//! after each Send. A message is in the outbox or in the session (which carries it across reconnects and
//! resends it after a failed resumption), never both: the session gives back what it still owned when it
//! ends for good (`Unsent`), and those go back to the front of the outbox.
//!
//! The outbox is plain data (an id per entry, in order) so that a store can keep it across reloads; until one
//! does, leaving the page with messages in it or in the session asks first ([`AppState::has_unsent`]).
//!
//! States come from the core's events by message id. [`AppState::own_ids`] finds the row of an id without a
//! scan, and a receipt or marker counts only from the contact of that conversation. What this module does not
//! do: render (the transcript's rows show [`Delivery`]), or decide whether to send receipts (the core does).

use std::collections::HashMap;

use leptos::prelude::*;

use super::model::{self, ChatMessage, Delivery, OutboxEntry};
use super::state::{self, AppState, SessionHandle, Stamp, next_seq};
use crate::xmpp::client::PendingMessage;
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::message::split_me;
use crate::xmpp::{Command, CommandError};

/// What the person sees on a message the person cancelled.
pub const CANCELLED: &str = "Cancelled: not sent.";

/// Sends `body` to `to` from the composer: at once when a session can take it and nothing waits before it,
/// else into the outbox. The message shows in the transcript either way. `Err` (in words) only when it can
/// never be sent as it is (too long, …): then nothing is shown or kept, and the composer keeps the text.
pub fn send(store: AppState, session: SessionHandle, to: &BareJid, body: String) -> Result<(), String> {
    let id = crate::transport::message_id();
    if store.outbox.with_untracked(Vec::is_empty) {
        match session.send(Command::SendMessage { to: to.clone(), body: body.clone(), id: id.clone() }) {
            Ok(()) => {
                show_own(store, to, Some(id), &body, Delivery::Sending);
                return Ok(());
            }
            Err(CommandError::NotOnline | CommandError::Backlog { .. }) => {}
            Err(e) => return Err(model::sentence(&e.to_string())),
        }
    }
    // Checked here too, so a message typed offline cannot fail later for this: the session's own limit is
    // the frame size, a little more than the body.
    if body.len() > crate::transport::MAX_FRAME - 4096 {
        let e = CommandError::TooLarge { size: body.len(), max: crate::transport::MAX_FRAME };
        return Err(model::sentence(&e.to_string()));
    }
    show_own(store, to, Some(id.clone()), &body, Delivery::Pending);
    let entry = OutboxEntry { id, to: to.clone(), body, created_ms: js_sys::Date::now() as u64 };
    store.outbox.update(|o| o.push(entry));
    flush(store, session);
    Ok(())
}

/// Hands the outbox to the session, oldest first, until it is empty or the session takes no more (not online,
/// or a backlog of unconfirmed messages). A message the session refuses for good (too long, …) fails in words.
pub fn flush(store: AppState, session: SessionHandle) {
    let mut taken = 0;
    let mut failed = Vec::new();
    let mut handed = Vec::new();
    store.outbox.with_untracked(|outbox| {
        for entry in outbox {
            let cmd = Command::SendMessage { to: entry.to.clone(), body: entry.body.clone(), id: entry.id.clone() };
            match session.send(cmd) {
                Ok(()) => handed.push(entry.id.clone()),
                Err(CommandError::NotOnline | CommandError::Backlog { .. }) => break,
                Err(e) => failed.push((entry.id.clone(), model::sentence(&format!("not sent: {e}")))),
            }
            taken += 1;
        }
    });
    if taken == 0 {
        return;
    }
    store.outbox.update(|o| {
        o.drain(..taken);
    });
    update_own(store, handed.iter().map(|id| (id.as_str(), None)), |m| {
        // Back from pending to sending: the only step that is not forward, so not through `advance`.
        if m.delivery == Some(Delivery::Pending) && m.error.is_none() {
            m.delivery = Some(Delivery::Sending);
            return true;
        }
        false
    });
    for (id, reason) in failed {
        fail(store, &id, None, reason);
    }
}

/// Takes a message out of the outbox (the person's "Cancel"); it stays in the transcript, marked as not sent.
/// Nothing happens to a message a session already took.
pub fn cancel(store: AppState, id: &str) {
    let queued = store.outbox.with_untracked(|o| o.iter().position(|e| e.id == id));
    if let Some(index) = queued {
        store.outbox.update(|o| {
            o.remove(index);
        });
        fail(store, id, None, CANCELLED.to_owned());
    }
}

/// `TransportEvent::Unsent`: the session is over and never had these confirmed by the server. They go back to
/// the front of the outbox (they are older than anything in it), pending again, to be sent with their own ids
/// by the next session (the recipient's client drops a second copy by its id). One the recipient already
/// confirmed (a receipt or marker came) is not sent again.
pub fn put_back(store: AppState, messages: Vec<PendingMessage>) {
    let mut entries = Vec::new();
    for PendingMessage { message, sent_unix_ms } in messages {
        let (Some(id), Some(to), Some(body)) = (message.id.clone(), message.to.as_ref(), message.body(None)) else {
            continue;
        };
        let to = to.bare().clone();
        let known = store.own_ids.with_value(|ids| ids.get(&id).cloned());
        let delivery = known.as_ref().and_then(|(with, seq)| {
            store.conversations.with_untracked(|c| {
                let pages = &c.get(with)?.pages;
                let (p, i) = model::position(pages, *seq)?;
                Some(pages[p].messages[i].delivery)
            })
        });
        match delivery {
            Some(Some(Delivery::Delivered | Delivery::Read)) => continue,
            Some(_) => {}
            // Not in the transcript (it never should be): shown now, so nothing leaves the outbox unseen.
            None => show_own(store, &to, Some(id.clone()), body, Delivery::Pending),
        }
        let created_ms = sent_unix_ms.unwrap_or_else(|| js_sys::Date::now() as u64);
        entries.push(OutboxEntry { id, to, body: body.to_owned(), created_ms });
    }
    if entries.is_empty() {
        return;
    }
    update_own(store, entries.iter().map(|e| (e.id.as_str(), None)), |m| {
        if m.delivery == Some(Delivery::Sending) {
            m.delivery = Some(Delivery::Pending);
            return true;
        }
        false
    });
    store.outbox.update(|o| {
        o.retain(|e| !entries.iter().any(|n| n.id == e.id));
        entries.append(o);
        *o = entries;
    });
}

/// `MessageAcked`, `Receipt`, `Displayed`: our message `id` moved on. `from`: the contact a receipt or marker
/// came from; it counts only for our message in the conversation with them.
pub fn advance(store: AppState, from: Option<&BareJid>, id: &str, to: Delivery) {
    if to == Delivery::Read {
        let Some(from) = from else { return };
        let Some((with, seq)) = own_row(store, id).filter(|(with, _)| with == from) else { return };
        store.conversations.maybe_update(|c| {
            let Some(pages) = c.get_mut(&with).map(|c| &mut c.pages) else { return false };
            model::position(pages, seq).is_some_and(|(p, i)| model::read_up_to(pages, p, i))
        });
        return;
    }
    update_own(store, [(id, from)], |m| m.advance(to));
}

/// `MessageError`: our message `id` to `with` bounced. `false` when there is no such message of ours.
pub fn bounced(store: AppState, with: &BareJid, id: Option<&str>, reason: String) -> bool {
    id.is_some_and(|id| fail(store, id, Some(with), reason))
}

/// Marks our message `id` as failed with `reason` (only in the conversation with `with`, when given).
fn fail(store: AppState, id: &str, with: Option<&BareJid>, reason: String) -> bool {
    let mut found = false;
    update_own(store, [(id, with)], |m| {
        found = true;
        m.error = Some(reason.clone());
        true
    });
    found
}

/// The conversation and row of our message `id`.
fn own_row(store: AppState, id: &str) -> Option<(BareJid, u64)> {
    store.own_ids.try_with_value(|ids| ids.get(id).cloned()).flatten()
}

/// Applies `f` to our messages with these ids (each only in the conversation with the given contact, if one
/// is given), in one change of the store; readers are notified only when `f` changed something.
fn update_own<'a>(
    store: AppState,
    ids: impl IntoIterator<Item = (&'a str, Option<&'a BareJid>)>,
    mut f: impl FnMut(&mut ChatMessage) -> bool,
) {
    let rows: Vec<(BareJid, u64)> = ids
        .into_iter()
        .filter_map(|(id, from)| own_row(store, id).filter(|(with, _)| from.is_none_or(|f| f == with)))
        .collect();
    if rows.is_empty() {
        return;
    }
    store.conversations.maybe_update(|c| {
        let mut changed = false;
        for (with, seq) in rows {
            let Some(pages) = c.get_mut(&with).map(|c| &mut c.pages) else { continue };
            if let Some((p, i)) = model::position(pages, seq) {
                changed |= f(&mut pages[p].messages[i]);
            }
        }
        changed
    });
}

/// Adds our message to the transcript of `to`, in state `delivery`, findable by its id.
pub fn show_own(store: AppState, to: &BareJid, id: Option<String>, body: &str, delivery: Delivery) {
    // Kept at once (pending): a page closed before the server confirmed it sends it again after the reload.
    if let (Delivery::Pending | Delivery::Sending, Some(id)) = (delivery, &id) {
        super::persist::on_send(to, id, body);
    }
    let (body, is_me_action) = split_me(body);
    let sender = store.account.with_untracked(|a| a.as_ref().map(state::own_name)).unwrap_or_else(|| "Me".into());
    let stamp = Stamp::now();
    state::push_message(
        store,
        to,
        ChatMessage {
            seq: next_seq(),
            id,
            from_me: true,
            is_me_action,
            delivery: Some(delivery),
            ..ChatMessage::at(stamp, sender, body)
        },
        None,
    );
}

/// The index behind [`AppState::own_ids`]: our message ids → (conversation, row `seq`).
pub type OwnIds = HashMap<String, (BareJid, u64)>;
