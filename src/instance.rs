//! What one component instance keeps between the requests it serves: the settings from its
//! Spin variables and, with the edge cache on, the open key-value store. See `config` for why
//! reading them once per instance is safe.

use std::cell::RefCell;
use std::rc::Rc;

use spin_sdk::key_value::Store;

use crate::cache::Memo;
use crate::config::{Settings, VARIABLE_NAMES};

/// The instance's state. Requests run concurrently on one instance (up to 16 under Spin 4), so
/// it is shared behind an `Rc`; a component instance is single-threaded.
pub struct Instance {
    pub settings: Settings,
    /// `None` when the edge cache is off, or the host has no default store for it.
    pub store: Option<Store>,
    /// The edge cache's copies of the entries this instance has seen.
    pub memo: RefCell<Memo>,
}

thread_local! {
    static INSTANCE: RefCell<Option<Rc<Instance>>> = const { RefCell::new(None) };
}

/// The instance's state, read on its first request. Requests that arrive while the first one
/// is still reading all read too, and the first to finish is kept: the values are the same.
pub async fn get() -> Rc<Instance> {
    if let Some(instance) = INSTANCE.with_borrow(|i| i.clone()) {
        return instance;
    }
    let loaded = Rc::new(load().await);
    INSTANCE.with_borrow_mut(|slot| slot.get_or_insert(loaded).clone())
}

async fn load() -> Instance {
    // All lookups at once: only the first request of an instance waits for them.
    let values = futures::future::join_all(
        VARIABLE_NAMES
            .iter()
            .map(|name| spin_sdk::variables::get(*name)),
    )
    .await;
    let settings = Settings::from_lookup(|name| {
        VARIABLE_NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| values[i].as_ref().ok().cloned())
    });
    let store = match settings.edge_cache {
        Ok(Some(_)) => match Store::open_default().await {
            Ok(store) => Some(store),
            Err(err) => {
                // The manifest grants the store; without it the gateway still works, uncached.
                eprintln!("gif-gateway: edge cache is on but the default key-value store is unavailable: {err}");
                None
            }
        },
        _ => None,
    };
    Instance {
        settings,
        store,
        memo: RefCell::default(),
    }
}
