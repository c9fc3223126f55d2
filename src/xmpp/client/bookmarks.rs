//! Bookmarks in the session (XEP-0402): fetched once online, changed with `SetBookmark`/`RemoveBookmark`,
//! kept in step with our other devices through PEP notifications, and autojoin.
//!
//! Notifications are accepted only from our own bare JID (anyone else's is a forgery and dropped). The
//! session keeps the bookmarks it knows ([`MAX_BOOKMARKS`] at most) so that a notification repeating a known
//! bookmark — servers that ignore `send_last_published_item=never` send the last one again at each presence
//! — neither shows as a change nor joins a room we left: a room is autojoined when a bookmark with autojoin
//! arrives in the fetch at login, or is new or newly set to autojoin in a notification. Removing a bookmark
//! or its autojoin does not leave the room.
//!
//! Publishing uses XEP-0402's four publish-options. A server that refuses them — ejabberd 23.01 does not
//! know `pubsub#max_items` and `pubsub#send_last_published_item` as publish-options, and its PEP nodes keep
//! ONE item by default, so a plain publish there would drop every other bookmark — gets the node configured
//! first (XEP-0060 §8.2: as many items as [`MAX_BOOKMARKS`], never re-sent on presence), then the bookmark
//! published with the two options that remain (persistent, whitelist); a node that did not exist yet is
//! configured right after that first publish. Changes go out one at a time, in order (at most
//! [`MAX_QUEUED`] waiting), so that no removal overtakes a publish still retrying. Changes on their way when
//! the connection drops are lost with it, like any request of a lost session; the bookmarks loaded at the
//! next login say what the server has.

use std::collections::{HashMap, VecDeque};

use web_time::Instant;

use super::muc::Request;
use super::{Client, Event, Pending, RequestError};
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::bookmarks::{self, Bookmark, MAX_BOOKMARKS, Notification};
use crate::xmpp::stanza::error::{ErrorType, StanzaError};
use crate::xmpp::xml::Element;

/// What changed in the bookmarks (`Event::Bookmarks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookmarkEvent {
    /// All of them, fetched once online (empty when there are none, or the server keeps none).
    Loaded(Vec<Bookmark>),
    /// Added or changed (here or on another device).
    Changed(Bookmark),
    Removed(BareJid),
    Failed {
        action: BookmarkAction,
        error: RequestError,
    },
}

/// What a failed bookmark request was doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookmarkAction {
    Fetch,
    Set(BareJid),
    Remove(BareJid),
}

/// Bookmark changes waiting for the one on its way.
pub const MAX_QUEUED: usize = 100;

/// The bookmarks the session knows, and the changes not yet sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct BookmarkState {
    known: HashMap<BareJid, Bookmark>,
    queue: VecDeque<BookmarkRequest>,
    /// A publish or retraction is on its way.
    busy: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum BookmarkRequest {
    Fetch,
    Publish { bookmark: Bookmark, step: Step },
    Retract { room: BareJid },
}

/// Where a publish is (see the module docs for the fallback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// With XEP-0402's four publish-options.
    AllOptions,
    /// Refused: configuring the node before publishing again.
    ConfigureNode,
    /// Publishing with the two options every server knows; `configured`: the node is configured already.
    FewerOptions { configured: bool },
    /// The node did not exist before that publish: configuring it now.
    ConfigureAfter,
}

fn action_of(req: &BookmarkRequest) -> BookmarkAction {
    match req {
        BookmarkRequest::Fetch => BookmarkAction::Fetch,
        BookmarkRequest::Publish { bookmark, .. } => BookmarkAction::Set(bookmark.room.clone()),
        BookmarkRequest::Retract { room } => BookmarkAction::Remove(room.clone()),
    }
}

impl Client {
    fn bookmark_iq(&mut self, kind: &str, payload: Element, req: BookmarkRequest, now: Instant) {
        self.send_iq(kind, None, payload, Pending::Muc { to: None, req: Box::new(Request::Bookmarks(req)) }, now);
    }

