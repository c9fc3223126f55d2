//! The chat screen's frame and its left pane: own account, notices, contact filter, adding contacts,
//! subscription requests and the roster.
//!
//! The roster ([`roster`]) is virtualized: the sidebar's scrolling element ([`RosterScroll`]) tells it where
//! the view is, and only the rows in and around it are on the page, for rosters of any size. Rows have fixed
//! heights from the stylesheet, so where each row goes is arithmetic on counts ([`layout`]). Each row reads only
//! its own contact's fields, so presence and unread changes touch one row. The list is a single tab stop: arrow
//! keys, Home and End move between contacts (roving tabindex; a row scrolled out is scrolled in and rendered
//! before it is focused), Enter or Space opens one.

pub mod layout;
pub mod roster;

use crate::ui::{effect, focus_id, handler, keyed_list, show, show_or, write_back, write_back_clearing};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

pub use roster::{ContactRow, Roster, RosterScroll, RosterSelection};

use super::connection::{ConnectionIndicator, OfflineBanner};
use super::conversation::ConversationPane;
use super::dialogs::{ContactDialog, DialogState};
use super::model;
use super::notifications::NotificationSettings;
use super::rooms::sidebar::RoomsSection;
use super::rooms::view::RoomPane;
use super::state::{self, AppState, Connection, NoticeKind, OwnPresence, SessionHandle};
use crate::xmpp::Command;
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::presence::{Availability, Show};

#[component]
pub fn MainScreen() -> impl IntoView {
    let store = expect_context::<AppState>();
    let dialog = RwSignal::new(None::<DialogState>);
    provide_context(dialog);
    provide_context(RosterFilter(RwSignal::new(String::new())));
    super::unread_title(store);
    super::history::follow(store);
    super::notifications::follow(store);
    let scrolled = Trigger::new();
    provide_context(RosterScroll { scrolled });
    // One `class` string rather than a `class:` toggle: a toggle compiles its own render effect type.
    let app_class = move || {
        let open = store.selected.with(Option::is_some) || store.rooms.open.with(Option::is_some);
        if open { "app conversation-open" } else { "app" }.to_owned()
    };

    // A conversation that is open while the page comes back to the front is read now (and its newest message
    // marked as displayed: the conversation view watches `page_hidden`).
    store.page_hidden.set(!state::page_visible());
    let visibility = window_event_listener_untyped("visibilitychange", move |_| {
        let visible = state::page_visible();
        if store.page_hidden.get_untracked() == visible {
            store.page_hidden.set(!visible);
        }
        if visible && let Some(jid) = store.selected.get_untracked() {
            state::mark_read(store, &jid);
        }
    });
    // Closing or reloading the tab with something unsent asks first (the browser words the question).
    let unload = window_event_listener_untyped("beforeunload", move |ev| {
        if store.has_unsent() {
            ev.prevent_default();
            let _ = js_sys::Reflect::set(&ev, &"returnValue".into(), &"".into());
        }
    });
    on_cleanup(move || {
        visibility.remove();
        unload.remove();
    });
    // Arriving from the login form, focus would be lost on <body>: start at the contact filter instead (not on
    // a touch screen, where focusing a field pops up the keyboard over the list).
    request_animation_frame(|| {
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
        if doc.active_element().is_none_or(|e| e.tag_name().eq_ignore_ascii_case("body")) && !touch_screen() {
            focus_id("contact-filter");
        }
    });

    view! {
        <div class=app_class>
            <aside class="sidebar" aria-label="Contacts and account">
                <AccountHeader />
                <OfflineBanner />
                <Notices />
                <RosterTools />
                <RoomsSection />
                <div class="sidebar-scroll" id=roster::SCROLLER_ID on:scroll=handler(move |_| scrolled.notify())>
                    <Requests />
                    <Roster />
                </div>
            </aside>
            <main class="main-pane" id="main">
                {show_or(
                    move || store.rooms.open.with(Option::is_some),
                    || view! { <RoomPane /> }.into_any(),
                    || view! { <ConversationPane /> }.into_any(),
                )}
            </main>
            <ContactDialog />
        </div>
    }
}

