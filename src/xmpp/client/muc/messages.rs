//! Messages from rooms: groupchat (subjects, reflections of ours, de-duplication, mentions), errors,
//! private messages (and their carbons), invitations, and room history from the room's archive (started
//! once a join is confirmed; the catch-up itself is `client::mam`'s).

use super::*;

impl Client {
    // ---- messages ----------------------------------------------------------------------------------------

    /// Messages group chat owns (`true`: handled): PEP notifications, invitations, every groupchat message,
    /// and private messages and errors from our rooms.
    pub(crate) fn muc_message(&mut self, el: &Element, now: Instant) -> bool {
        if bookmarks::is_pubsub_event(el) {
            if self.config.bookmarks && self.is_own_bare(el.attr("from")) {
                self.bookmarks_notification(el, now);
            }
            return true; // never a chat message, whoever sent it
        }
        let from = match el.attr("from").map(Jid::parse) {
            Some(Ok(j)) => j,
            _ => return false,
        };
        if let Some(invite) = Invite::of(el, &from) {
            self.invited(invite);
            return true;
        }
        let is_groupchat = el.attr("type") == Some("groupchat");
        if !self.muc.rooms.contains_key(from.bare()) {
            return is_groupchat; // a groupchat message from anything but a room we are in: dropped
        }
        if let Some(r) = self.muc.rooms.get_mut(from.bare()) {
            r.last_heard = now;
        }
        match el.attr("type") {
            Some("groupchat") => self.room_groupchat(el, &from, now),
            Some("error") => self.room_message_error(el, &from, now),
            _ => self.private_message(el, &from, false),
        }
        true
    }

    pub(super) fn room_groupchat(&mut self, el: &Element, from: &Jid, now: Instant) {
        let room = from.bare().clone();
        let Some(r) = self.muc.rooms.get_mut(&room) else { return };
        if r.stage == Stage::Disco {
            return;
        }
        let Some(mut msg) = Message::parse(el) else { return };
        let nick = from.resource().map(str::to_owned);
        if nick.is_none() && MucUser::of(el).is_some_and(|u| u.has(status::CONFIG_CHANGED)) {
            self.room_iq(
                "get",
                &room,
                disco::info_query(None),
                Request::Info { room: room.clone(), why: InfoFor::Refresh },
                now,
            );
        }
        let Some(r) = self.muc.rooms.get_mut(&room) else { return };
        if msg.bodies.is_empty() {
            if let Some(subject) = msg.subject.take() {
                let at_join = !std::mem::replace(&mut r.subject_seen, true);
                let subject = Some(muc::cut(subject, muc::MAX_TEXT)).filter(|s| !s.trim().is_empty());
                if nick.is_some() && nick == Some(r.nick.clone()) {
                    r.pending_subject = None;
                }
                self.room_event(RoomEvent::Subject { room, subject, by: nick, at_join });
            }
            return;
        }
        msg.stanza_id = sid::stanza_id_by(el, &room);
        let occupant_id = muc::occupant_id(el).filter(|_| r.info.as_ref().is_some_and(|i| i.occupant_ids));
        let own_id = r.me.as_ref().and_then(|m| m.occupant_id.as_ref());
        let own = nick.as_deref() == Some(r.nick.as_str()) || (occupant_id.is_some() && occupant_id.as_ref() == own_id);
        if msg.stanza_id.is_some() {
            r.last_stanza_id.clone_from(&msg.stanza_id);
        }
        let body = msg.body(None).unwrap_or_default().to_owned();
        let keys = SeenKey::of_room(
            &room,
            msg.stanza_id.as_deref(),
            nick.as_deref().unwrap_or(""),
            msg.origin_id.as_deref().or(msg.id.as_deref()),
            &body,
        );
        if own
            && let Some(id) = msg.origin_id.clone().or_else(|| msg.id.clone())
            && let Some(i) = r.unreflected.iter().position(|u| *u == id)
        {
            r.unreflected.remove(i);
            self.seen.check_and_insert(keys);
            let stanza_id = msg.stanza_id.clone();
            self.room_event(RoomEvent::Reflected { room: room.clone(), id, stanza_id: msg.stanza_id });
            self.room_live(&room, stanza_id, now);
            return;
        }
        if self.seen.check_and_insert(keys) {
            return;
        }
        let Some(r) = self.muc.rooms.get(&room) else { return };
        let mentions_me = !own && mentions(&body, &r.nick);
        let stanza_id = msg.stanza_id.clone();
        let event = RoomMessage { room: room.clone(), nick, occupant_id, message: msg, own, mentions_me };
        self.room_event(RoomEvent::Message(event));
        self.room_live(&room, stanza_id, now);
    }