    pub(super) fn fetch_bookmarks(&mut self, now: Instant) {
        self.bookmark_iq("get", bookmarks::fetch(), BookmarkRequest::Fetch, now);
    }

    pub(super) fn set_bookmark(&mut self, bookmark: Bookmark, now: Instant) {
        self.queue_bookmark(BookmarkRequest::Publish { bookmark, step: Step::AllOptions }, now);
    }

    pub(super) fn remove_bookmark(&mut self, room: BareJid, now: Instant) {
        self.queue_bookmark(BookmarkRequest::Retract { room }, now);
    }

    fn queue_bookmark(&mut self, req: BookmarkRequest, now: Instant) {
        let state = &mut self.muc.bookmarks;
        if state.queue.len() >= MAX_QUEUED {
            let action = action_of(&req);
            let error = RequestError::Stanza(StanzaError::new(ErrorType::Wait, "resource-constraint"));
            self.bookmark_event(BookmarkEvent::Failed { action, error });
            return;
        }
        state.queue.push_back(req);
        self.next_bookmark_change(now);
    }

    /// Sends the next queued change unless one is on its way.
    fn next_bookmark_change(&mut self, now: Instant) {
        if self.muc.bookmarks.busy {
            return;
        }
        let Some(req) = self.muc.bookmarks.queue.pop_front() else { return };
        self.muc.bookmarks.busy = true;
        self.send_bookmark_change(req, now);
    }

    fn send_bookmark_change(&mut self, req: BookmarkRequest, now: Instant) {
        let payload = match &req {
            BookmarkRequest::Publish { bookmark, step: Step::AllOptions } => bookmarks::publish(bookmark, true),
            BookmarkRequest::Publish { bookmark, step: Step::FewerOptions { .. } } => {
                bookmarks::publish(bookmark, false)
            }
            BookmarkRequest::Publish { step: Step::ConfigureNode | Step::ConfigureAfter, .. } => {
                bookmarks::configure_node(MAX_BOOKMARKS)
            }
            BookmarkRequest::Retract { room } => bookmarks::retract(room),
            BookmarkRequest::Fetch => bookmarks::fetch(),
        };
        self.bookmark_iq("set", payload, req, now);
    }

    /// A change is done (or given up): the next one may go.
    fn bookmark_change_done(&mut self, now: Instant) {
        self.muc.bookmarks.busy = false;
        self.next_bookmark_change(now);
    }

    fn bookmark_event(&mut self, event: BookmarkEvent) {
        self.events.push_back(Event::Bookmarks(event));
    }

    /// Remembers `b`; whether it is new or changed (`None`: unchanged, or no room for more).
    fn learn(&mut self, b: &Bookmark) -> Option<Option<Bookmark>> {
        let known = &mut self.muc.bookmarks.known;
        if known.get(&b.room) == Some(b) || (!known.contains_key(&b.room) && known.len() >= MAX_BOOKMARKS) {
            return None;
        }
        Some(known.insert(b.room.clone(), b.clone()))
    }

    pub(super) fn bookmarks_result(&mut self, req: BookmarkRequest, el: &Element, now: Instant) {
        match req {
            BookmarkRequest::Fetch => {
                let list = bookmarks::parse_fetch(el);
                self.muc.bookmarks.known = list.iter().map(|b| (b.room.clone(), b.clone())).collect();
                self.bookmark_event(BookmarkEvent::Loaded(list.clone()));
                for b in list.iter().filter(|b| b.autojoin) {
                    self.autojoin(b, now);
                }
            }
            BookmarkRequest::Publish { bookmark, step: Step::ConfigureNode } => {
                let step = Step::FewerOptions { configured: true };
                self.send_bookmark_change(BookmarkRequest::Publish { bookmark, step }, now);
            }
            BookmarkRequest::Publish { step: Step::ConfigureAfter, .. } => self.bookmark_change_done(now),
            BookmarkRequest::Publish { bookmark, step } => {
                if self.learn(&bookmark).is_some() {
                    self.bookmark_event(BookmarkEvent::Changed(bookmark.clone()));
                }
                if step == (Step::FewerOptions { configured: false }) {
                    let step = Step::ConfigureAfter;
                    self.send_bookmark_change(BookmarkRequest::Publish { bookmark, step }, now);
                } else {
                    self.bookmark_change_done(now);
                }
            }
            BookmarkRequest::Retract { room } => {
                self.forget(room);
                self.bookmark_change_done(now);
            }
        }
    }

