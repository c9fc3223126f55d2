//! Answers to group chat requests: room infos (and what they mean for a join), owner forms, moderation
//! and configuration results, self-pings (XEP-0410), the search for the service and its room lists.

use super::*;

impl Client {
    // ---- iq answers ----------------------------------------------------------------------------------------

    pub(crate) fn muc_result(&mut self, req: Request, el: &Element, now: Instant) {
        match req {
            Request::Info { room, why } => {
                let info = DiscoInfo::of_iq(el).and_then(|d| RoomInfo::from_disco(&d));
                self.room_info(room, why, info, now);
            }
            Request::OwnerForm { room, settings } => {
                let form = el.get_child(muc::MUC_OWNER_NS, "query").and_then(DataForm::find_in);
                match (form, settings) {
                    (Some(form), None) => self.room_event(RoomEvent::ConfigForm { room, form }),
                    (Some(form), Some(settings)) => {
                        let q = muc::owner_query(Some(&settings.apply(&form)));
                        self.room_iq(
                            "set",
                            &room,
                            q,
                            Request::Set { room: room.clone(), action: RoomAction::Create },
                            now,
                        );
                    }
                    (None, settings) => {
                        let action = if settings.is_some() { RoomAction::Create } else { RoomAction::FetchConfig };
                        let error = RequestError::Stanza(StanzaError::new(ErrorType::Cancel, "bad-request"));
                        self.room_event(RoomEvent::RequestFailed { room, action, error });
                    }
                }
            }
            Request::Set { room, action } => {
                if action == RoomAction::Create {
                    // Configured: what the room offers now (an archive, occupant ids) may differ.
                    self.room_iq(
                        "get",
                        &room,
                        disco::info_query(None),
                        Request::Info { room: room.clone(), why: InfoFor::Refresh },
                        now,
                    );
                }
                self.room_event(RoomEvent::Done { room, action });
            }
            Request::SelfPing { room } => self.ping_answered(&room, None, now),
            Request::ServiceItems => self.service_items(DiscoItems::of_iq(el).unwrap_or_default(), now),
            Request::ServiceInfo => {
                let found = DiscoInfo::of_iq(el).is_some_and(|d| d.has_identity("conference", "text"));
                let from = el.attr("from").and_then(|f| BareJid::parse(f).ok());
                self.service_answer(found.then_some(from).flatten(), now);
            }
            Request::List { service } => {
                let page = DiscoItems::of_iq(el).unwrap_or_default();
                let full = page.items.len() >= MAX_LISTED;
                let rooms = page
                    .items
                    .into_iter()
                    .filter(|i| i.jid.is_bare() && i.jid.bare().local().is_some())
                    .take(MAX_LISTED)
                    .map(|i| RoomListing { jid: i.jid.into_bare(), name: i.name.map(|n| muc::cut(n, muc::MAX_TEXT)) })
                    .collect();
                let set = page.set.unwrap_or_default();
                let more = full || set.count.is_some_and(|c| c as usize > MAX_LISTED);
                let next = set.last.filter(|_| more);
                self.room_event(RoomEvent::Rooms { service, rooms, next, total: set.count });
            }
            Request::Bookmarks(req) => self.bookmarks_result(req, el, now),
        }
    }

