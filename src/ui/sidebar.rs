//! The chat screen's frame and its left pane: own account, notices, contact filter, adding contacts,
//! subscription requests and the roster.
//!
//! The roster is one memo (sorted, grouped, filtered jids) feeding keyed `<For>`s; each row reads only its own
//! contact's fields, so presence and unread changes touch one row. The list is a single tab stop: arrow keys,
//! Home and End move between contacts (roving tabindex), Enter or Space opens one.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::reactive::computed::Selector;
use reactive_stores::{Field, Store};
use wasm_bindgen::JsCast;

use super::connection::{ConnectionIndicator, OfflineBanner};
use super::conversation::ConversationPane;
use super::dialogs::{ContactDialog, DialogMode, DialogState};
use super::model::{self, Contact, RosterGroup};
use super::state::{
    self, AppState, AppStateStoreFields, Connection, NoticeKind, OwnPresenceStoreFields, SessionHandle,
};
use crate::xmpp::Command;
use crate::xmpp::jid::BareJid;
use crate::xmpp::stanza::presence::{Availability, Show};

/// Roster rows built in the first frame, and in each frame after it until all are on the page.
const ROWS_FIRST_FRAME: usize = 150;
const ROWS_PER_FRAME: usize = 150;

/// Which row of the roster takes part in the tab order, and which conversation is open (cheap per-row checks).
#[derive(Clone, Copy)]
pub struct RosterSelection {
    pub selected: StoredValue<Selector<Option<BareJid>>, LocalStorage>,
    pub roving: StoredValue<Selector<Option<BareJid>>, LocalStorage>,
    pub roving_target: RwSignal<Option<BareJid>>,
}

impl RosterSelection {
    fn is_selected(&self, key: &Option<BareJid>) -> bool {
        self.selected.try_with_value(|s| s.selected(key)).unwrap_or(false)
    }

    fn is_roving(&self, key: &Option<BareJid>) -> bool {
        self.roving.try_with_value(|s| s.selected(key)).unwrap_or(false)
    }
}

#[component]
pub fn MainScreen() -> impl IntoView {
    let store = expect_context::<Store<AppState>>();
    let dialog = RwSignal::new(None::<DialogState>);
    provide_context(dialog);
    provide_context(RosterFilter(RwSignal::new(String::new())));
    super::unread_title(store);
    let conversation_open = move || store.selected().with(Option::is_some);

    // A conversation that is open while the page comes back to the front is read now.
    let visibility = window_event_listener_untyped("visibilitychange", move |_| {
        if state::page_visible()
            && let Some(jid) = store.selected().get_untracked()
        {
            state::mark_read(store, &jid);
        }
    });
    on_cleanup(move || visibility.remove());
    // Arriving from the login form, focus would be lost on <body>: start at the contact filter instead.
    request_animation_frame(|| {
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
        let lost = doc.active_element().is_none_or(|e| e.tag_name().eq_ignore_ascii_case("body"));
        if lost
            && let Some(el) =
                doc.get_element_by_id("contact-filter").and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });

    view! {
        <div class="app" class:conversation-open=conversation_open>
            <aside class="sidebar" aria-label="Contacts and account">
                <AccountHeader />
                <OfflineBanner />
                <Notices />
                <RosterTools />
                <div class="sidebar-scroll">
                    <Requests />
                    <Roster />
                </div>
            </aside>
            <main class="main-pane" id="main">
                <ConversationPane />
            </main>
            <ContactDialog />
        </div>
    }
}