    fn forget(&mut self, room: BareJid) {
        if self.muc.bookmarks.known.remove(&room).is_some() {
            self.bookmark_event(BookmarkEvent::Removed(room));
        }
    }

    pub(super) fn bookmarks_error(&mut self, req: BookmarkRequest, error: StanzaError, now: Instant) {
        match req {
            // No node yet (nobody ever bookmarked), or no PEP on this server: no bookmarks.
            BookmarkRequest::Fetch
                if matches!(
                    error.condition.as_str(),
                    "item-not-found" | "feature-not-implemented" | "service-unavailable"
                ) =>
            {
                self.muc.bookmarks.known.clear();
                self.bookmark_event(BookmarkEvent::Loaded(Vec::new()));
            }
            BookmarkRequest::Fetch => {
                let error = RequestError::Stanza(error);
                self.bookmark_event(BookmarkEvent::Failed { action: BookmarkAction::Fetch, error });
            }
            // Still busy: the fallback goes before any other change.
            BookmarkRequest::Publish { bookmark, step: Step::AllOptions } => {
                self.send_bookmark_change(BookmarkRequest::Publish { bookmark, step: Step::ConfigureNode }, now);
            }
            BookmarkRequest::Publish { bookmark, step: Step::ConfigureNode } => {
                let step = Step::FewerOptions { configured: false };
                self.send_bookmark_change(BookmarkRequest::Publish { bookmark, step }, now);
            }
            // Published already; the node keeps the server's settings.
            BookmarkRequest::Publish { step: Step::ConfigureAfter, .. } => self.bookmark_change_done(now),
            BookmarkRequest::Retract { room } if error.condition == "item-not-found" => {
                self.forget(room);
                self.bookmark_change_done(now);
            }
            req => {
                let action = action_of(&req);
                self.bookmark_event(BookmarkEvent::Failed { action, error: RequestError::Stanza(error) });
                self.bookmark_change_done(now);
            }
        }
    }

    pub(super) fn bookmarks_timed_out(&mut self, req: BookmarkRequest, now: Instant) {
        let change = !matches!(req, BookmarkRequest::Fetch);
        self.bookmark_event(BookmarkEvent::Failed { action: action_of(&req), error: RequestError::Timeout });
        if change {
            self.bookmark_change_done(now);
        }
    }

    /// A PEP notification from our own account (the caller checked `from`).
    pub(super) fn bookmarks_notification(&mut self, el: &Element, now: Instant) {
        match bookmarks::notification(el) {
            Some(Notification::Published(list)) => {
                for b in list {
                    let Some(old) = self.learn(&b) else { continue };
                    let newly_autojoin = b.autojoin && !old.is_some_and(|o| o.autojoin);
                    self.bookmark_event(BookmarkEvent::Changed(b.clone()));
                    if newly_autojoin {
                        self.autojoin(&b, now);
                    }
                }
            }
            Some(Notification::Retracted(rooms)) => {
                for room in rooms {
                    self.forget(room);
                }
            }
            Some(Notification::Purged) => {
                let rooms: Vec<BareJid> = self.muc.bookmarks.known.keys().cloned().collect();
                for room in rooms {
                    self.forget(room);
                }
            }
            None => {}
        }
    }
}
