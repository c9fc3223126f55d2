//! The batching writer: ops queued during one event-loop turn are written in one transaction.
//!
//! The UI pushes an [`Op`] for each thing worth keeping as it applies core events. In the browser the first
//! push of a turn schedules a write for the next turn (a zero-delay timer, so every op of the current turn —
//! every event of a burst the transport delivered at once — is in it); the write takes everything queued and
//! applies it with one [`Store::apply`]. Ops pushed while that transaction runs are written by the next one, as
//! soon as it ends: under a burst the writer runs back to back, one transaction per round, never one per
//! message. [`Writer::flush`] writes what is queued now and waits until nothing is left (before a deletion, a
//! log-out, and in tests; natively, where nothing is scheduled, it is the only way things get written).
//!
//! A failed write is reported through the `on_error` callback given to [`Writer::new`] (for the UI to show);
//! its ops are dropped, not retried: the store is a cache of what the server also keeps, and retrying a batch
//! the browser refused (no room left) would fail again.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::channel::oneshot;

use super::{Op, StorageError, Store};

/// Queues ops for one store and writes them in batches.
pub struct Writer<S: Store + 'static> {
    inner: Rc<Inner<S>>,
}

impl<S: Store + 'static> Clone for Writer<S> {
    fn clone(&self) -> Self {
        Writer { inner: self.inner.clone() }
    }
}

struct Inner<S> {
    store: Rc<S>,
    queue: RefCell<Vec<Op>>,
    /// A write is scheduled or running.
    busy: Cell<bool>,
    /// Callers of [`Writer::flush`] waiting for the running write to finish.
    waiting: RefCell<Vec<oneshot::Sender<()>>>,
    on_error: Box<dyn Fn(StorageError)>,
}

impl<S: Store + 'static> Writer<S> {
    pub fn new(store: Rc<S>, on_error: impl Fn(StorageError) + 'static) -> Writer<S> {
        let inner = Inner {
            store,
            queue: RefCell::new(Vec::new()),
            busy: Cell::new(false),
            waiting: RefCell::new(Vec::new()),
            on_error: Box::new(on_error),
        };
        Writer { inner: Rc::new(inner) }
    }

    /// The store it writes to.
    pub fn store(&self) -> &Rc<S> {
        &self.inner.store
    }

    /// Queues `op`; in the browser, schedules a write for the next turn if none is scheduled or running.
    pub fn push(&self, op: Op) {
        self.inner.queue.borrow_mut().push(op);
        #[cfg(target_arch = "wasm32")]
        if !self.inner.busy.replace(true) {
            let inner = self.inner.clone();
            wasm_bindgen_futures::spawn_local(async move {
                next_turn().await;
                drain(&inner).await;
            });
        }
    }

    /// How many ops wait for a write.
    pub fn queued(&self) -> usize {
        self.inner.queue.borrow().len()
    }

    /// Writes everything queued and returns when nothing is queued or being written.
    pub async fn flush(&self) {
        if self.inner.busy.replace(true) {
            let (done, wait) = oneshot::channel();
            self.inner.waiting.borrow_mut().push(done);
            let _ = wait.await;
        } else {
            drain(&self.inner).await;
        }
    }
}

/// Writes batches until the queue is empty, then wakes whoever waits. Called with `busy` set.
async fn drain<S: Store>(inner: &Inner<S>) {
    loop {
        let batch = std::mem::take(&mut *inner.queue.borrow_mut());
        if batch.is_empty() {
            break;
        }
        if let Err(error) = inner.store.apply(batch).await {
            (inner.on_error)(error);
        }
    }
    inner.busy.set(false);
    for done in inner.waiting.take() {
        let _ = done.send(());
    }
}

/// Resolves in a later turn of the event loop (a zero-delay timer), after everything the current turn queues.
#[cfg(target_arch = "wasm32")]
async fn next_turn() {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let scheduled = web_sys::window().map(|w| w.set_timeout_with_callback(&resolve));
        if !matches!(scheduled, Some(Ok(_))) {
            // No window (a worker): a resolved promise still runs after the current task's synchronous code.
            let _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