/// Own address, presence selector, status message, connection indicator and "Log out".
#[component]
fn AccountHeader() -> impl IntoView {
    let store = expect_context::<Store<AppState>>();
    let session = expect_context::<SessionHandle>();
    let account = move || store.account().get().map(|a| a.to_string()).unwrap_or_default();
    let status_draft = RwSignal::new(store.own_presence().status().get_untracked());

    let publish = move |show: Show, status: String| {
        store.own_presence().show().set(show);
        store.own_presence().status().set(status.clone());
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
        publish(show, store.own_presence().status().get_untracked());
    };
    let commit_status = move || {
        let status = status_draft.get_untracked();
        if status != store.own_presence().status().get_untracked() {
            publish(store.own_presence().show().get_untracked(), status);
        }
    };
    let show_value = move || match store.own_presence().show().get() {
        Show::Away => "away",
        Show::Dnd => "dnd",
        Show::Xa => "xa",
        Show::Available | Show::Chat => "available",
    };
    let own_class = move || {
        let show = store.own_presence().show().get();
        let online = store.connection().get() == Connection::Online;
        let presence = online.then_some(Availability { show, status: None, priority: 0 });
        format!("dot {}", model::presence_class(presence.as_ref()))
    };

    view! {
        <header class="account">
            <div class="account-row">
                <span class=move || format!("avatar {}", store.account().get().map(|a| model::hue_class(&a)).unwrap_or_default()) aria-hidden="true">
                    {move || model::initial(&account())}
                    <span class=own_class></span>
                </span>
                <div class="account-text">
                    <p class="account-jid" title=account>{account}</p>
                    <ConnectionIndicator />
                </div>
                <button type="button" class="button ghost small" on:click=move |_| session.logout(store)>
                    "Log out"
                </button>
            </div>
            <div class="presence-row">
                <label class="visually-hidden" for="own-show">"Your presence"</label>
                <select id="own-show" class="select" on:change=on_show prop:value=show_value>
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
                    maxlength="200"
                    bind:value=status_draft
                    on:change=move |_| commit_status()
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            commit_status();
                        }
                    }
                />
            </div>
        </header>
    }
}

/// Things that happened outside the open conversation. Errors are announced assertively, the rest politely.
#[component]
fn Notices() -> impl IntoView {
    let store = expect_context::<Store<AppState>>();
    let of_kind = move |kind: NoticeKind| {
        store.notices().with(|n| n.iter().filter(|x| x.kind == kind).cloned().collect::<Vec<_>>())
    };
    let list = move |kind: NoticeKind| {
        view! {
            <For each=move || of_kind(kind) key=|n| n.id let:notice>
                <li class=if kind == NoticeKind::Error { "notice notice-error" } else { "notice notice-info" }>
                    <p>{notice.text.clone()}</p>
                    <button
                        type="button"
                        class="icon-button"
                        aria-label="Dismiss"
                        title="Dismiss"
                        on:click=move |_| state::dismiss_notice(store, notice.id)
                    >
                        "×"
                    </button>
                </li>
            </For>
        }
    };
    view! {
        <ul class="notices" role="alert" aria-label="Errors">{list(NoticeKind::Error)}</ul>
        <ul class="notices" role="status" aria-label="Notifications">{list(NoticeKind::Info)}</ul>
    }
}