    pub(crate) fn muc_error(&mut self, req: Request, error: StanzaError, now: Instant) {
        match req {
            Request::Info { room, why: InfoFor::Join } => {
                let Some(r) = self.muc.rooms.get(&room) else { return };
                let create = matches!(r.intent, Intent::Create(_));
                match error.condition.as_str() {
                    "item-not-found" if create => self.send_join(&room, now),
                    "item-not-found" => self.join_failed(&room, JoinError::NotFound),
                    "remote-server-not-found" | "remote-server-timeout" => {
                        self.join_failed(&room, JoinError::Other(error))
                    }
                    // The service did not say what the room is: join without knowing.
                    _ => self.send_join(&room, now),
                }
            }
            Request::Info { room, why: InfoFor::Query } => {
                let error = RequestError::Stanza(error);
                self.room_event(RoomEvent::RequestFailed { room, action: RoomAction::QueryInfo, error });
            }
            Request::Info { why: InfoFor::Refresh, .. } => {}
            Request::OwnerForm { room, settings } => {
                let action = if settings.is_some() { RoomAction::Create } else { RoomAction::FetchConfig };
                self.room_event(RoomEvent::RequestFailed { room, action, error: RequestError::Stanza(error) });
            }
            Request::Set { room, action } => {
                self.room_event(RoomEvent::RequestFailed { room, action, error: RequestError::Stanza(error) })
            }
            Request::SelfPing { room } => self.ping_answered(&room, Some(&error.condition), now),
            Request::ServiceItems => self.service_items(DiscoItems::default(), now),
            Request::ServiceInfo => self.service_answer(None, now),
            Request::List { service } => {
                let error = ListError::Request(RequestError::Stanza(error));
                self.room_event(RoomEvent::ListFailed { service: Some(service), error });
            }
            Request::Bookmarks(req) => self.bookmarks_error(req, error, now),
        }
    }

    pub(crate) fn muc_timed_out(&mut self, req: Request, now: Instant) {
        match req {
            Request::Info { room, why: InfoFor::Join } => self.join_failed(&room, JoinError::Timeout),
            Request::Info { room, why: InfoFor::Query } => self.room_event(RoomEvent::RequestFailed {
                room,
                action: RoomAction::QueryInfo,
                error: RequestError::Timeout,
            }),
            Request::OwnerForm { room, settings } => {
                let action = if settings.is_some() { RoomAction::Create } else { RoomAction::FetchConfig };
                self.room_event(RoomEvent::RequestFailed { room, action, error: RequestError::Timeout });
            }
            Request::Set { room, action } => {
                self.room_event(RoomEvent::RequestFailed { room, action, error: RequestError::Timeout })
            }
            // No answer says nothing about the room; the next silence asks again.
            Request::SelfPing { room } => {
                if let Some(r) = self.muc.rooms.get_mut(&room) {
                    r.pinging = false;
                    r.last_heard = now;
                }
            }
            Request::ServiceItems => self.service_items(DiscoItems::default(), now),
            Request::ServiceInfo => self.service_answer(None, now),
            Request::List { service } => {
                let error = ListError::Request(RequestError::Timeout);
                self.room_event(RoomEvent::ListFailed { service: Some(service), error });
            }
            Request::Info { why: InfoFor::Refresh, .. } => {}
            Request::Bookmarks(req) => self.bookmarks_timed_out(req, now),
        }
    }

    pub(super) fn join_failed(&mut self, room: &BareJid, error: JoinError) {
        if self.remove_room(room).is_some() {
            self.room_event(RoomEvent::JoinFailed { room: room.clone(), error });
        }
    }

    pub(super) fn room_info(&mut self, room: BareJid, why: InfoFor, info: Option<RoomInfo>, now: Instant) {
        if let Some(info) = &info {
            self.muc.info.retain(|(r, _)| *r != room);
            if self.muc.info.len() >= MAX_INFO_CACHE {
                self.muc.info.remove(0);
            }
            self.muc.info.push((room.clone(), info.clone()));
            if let Some(r) = self.muc.rooms.get_mut(&room) {
                r.info = Some(info.clone());
            }
            self.room_event(RoomEvent::Info { room: room.clone(), info: info.clone() });
        }
        match why {
            InfoFor::Join => {
                let Some(r) = self.muc.rooms.get(&room) else { return };
                if r.stage != Stage::Disco {
                    return;
                }
                match (info, &r.intent) {
                    (None, _) => self.join_failed(&room, JoinError::NotARoom),
                    (Some(_), Intent::Create(_)) => self.join_failed(&room, JoinError::AlreadyExists),
                    (Some(_), Intent::Join) => self.send_join(&room, now),
                }
            }
            InfoFor::Query if info.is_none() => {
                let error = RequestError::Stanza(StanzaError::new(ErrorType::Cancel, "item-not-found"));
                self.room_event(RoomEvent::RequestFailed { room, action: RoomAction::QueryInfo, error });
            }
            InfoFor::Query | InfoFor::Refresh => {}
        }
    }

