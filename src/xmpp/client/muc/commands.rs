//! Group chat commands: joining (disco first, then the presence), leaving, sending to a room or an
//! occupant, nick changes, moderation and configuration requests, invitations.

use super::*;

impl Client {
    // ---- commands ------------------------------------------------------------------------------------

    pub(crate) fn room_command(&mut self, command: RoomCommand, now: Instant) -> Result<(), CommandError> {
        match command {
            RoomCommand::Join { room, nick, password, history } => {
                occupant_jid(&room, &nick)?;
                match self.muc.rooms.get(&room) {
                    Some(r) if r.stage == Stage::Joined && r.nick != nick => {
                        return self.room_command(RoomCommand::ChangeNick { room, nick }, now);
                    }
                    Some(_) => return Ok(()),
                    None => self.join(room, nick, password, history, Intent::Join, now),
                }
            }
            RoomCommand::Create { room, nick, settings } => {
                occupant_jid(&room, &nick)?;
                if self.muc.rooms.contains_key(&room) {
                    self.room_event(RoomEvent::JoinFailed { room, error: JoinError::AlreadyExists });
                } else {
                    self.join(room, nick, None, None, Intent::Create(settings), now);
                }
            }
            RoomCommand::Leave { room, status } => {
                let r = self.muc.rooms.get(&room).ok_or(CommandError::NotInRoom)?;
                if r.stage != Stage::Disco {
                    let to = occupant_jid(&room, &r.nick)?;
                    self.send_unavailable(&room, to, status.as_deref());
                }
                self.flush_occupants(&room);
                self.remove_room(&room);
                self.room_event(RoomEvent::Left { room, why: Departure::Left { status: None } });
            }
            RoomCommand::Send { room, body, id } => self.send_groupchat(room, body, id, now)?,
            RoomCommand::SendPrivate { room, nick, body, id } => {
                let to = occupant_jid(&room, &nick)?;
                self.joining_or_joined(&room)?;
                let mut msg = Message::chat(to, &body);
                self.send_own(&mut msg, id, now, |m| m.to_element().with_child(Element::new(MUC_USER_NS, "x")))?;
            }
            RoomCommand::SetSubject { room, subject } => {
                self.joined(&room)?;
                let id = self.new_id();
                if let Some(r) = self.muc.rooms.get_mut(&room) {
                    r.pending_subject = Some(id.clone());
                }
                self.send(&muc::subject_message(&room, &subject, &id));
            }
            RoomCommand::ChangeNick { room, nick } => {
                let to = occupant_jid(&room, &nick)?;
                self.joined(&room)?;
                let Some(r) = self.muc.rooms.get_mut(&room) else { return Err(CommandError::NotInRoom) };
                if r.nick == nick {
                    return Ok(());
                }
                r.pending_nick = Some(nick);
                let mut p = self.presence_element(&self.own_presence.clone());
                p.set_attr("to", to.to_string());
                self.send(&p);
            }
            RoomCommand::SetRole { room, nick, role, reason } => {
                self.joined(&room)?;
                let q = muc::set_role(&nick, role, reason.as_deref());
                self.room_iq(
                    "set",
                    &room,
                    q,
                    Request::Set { room: room.clone(), action: RoomAction::SetRole { nick, role } },
                    now,
                );
            }
            RoomCommand::SetAffiliation { room, jid, affiliation, reason } => {
                room_jid(&room)?;
                let q = muc::set_affiliation(&jid, affiliation, reason.as_deref());
                let action = RoomAction::SetAffiliation { jid, affiliation };
                self.room_iq("set", &room, q, Request::Set { room: room.clone(), action }, now);
            }
            RoomCommand::FetchConfig { room } => {
                room_jid(&room)?;
                let q = muc::owner_query(None);
                self.room_iq("get", &room, q, Request::OwnerForm { room: room.clone(), settings: None }, now);
            }
            RoomCommand::SubmitConfig { room, form } => {
                room_jid(&room)?;
                let form = if form.kind == FormType::Submit { form } else { form.to_submit() };
                let q = muc::owner_query(Some(&form));
                self.room_iq("set", &room, q, Request::Set { room: room.clone(), action: RoomAction::Configure }, now);
            }
            RoomCommand::Destroy { room, reason, alternate } => {
                room_jid(&room)?;
                let q = muc::destroy(alternate.as_ref(), reason.as_deref());
                self.room_iq("set", &room, q, Request::Set { room: room.clone(), action: RoomAction::Destroy }, now);
            }
            RoomCommand::Invite { room, to, reason, password } => {
                room_jid(&room)?;
                let id = self.new_id();
                self.send(&muc::direct_invite(&to, &room, reason.as_deref(), password.as_deref(), &id));
            }
            RoomCommand::Decline { room, inviter, reason } => {
                room_jid(&room)?;
                let id = self.new_id();
                self.send(&muc::decline(&room, &inviter, reason.as_deref(), &id));
            }
            RoomCommand::ListRooms { service, after } => self.list_rooms(service, after, now),
            RoomCommand::QueryInfo { room } => {
                room_jid(&room)?;
                self.room_iq(
                    "get",
                    &room,
                    disco::info_query(None),
                    Request::Info { room: room.clone(), why: InfoFor::Query },
                    now,
                );
            }
        }
        Ok(())
    }

    pub(super) fn joining_or_joined(&self, room: &BareJid) -> Result<(), CommandError> {
        match self.muc.rooms.get(room) {
            Some(r) if r.stage != Stage::Disco => Ok(()),
            _ => Err(CommandError::NotInRoom),
        }
    }

