//! The contact list, virtualized: only the rows in (and a little around) the visible part of the sidebar are
//! on the page, whatever the roster's size.
//!
//! - One memo holds the sorted, grouped, filtered roster (re-sorted at most once per frame). From it and the
//!   scroll position, a second memo computes the window ([`super::layout::window`]): which groups and which of
//!   their rows intersect the view plus [`OVERSCAN_ROWS`] rows each way. Rows have fixed heights set in CSS, so
//!   positions are counts times heights; the list keeps its full height and an empty space above the first
//!   rendered group, both as CSS `calc()`s of those counts (exact at any font size). The counts are custom
//!   properties set through the CSSOM (`style=("--name", …)`): the page's CSP forbids `style` attributes.
//! - The scroller ([`RosterScroll`], the sidebar's scrolling element) reports scroll events; the position is read
//!   at most once per animation frame. Heights are read from the stylesheet again when the window is resized.
//! - Groups and rows are keyed lists ([`keyed_list`]), so a row that stays in view is kept, and each row
//!   memoizes what it shows of its own contact: a presence or unread change re-renders one row.
//! - The list's `data-rows` is the number of contact rows it holds in all (open groups), rendered or not: what
//!   the browser benchmark waits for.
//! - Semantics: each group is a list item with a real heading and its own list of contacts; groups and rows
//!   carry `aria-setsize` / `aria-posinset`, so the counts announced are the full ones, not the rendered ones.
//! - The list is a single tab stop (roving tabindex): arrow keys, Home and End move between contacts across
//!   groups, computed on the data, not the DOM; the target row is scrolled into view and rendered, then focused.
//!   Enter or Space opens a conversation. When the focused row scrolls out of the window (mouse wheel) and is
//!   removed, focus is parked on the list (not dropped on the page), and the arrow keys go on from that row.

use crate::ui::{by_id, dynamic, effect, handler, keyed_list, show, show_or};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::RosterFilter;
use super::layout::{self, Metrics, RosterWindow, Step};
use crate::ui::dialogs::{DialogMode, DialogState};
use crate::ui::model::{self, Contact, RosterGroup};
use crate::ui::state::{self, AppState};
use crate::xmpp::jid::BareJid;

/// Rows rendered beyond each edge of the visible part, so a scroll by a few rows shows rows already there.
pub const OVERSCAN_ROWS: f64 = 8.0;

/// The id of the element the roster scrolls in (the main screen's sidebar scroller).
pub const SCROLLER_ID: &str = "sidebar-scroll";
/// The id of the roster's list of groups.
const LIST_ID: &str = "roster-groups";

/// A trigger the scroller's `scroll` events notify (provided by the main screen, whose scroller has the id
/// [`SCROLLER_ID`]). Without both the roster renders as if scrolled to the top.
#[derive(Clone, Copy)]
pub struct RosterScroll {
    pub scrolled: Trigger,
}

/// Which row of the roster takes part in the tab order (the roving tab stop), and the row to keep it on.
#[derive(Clone, Copy)]
pub struct RosterSelection {
    pub roving: Memo<Option<BareJid>>,
    pub roving_target: RwSignal<Option<BareJid>>,
}

fn inner_height() -> f64 {
    web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()).unwrap_or(800.0)
}

/// The row heights as the stylesheet computes them (registered `<length>` custom properties compute to
/// pixels); the defaults where a value is missing.
fn read_metrics(el: &web_sys::Element) -> Metrics {
    let d = Metrics::default();
    let Some(style) = web_sys::window().and_then(|w| w.get_computed_style(el).ok().flatten()) else {
        return d;
    };
    let px = |name: &str, default: f64| {
        let v = style.get_property_value(name).unwrap_or_default();
        // The browser's parseFloat: Rust's own float parser would add its tables to the wasm for three numbers.
        v.trim().strip_suffix("px").map(js_sys::parse_float).filter(|n| *n > 0.0).unwrap_or(default)
    };
    Metrics {
        group: px("--roster-group", d.group),
        heading: px("--roster-heading", d.heading),
        row: px("--roster-row", d.row),
    }
}

