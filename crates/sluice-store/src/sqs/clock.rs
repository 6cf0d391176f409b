//! The SQS store's time: wall-clock milliseconds, and sleeping until a moment on the same
//! clock. Visibility timeouts, delays, retention and long polls all read it.
//!
//! - [`Clock::system`]: the wall clock (production).
//! - [`Clock::tokio`]: follows Tokio's clock from the moment it is made, so
//!   `tokio::time::pause` / `advance` drive it (tests of code that waits on the store).
//! - [`Clock::manual`]: moves only when told ([`ManualClock::advance`]); sleepers wake when
//!   it passes their moment (the store's own deterministic tests).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// A source of "now" in epoch milliseconds. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Clock(Kind);

#[derive(Clone, Debug)]
enum Kind {
    System,
    Tokio {
        base_ms: u64,
        base: tokio::time::Instant,
    },
    Manual(Arc<ManualClock>),
}

/// The hand of a manual clock.
#[derive(Debug)]
pub struct ManualClock {
    now: watch::Sender<u64>,
}

impl ManualClock {
    /// Moves the clock forward, waking every sleeper whose moment has come.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.now.send_modify(|n| *n = n.saturating_add(by));
    }

    pub fn now_ms(&self) -> u64 {
        *self.now.borrow()
    }
}

/// Wall-clock milliseconds since the epoch.
pub fn system_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Clock {
    pub fn system() -> Self {
        Clock(Kind::System)
    }

    /// Wall-clock time now, then moving with Tokio's clock.
    pub fn tokio() -> Self {
        Clock(Kind::Tokio {
            base_ms: system_now_ms(),
            base: tokio::time::Instant::now(),
        })
    }

    /// A clock standing at `start_ms` until advanced through the returned hand.
    pub fn manual(start_ms: u64) -> (Self, Arc<ManualClock>) {
        let hand = Arc::new(ManualClock {
            now: watch::channel(start_ms).0,
        });
        (Clock(Kind::Manual(hand.clone())), hand)
    }

    pub fn now_ms(&self) -> u64 {
        match &self.0 {
            Kind::System => system_now_ms(),
            Kind::Tokio { base_ms, base } => {
                let elapsed = u64::try_from(base.elapsed().as_millis()).unwrap_or(u64::MAX);
                base_ms.saturating_add(elapsed)
            }
            Kind::Manual(hand) => hand.now_ms(),
        }
    }

    /// Resolves once `now_ms() >= ms`.
    pub async fn sleep_until(&self, ms: u64) {
        match &self.0 {
            Kind::Manual(hand) => {
                let mut rx = hand.now.subscribe();
                // The sender lives as long as this clock: `wait_for` cannot fail.
                let _ = rx.wait_for(|now| *now >= ms).await;
            }
            _ => loop {
                let now = self.now_ms();
                if now >= ms {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(ms - now)).await;
            },
        }
    }
}