/// The filter box and the "Add contact" form.
#[component]
fn RosterTools() -> impl IntoView {
    let store = expect_context::<Store<AppState>>();
    let session = expect_context::<SessionHandle>();
    let filter = expect_context::<RosterFilter>().0;
    let address = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let open = RwSignal::new(false);
    let address_ref = NodeRef::<leptos::html::Input>::new();
    let summary_ref = NodeRef::<leptos::html::Summary>::new();

    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = address.get_untracked();
        let jid = match BareJid::parse(typed.trim()) {
            Ok(j) => j,
            Err(e) if typed.trim().is_empty() => {
                let _ = e;
                error.set(Some("Enter the address of the person to add.".into()));
                return;
            }
            Err(e) => {
                error.set(Some(format!("This is not a valid address: {e}.")));
                return;
            }
        };
        if store.account().with_untracked(|a| a.as_ref() == Some(&jid)) {
            error.set(Some("That is your own address.".into()));
            return;
        }
        let nickname = name.get_untracked().trim().to_owned();
        let command = Command::AddContact {
            jid: jid.clone(),
            name: (!nickname.is_empty()).then_some(nickname),
            groups: Vec::new(),
        };
        match session.send(command) {
            Ok(()) => {
                error.set(None);
                address.set(String::new());
                name.set(String::new());
                open.set(false);
                state::notify(store, NoticeKind::Info, format!("Asked {jid} to share their presence with you."));
            }
            Err(e) => error.set(Some(model::sentence(&e.to_string()))),
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
                    bind:value=filter
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Escape" && !filter.get_untracked().is_empty() {
                            ev.prevent_default();
                            filter.set(String::new());
                        }
                    }
                />
            </div>
            <details class="add-contact" prop:open=open on:toggle=move |ev| {
                let now_open = event_target::<web_sys::HtmlDetailsElement>(&ev).open();
                open.set(now_open);
                if now_open && let Some(el) = address_ref.get_untracked() {
                    let _ = el.focus();
                }
            }>
                <summary node_ref=summary_ref>"Add contact"</summary>
                <form
                    class="add-contact-form"
                    novalidate
                    on:submit=add
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Escape" {
                            ev.prevent_default();
                            open.set(false);
                            if let Some(summary) = summary_ref.get_untracked() {
                                let _ = summary.focus();
                            }
                        }
                    }
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
                            node_ref=address_ref
                            bind:value=address
                            aria-invalid=move || error.with(|e| e.is_some().then_some("true"))
                            aria-describedby=move || error.with(|e| e.is_some().then_some("add-address-error"))
                            on:input=move |_| error.set(None)
                        />
                        <p class="field-error" id="add-address-error" hidden=move || error.with(Option::is_none)>
                            {move || error.get()}
                        </p>
                    </div>
                    <div class="field">
                        <label for="add-name">"Name " <span class="optional">"(optional)"</span></label>
                        <input id="add-name" class="input" type="text" autocomplete="off" bind:value=name />
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
    let store = expect_context::<Store<AppState>>();
    let session = expect_context::<SessionHandle>();
    let answer = move |jid: BareJid, approve: bool| {
        let command = if approve {
            Command::ApproveSubscription { jid: jid.clone() }
        } else {
            Command::DenySubscription { jid: jid.clone() }
        };
        match session.send(command) {
            Ok(()) => store.requests().update(|r| r.retain(|r| r.from != jid)),
            Err(e) => state::notify(store, NoticeKind::Error, model::sentence(&format!("could not answer {jid}: {e}"))),
        }
    };
    view! {
        <Show when=move || store.requests().with(|r| !r.is_empty())>
            <section class="requests" aria-labelledby="requests-title">
                <h2 id="requests-title" class="section-title">"Requests"</h2>
                <ul class="request-list" role="list">
                    <For each=move || store.requests().get() key=|r| r.from.clone() let:request>
                        {
                            let jid = request.from.clone();
                            let (approve_jid, deny_jid) = (jid.clone(), jid.clone());
                            view! {
                                <li class="request">
                                    <span class=format!("avatar small {}", model::hue_class(&jid)) aria-hidden="true">
                                        {model::initial(&jid.to_string())}
                                    </span>
                                    <div class="request-text">
                                        <p class="request-who">{jid.to_string()}</p>
                                        <p class="request-what">"wants to see when you are online"</p>
                                        {request.status.clone().map(|s| view! { <p class="request-status">{s}</p> })}
                                    </div>
                                    <div class="request-actions">
                                        <button
                                            type="button"
                                            class="button primary small"
                                            aria-label=format!("Approve {jid}")
                                            on:click=move |_| answer(approve_jid.clone(), true)
                                        >
                                            "Approve"
                                        </button>
                                        <button
                                            type="button"
                                            class="button ghost small"
                                            aria-label=format!("Deny {jid}")
                                            on:click=move |_| answer(deny_jid.clone(), false)
                                        >
                                            "Deny"
                                        </button>
                                    </div>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </section>
        </Show>
    }
}

/// The contact list: groups of contacts, most reachable first.
#[component]
pub fn Roster() -> impl IntoView {
    let store = expect_context::<Store<AppState>>();
    let filter = use_context::<RosterFilter>().map(|f| f.0).unwrap_or_else(|| RwSignal::new(String::new()));
    // The order is recomputed at most once per frame: a burst of presence updates (hundreds right after login
    // with a big roster) sorts once, not once per stanza. Rows update their own dot and text immediately.
    let order = RwSignal::new(0u64);
    let frame_pending = StoredValue::new(false);
    Effect::new(move |_| {
        store.contacts().track();
        if !frame_pending.get_value() {
            frame_pending.set_value(true);
            request_animation_frame(move || {
                frame_pending.try_set_value(false);
                order.try_update(|n| *n += 1);
            });
        }
    });
    let groups = Memo::new(move |_| {
        order.track();
        let f = filter.get();
        store.contacts().with_untracked(|c| model::group_contacts(c, &f))
    });
    let collapsed = RwSignal::new(HashSet::<String>::new());
    let roving_target = RwSignal::new(None::<BareJid>);
    // The row in the tab order: the last one focused while it is still shown, else the first one.
    let roving = Memo::new(move |_| {
        let target = roving_target.get();
        let closed = collapsed.get();
        groups.with(|gs| {
            let visible = || gs.iter().filter(|g| !closed.contains(&g.name)).flat_map(|g| g.jids.iter());
            match target {
                Some(t) if visible().any(|j| *j == t) => Some(t),
                _ => visible().next().cloned(),
            }
        })
    });
    let selection = RosterSelection {
        selected: StoredValue::new_local(Selector::new(move || store.selected().get())),
        roving: StoredValue::new_local(Selector::new(move || roving.get())),
        roving_target,
    };
    provide_context(selection);
    let has_contacts = move || store.contacts().with(|c| !c.is_empty());

    // A big roster is put on the page a few hundred rows per frame, so the first rows appear at once and the
    // page keeps answering input while the rest is built.
    let budget = RwSignal::new(ROWS_FIRST_FRAME);
    Effect::new(move |_| {
        let total = groups.with(|g| g.iter().map(|g| g.jids.len()).sum::<usize>());
        if budget.get() < total {
            request_animation_frame(move || {
                budget.try_update(|b| *b += ROWS_PER_FRAME);
            });
        }
    });

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let key = ev.key();
        if !matches!(key.as_str(), "ArrowDown" | "ArrowUp" | "Home" | "End") {
            return;
        }
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        if !target.class_list().contains("contact-main") {
            return;
        }
        let Some(list) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        let Ok(nodes) = list.query_selector_all("button.contact-main") else { return };
        let buttons: Vec<web_sys::HtmlElement> =
            (0..nodes.length()).filter_map(|i| nodes.item(i)).filter_map(|n| n.dyn_into().ok()).collect();
        let Some(pos) = buttons.iter().position(|b| {
            let b: &web_sys::Element = b.as_ref();
            *b == target
        }) else {
            return;
        };
        let next = match key.as_str() {
            "ArrowDown" => (pos + 1).min(buttons.len().saturating_sub(1)),
            "ArrowUp" => pos.saturating_sub(1),
            "Home" => 0,
            _ => buttons.len().saturating_sub(1),
        };
        ev.prevent_default();
        if let Some(b) = buttons.get(next) {
            let _ = b.focus();
        }
    };

    view! {
        <nav class="roster" aria-label="Contacts" on:keydown=on_keydown>
            <Show
                when=has_contacts
                fallback=|| view! { <p class="empty-note">"No contacts yet. Add someone with “Add contact”."</p> }
            >
                <Show
                    when=move || groups.with(|g| !g.is_empty())
                    fallback=|| view! { <p class="empty-note">"No contacts match the filter."</p> }
                >
                    <ul class="groups" role="list">
                        <For each=move || groups.with(|g| g.iter().map(|g| g.name.clone()).collect::<Vec<_>>()) key=|name| name.clone() let:name>
                            <RosterGroupView name groups collapsed budget />
                        </For>
                    </ul>
                </Show>
            </Show>
        </nav>
    }
}

