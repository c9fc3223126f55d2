//! Group chat's UI data as plain data, and the decisions made on it as plain functions: a room's state as the
//! person sees it, its occupants grouped for the list, the window of that list in view, and a room's transcript
//! in pages (with de-duplication of the room's archive against live messages).
//!
//! Nothing here touches signals or the DOM ([`super`] holds the signals and applies the core's events).

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use crate::ui::model::{ChatMessage, Delivery, PAGE_SIZE};
use crate::xmpp::client::muc::{Departure, JoinError, Occupant, OccupantChange};
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::dataform::DataForm;
use crate::xmpp::stanza::muc::{Affiliation, Role, RoomInfo};

/// Where we are with a room.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// A join is on its way; `rejoin`: we were in and the core joins again (after a reconnect, a self-ping).
    Joining {
        rejoin: bool,
    },
    Joined,
    /// The last join failed.
    Failed(JoinError),
    /// We are out, and why (in words); `rejoin`: offering to join again makes sense.
    Out {
        why: String,
        rejoin: bool,
        alternate: Option<BareJid>,
    },
}

/// One room as the sidebar and the room view show it (its occupants and transcript are kept apart, so a
/// message does not re-run what reads the occupants, nor an occupant change what reads the transcript).
#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    pub jid: BareJid,
    /// Our nick in it (asked, or as the room confirmed).
    pub nick: String,
    pub password: Option<String>,
    pub status: Status,
    pub me: Option<Occupant>,
    pub subject: Option<String>,
    pub subject_by: Option<String>,
    pub info: Option<RoomInfo>,
    /// Messages that arrived while the room was not in front of the person.
    pub unread: u32,
    /// … of which mention our nick.
    pub mentions: u32,
    /// The last request about the room that failed (a refused subject, kick, configuration), in words.
    pub error: Option<String>,
    /// The owner form, while the person configures the room.
    pub config: Option<DataForm>,
}

impl Room {
    pub fn new(jid: BareJid, nick: String, password: Option<String>) -> Room {
        Room {
            jid,
            nick,
            password,
            status: Status::Joining { rejoin: false },
            me: None,
            subject: None,
            subject_by: None,
            info: None,
            unread: 0,
            mentions: 0,
            error: None,
            config: None,
        }
    }

    pub fn is_joined(&self) -> bool {
        self.status == Status::Joined
    }

    /// We may kick (moderators).
    pub fn is_moderator(&self) -> bool {
        self.is_joined() && self.me.as_ref().is_some_and(|m| m.role == Role::Moderator)
    }

    /// We may ban (admins and owners).
    pub fn is_admin(&self) -> bool {
        self.is_joined()
            && self.me.as_ref().is_some_and(|m| matches!(m.affiliation, Affiliation::Owner | Affiliation::Admin))
    }

    /// We may configure and destroy.
    pub fn is_owner(&self) -> bool {
        self.is_joined() && self.me.as_ref().is_some_and(|m| m.affiliation == Affiliation::Owner)
    }

    /// What the sidebar and the header call it: the room's name, else its address.
    pub fn title(&self) -> String {
        room_title(&self.jid, self.info.as_ref().and_then(|i| i.name.as_deref()))
    }

    /// The status line in words ("Joining…", "Rejoining…", why we are out), `None` once in.
    pub fn status_text(&self) -> Option<String> {
        match &self.status {
            Status::Joining { rejoin: false } => Some("Joining…".into()),
            Status::Joining { rejoin: true } => Some("Rejoining…".into()),
            Status::Joined => None,
            Status::Failed(e) => Some(e.describe()),
            Status::Out { why, .. } => Some(format!("{why}.")),
        }
    }
}

/// A room's name for people: `name` when it has one, else its address.
pub fn room_title(jid: &BareJid, name: Option<&str>) -> String {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => n.to_owned(),
        None => jid.to_string(),
    }
}

/// Whether a departure of ours is worth a "Join again" (not after a ban or a destruction).
pub fn may_rejoin(why: &Departure) -> bool {
    !matches!(why, Departure::Banned { .. } | Departure::Destroyed { .. })
}

