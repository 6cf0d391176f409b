//! The coordinator: brings every mapping to rest.
//!
//! It wakes on each committed mapping change (the store's watch counter; never a timer) and
//! settles transitional states with
//! [`sluice_core::mapping::MappingState::settle`]: Creating and Enabling become
//! Enabled, Disabling becomes Disabled, Updating returns to Enabled or Disabled, Deleting
//! removes the mapping and its tags. Each step is one store transaction, so a crash in the
//! middle resumes at the next start (the first pass runs before waiting).
//!
//! The pollers for each source type hook in here as they land: a mapping is reported Enabled
//! once its pollers run, and is removed once they have stopped and checkpointed.

use sluice_core::mapping::Settled;
use sluice_store::{MetaStore, StoreError};

use crate::Shutdown;

/// Settles mapping lifecycles.
#[derive(Debug, Clone)]
pub struct Coordinator {
    store: MetaStore,
}

impl Coordinator {
    pub fn new(store: MetaStore) -> Self {
        Self { store }
    }

    /// Runs until shutdown.
    pub async fn run(self, mut shutdown: Shutdown) {
        let mut changes = self.store.subscribe();
        loop {
            changes.borrow_and_update();
            let store = self.store.clone();
            let pass = tokio::task::spawn_blocking(move || settle_all(&store, now_ms())).await;
            match pass {
                Ok(Ok(n)) if n > 0 => tracing::debug!(settled = n, "Mappings settled."),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "Could not settle mappings; retrying on the next change.");
                }
                Err(e) => tracing::error!(error = %e, "Settling task failed."),
            }
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                () = shutdown.recv() => return,
            }
        }
    }
}

/// Settles every transitional mapping once; returns how many changed.
pub fn settle_all(store: &MetaStore, now_ms: u64) -> Result<usize, StoreError> {
    let mut changed = 0;
    for m in store.list_mappings()? {
        if !m.state.is_transitional() {
            continue;
        }
        let outcome = store.modify_mapping(&m.uuid, |current| {
            match current.state.settle(current.enabled) {
                Settled::Gone => {
                    tracing::info!(mapping_id = %current.uuid, "Event source mapping deleted.");
                    Ok(None)
                }
                Settled::State(s) if s != current.state => {
                    let mut next = current.clone();
                    next.state = s;
                    next.last_modified_ms = now_ms;
                    tracing::info!(mapping_id = %current.uuid, state = s.as_str(), "Event source mapping settled.");
                    Ok(Some(next))
                }
                Settled::State(_) => Err(()),
            }
        })?;
        if matches!(outcome, Some(Ok(_))) {
            changed += 1;
        }
    }
    Ok(changed)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
