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
//! Publishing uses XEP-0402's four publish-options; a server that refuses them (ejabberd 23.01 does not know
//! two) gets one retry with the two that matter (persistent, whitelist).

use std::collections::HashMap;

use web_time::Instant;

use super::muc::Request;
use super::{Client, Event, Pending, RequestError};
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::bookmarks::{self, Bookmark, MAX_BOOKMARKS, Notification};
use crate::xmpp::stanza::error::StanzaError;
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

/// The bookmarks the session knows.
#[derive(Debug, Clone, Default)]
pub(crate) struct BookmarkState {
    known: HashMap<BareJid, Bookmark>,
}

#[derive(Debug, Clone)]
pub(crate) enum BookmarkRequest {
    Fetch,
    Publish { bookmark: Bookmark, all_options: bool },
    Retract { room: BareJid },
}

impl Client {
    fn bookmark_iq(&mut self, kind: &str, payload: Element, req: BookmarkRequest, now: Instant) {
        self.send_iq(kind, None, payload, Pending::Muc { to: None, req: Request::Bookmarks(req) }, now);
    }

    pub(super) fn fetch_bookmarks(&mut self, now: Instant) {
        self.bookmark_iq("get", bookmarks::fetch(), BookmarkRequest::Fetch, now);
    }

    pub(super) fn set_bookmark(&mut self, bookmark: Bookmark, now: Instant) {
        let payload = bookmarks::publish(&bookmark, true);
        self.bookmark_iq("set", payload, BookmarkRequest::Publish { bookmark, all_options: true }, now);
    }

    pub(super) fn remove_bookmark(&mut self, room: BareJid, now: Instant) {
        self.bookmark_iq("set", bookmarks::retract(&room), BookmarkRequest::Retract { room }, now);
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
            BookmarkRequest::Publish { bookmark, .. } => {
                if self.learn(&bookmark).is_some() {
                    self.bookmark_event(BookmarkEvent::Changed(bookmark));
                }
            }
            BookmarkRequest::Retract { room } => self.forget(room),
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
            BookmarkRequest::Publish { bookmark, all_options: true } => {
                let payload = bookmarks::publish(&bookmark, false);
                self.bookmark_iq("set", payload, BookmarkRequest::Publish { bookmark, all_options: false }, now);
            }
            BookmarkRequest::Publish { bookmark, all_options: false } => {
                let action = BookmarkAction::Set(bookmark.room);
                self.bookmark_event(BookmarkEvent::Failed { action, error: RequestError::Stanza(error) });
            }
            BookmarkRequest::Retract { room } if error.condition == "item-not-found" => self.forget(room),
            BookmarkRequest::Retract { room } => {
                let action = BookmarkAction::Remove(room);
                self.bookmark_event(BookmarkEvent::Failed { action, error: RequestError::Stanza(error) });
            }
        }
    }

    pub(super) fn bookmarks_timed_out(&mut self, req: BookmarkRequest) {
        let action = match req {
            BookmarkRequest::Fetch => BookmarkAction::Fetch,
            BookmarkRequest::Publish { bookmark, .. } => BookmarkAction::Set(bookmark.room),
            BookmarkRequest::Retract { room } => BookmarkAction::Remove(room),
        };
        self.bookmark_event(BookmarkEvent::Failed { action, error: RequestError::Timeout });
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