    /// A live message of `room` was shown; `stanza_id`, its id in the room's archive, moves the room's
    /// history cursor on (or closes a gap) — see `client::mam`.
    fn room_live(&mut self, room: &BareJid, stanza_id: Option<String>, now: Instant) {
        if let Some(id) = stanza_id {
            let unix_ms = self.config.clock.map(|c| c.unix_ms_at(now));
            self.history.live_in(room, &id, unix_ms, &mut self.events);
        }
    }

    pub(super) fn room_message_error(&mut self, el: &Element, from: &Jid, now: Instant) {
        let room = from.bare().clone();
        let error = StanzaError::from_stanza(el);
        let id = el.attr("id").map(str::to_owned);
        let Some(r) = self.muc.rooms.get_mut(&room) else { return };
        if id.is_some() && r.pending_subject == id {
            r.pending_subject = None;
            let error = RequestError::Stanza(error);
            self.room_event(RoomEvent::RequestFailed { room, action: RoomAction::SetSubject, error });
            return;
        }
        // Refused as not an occupant: the room may have lost us (restarted); find out.
        let recheck = error.condition == "not-acceptable" && r.stage == Stage::Joined && !r.pinging;
        self.flush_occupants(&room);
        self.events.push_back(Event::MessageError { with: room.clone(), id, error });
        if recheck {
            self.self_ping(&room, now);
        }
    }

    /// A private message from an occupant of one of our rooms (or, `outgoing`, a carbon of one our other
    /// device sent to one).
    pub(super) fn private_message(&mut self, el: &Element, other: &Jid, outgoing: bool) {
        let Some(nick) = other.resource() else { return }; // from the bare room: not a person's message
        let Some(msg) = Message::parse(el) else { return };
        if msg.bodies.is_empty() {
            return;
        }
        let room = other.bare().clone();
        let body = msg.body(None).unwrap_or_default();
        let sender = if outgoing { "" } else { nick };
        let keys = SeenKey::of_room(&room, None, sender, msg.origin_id.as_deref().or(msg.id.as_deref()), body);
        if self.seen.check_and_insert(keys) {
            return;
        }
        self.room_event(RoomEvent::PrivateMessage { room, nick: nick.to_owned(), message: msg, outgoing });
    }

    /// A carbon of a private message with an occupant of one of our rooms (`true`: handled here).
    pub(crate) fn muc_carbon(&mut self, direction: CarbonDirection, inner: &Element) -> bool {
        let attr = if direction == CarbonDirection::Sent { "to" } else { "from" };
        let Some(Ok(other)) = inner.attr(attr).map(Jid::parse) else { return false };
        if !self.muc.rooms.contains_key(other.bare()) || inner.attr("type") == Some("groupchat") {
            return false;
        }
        self.private_message(inner, &other, direction == CarbonDirection::Sent);
        true
    }

    pub(super) fn invited(&mut self, invite: Invite) {
        if self.muc.rooms.contains_key(&invite.room) {
            return; // in it already
        }
        let key = (invite.room.clone(), invite.from.clone());
        if self.muc.invites_seen.contains(&key) {
            return;
        }
        if !self.roster.contains_key(&invite.from) {
            if self.muc.stranger_invites >= MAX_STRANGER_INVITES {
                return;
            }
            self.muc.stranger_invites += 1;
        }
        if self.muc.invites_seen.len() < MAX_INVITES_REMEMBERED {
            self.muc.invites_seen.push(key);
        }
        self.room_event(RoomEvent::Invited(invite));
    }

    // ---- history ------------------------------------------------------------------------------------------

    /// The join of `room` is confirmed: its history comes now. A room with an archive (`RoomInfo::mam`) was
    /// joined without legacy history, so this is where its archive is read (XEP-0313 with the room's JID as
    /// the archive, stanza-ids `by` the room): from the point the caller holds (`RoomCommand::Join`'s
    /// `history`, or a saved room's `last_stanza_id`), or from where this session's last catch-up of it got
    /// to on a rejoin; with none, the newest page. See `client::mam`.
    pub(crate) fn room_history(&mut self, room: &BareJid, now: Instant) {
        let Some(r) = self.muc.rooms.get(room) else { return };
        // A room our join made anew (201: it was gone) has no history to read.
        if r.created || !r.info.as_ref().is_some_and(|i| i.mam) {
            return;
        }
        let held = r.history.clone();
        self.history.room_joined(room, held);
        self.send_archive_queries(now);
    }
}
