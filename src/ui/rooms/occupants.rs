//! A room's occupant list, virtualized: grouped by role (moderators, participants, visitors), sorted by nick,
//! our own entry marked, presence in words; only the rows in (and [`OVERSCAN`](super::model::OVERSCAN) around)
//! the visible part are on the page, so a room of 5,000 people makes a few dozen rows. Rows have one fixed
//! height ([`ROW_PX`], the stylesheet's `.occupant-row`); the list keeps its full height with custom properties
//! (`--occ-total`, `--occ-before`: the CSP forbids `style` attributes, not the CSSOM).
//!
//! Choosing a person shows what can be done about them under the list: a private message; for moderators, kick;
//! for admins and owners, ban (when the room shows their address); each with a reason.

use leptos::prelude::*;

use super::model::{OccupantRow, occupant_rows, role_heading, window};
use crate::ui::model;
use crate::ui::state::AppState;
use crate::ui::{by_id, dynamic, handler, keyed_list, show, write_back};
use crate::xmpp::client::muc::RoomCommand;
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::muc::{Affiliation, Role};

/// One row's height in CSS pixels (the stylesheet's `.occupant-row` and `.occupant-heading`).
pub const ROW_PX: f64 = 32.0;
/// The id of the list's scrolling element.
pub const SCROLLER_ID: &str = "occupants-scroll";

/// Which occupant the person chose (their actions show under the list), and whose private chat is open.
#[derive(Clone, Copy)]
pub struct OccupantChoice {
    pub chosen: RwSignal<Option<String>>,
    pub private: RwSignal<Option<String>>,
}

#[component]
pub fn OccupantList(jid: BareJid) -> impl IntoView {
    let store = expect_context::<AppState>();
    let choice = expect_context::<OccupantChoice>();
    let r = store.rooms;
    let me = {
        let jid = jid.clone();
        Memo::new(move |_| r.rooms.with(|rooms| rooms.get(&jid).and_then(|x| x.me.clone())))
    };
    let rows = {
        let jid = jid.clone();
        Memo::new(move |_| {
            let me = me.get();
            r.occupants.with(|o| match o.get(&jid) {
                Some(o) => occupant_rows(o, me.as_ref(), model::fold_case),
                None => me
                    .as_ref()
                    .map(|m| occupant_rows(&Default::default(), Some(m), model::fold_case))
                    .unwrap_or_default(),
            })
        })
    };
    let count = {
        let jid = jid.clone();
        Memo::new(move |_| {
            let me = me.with(Option::is_some);
            r.occupants.with(|o| o.get(&jid).map(|o| o.count(me)).unwrap_or(usize::from(me)))
        })
    };
    let scroll = RwSignal::new((0.0f64, 600.0f64));
    let on_scroll = move || {
        if let Some(el) = by_id(SCROLLER_ID) {
            let now = (f64::from(el.scroll_top()), f64::from(el.client_height()).max(ROW_PX));
            if scroll.get_untracked() != now {
                scroll.set(now);
            }
        }
    };
    // The first frame: how tall the list's box is.
    request_animation_frame(on_scroll);
    let range = Memo::new(move |_| {
        let (top, height) = scroll.get();
        window(rows.with(Vec::len), top, height, ROW_PX)
    });
    let visible = move || {
        let range = range.get();
        rows.with(|rows| rows[range].iter().map(row_key).collect::<Vec<String>>())
    };
    let row = {
        let jid = jid.clone();
        move |key: String| {
            // Only the rows in view are built, each found by its key without allocating (a room has thousands).
            let Some(row) = rows.with_untracked(|rows| rows.iter().find(|r| has_key(r, &key)).cloned()) else {
                return ().into_any();
            };
            match row {
                OccupantRow::Heading { role, count } => view! {
                    <li class="occupant-heading" role="presentation">{format!("{} ({count})", role_heading(role))}</li>
                }
                .into_any(),
                OccupantRow::Person { nick, me: mine } => {
                    let presence = {
                        let (jid, nick) = (jid.clone(), nick.clone());
                        Memo::new(move |_| {
                            if mine {
                                return String::new();
                            }
                            r.occupants
                                .with(|o| {
                                    o.get(&jid).and_then(|o| o.by_nick.get(&nick)).map(|o| {
                                        let mut words = o.presence.show.label().to_owned();
                                        if let Some(s) = o.presence.status.as_deref().filter(|s| !s.trim().is_empty()) {
                                            words.push_str(" — ");
                                            words.push_str(s);
                                        }
                                        words
                                    })
                                })
                                .unwrap_or_default()
                        })
                    };
                    let choose = {
                        let nick = nick.clone();
                        move |_| choice.chosen.set(Some(nick.clone()))
                    };
                    view! {
                        <li class=if mine { "occupant-row me" } else { "occupant-row" }>
                            <button type="button" class="occupant" data-nick=nick.clone() on:click=handler(choose)>
                                <span class="occupant-nick" dir="auto">{nick.clone()}</span>
                                {mine.then(|| view! { <span class="occupant-me">" (you)"</span> }.into_any())}
                                <span class="occupant-presence" dir="auto">{move || presence.get()}</span>
                            </button>
                        </li>
                    }
                    .into_any()
                }
            }
        }
    };
    view! {
        <aside class="occupants" aria-label="People in the room">
            <h3 class="occupants-title">{move || format!("{} in the room", people(count.get()))}</h3>
            <div class="occupants-scroll" id=SCROLLER_ID on:scroll=handler(move |_: web_sys::Event| on_scroll())>
                <ul
                    class="occupant-list"
                    data-rows=move || rows.with(Vec::len).to_string()
                    style=("--occ-total", move || rows.with(Vec::len).to_string())
                    style=("--occ-before", move || range.get().start.to_string())
                >
                    {keyed_list(visible, row)}
                </ul>
            </div>
            <OccupantActions jid />
        </aside>
    }
}