/// What to offer the person when a join failed, besides the words of the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinRemedy {
    /// Join again under another nick (the suggestion).
    OtherNick(String),
    /// Ask for the password.
    Password,
    /// Create the room (it does not exist).
    Create,
    /// Try again later.
    Retry,
    /// Nothing to do here; the words say whom to ask.
    Advice(&'static str),
}

/// The remedy for a failed join of `nick` (a taken nick: the next one, "alice" → "alice2" → "alice3").
pub fn remedy(error: &JoinError, nick: &str) -> JoinRemedy {
    match error {
        JoinError::NickInUse | JoinError::NickLocked => {
            JoinRemedy::OtherNick(crate::xmpp::client::muc::suggest_nick(nick, 1))
        }
        JoinError::PasswordRequired => JoinRemedy::Password,
        JoinError::NotFound => JoinRemedy::Create,
        JoinError::MembersOnly => JoinRemedy::Advice("Ask an owner or admin of the room to make you a member."),
        JoinError::Banned => JoinRemedy::Advice("Only an owner or admin of the room can lift the ban."),
        JoinError::AlreadyExists => JoinRemedy::Advice("Join it instead, with “Join a room”."),
        JoinError::CreationRefused => JoinRemedy::Advice("Ask your server's administrator, or join an existing room."),
        JoinError::NotARoom => {
            JoinRemedy::Advice("Check the address: a room's looks like room@conference.example.org.")
        }
        JoinError::TooManyRooms => JoinRemedy::Advice("Leave a room you no longer read, then join this one."),
        JoinError::Full | JoinError::Timeout | JoinError::Other(_) => JoinRemedy::Retry,
    }
}

/// The occupants the core lists for a room (keyed by nick), and how many more it only counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Occupants {
    pub by_nick: HashMap<String, Occupant>,
    pub unlisted: usize,
}

impl Occupants {
    /// Everyone present (ourselves included when in), listed or not.
    pub fn count(&self, me: bool) -> usize {
        self.by_nick.len() + self.unlisted + usize::from(me)
    }

    /// Applies one batch of changes (a room's `Occupants` event).
    pub fn apply(&mut self, changes: &[OccupantChange], unlisted: usize) {
        for change in changes {
            match change {
                OccupantChange::Joined { occupant, .. } | OccupantChange::Changed(occupant) => {
                    self.by_nick.insert(occupant.nick.clone(), occupant.clone());
                }
                OccupantChange::Renamed { old_nick, occupant } => {
                    self.by_nick.remove(old_nick);
                    self.by_nick.insert(occupant.nick.clone(), occupant.clone());
                }
                OccupantChange::Left { occupant, .. } => {
                    self.by_nick.remove(&occupant.nick);
                }
            }
        }
        self.unlisted = unlisted;
    }
}

/// One row of the occupant list: a role's heading, or a person (by nick; `me`: our own entry).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OccupantRow {
    Heading { role: Role, count: usize },
    Person { nick: String, me: bool },
}

/// The heading of a role's group.
pub fn role_heading(role: Role) -> &'static str {
    match role {
        Role::Moderator => "Moderators",
        Role::Participant => "Participants",
        Role::Visitor => "Visitors",
        Role::None => "Others",
    }
}

/// The occupant list's rows: grouped by role (moderators, participants, visitors), each group under its
/// heading and sorted by nick (case folded by `fold`), ourselves among them. Linear in the occupants apart from
/// the sort.
pub fn occupant_rows(occupants: &Occupants, me: Option<&Occupant>, fold: impl Fn(&str) -> String) -> Vec<OccupantRow> {
    let mut people: Vec<(Role, String, &str, bool)> = occupants
        .by_nick
        .values()
        .filter(|o| me.is_none_or(|m| m.nick != o.nick))
        .map(|o| (o.role, fold(&o.nick), o.nick.as_str(), false))
        .collect();
    if let Some(m) = me {
        people.push((m.role, fold(&m.nick), m.nick.as_str(), true));
    }
    people.sort_unstable();
    let mut rows = Vec::with_capacity(people.len() + 4);
    let mut i = 0;
    while i < people.len() {
        let role = people[i].0;
        let end = i + people[i..].iter().take_while(|p| p.0 == role).count();
        rows.push(OccupantRow::Heading { role, count: end - i });
        rows.extend(people[i..end].iter().map(|p| OccupantRow::Person { nick: p.2.to_owned(), me: p.3 }));
        i = end;
    }
    rows
}

