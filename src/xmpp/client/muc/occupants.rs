//! Presence from rooms: the joining flood, our own presence (joined, renamed, removed) and everyone
//! else's (joins, changes, renames, departures), each in O(1), recorded for the next batch.

use super::*;

impl Client {
    // ---- presence ----------------------------------------------------------------------------------------

    /// A presence from a room we are in, joining or leaving is handled here (`true`); others are not ours.
    pub(crate) fn muc_presence(&mut self, el: &Element, now: Instant) -> bool {
        let Some(from) = el.attr("from").and_then(|f| Jid::parse(f).ok()) else { return false };
        let room = from.bare();
        if !self.muc.rooms.contains_key(room) {
            if !self.muc.leaving.contains(room) {
                return false;
            }
            // The last presences of a room we left: our own unavailable ends the wait.
            if el.attr("type") == Some("unavailable") && MucUser::of(el).is_some_and(|u| u.has(status::SELF)) {
                let room = room.clone();
                self.muc.leaving.retain(|r| *r != room);
            }
            return true;
        }
        // Joining again a room just left: the room answers in order, so the answer to the leave (our own
        // unavailable) comes before anything about the new join. It ends the leave, not the new join.
        let answers_leave = self.muc.leaving.contains(room)
            && self.muc.rooms.get(room).is_some_and(|r| r.stage != Stage::Joined)
            && el.attr("type") == Some("unavailable")
            && MucUser::of(el).is_some_and(|u| u.has(status::SELF));
        if answers_leave {
            let room = room.clone();
            self.muc.leaving.retain(|r| *r != room);
            return true;
        }
        if let Some(p) = MucPresence::parse_from(el, from) {
            self.room_presence(p, now);
        }
        true
    }

    pub(super) fn room_presence(&mut self, p: MucPresence, now: Instant) {
        let Some(r) = self.muc.rooms.get_mut(&p.room) else { return };
        r.last_heard = now;
        if r.stage == Stage::Disco {
            return; // nothing sent yet: not about this join
        }
        let trusted_ids = r.info.as_ref().is_some_and(|i| i.occupant_ids);
        let occupant_id = p.occupant_id.clone().filter(|_| trusted_ids);
        // Ours: status 110; once joined, also anything from our nick (ejabberd's presence announcing the
        // room's destruction to its owner has no 110).
        let is_self =
            p.user.has(status::SELF) || (r.stage == Stage::Joined && p.nick.as_deref() == Some(r.nick.as_str()));
        match p.kind {
            OccupantPresence::Error(error) => self.room_presence_error(&p.room, p.nick, error, now),
            OccupantPresence::Available(a) => {
                let Some(nick) = p.nick else { return };
                let occupant = occupant_of(nick, p.user.item(), a, occupant_id);
                if is_self {
                    self.own_available(&p.room, occupant, &p.user, now);
                } else {
                    self.other_available(&p.room, occupant, now);
                }
            }
            OccupantPresence::Unavailable { status } => {
                let Some(nick) = p.nick else { return };
                // Our nick, but another session of the account (the one from before a server restart, which
                // the restarted room still lists under the nick we rejoined with): not about this one.
                let other_session = p.user.item().and_then(|i| i.jid.as_ref()).is_some_and(|j| {
                    j.resource().is_some() && self.bound.as_ref().is_some_and(|b| b.bare() == j.bare() && b != j)
                });
                if is_self && other_session {
                    return;
                }
                if is_self {
                    self.own_unavailable(&p.room, &p.user, status, now);
                } else {
                    self.other_unavailable(&p.room, &nick, &p.user, status, now);
                }
            }
        }
        // A batch is bounded too: a room sending faster than batches are due gets them sooner, not bigger.
        if self.muc.rooms.get(&p.room).is_some_and(|r| r.batch.len() >= MAX_BATCH) {
            self.flush_occupants(&p.room);
        }
    }

    pub(super) fn room_presence_error(
        &mut self,
        room: &BareJid,
        nick: Option<String>,
        error: StanzaError,
        now: Instant,
    ) {
        let Some(r) = self.muc.rooms.get_mut(room) else { return };
        match r.stage {
            Stage::Joining => {
                self.remove_room(room);
                self.room_event(RoomEvent::JoinFailed { room: room.clone(), error: JoinError::of(error) });
            }
            Stage::Joined if nick.is_some() && r.pending_nick == nick => {
                r.pending_nick = None;
                let nick = nick.unwrap_or_default();
                self.room_event(RoomEvent::NickChangeFailed { room: room.clone(), nick, error: JoinError::of(error) });
            }
            // An error about our presence while in the room: find out whether we still are.
            Stage::Joined if !r.pinging => self.self_ping(room, now),
            _ => {}
        }
    }

