//! The local lease store: one node runs every shard, and a shard's lease is held by at most
//! one consumer at a time (a consumer of a stopped runner that has not finished its batch
//! keeps the lease, so a quickly restarted mapping cannot read the shard twice at once).
//! The PostgreSQL lease store for several nodes implements the same seam.

use std::collections::HashMap;
use std::sync::Mutex;

use sluice_core::source::{BoxFuture, LeaseStore};

#[derive(Debug, Default)]
pub struct LocalLeases {
    /// (mapping, shard) → owner.
    held: Mutex<HashMap<(String, String), String>>,
}

impl LeaseStore for LocalLeases {
    fn take(&self, mapping: &str, shard_id: &str, owner: &str) -> BoxFuture<'_, bool> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let key = (mapping.to_owned(), shard_id.to_owned());
        let granted = match held.get(&key) {
            Some(current) => current == owner,
            None => {
                held.insert(key, owner.to_owned());
                true
            }
        };
        Box::pin(async move { granted })
    }

    fn release(&self, mapping: &str, shard_id: &str, owner: &str) -> BoxFuture<'_, ()> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let key = (mapping.to_owned(), shard_id.to_owned());
        if held.get(&key).is_some_and(|o| o == owner) {
            held.remove(&key);
        }
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_owner_at_a_time() {
        let l = LocalLeases::default();
        assert!(l.take("m", "s", "a").await);
        assert!(l.take("m", "s", "a").await, "renewal");
        assert!(!l.take("m", "s", "b").await);
        assert!(l.take("m", "t", "b").await, "other shard");
        l.release("m", "s", "b").await;
        assert!(!l.take("m", "s", "b").await, "only the owner releases");
        l.release("m", "s", "a").await;
        assert!(l.take("m", "s", "b").await);
    }
}