#[component]
fn RosterGroupView(
    name: String,
    groups: Memo<Vec<RosterGroup>>,
    collapsed: RwSignal<HashSet<String>>,
    budget: RwSignal<usize>,
) -> impl IntoView {
    let group = {
        let name = name.clone();
        Memo::new(move |_| groups.with(|gs| gs.iter().find(|g| g.name == name).cloned()))
    };
    // Rows in the groups above this one count against the rendering budget first.
    let before = {
        let name = name.clone();
        Memo::new(move |_| {
            groups.with(|gs| gs.iter().take_while(|g| g.name != name).map(|g| g.jids.len()).sum::<usize>())
        })
    };
    let jids = Memo::new(move |_| {
        let room = budget.get().saturating_sub(before.get());
        group.with(|g| g.as_ref().map(|g| g.jids.iter().take(room).cloned().collect::<Vec<_>>()).unwrap_or_default())
    });
    let counts = move || group.with(|g| g.as_ref().map(|g| (g.online, g.jids.len())).unwrap_or_default());
    let is_open = {
        let name = name.clone();
        Memo::new(move |_| collapsed.with(|c| !c.contains(&name)))
    };
    let toggle = {
        let name = name.clone();
        move |_| {
            collapsed.update(|c| {
                if !c.remove(&name) {
                    c.insert(name.clone());
                }
            })
        }
    };
    let heading_id = format!("group-{}", name.bytes().map(|b| format!("{b:02x}")).collect::<String>());
    let list_id = format!("{heading_id}-list");
    view! {
        <li class="group">
            <h2 class="group-title" id=heading_id.clone()>
                <button
                    type="button"
                    class="group-toggle"
                    aria-expanded=move || if is_open.get() { "true" } else { "false" }
                    aria-controls=list_id.clone()
                    on:click=toggle
                >
                    <span class="chevron" aria-hidden="true"></span>
                    <span class="group-name">{name.clone()}</span>
                    <span class="group-count">
                        {move || {
                            let (online, total) = counts();
                            format!("{online}/{total}")
                        }}
                        <span class="visually-hidden">" online"</span>
                    </span>
                </button>
            </h2>
            <Show when=move || is_open.get()>
                <ul class="contacts" role="list" id=list_id.clone() aria-labelledby=heading_id.clone()>
                    <For each=move || jids.get() key=|jid| jid.clone() let:jid>
                        <ContactRow jid />
                    </For>
                </ul>
            </Show>
        </li>
    }
}