/// Own address, presence selector, status message, connection indicator and "Log out".
#[component]
fn AccountHeader() -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let account = move || store.account.get().map(|a| a.to_string()).unwrap_or_default();
    let status_draft = RwSignal::new(store.own_presence.with_untracked(|p| p.status.clone()));

    let publish = move |show: Show, status: String| {
        store.own_presence.set(OwnPresence { show, status: status.clone() });
        let availability =
            Availability { show, status: (!status.trim().is_empty()).then(|| status.trim().to_owned()), priority: 0 };
        if let Err(e) = session.send(Command::SetPresence(availability)) {
            state::notify(store, NoticeKind::Error, model::sentence(&format!("could not change your presence: {e}")));
        }
    };
    let on_show = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let show = match value.as_str() {
            "away" => Show::Away,
            "dnd" => Show::Dnd,
            "xa" => Show::Xa,
            _ => Show::Available,
        };
        publish(show, store.own_presence.with_untracked(|p| p.status.clone()));
    };
    let commit_status = move || {
        let status = status_draft.get_untracked();
        if status != store.own_presence.with_untracked(|p| p.status.clone()) {
            publish(store.own_presence.with_untracked(|p| p.show), status);
        }
    };
    // The selector's value as a signal kept in step with our presence (a `prop:` bound to a signal of `String`
    // is a type the text fields compile already; a closure would be another).
    let show_name = |show| match show {
        Show::Away => "away",
        Show::Dnd => "dnd",
        Show::Xa => "xa",
        Show::Available | Show::Chat => "available",
    };
    let show_value = RwSignal::new(show_name(store.own_presence.with_untracked(|p| p.show)).to_owned());
    effect(move || show_value.set(show_name(store.own_presence.with(|p| p.show)).to_owned()));
    let own_class = move || {
        let show = store.own_presence.with(|p| p.show);
        let online = store.connection.get() == Connection::Online;
        let presence = online.then_some(Availability { show, status: None, priority: 0 });
        format!("dot {}", model::presence_class(presence.as_ref()))
    };

    view! {
        <header class="account">
            <div class="account-row">
                <span class=move || format!("avatar {}", store.account.get().map(|a| model::hue_class(&a)).unwrap_or_default()) aria-hidden="true">
                    {move || model::initial(&account())}
                    <span class=own_class></span>
                </span>
                <div class="account-text">
                    <p class="account-jid" title=account>{account}</p>
                    <ConnectionIndicator />
                </div>
                <super::persist::LogOutButton />
            </div>
            <div class="presence-row">
                <label class="visually-hidden" for="own-show">"Your presence"</label>
                <select id="own-show" class="select" on:change=handler(on_show) prop:value=show_value>
                    <option value="available">"Available"</option>
                    <option value="away">"Away"</option>
                    <option value="dnd">"Do not disturb"</option>
                    <option value="xa">"Extended away"</option>
                </select>
                <label class="visually-hidden" for="own-status">"Status message"</label>
                <input
                    id="own-status"
                    class="input"
                    type="text"
                    placeholder="Status message"
                    dir="auto"
                    maxlength="200"
                    prop:value=status_draft on:input=write_back(status_draft)
                    on:change=handler(move |_| commit_status())
                    on:keydown=handler(move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            commit_status();
                        }
                    })
                />
            </div>
            <NotificationSettings />
        </header>
    }
}

/// Things that happened outside the open conversation. Errors are announced assertively, the rest politely.
#[component]
fn Notices() -> impl IntoView {
    let store = expect_context::<AppState>();
    let list = move |kind: NoticeKind| {
        keyed_list(
            move || store.notices.with(|n| n.iter().filter(|x| x.kind == kind).map(|x| x.id).collect()),
            move |id| {
                let text = store.notices.with_untracked(|n| n.iter().find(|x| x.id == id).map(|x| x.text.clone()));
                view! {
                    <li class=if kind == NoticeKind::Error { "notice notice-error" } else { "notice notice-info" }>
                        <p>{text}</p>
                        <button
                            type="button"
                            class="icon-button"
                            aria-label="Dismiss"
                            title="Dismiss"
                            on:click=handler(move |_| state::dismiss_notice(store, id))
                        >
                            "×"
                        </button>
                    </li>
                }
                .into_any()
            },
        )
    };
    view! {
        <ul class="notices" role="alert" aria-label="Errors">{list(NoticeKind::Error)}</ul>
        <ul class="notices" role="status" aria-label="Notifications">{list(NoticeKind::Info)}</ul>
    }
}

