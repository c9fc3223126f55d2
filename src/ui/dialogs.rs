//! The contact dialog: rename a contact, or remove it after confirming. A native modal `<dialog>`, so focus
//! stays inside while it is open, Escape closes it, and focus returns to what opened it.

use crate::ui::{by_id, effect, focus_id, handler, write_back};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::model::{self, Contact};
use super::state::{AppState, SessionHandle};
use crate::xmpp::Command;
use crate::xmpp::jid::BareJid;

/// The `<dialog>` element's id.
const DIALOG_ID: &str = "contact-dialog";

/// What the dialog shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogMode {
    /// Rename field plus a way to remove (opened from a roster row).
    Menu,
    Rename,
    ConfirmRemove,
}

/// Which contact the dialog is about, and what it shows. `None` in context = closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogState {
    pub jid: BareJid,
    pub mode: DialogMode,
}

#[component]
pub fn ContactDialog() -> impl IntoView {
    let dialog = expect_context::<RwSignal<Option<DialogState>>>();
    let element = || by_id(DIALOG_ID).and_then(|e| e.dyn_into::<web_sys::HtmlDialogElement>().ok());
    effect(move || {
        let open = dialog.with(Option::is_some);
        if let Some(el) = element() {
            if open && !el.open() {
                let _ = el.show_modal();
            } else if !open && el.open() {
                el.close();
            }
        }
    });
    view! {
        <dialog
            class="dialog"
            id=DIALOG_ID
            aria-labelledby="dialog-title"
            on:close=handler(move |_| {
                // `close` arrives as a task after `close()`: if the dialog was opened again meanwhile, keep it.
                if element().is_none_or(|el| !el.open()) && dialog.with_untracked(Option::is_some) {
                    dialog.set(None);
                }
            })
            on:click=handler(move |ev: leptos::ev::MouseEvent| {
                // A click on the backdrop (the dialog element itself, outside its content) closes it.
                if ev.target().is_some() && ev.target() == ev.current_target() {
                    dialog.set(None);
                }
            })
        >
            {move || dialog.get().map(|state| view! { <DialogBody state /> }.into_any())}
        </dialog>
    }
}

#[component]
fn DialogBody(state: DialogState) -> impl IntoView {
    let store = expect_context::<AppState>();
    let session = expect_context::<SessionHandle>();
    let dialog = expect_context::<RwSignal<Option<DialogState>>>();
    let DialogState { jid, mode } = state;
    let contact = store.contacts.with_untracked(|c| c.get(&jid).cloned());
    let name = contact.as_ref().map(Contact::display_name).unwrap_or_else(|| jid.to_string());
    let current_name = contact.as_ref().and_then(|c| c.name.clone()).unwrap_or_default();
    let current_groups = contact.as_ref().map(|c| c.groups.clone()).unwrap_or_default();
    let new_name = RwSignal::new(current_name.clone());
    let new_groups = RwSignal::new(current_groups.join(", "));
    let error = RwSignal::new(None::<String>);
    // Where the cursor goes once the body is on the page: the name (selected) or, to confirm a removal, Cancel.
    let confirming = mode == DialogMode::ConfirmRemove;
    effect(move || {
        if confirming {
            focus_id("dialog-cancel");
        } else if let Some(input) = by_id("dialog-name").and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok()) {
            let _ = input.focus();
            input.select();
        }
    });
    let close = move |_| dialog.set(None);

    let rename = {
        let jid = jid.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let typed = new_name.get_untracked().trim().to_owned();
            let groups = model::parse_groups(&new_groups.get_untracked());
            // Name and groups go out together in one roster set; the list shows them once the server confirms.
            if typed != current_name.trim() || groups != current_groups {
                let name = (!typed.is_empty()).then_some(typed);
                if let Err(e) = session.send(Command::UpdateContact { jid: jid.clone(), name, groups }) {
                    error.set(Some(model::sentence(&e.to_string())));
                    return;
                }
            }
            dialog.set(None);
        }
    };
    let remove = {
        let jid = jid.clone();
        move |_| match session.send(Command::RemoveContact { jid: jid.clone() }) {
            Ok(()) => dialog.set(None),
            Err(e) => error.set(Some(model::sentence(&e.to_string()))),
        }
    };
    let ask_remove = {
        let jid = jid.clone();
        move |_| dialog.set(Some(DialogState { jid: jid.clone(), mode: DialogMode::ConfirmRemove }))
    };
    let error_view = move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> }.into_any());

    let body = match mode {
        DialogMode::Menu | DialogMode::Rename => view! {
            <form class="dialog-form" on:submit=handler(rename)>
                <div class="field">
                    <label for="dialog-name">"Name"</label>
                    <input
                        id="dialog-name"
                        class="input"
                        type="text"
                        autocomplete="off"
                        placeholder=jid.to_string()
                        prop:value=new_name on:input=write_back(new_name)
                    />
                    <p class="field-hint">"Leave empty to show the address."</p>
                </div>
                <div class="field">
                    <label for="dialog-groups">"Groups"</label>
                    <input
                        id="dialog-groups"
                        class="input"
                        type="text"
                        autocomplete="off"
                        placeholder="Friends, Work"
                        aria-describedby="dialog-groups-hint"
                        prop:value=new_groups on:input=write_back(new_groups)
                    />
                    <p class="field-hint" id="dialog-groups-hint">"Separate groups with commas."</p>
                </div>
                {error_view}
                <div class="dialog-actions">
                    <button type="button" class="button ghost" on:click=handler(close)>"Cancel"</button>
                    <button type="submit" class="button primary">"Save"</button>
                </div>
            </form>
            {(mode == DialogMode::Menu).then(|| view! {
                <div class="dialog-danger">
                    <button type="button" class="button ghost danger" on:click=handler(ask_remove.clone())>"Remove contact…"</button>
                </div>
            }.into_any())}
        }
        .into_any(),
        DialogMode::ConfirmRemove => view! {
            <p class="dialog-text">
                "Remove " <strong dir="auto">{name.clone()}</strong> " from your contacts? "
                "You will no longer see each other's presence."
            </p>
            {error_view}
            <div class="dialog-actions">
                <button type="button" class="button ghost" id="dialog-cancel" on:click=handler(close)>"Cancel"</button>
                <button type="button" class="button danger-solid" on:click=handler(remove)>"Remove"</button>
            </div>
        }
        .into_any(),
    };

    view! {
        <div class="dialog-content">
            <h2 id="dialog-title" class="dialog-title" dir="auto">{name.clone()}</h2>
            <p class="dialog-sub">{jid.to_string()}</p>
            {body}
        </div>
    }
}