/// "1 person", "5,000 people".
pub fn people(n: usize) -> String {
    if n == 1 { "1 person".into() } else { format!("{} people", thousands(n)) }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn has_key(row: &OccupantRow, key: &str) -> bool {
    match row {
        OccupantRow::Heading { role, .. } => key.strip_prefix('\u{0}') == Some(role.wire()),
        OccupantRow::Person { nick, .. } => nick == key,
    }
}

fn row_key(row: &OccupantRow) -> String {
    match row {
        OccupantRow::Heading { role, .. } => format!("\u{0}{}", role.wire()),
        OccupantRow::Person { nick, .. } => nick.clone(),
    }
}

/// What can be done about the chosen occupant.
#[component]
fn OccupantActions(jid: BareJid) -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<crate::ui::state::SessionHandle>();
    let choice = expect_context::<OccupantChoice>();
    let r = store.rooms;
    let reason = RwSignal::new(String::new());
    let powers = {
        let jid = jid.clone();
        Memo::new(move |_| {
            r.rooms.with(|rooms| rooms.get(&jid).map(|x| (x.is_moderator(), x.is_admin(), x.nick.clone())))
        })
    };
    let target = {
        let jid = jid.clone();
        move || {
            let nick = choice.chosen.get()?;
            r.occupants.with(|o| o.get(&jid).and_then(|o| o.by_nick.get(&nick)).cloned())
        }
    };
    let target = Memo::new(move |_| target());
    let act = {
        let jid = jid.clone();
        move |ban: bool| {
            let Some(o) = target.get_untracked() else { return };
            let why = Some(reason.get_untracked().trim().to_owned()).filter(|r| !r.is_empty());
            let command = match (ban, o.jid.as_ref()) {
                (true, Some(real)) => RoomCommand::SetAffiliation {
                    room: jid.clone(),
                    jid: real.bare().clone(),
                    affiliation: Affiliation::Outcast,
                    reason: why,
                },
                (true, None) => return,
                (false, _) => {
                    RoomCommand::SetRole { room: jid.clone(), nick: o.nick.clone(), role: Role::None, reason: why }
                }
            };
            if super::command(store, session, &jid, command) {
                reason.set(String::new());
                choice.chosen.set(None);
            }
        }
    };
    let kick = act.clone();
    dynamic(move || {
        let Some(nick) = choice.chosen.get() else { return ().into_any() };
        if target.with_untracked(Option::is_none) {
            return ().into_any();
        }
        let (kick, ban) = (kick.clone(), act.clone());
        let mine = powers.with_untracked(|p| p.as_ref().is_some_and(|p| p.2 == nick));
        let details = target.with_untracked(|t| {
            t.as_ref().map(|t| {
                let mut s = format!("{}, {}", t.role.label(), t.affiliation.label());
                if let Some(j) = &t.jid {
                    s.push_str(&format!(" — {j}"));
                }
                s
            })
        });
        let pm_nick = nick.clone();
        view! {
                    <div class="occupant-actions" role="group" aria-label=format!("Actions for {nick}")>
                        <p class="occupant-chosen" dir="auto">{nick.clone()}</p>
                        <p class="occupant-details" dir="auto">{details}</p>
                        {(!mine).then(|| view! {
                            <button type="button" class="button small" id="occupant-pm" on:click=handler(move |_| {
                                choice.private.set(Some(pm_nick.clone()));
                                choice.chosen.set(None);
                            })>"Private message"</button>
                        }.into_any())}
                        {show(
                            move || !mine && powers.with(|p| p.as_ref().is_some_and(|p| p.0)),
                            move || {
                                let (kick, ban) = (kick.clone(), ban.clone());
                                view! {
                                    <label class="visually-hidden" for="moderation-reason">"Reason"</label>
                                    <input id="moderation-reason" class="input" type="text" placeholder="Reason (optional)"
                                        prop:value=reason on:input=write_back(reason) />
                                    <button type="button" class="button small danger" id="occupant-kick" on:click=handler(move |_| kick(false))>"Kick"</button>
                                    {show(
                                        move || powers.with(|p| p.as_ref().is_some_and(|p| p.1)) && target.with(|t| t.as_ref().is_some_and(|t| t.jid.is_some())),
                                        move || {
                                            let ban = ban.clone();
                                            view! { <button type="button" class="button small danger" id="occupant-ban" on:click=handler(move |_| ban(true))>"Ban"</button> }.into_any()
                                        },
                                    )}
                                }
                                .into_any()
                            },
                        )}
                        <button type="button" class="button ghost small" on:click=handler(move |_| choice.chosen.set(None))>"Close"</button>
                    </div>
                }
                .into_any()
    })
}