    /// XEP-0410: what the answer to a self-ping says (`None`: a result).
    pub(super) fn ping_answered(&mut self, room: &BareJid, condition: Option<&str>, now: Instant) {
        let Some(r) = self.muc.rooms.get_mut(room) else { return };
        r.pinging = false;
        r.last_heard = now;
        // Not an occupant (any more), or the room is gone: join again. A result, a client of ours that does not
        // do pings (the room forwarded it: we are in), or something that says nothing either way (a timeout on
        // the room's side): stay.
        if matches!(condition, Some("not-acceptable" | "item-not-found" | "remote-server-not-found")) {
            self.rejoin(room, now);
        }
    }

    // ---- browsing ----------------------------------------------------------------------------------------

    pub(super) fn list_rooms(&mut self, service: Option<BareJid>, after: Option<String>, now: Instant) {
        let service = match (service, &self.muc.service) {
            (Some(s), _) => s,
            (None, Service::Found(s)) => s.clone(),
            (None, Service::Missing) => {
                self.room_event(RoomEvent::ListFailed { service: None, error: ListError::NoService });
                return;
            }
            (None, Service::Probing { waiting, .. }) => {
                self.muc.service = Service::Probing { waiting: *waiting, after };
                return;
            }
            (None, Service::Unknown) => {
                self.muc.service = Service::Probing { waiting: 1, after };
                let domain = Jid::from(self.server_jid());
                self.muc_iq("get", domain, disco::items_query(None), Request::ServiceItems, now);
                return;
            }
        };
        let q = disco::items_query(Some((MAX_LISTED, after.as_deref())));
        self.room_iq("get", &service.clone(), q, Request::List { service }, now);
    }

    pub(super) fn service_items(&mut self, items: DiscoItems, now: Instant) {
        let candidates: Vec<Jid> =
            items.items.into_iter().filter(|i| i.jid.is_bare()).map(|i| i.jid).take(MAX_SERVICE_PROBES).collect();
        if let Service::Probing { waiting, .. } = &mut self.muc.service {
            *waiting = candidates.len();
        }
        if candidates.is_empty() {
            self.service_answer(None, now);
            return;
        }
        for jid in candidates {
            self.muc_iq("get", jid, disco::info_query(None), Request::ServiceInfo, now);
        }
    }

    /// One answer of the search for the service: `found` when it is one.
    pub(super) fn service_answer(&mut self, found: Option<BareJid>, now: Instant) {
        let Service::Probing { waiting, after } = &mut self.muc.service else { return };
        *waiting = waiting.saturating_sub(1);
        let after = after.clone();
        match found {
            Some(service) => {
                self.muc.service = Service::Found(service.clone());
                self.list_rooms(Some(service), after, now);
            }
            None if *waiting == 0 => {
                self.muc.service = Service::Missing;
                self.room_event(RoomEvent::ListFailed { service: None, error: ListError::NoService });
            }
            None => {}
        }
    }

    // ---- bookmarks ---------------------------------------------------------------------------------------

    /// Joins a bookmarked room (autojoin) unless we are in it, with its nick or our account's name.
    pub(crate) fn autojoin(&mut self, bookmark: &bookmarks::Bookmark, now: Instant) {
        if self.muc.rooms.contains_key(&bookmark.room) {
            return;
        }
        let nick = bookmark
            .nick
            .clone()
            .unwrap_or_else(|| self.config.jid.local().unwrap_or(self.config.jid.domain()).to_owned());
        if occupant_jid(&bookmark.room, &nick).is_ok() {
            self.join(bookmark.room.clone(), nick, bookmark.password.clone(), None, Intent::Join, now);
        }
    }
}