/// The filter box and the "Add contact" form.
#[component]
fn RosterTools() -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let filter = expect_context::<RosterFilter>().0;
    let address = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let open = RwSignal::new(false);

    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let own = store.account.get_untracked();
        let jid = match model::contact_address(&address.get_untracked(), own.as_ref()) {
            Ok(j) => j,
            Err(e) => {
                error.set(Some(e));
                focus_id("add-address");
                return;
            }
        };
        let nickname = name.get_untracked().trim().to_owned();
        let existing = store.contacts.with_untracked(|c| c.get(&jid).filter(|c| c.in_roster).cloned());
        // Someone already in the list is opened; the request goes out again only when it is what is missing
        // (the core keeps their name and groups either way).
        let asks = existing.as_ref().is_none_or(|c| !c.subscription.sees_their_presence() && !c.pending_out);
        if existing.is_some() && !asks && nickname.is_empty() {
            state::notify(
                store,
                NoticeKind::Info,
                format!("{} is already in your contacts.", state::name_of(store, &jid)),
            );
        } else {
            let command = Command::AddContact {
                jid: jid.clone(),
                name: (!nickname.is_empty()).then_some(nickname),
                groups: Vec::new(),
            };
            if let Err(e) = session.send(command) {
                error.set(Some(model::sentence(&e.to_string())));
                return;
            }
            if asks {
                state::notify(store, NoticeKind::Info, format!("Asked {jid} to share their presence with you."));
            }
        }
        error.set(None);
        address.set(String::new());
        name.set(String::new());
        open.set(false);
        if existing.is_some() {
            state::select(store, jid);
            focus_composer();
        }
    };

    view! {
        <div class="roster-tools">
            <div class="filter">
                <label class="visually-hidden" for="contact-filter">"Filter contacts"</label>
                <input
                    id="contact-filter"
                    class="input"
                    type="search"
                    placeholder="Filter contacts"
                    autocomplete="off"
                    prop:value=filter on:input=write_back(filter)
                    on:keydown=handler(move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
                        "Escape" if !filter.get_untracked().is_empty() => {
                            ev.prevent_default();
                            filter.set(String::new());
                        }
                        // Down into the list: to its row in the tab order (the first one in view).
                        "ArrowDown" => {
                            ev.prevent_default();
                            focus_roster_row();
                        }
                        // Enter opens the one contact that matches.
                        "Enter" => {
                            ev.prevent_default();
                            let needle = model::fold_case(filter.get_untracked().trim());
                            let single = store.contacts.with_untracked(|c| {
                                let mut found = c.values().filter(|c| model::matches_filter(c, &needle));
                                match (found.next(), found.next()) {
                                    (Some(one), None) => Some(one.jid.clone()),
                                    _ => None,
                                }
                            });
                            if let Some(jid) = single {
                                state::select(store, jid);
                                focus_composer();
                            }
                        }
                        _ => {}
                    })
                />
            </div>
            <details class="add-contact" prop:open=open on:toggle=handler(move |ev| {
                let now_open = event_target::<web_sys::HtmlDetailsElement>(&ev).open();
                open.set(now_open);
                if now_open {
                    focus_id("add-address");
                }
            })>
                <summary id="add-contact-summary">"Add contact"</summary>
                <form
                    class="add-contact-form"
                    novalidate
                    on:submit=handler(add)
                    on:keydown=handler(move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Escape" {
                            ev.prevent_default();
                            open.set(false);
                            focus_id("add-contact-summary");
                        }
                    })
                >
                    <div class="field">
                        <label for="add-address">"Address"</label>
                        <input
                            id="add-address"
                            class="input"
                            type="text"
                            inputmode="email"
                            autocapitalize="none"
                            spellcheck="false"
                            autocomplete="off"
                            placeholder="bob@example.org"
                            prop:value=address
                            aria-invalid=move || error.with(|e| e.is_some().then(|| "true".to_owned()))
                            aria-describedby=move || error.with(|e| e.is_some().then(|| "add-address-error".to_owned()))
                            on:input=write_back_clearing(address, error)
                        />
                        <p class="field-error" id="add-address-error" hidden=move || error.with(Option::is_none)>
                            {move || error.get()}
                        </p>
                    </div>
                    <div class="field">
                        <label for="add-name">"Name " <span class="optional">"(optional)"</span></label>
                        <input id="add-name" class="input" type="text" autocomplete="off" prop:value=name on:input=write_back(name) />
                    </div>
                    <button type="submit" class="button primary small">"Add"</button>
                </form>
            </details>
        </div>
    }
}