/// The contact list: groups of contacts, most reachable first.
#[component]
pub fn Roster() -> impl IntoView {
    let store = expect_context::<AppState>();
    let filter = use_context::<RosterFilter>().map(|f| f.0).unwrap_or_else(|| RwSignal::new(String::new()));
    let scroll = use_context::<RosterScroll>();
    // The order is recomputed at most once per frame: a burst of presence updates (hundreds right after login
    // with a big roster) sorts once, not once per stanza. Rows update their own dot and text immediately.
    let order = RwSignal::new(0u64);
    let frame_pending = StoredValue::new(false);
    effect(move || {
        store.contacts.track();
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
        store.contacts.with_untracked(|c| model::group_contacts(c, &f))
    });
    // The collapsed groups' names (a handful: a list is smaller in the wasm than another hash set type).
    let collapsed = RwSignal::new(Vec::<String>::new());

    // What is in view: the list's scroll position (pixels from its top), the height the view can have at most
    // (the sidebar never exceeds the window), and the row heights.
    let metrics = RwSignal::new(Metrics::default());
    let view_top = RwSignal::new(0.0f64);
    let view_height = RwSignal::new(inner_height());
    let window = Memo::new(move |_| {
        let m = metrics.get();
        let (top, height) = (view_top.get(), view_height.get());
        let overscan = OVERSCAN_ROWS * m.row;
        collapsed.with(|closed| {
            groups.with(|gs| {
                layout::window(gs, |n| !closed.iter().any(|c| c == n), m, top - overscan, top + height + overscan)
            })
        })
    });

    // Reading the position: after scroll events, layout changes and resizes, at most once per animation frame.
    let metrics_stale = StoredValue::new(true);
    let measure = move || {
        // Called from animation frames: the roster may be gone by then (and another one on the page).
        let (Some(stale), Some(list)) = (metrics_stale.try_get_value(), by_id(LIST_ID)) else {
            return;
        };
        if stale {
            metrics_stale.set_value(false);
            metrics.maybe_update(|m| {
                let read = read_metrics(&list);
                std::mem::replace(m, read) != read
            });
            view_height.set(inner_height());
        }
        let Some(container) = scroll.and_then(|_| by_id(SCROLLER_ID)) else {
            return;
        };
        let top = f64::from(container.scroll_top() - list.offset_top());
        if view_top.get_untracked() != top {
            view_top.set(top);
        }
    };
    let measure_pending = StoredValue::new(false);
    let schedule = move || {
        if measure_pending.try_get_value() != Some(false) {
            return;
        }
        measure_pending.set_value(true);
        request_animation_frame(move || {
            if measure_pending.try_set_value(false).is_none() {
                measure();
            }
        });
    };
    if let Some(s) = scroll {
        effect(move || {
            s.scrolled.track();
            schedule();
        });
    }
    // The list moves inside the scroller when it first appears, when the roster changes (a filter can shorten
    // it), and when requests appear above it. On a phone, opening or closing a conversation hides or shows the
    // whole sidebar (`display: none` loses its scroll position without a scroll event).
    effect(move || {
        groups.track();
        store.requests.track();
        store.selected.track();
        schedule();
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        metrics_stale.set_value(true);
        schedule();
    });
    on_cleanup(move || resize.remove());

    let roving_target = RwSignal::new(None::<BareJid>);
    // The row in the tab order: the last one focused while it is rendered, else the first row in view.
    let roving = Memo::new(move |_| {
        let target = roving_target.get();
        let closed = collapsed.get();
        let (m, top) = (metrics.get(), view_top.get());
        window.with(|w| {
            groups.with(|gs| {
                let rendered = |j: &BareJid| {
                    w.groups.iter().any(|s| {
                        gs.get(s.index).and_then(|g| g.jids.get(s.rows.clone())).is_some_and(|r| r.contains(j))
                    })
                };
                match target {
                    Some(t) if rendered(&t) => Some(t),
                    _ => layout::first_row_below(gs, |n| !closed.iter().any(|c| c == n), m, top.max(0.0))
                        .and_then(|(gi, k)| gs.get(gi).and_then(|g| g.jids.get(k)).cloned()),
                }
            })
        })
    });
    let selection = RosterSelection { roving, roving_target };
    provide_context(selection);
    let has_contacts = move || store.contacts.with(|c| !c.is_empty());

    // Scrolls the scroller so that a row starting `row_top` pixels down the list is in view (below the sticky
    // heading), and moves the window there at once.
    let reveal = move |row_top: f64, m: Metrics| {
        let Some(list) = by_id(LIST_ID) else {
            return;
        };
        let Some(container) = scroll.and_then(|_| by_id(SCROLLER_ID)) else {
            return;
        };
        let list_top = f64::from(list.offset_top());
        let top = f64::from(container.scroll_top()) - list_top;
        let height = f64::from(container.client_height());
        let wanted = if row_top - m.heading < top {
            // Up: the row goes just below its heading block (the first row of all: the very top).
            (row_top - m.group).floor()
        } else if row_top + m.row > top + height {
            (row_top + m.row - height).ceil()
        } else {
            top
        };
        if wanted != top {
            container.set_scroll_top((wanted + list_top) as i32);
        }
        view_top.set(f64::from(container.scroll_top() - list.offset_top()));
    };

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let step = match ev.key().as_str() {
            "ArrowDown" => Step::Next,
            "ArrowUp" => Step::Previous,
            "Home" => Step::First,
            "End" => Step::Last,
            _ => return,
        };
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
            return;
        };
        // From a row, or from the list itself (focus parked there when its row scrolled away): then from the
        // row that had focus.
        let (jid, group) = if target.class_list().contains("contact-main") {
            let jid = target.get_attribute("data-jid").and_then(|j| BareJid::parse(&j).ok());
            (jid, target.closest("li.group").ok().flatten().and_then(|g| g.get_attribute("data-group")))
        } else if target.class_list().contains("groups") {
            let jid = roving_target.get_untracked();
            let group = jid.as_ref().and_then(|j| {
                groups.with_untracked(|gs| gs.iter().find(|g| g.jids.contains(j)).map(|g| g.name.clone()))
            });
            (jid, group)
        } else {
            return;
        };
        ev.prevent_default();
        let closed = collapsed.get_untracked();
        let m = metrics.get_untracked();
        let found = groups.with_untracked(|gs| {
            let from = group.and_then(|name| gs.iter().position(|g| g.name == name)).zip(jid.as_ref());
            let open = |n: &str| !closed.iter().any(|c| c == n);
            let (gi, k) = layout::step(gs, open, from, step)?;
            let g = &gs[gi];
            Some((g.name.clone(), g.jids[k].clone(), layout::row_top(gs, open, m, gi, k)))
        });
        let Some((group, jid, top)) = found else {
            return;
        };
        roving_target.set(Some(jid.clone()));
        reveal(top, m);
        let Some(list) = by_id(LIST_ID) else {
            return;
        };
        let list: web_sys::Element = list.into();
        let jid = jid.to_string();
        // The row may only be rendered once the window has moved (effects run before the next frame).
        if !focus_row(&list, &group, &jid) {
            request_animation_frame(move || {
                focus_row(&list, &group, &jid);
            });
        }
    };

    // A focused row that scrolls out of the window is removed, and the browser would drop focus on the page;
    // park it on the list instead, so the keyboard goes on from that row (see `on_keydown`).
    let on_focusout = move |ev: leptos::ev::FocusEvent| {
        if ev.related_target().is_some() {
            return;
        }
        let Some(row) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
            return;
        };
        // (The roster may be gone by then: logging out removes the focused row too.)
        request_animation_frame(move || {
            let body: Option<web_sys::Element> = document().body().map(Into::into);
            let page_has_focus = document().active_element().is_none_or(|a| Some(a) == body);
            if !row.is_connected()
                && page_has_focus
                && let Some(list) = by_id(LIST_ID)
            {
                let _ = list.focus();
            }
        });
    };

    view! {
        <nav class="roster" aria-label="Contacts" on:keydown=handler(on_keydown) on:focusout=handler(on_focusout)>
            {show_or(has_contacts, move || show_or(
                    move || groups.with(|g| !g.is_empty()),
                    move || view! {
                    <ul
                        class="groups"
                        role="list"
                        tabindex="-1"
                        id=LIST_ID
                        data-rows=move || window.with(|w| w.total_rows.to_string())
                        style=("--groups", move || window.with(|w| w.total_groups.to_string()))
                        style=("--rows", move || window.with(|w| w.total_rows.to_string()))
                        style=("--groups-before", move || window.with(|w| w.groups_before.to_string()))
                        style=("--rows-before", move || window.with(|w| w.rows_before.to_string()))
                    >
                        {keyed_list(
                            move || window.with(|w| w.groups.iter().map(|g| g.name.clone()).collect()),
                            move |name| view! { <RosterGroupView name groups window collapsed /> }.into_any(),
                        )}
                    </ul>
                    }.into_any(),
                    || view! { <p class="empty-note">"No contacts match the filter."</p> }.into_any(),
                ),
                || view! { <p class="empty-note">"No contacts yet. Add someone with “Add contact”."</p> }.into_any(),
            )}
        </nav>
    }
}