    pub(super) fn joined(&self, room: &BareJid) -> Result<(), CommandError> {
        match self.muc.rooms.get(room) {
            Some(r) if r.stage == Stage::Joined => Ok(()),
            _ => Err(CommandError::NotInRoom),
        }
    }

    pub(super) fn room_iq(&mut self, kind: &str, to: &BareJid, payload: Element, req: Request, now: Instant) {
        self.muc_iq(kind, Jid::from(to.clone()), payload, req, now);
    }

    pub(super) fn muc_iq(&mut self, kind: &str, to: Jid, payload: Element, req: Request, now: Instant) {
        let to_s = to.to_string();
        self.send_iq(kind, Some(&to_s), payload, Pending::Muc { to: Some(to), req: Box::new(req) }, now);
    }

    /// Starts joining `room` (see `RoomCommand::Join`; `history`: the newest point of its archive held).
    pub(crate) fn join(
        &mut self,
        room: BareJid,
        nick: String,
        password: Option<String>,
        history: Option<HistoryPoint>,
        intent: Intent,
        now: Instant,
    ) {
        if self.muc.rooms.len() >= MAX_ROOMS {
            self.room_event(RoomEvent::JoinFailed { room, error: JoinError::TooManyRooms });
            return;
        }
        let mut r = Room::new(room.clone(), nick, password, intent, now);
        r.history = history;
        r.info = self.muc.info.iter().find(|(j, _)| *j == room).map(|(_, i)| i.clone());
        self.muc.rooms.insert(room.clone(), r);
        self.start_join(&room, now);
    }

    /// Sends the join presence when the room's info is known (or for a room to create), else asks for it.
    pub(super) fn start_join(&mut self, room: &BareJid, now: Instant) {
        let Some(r) = self.muc.rooms.get_mut(room) else { return };
        let nick = r.nick.clone();
        if r.info.is_some() && r.intent == Intent::Join {
            self.send_join(room, now);
        } else {
            r.stage = Stage::Disco;
            self.room_iq(
                "get",
                room,
                disco::info_query(None),
                Request::Info { room: room.clone(), why: InfoFor::Join },
                now,
            );
        }
        self.room_event(RoomEvent::Joining { room: room.clone(), nick });
    }

    pub(super) fn send_join(&mut self, room: &BareJid, now: Instant) {
        let Some(r) = self.muc.rooms.get_mut(room) else { return };
        r.reset_for_join(now);
        let Ok(to) = room.with_resource(&r.nick) else { return };
        let x = muc::join_x(r.password.as_deref(), r.info.as_ref().is_some_and(|i| i.mam));
        let mut p = self.presence_element(&self.own_presence.clone());
        p.set_attr("to", to.to_string());
        p.push_child(x);
        self.send(&p);
    }

    /// Joins again (after a reconnect, or when a self-ping said we are out): same nick and password.
    pub(super) fn rejoin(&mut self, room: &BareJid, now: Instant) {
        let Some(r) = self.muc.rooms.get_mut(room) else { return };
        r.intent = Intent::Join;
        let nick = r.nick.clone();
        self.send_join(room, now);
        self.room_event(RoomEvent::Joining { room: room.clone(), nick });
    }

    pub(super) fn send_groupchat(
        &mut self,
        room: BareJid,
        body: String,
        id: String,
        now: Instant,
    ) -> Result<(), CommandError> {
        room_jid(&room)?;
        self.joining_or_joined(&room)?;
        let mut msg = Message::chat(Jid::from(room.clone()), &body);
        msg.kind = MessageType::Groupchat;
        self.send_own(&mut msg, id.clone(), now, Message::to_element)?;
        if let Some(r) = self.muc.rooms.get_mut(&room) {
            if r.unreflected.len() >= MAX_UNREFLECTED {
                r.unreflected.pop_front();
            }
            r.unreflected.push_back(id);
        }
        Ok(())
    }

    /// Sends one of our messages (groupchat or private) like a chat message: checked, id = origin-id,
    /// `MessageSent`, kept until the server acknowledges it.
    pub(super) fn send_own(
        &mut self,
        msg: &mut Message,
        id: String,
        now: Instant,
        build: impl Fn(&Message) -> Element,
    ) -> Result<(), CommandError> {
        if msg.bodies.iter().all(|(_, b)| b.trim().is_empty()) {
            return Err(CommandError::EmptyMessage);
        }
        if id.is_empty() || id.len() > sid::MAX_ID {
            return Err(CommandError::InvalidId);
        }
        let waiting = self.sm.pending_messages();
        if waiting >= MAX_UNACKED_MESSAGES {
            return Err(CommandError::Backlog { waiting });
        }
        msg.id = Some(id.clone());
        msg.origin_id = Some(id);
        let xml = build(msg).to_xml();
        if xml.len() > self.config.max_frame {
            return Err(CommandError::TooLarge { size: xml.len(), max: self.config.max_frame });
        }
        let sent_unix_ms = self.config.clock.map(|c| c.unix_ms_at(now));
        let pending = PendingMessage { message: msg.clone(), sent_unix_ms };
        let mut shown = msg.clone();
        shown.from = self.bound.clone();
        self.events.push_back(Event::MessageSent(shown));
        self.send_message(xml, pending);
        Ok(())
    }

    /// A groupchat message of ours is being resent (after a failed resumption): expect its reflection.
    pub(crate) fn expect_reflection(&mut self, msg: &Message) {
        if msg.kind != MessageType::Groupchat {
            return;
        }
        let (Some(to), Some(id)) = (&msg.to, &msg.id) else { return };
        if let Some(r) = self.muc.rooms.get_mut(to.bare()) {
            r.unreflected.push_back(id.clone());
            if r.unreflected.len() > MAX_UNREFLECTED {
                r.unreflected.pop_front();
            }
        }
    }
}