/// What is typed in "Filter contacts" (context so the roster and the tools share it).
#[derive(Clone, Copy)]
pub struct RosterFilter(pub RwSignal<String>);

/// People asking to see our presence, each with Approve and Deny.
#[component]
fn Requests() -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let answer = move |jid: BareJid, approve: bool| {
        let command = if approve {
            Command::ApproveSubscription { jid: jid.clone() }
        } else {
            Command::DenySubscription { jid: jid.clone() }
        };
        match session.send(command) {
            Ok(()) => store.requests.update(|r| r.retain(|r| r.from != jid)),
            Err(e) => state::notify(store, NoticeKind::Error, model::sentence(&format!("could not answer {jid}: {e}"))),
        }
    };
    view! {
        {show(
            move || store.requests.with(|r| !r.is_empty()),
            move || view! {
            <section class="requests" aria-labelledby="requests-title">
                <h2 id="requests-title" class="section-title">"Requests"</h2>
                <ul class="request-list" role="list">
                    {keyed_list(
                        move || store.requests.with(|r| r.iter().map(|r| r.from.clone()).collect()),
                        move |jid| {
                            let status = store.requests
                                .with_untracked(|r| r.iter().find(|r| r.from == jid).and_then(|r| r.status.clone()));
                            let (approve_jid, deny_jid) = (jid.clone(), jid.clone());
                            view! {
                                <li class="request">
                                    <span class=format!("avatar small {}", model::hue_class(&jid)) aria-hidden="true">
                                        {model::initial(&jid.to_string())}
                                    </span>
                                    <div class="request-text">
                                        <p class="request-who" dir="auto">{jid.to_string()}</p>
                                        <p class="request-what">"wants to see when you are online"</p>
                                        {status.map(|s| view! { <p class="request-status" dir="auto">{s}</p> }.into_any())}
                                    </div>
                                    <div class="request-actions">
                                        <button
                                            type="button"
                                            class="button primary small"
                                            aria-label=format!("Approve {jid}")
                                            on:click=handler(move |_| answer(approve_jid.clone(), true))
                                        >
                                            "Approve"
                                        </button>
                                        <button
                                            type="button"
                                            class="button ghost small"
                                            aria-label=format!("Deny {jid}")
                                            on:click=handler(move |_| answer(deny_jid.clone(), false))
                                        >
                                            "Deny"
                                        </button>
                                    </div>
                                </li>
                            }
                            .into_any()
                        },
                    )}
                </ul>
            </section>
            }.into_any(),
        )}
    }
}

/// Whether the main pointer is a finger (phones, tablets): `(pointer: coarse)`.
pub fn touch_screen() -> bool {
    web_sys::window().and_then(|w| w.match_media("(pointer: coarse)").ok().flatten()).is_some_and(|m| m.matches())
}

/// Focuses the roster's row in the tab order (the roving one; else the first row on the page).
fn focus_roster_row() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let row = doc
        .query_selector("#roster-groups button.contact-main[tabindex=\"0\"]")
        .ok()
        .flatten()
        .or_else(|| doc.query_selector("#roster-groups button.contact-main").ok().flatten());
    if let Some(row) = row.and_then(|r| r.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = row.focus();
    }
}

/// Moves focus to the composer once it is on the page (after the conversation renders).
pub fn focus_composer() {
    let Some(window) = web_sys::window() else { return };
    let cb = wasm_bindgen::closure::Closure::once_into_js(|| focus_id("composer"));
    let _ = window.request_animation_frame(cb.unchecked_ref());
}