/// Focuses the contact button of `jid` in group `group` when it is rendered; says whether it was.
fn focus_row(list: &web_sys::Element, group: &str, jid: &str) -> bool {
    let Ok(items) = list.query_selector_all("li.group") else {
        return false;
    };
    let button = (0..items.length())
        .filter_map(|i| items.item(i)?.dyn_into::<web_sys::Element>().ok())
        .filter(|g| g.get_attribute("data-group").as_deref() == Some(group))
        .find_map(|g| {
            let buttons = g.query_selector_all("button.contact-main").ok()?;
            (0..buttons.length())
                .filter_map(|i| buttons.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
                .find(|b| b.get_attribute("data-jid").as_deref() == Some(jid))
        });
    button.is_some_and(|b| b.focus().is_ok())
}

#[component]
fn RosterGroupView(
    name: String,
    groups: Memo<Vec<RosterGroup>>,
    window: Memo<RosterWindow>,
    collapsed: RwSignal<Vec<String>>,
) -> impl IntoView {
    // This group's place among the groups, and the range of its rows that is rendered (if it is in view).
    let slice = {
        let name = name.clone();
        move || window.with(|w| w.groups.iter().find(|g| g.name == name).map(|g| (g.index, g.rows.clone())))
    };
    let counts = {
        let name = name.clone();
        Memo::new(move |_| {
            groups.with(|gs| gs.iter().find(|g| g.name == name).map(|g| (g.online, g.jids.len())).unwrap_or_default())
        })
    };
    // (index of the first rendered row, the rendered contacts)
    let group_slice = slice.clone();
    let rows = Memo::new(move |_| {
        let Some((index, range)) = group_slice() else {
            return (0, Vec::new());
        };
        let jids = groups.with(|gs| gs.get(index).and_then(|g| g.jids.get(range.clone())).map(<[_]>::to_vec));
        (range.start, jids.unwrap_or_default())
    });
    let is_open = {
        let name = name.clone();
        Memo::new(move |_| collapsed.with(|c| !c.contains(&name)))
    };
    let toggle = {
        let name = name.clone();
        move |_| {
            collapsed.update(|c| match c.iter().position(|n| *n == name) {
                Some(i) => drop(c.swap_remove(i)),
                None => c.push(name.clone()),
            })
        }
    };
    let heading_id = format!("group-{}", name.bytes().map(|b| format!("{b:02x}")).collect::<String>());
    let list_id = format!("{heading_id}-list");
    let shown_rows = move || if is_open.get() { counts.get().1 } else { 0 };
    view! {
        <li
            class="group"
            data-group=name.clone()
            aria-posinset=move || slice().map(|(index, _)| (index + 1).to_string())
            aria-setsize=move || window.with(|w| w.total_groups.to_string())
            style=("--group-rows", move || shown_rows().to_string())
        >
            <h2 class="group-title" id=heading_id.clone()>
                <button
                    type="button"
                    class="group-toggle"
                    aria-expanded=move || if is_open.get() { "true" } else { "false" }.to_owned()
                    aria-controls=list_id.clone()
                    on:click=handler(toggle)
                >
                    <span class="chevron" aria-hidden="true"></span>
                    <span class="group-name">{name.clone()}</span>
                    <span class="group-count">
                        {move || {
                            let (online, total) = counts.get();
                            format!("{online}/{total}")
                        }}
                        <span class="visually-hidden">" online"</span>
                    </span>
                </button>
            </h2>
            {show(move || is_open.get(), move || view! {
                <ul
                    class="contacts"
                    role="list"
                    id=list_id.clone()
                    aria-labelledby=heading_id.clone()
                    style=("--rows-skipped", move || rows.with(|(start, _)| start.to_string()))
                >
                    {keyed_list(
                        move || rows.with(|(_, jids)| jids.clone()),
                        move |jid| {
                            let position = {
                                let jid = jid.clone();
                                Memo::new(move |_| {
                                    let total = counts.with(|c| c.1);
                                    rows.with(|(start, jids)| jids.iter().position(|j| *j == jid).map_or((0, total), |i| (start + i + 1, total)))
                                })
                            };
                            view! { <ContactRow jid position /> }.into_any()
                        },
                    )}
                </ul>
            }.into_any())}
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
    /// The status line only repeats the presence word (no status message): hidden from screen readers, which
    /// already hear the presence with the name ("Bob — offline", not "Bob — offline offline").
    status_repeats: bool,
    unread: u32,
    /// A bounced request (the status line says why).
    failed: bool,
}

impl RowData {
    fn of(c: &Contact) -> RowData {
        let presence = model::presence_label(c.presence.as_ref());
        let status = c.status_line();
        RowData {
            name: c.display_name(),
            dot: model::presence_class(c.presence.as_ref()),
            presence,
            status_repeats: status == presence,
            status,
            unread: c.unread,
            failed: c.presence_error.is_some() && c.typing.is_none(),
        }
    }
}

/// One contact: avatar with presence dot, name, presence in words, status message, unread badge, actions.
/// `position` is its place in its group's list (from 1; 0 while unknown) and the group's size (`aria-posinset`,
/// `aria-setsize`).
///
/// One memo over the contact and one render effect per row. A change re-renders the row in place (same
/// elements, so focus stays), and only rows whose contact changed do any work.
#[component]
pub fn ContactRow(jid: BareJid, #[prop(into)] position: Signal<(usize, usize)>) -> impl IntoView {
    let store = expect_context::<AppState>();
    let selection = expect_context::<RosterSelection>();
    let dialog = use_context::<RwSignal<Option<DialogState>>>();
    let data = {
        let jid = jid.clone();
        Memo::new(move |_| store.with_contact(&jid, RowData::of))
    };
    let hue = model::hue_class(&jid);
    let jid_text = jid.to_string();
    // Open, and in the tab order: a memo each per rendered row, so a change re-renders only the rows it concerns.
    let selected = {
        let jid = jid.clone();
        Memo::new(move |_| store.selected.with(|j| j.as_ref() == Some(&jid)))
    };
    let roving = {
        let jid = jid.clone();
        Memo::new(move |_| selection.roving.try_with(|j| j.as_ref() == Some(&jid)).unwrap_or(false))
    };
    let key = Some(jid);

    dynamic(move || {
        let (Some(d), Some(jid)) = (data.get(), key.clone()) else {
            return ().into_any();
        };
        let (selected, roving) = (selected.get(), roving.get());
        let tabindex = if roving { "0" } else { "-1" };
        let (posinset, setsize) = match position.get() {
            (0, _) => (None, None),
            (p, n) => (Some(p.to_string()), Some(n.to_string())),
        };
        let (open_jid, focus_jid, more_jid) = (jid.clone(), jid.clone(), jid);
        let open = move |_| {
            state::select(store, open_jid.clone());
            super::focus_composer();
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
        view! {
            <li class=class aria-posinset=posinset aria-setsize=setsize>
                <button
                    type="button"
                    class="contact-main"
                    data-jid=jid_text.clone()
                    tabindex=tabindex
                    aria-current=selected.then_some("true")
                    on:click=handler(open)
                    on:focus=handler(on_focus)
                >
                    <span class=format!("avatar {hue}") aria-hidden="true">
                        {model::initial(&d.name)}
                        <span class=format!("dot {}", d.dot)></span>
                    </span>
                    <span class="contact-text">
                        <span class="contact-line">
                            <span class="contact-name">
                                <span dir="auto">{d.name.clone()}</span>
                                <span class="visually-hidden">{format!(" — {}", d.presence)}</span>
                            </span>
                        </span>
                        <span
                            class=if d.failed { "contact-status failed" } else { "contact-status" }
                            dir="auto"
                            aria-hidden=if d.status_repeats { "true" } else { "false" }
                        >
                            {d.status.clone()}
                        </span>
                    </span>
                    {(d.unread > 0).then(|| view! {
                        <span class="badge">
                            {d.unread}
                            <span class="visually-hidden">{unread_words}</span>
                        </span>
                    }.into_any())}
                </button>
                <button
                    type="button"
                    class="contact-more icon-button"
                    tabindex=tabindex
                    aria-haspopup="dialog"
                    aria-label=format!("Actions for {}", d.name)
                    title="Rename or remove"
                    on:click=handler(more)
                >
                    <span aria-hidden="true">"⋯"</span>
                </button>
            </li>
        }
        .into_any()
    })
}
