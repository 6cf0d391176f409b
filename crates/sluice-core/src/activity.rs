//! What the engine is doing, for "wait until everything my writes triggered has been
//! processed" (`GET /_sluice/quiescent`).
//!
//! Every unit of work that can hold undelivered data registers an [`ActivityToken`]: a
//! mapping's runner, each shard consumer, each queue poller. A token is busy until its unit
//! says it is idle, and an idle unit leaves a check that tells, at the moment of asking,
//! whether it is still idle (a consumer's cursor is still at the end of its shard; a
//! queue still has no message). So a record appended a microsecond ago, before the
//! consumer has even woken, already makes the engine busy.
//!
//! Pure bookkeeping: no clock, no I/O of its own (the checks may read in-memory state).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

type Check = Box<dyn Fn() -> bool + Send + Sync>;

enum Unit {
    Busy,
    Idle(Check),
}

#[derive(Default)]
struct State {
    next: u64,
    units: BTreeMap<u64, (String, Unit)>,
}

/// The registry. Cheap to clone.
#[derive(Clone, Default)]
pub struct Activity {
    inner: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Activity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activity").finish_non_exhaustive()
    }
}

impl Activity {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new unit, busy until it says otherwise; `what` names it in [`Activity::busy`].
    pub fn register(&self, what: impl Into<String>) -> ActivityToken {
        let mut st = self.lock();
        let id = st.next;
        st.next += 1;
        st.units.insert(id, (what.into(), Unit::Busy));
        ActivityToken {
            activity: self.clone(),
            id,
        }
    }

    /// The units busy now (their names), an idle unit whose check fails counting as busy.
    /// Empty: everything registered is idle.
    pub fn busy(&self) -> Vec<String> {
        let st = self.lock();
        st.units
            .values()
            .filter(|(_, u)| match u {
                Unit::Busy => true,
                Unit::Idle(still) => !still(),
            })
            .map(|(what, _)| what.clone())
            .collect()
    }
}

/// One registered unit; dropping it removes the unit.
pub struct ActivityToken {
    activity: Activity,
    id: u64,
}

impl std::fmt::Debug for ActivityToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivityToken")
            .field("id", &self.id)
            .finish()
    }
}

impl ActivityToken {
    fn set(&self, unit: Unit) {
        if let Some(entry) = self.activity.lock().units.get_mut(&self.id) {
            entry.1 = unit;
        }
    }

    /// The unit has work in hand.
    pub fn busy(&self) {
        self.set(Unit::Busy);
    }

    /// The unit waits with nothing in hand; `still_idle` tells, whenever asked, whether
    /// nothing has arrived for it since.
    pub fn idle(&self, still_idle: impl Fn() -> bool + Send + Sync + 'static) {
        self.set(Unit::Idle(Box::new(still_idle)));
    }
}

impl Drop for ActivityToken {
    fn drop(&mut self) {
        self.activity.lock().units.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[test]
    fn busy_until_idle_and_an_idle_check_that_fails_is_busy() {
        let a = Activity::new();
        assert!(a.busy().is_empty());
        let t = a.register("consumer");
        assert_eq!(a.busy(), vec!["consumer".to_owned()]);
        let arrived = Arc::new(AtomicBool::new(false));
        let seen = arrived.clone();
        t.idle(move || !seen.load(Ordering::SeqCst));
        assert!(a.busy().is_empty());
        arrived.store(true, Ordering::SeqCst);
        assert_eq!(a.busy(), vec!["consumer".to_owned()], "something arrived");
        t.busy();
        drop(t);
        assert!(a.busy().is_empty(), "a dropped unit is gone");
    }
}