/// Rows rendered beyond each edge of the occupant list's visible part.
pub const OVERSCAN: usize = 10;

/// The rows of a list of `total` rows of `row_height` pixels to render when `viewport` pixels from `scroll_top`
/// are in view: the visible ones and [`OVERSCAN`] each way.
pub fn window(total: usize, scroll_top: f64, viewport: f64, row_height: f64) -> Range<usize> {
    let row_height = row_height.max(1.0);
    let first = (scroll_top.max(0.0) / row_height).floor() as usize;
    let visible = (viewport.max(0.0) / row_height).ceil() as usize + 1;
    let start = first.saturating_sub(OVERSCAN).min(total);
    let end = (first + visible + OVERSCAN).min(total);
    start..end.max(start)
}

/// How a transcript line shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Message,
    /// A message that mentions our nick (highlighted).
    Mention,
    /// Joins, leaves, nick and subject changes, kicks: a compact row in words.
    Event,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub message: ChatMessage,
    pub kind: LineKind,
}

/// A run of consecutive lines, with a key of its own: pages from the room's archive go before the live ones,
/// so a page's place can change but its key does not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinePage {
    pub key: u64,
    pub lines: Vec<Line>,
}

impl LinePage {
    pub fn get(&self, seq: u64) -> Option<&Line> {
        self.lines.iter().find(|l| l.message.seq == seq)
    }

    /// The rows of this page that can change (our own messages), as `(seq, delivery)`.
    pub fn states(&self) -> Vec<(u64, Option<Delivery>)> {
        self.lines.iter().filter(|l| l.message.from_me).map(|l| (l.message.seq, l.message.delivery)).collect()
    }
}

/// A room's transcript: pages of lines, oldest first, and what it needs to find a line again (our messages by
/// id) and to show each message once (the archive ids it holds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    pub pages: Vec<LinePage>,
    /// Archive ids (stanza-id by the room) of the messages shown.
    pub stanza_ids: HashSet<String>,
    /// Our messages' ids → their page key and seq.
    pub own: HashMap<String, (u64, u64)>,
    /// How many of the first pages are history (from this device's store, and the room's archive pages added
    /// at join): the join's catch-up goes after them, before what happened live.
    pub history_pages: usize,
}

impl Transcript {
    /// Appends a line to the last page while it has room, else to a new page (`new_key` gives its key).
    /// A message whose archive id is held already is dropped; whether it was added.
    pub fn push(&mut self, line: Line, stanza_id: Option<&str>, new_key: impl FnOnce() -> u64) -> bool {
        if let Some(id) = stanza_id
            && !self.stanza_ids.insert(id.to_owned())
        {
            return false;
        }
        // A history page stays history: what comes live starts a page of its own after it.
        if self.pages.len() <= self.history_pages || self.pages.last().is_none_or(|p| p.lines.len() >= PAGE_SIZE) {
            self.pages.push(LinePage { key: new_key(), lines: Vec::with_capacity(PAGE_SIZE) });
        }
        let page = self.pages.last_mut().expect("a page");
        if line.message.from_me
            && let Some(id) = &line.message.id
        {
            self.own.insert(id.clone(), (page.key, line.message.seq));
        }
        page.lines.push(line);
        true
    }

    /// Puts older lines (a page of the room's archive, oldest first) before everything held, leaving out those
    /// whose archive id is held already. How many were added.
    pub fn prepend(&mut self, lines: Vec<(Line, Option<String>)>, mut new_key: impl FnMut() -> u64) -> usize {
        let fresh: Vec<Line> = lines
            .into_iter()
            .filter(|(_, id)| id.as_ref().is_none_or(|id| self.stanza_ids.insert(id.clone())))
            .map(|(l, _)| l)
            .collect();
        let added = fresh.len();
        let mut pages: Vec<LinePage> = Vec::new();
        for chunk in fresh.chunks(PAGE_SIZE) {
            pages.push(LinePage { key: new_key(), lines: chunk.to_vec() });
        }
        self.history_pages += pages.len();
        pages.append(&mut self.pages);
        self.pages = pages;
        added
    }