    pub(super) fn own_available(&mut self, room: &BareJid, me: Occupant, user: &MucUser, now: Instant) {
        let Some(r) = self.muc.rooms.get_mut(room) else { return };
        match r.stage {
            Stage::Joining => {
                self.muc.leaving.retain(|l| l != room); // the room has answered any earlier leave by now
                let Some(r) = self.muc.rooms.get_mut(room) else { return };
                r.stage = Stage::Joined;
                r.rejoin_at = None;
                r.joined_at = now;
                r.nick = me.nick.clone(); // the service may have changed it (210)
                r.me = Some(me.clone());
                r.created = user.has(status::CREATED);
                r.pending_nick = None;
                r.reported_unlisted = r.occupants.unlisted;
                let created = r.created;
                let event = RoomEvent::Joined {
                    room: room.clone(),
                    me,
                    occupants: r.occupants.snapshot(),
                    unlisted: r.occupants.unlisted,
                    created,
                    info: r.info.clone(),
                };
                let intent = r.intent.clone();
                self.room_event(event);
                if created {
                    self.configure_new_room(room, intent, now);
                }
                self.room_history(room, now);
            }
            Stage::Joined => {
                let renamed = r.nick != me.nick;
                r.pending_nick = None;
                r.nick = me.nick.clone();
                let changed = r.me.as_ref() != Some(&me);
                r.me = Some(me.clone());
                if renamed {
                    self.room_event(RoomEvent::NickChanged { room: room.clone(), nick: me.nick.clone() });
                }
                if changed {
                    self.room_event(RoomEvent::Me { room: room.clone(), me });
                }
            }
            Stage::Disco => {}
        }
    }

    /// The room was created by our join (status 201) and stays locked until configured.
    pub(super) fn configure_new_room(&mut self, room: &BareJid, intent: Intent, now: Instant) {
        match intent {
            Intent::Create(Some(settings)) => {
                let q = muc::owner_query(None);
                self.room_iq("get", room, q, Request::OwnerForm { room: room.clone(), settings: Some(settings) }, now);
            }
            // An instant room (also when a room we meant to join was gone and our join made it anew: an
            // instant room is what the service would have given anyone, and it must not stay locked).
            _ => {
                let q = muc::owner_query(Some(&DataForm::new(FormType::Submit)));
                self.room_iq("set", room, q, Request::Set { room: room.clone(), action: RoomAction::Create }, now);
            }
        }
    }

    pub(super) fn other_available(&mut self, room: &BareJid, occupant: Occupant, now: Instant) {
        let Some(r) = self.muc.rooms.get_mut(room) else { return };
        let due = now + OCCUPANT_BATCH;
        match r.occupants.upsert(occupant.clone()) {
            Upsert::New { was } => r.record(OccupantChange::Joined { occupant, was }, due),
            Upsert::Changed => r.record(OccupantChange::Changed(occupant), due),
            Upsert::Unlisted => r.recount(due),
            Upsert::Unchanged => {}
        }
    }

    pub(super) fn own_unavailable(&mut self, room: &BareJid, user: &MucUser, status: Option<String>, now: Instant) {
        let Some(r) = self.muc.rooms.get_mut(room) else { return };
        if user.has(status::NICK_CHANGED)
            && let Some(new) = user.item().and_then(|i| i.nick.clone())
        {
            r.pending_nick = None;
            r.nick = new.clone();
            if let Some(me) = &mut r.me {
                me.nick = new.clone();
            }
            self.room_event(RoomEvent::NickChanged { room: room.clone(), nick: new });
            return;
        }
        let why = departure_of(user, status);
        if matches!(why, Departure::Removed { .. }) && self.rejoin_after_removal(room, now) {
            return;
        }
        self.flush_occupants(room);
        self.remove_room(room);
        self.room_event(RoomEvent::Left { room: room.clone(), why });
    }

    /// Removed for a technical reason (333): join again, at once the first time, then with a growing delay;
    /// `false` once `MAX_REJOINS` in a row have not kept us in (then we are out).
    fn rejoin_after_removal(&mut self, room: &BareJid, now: Instant) -> bool {
        let Some(r) = self.muc.rooms.get_mut(room) else { return false };
        if r.stage == Stage::Joined && now >= r.joined_at + REJOINS_FORGOTTEN {
            r.rejoins = 0;
        }
        if r.rejoins >= MAX_REJOINS {
            return false;
        }
        let mut backoff = crate::xmpp::reconnect::Backoff::default();
        let mut delay = Duration::ZERO;
        for _ in 1..=r.rejoins {
            delay = backoff.next_delay(1.0);
        }
        r.rejoins += 1;
        self.flush_occupants(room);
        if delay.is_zero() {
            self.rejoin(room, now);
        } else if let Some(r) = self.muc.rooms.get_mut(room) {
            r.reset_for_join(now);
            r.rejoin_at = Some(now + delay);
            let nick = r.nick.clone();
            self.room_event(RoomEvent::Joining { room: room.clone(), nick });
        }
        true
    }

    pub(super) fn other_unavailable(
        &mut self,
        room: &BareJid,
        nick: &str,
        user: &MucUser,
        status: Option<String>,
        now: Instant,
    ) {
        let Some(r) = self.muc.rooms.get_mut(room) else { return };
        let due = now + OCCUPANT_BATCH;
        if user.has(status::NICK_CHANGED)
            && let Some(new) = user.item().and_then(|i| i.nick.clone())
        {
            if let Some(occupant) = r.occupants.rename(nick, &new) {
                r.record(OccupantChange::Renamed { old_nick: nick.to_owned(), occupant }, due);
            }
            return;
        }
        if let Some(occupant) = r.occupants.remove(nick) {
            let why = departure_of(user, status);
            r.record(OccupantChange::Left { occupant, why }, due);
        } else {
            r.recount(due);
        }
    }
}