/// What one roster row shows, computed from its contact (cheap to compare, so unchanged rows do nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RowData {
    name: String,
    dot: &'static str,
    presence: &'static str,
    status: String,
    unread: u32,
    pending: bool,
}

impl RowData {
    fn of(c: &Contact) -> RowData {
        let presence = c.presence.as_ref();
        RowData {
            name: c.display_name(),
            dot: model::presence_class(presence),
            presence: model::presence_label(presence),
            status: presence
                .and_then(|p| p.status.as_deref())
                .filter(|s| !s.trim().is_empty())
                .unwrap_or(model::presence_label(presence))
                .to_owned(),
            unread: c.unread,
            pending: c.in_roster && c.pending_out && !c.subscription.sees_their_presence(),
        }
    }
}

/// One contact: avatar with presence dot, name, presence in words, status message, unread badge, actions.
///
/// Built for long rosters: one memo over the contact and one render effect per row. A change re-renders the
/// row in place (same elements, so focus stays), and only rows whose contact changed do any work.
#[component]
pub fn ContactRow(jid: BareJid) -> impl IntoView {
    let store = expect_context::<Store<AppState>>();
    let selection = expect_context::<RosterSelection>();
    let dialog = use_context::<RwSignal<Option<DialogState>>>();
    let contact: Field<Contact> = store.contacts().at_key(jid.clone()).into();
    let data = Memo::new(move |_| contact.try_with(RowData::of));
    let hue = model::hue_class(&jid);
    let jid_text = jid.to_string();
    let key = Some(jid);

    move || {
        let d = data.get()?;
        let selected = selection.is_selected(&key);
        let tabindex = if selection.is_roving(&key) { "0" } else { "-1" };
        let jid = key.clone()?;
        let (open_jid, focus_jid, more_jid) = (jid.clone(), jid.clone(), jid);
        let open = move |_| {
            state::select(store, open_jid.clone());
            focus_composer();
        };
        let on_focus = move |_| selection.roving_target.set(Some(focus_jid.clone()));
        let more = move |_| {
            if let Some(d) = dialog {
                d.set(Some(DialogState { jid: more_jid.clone(), mode: DialogMode::Menu }));
            }
        };
        let class = match (selected, d.unread > 0) {
            (true, true) => "contact selected unread",
            (true, false) => "contact selected",
            (false, true) => "contact unread",
            (false, false) => "contact",
        };
        let unread_words = if d.unread == 1 { " unread message" } else { " unread messages" };
        Some(view! {
            <li class=class>
                <button
                    type="button"
                    class="contact-main"
                    data-jid=jid_text.clone()
                    tabindex=tabindex
                    aria-current=selected.then_some("true")
                    on:click=open
                    on:focus=on_focus
                >
                    <span class=format!("avatar {hue}") aria-hidden="true">
                        {model::initial(&d.name)}
                        <span class=format!("dot {}", d.dot)></span>
                    </span>
                    <span class="contact-text">
                        <span class="contact-line">
                            <span class="contact-name">
                                {d.name.clone()}
                                <span class="visually-hidden">{format!(" — {}", d.presence)}</span>
                            </span>
                            {d.pending.then(|| view! { <span class="tag">"pending"</span> })}
                        </span>
                        <span class="contact-status">{d.status.clone()}</span>
                    </span>
                    {(d.unread > 0).then(|| view! {
                        <span class="badge">
                            {d.unread}
                            <span class="visually-hidden">{unread_words}</span>
                        </span>
                    })}
                </button>
                <button
                    type="button"
                    class="contact-more icon-button"
                    tabindex=tabindex
                    aria-haspopup="dialog"
                    aria-label=format!("Actions for {}", d.name)
                    title="Rename or remove"
                    on:click=more
                >
                    <span aria-hidden="true">"⋯"</span>
                </button>
            </li>
        })
    }
}

/// Moves focus to the composer once it is on the page (after the conversation renders).
pub fn focus_composer() {
    let Some(window) = web_sys::window() else { return };
    let cb = wasm_bindgen::closure::Closure::once_into_js(move || {
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("composer"))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
    let _ = window.request_animation_frame(cb.unchecked_ref());
}