    /// Puts newer history (the join's catch-up from the room's archive, oldest first) after the history held
    /// and before the lines that came live, leaving out those whose archive id is held already. How many
    /// were added.
    pub fn insert_history(&mut self, lines: Vec<(Line, Option<String>)>, mut new_key: impl FnMut() -> u64) -> usize {
        let fresh: Vec<Line> = lines
            .into_iter()
            .filter(|(_, id)| id.as_ref().is_none_or(|id| self.stanza_ids.insert(id.clone())))
            .map(|(l, _)| l)
            .collect();
        let added = fresh.len();
        let at = self.history_pages.min(self.pages.len());
        let pages: Vec<LinePage> =
            fresh.chunks(PAGE_SIZE).map(|chunk| LinePage { key: new_key(), lines: chunk.to_vec() }).collect();
        self.history_pages = at + pages.len();
        self.pages.splice(at..at, pages);
        added
    }

    /// Moves our message `id` forward to `to`; whether it changed.
    pub fn advance(&mut self, id: &str, to: Delivery) -> bool {
        let Some(&(key, seq)) = self.own.get(id) else { return false };
        let Some(page) = self.pages.iter_mut().find(|p| p.key == key) else { return false };
        page.lines.iter_mut().find(|l| l.message.seq == seq).is_some_and(|l| l.message.advance(to))
    }

    /// Marks our message `id` as not delivered, with `why`; whether it was ours.
    pub fn fail(&mut self, id: &str, why: String) -> bool {
        let Some(&(key, seq)) = self.own.get(id) else { return false };
        let Some(page) = self.pages.iter_mut().find(|p| p.key == key) else { return false };
        let Some(line) = page.lines.iter_mut().find(|l| l.message.seq == seq) else { return false };
        line.message.error = Some(why);
        true
    }

    pub fn len(&self) -> usize {
        self.pages.iter().map(|p| p.lines.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.pages.iter().all(|p| p.lines.is_empty())
    }
}

/// How many joins and leaves a batch shows one by one; more are summed up in one row.
pub const BATCH_ROWS: usize = 3;

/// The transcript's rows for one batch of occupant changes: kicks and bans always one by one, with who and why;
/// joins, leaves and nick changes one by one while few, else one row summing them up.
pub fn batch_lines(changes: &[OccupantChange]) -> Vec<String> {
    let mut lines = Vec::new();
    let (mut joined, mut left, mut renamed) = (Vec::new(), Vec::new(), Vec::new());
    for change in changes {
        match change {
            OccupantChange::Joined { occupant, was: Some(was) } if *was != occupant.nick => {
                joined.push(format!("{} joined (was {was})", occupant.nick))
            }
            OccupantChange::Joined { occupant, .. } => joined.push(format!("{} joined", occupant.nick)),
            OccupantChange::Changed(_) => {}
            OccupantChange::Renamed { old_nick, occupant } => {
                renamed.push(format!("{old_nick} is now known as {}", occupant.nick))
            }
            OccupantChange::Left { occupant, why: why @ Departure::Left { .. } } => {
                left.push(why.describe(&occupant.nick, false))
            }
            OccupantChange::Left { occupant, why } => lines.push(why.describe(&occupant.nick, false)),
        }
    }
    if joined.len() + left.len() + renamed.len() <= BATCH_ROWS {
        lines.extend(joined.into_iter().chain(left).chain(renamed));
    } else {
        let mut parts = Vec::new();
        let people = |n: usize| if n == 1 { "1 person".to_owned() } else { format!("{n} people") };
        if !joined.is_empty() {
            parts.push(format!("{} joined", people(joined.len())));
        }
        if !left.is_empty() {
            parts.push(format!("{} left", people(left.len())));
        }
        if !renamed.is_empty() {
            parts.push(format!("{} changed their nickname", people(renamed.len())));
        }
        lines.push(parts.join(", "));
    }
    lines
}
