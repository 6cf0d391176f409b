//! Shutdown, passed as a value into every loop (mini-redis style): the owner of
//! [`ShutdownSignal`] fires it once; each [`Shutdown`] resolves `recv` from then on.

use tokio::sync::watch;

/// Fires shutdown for every [`Shutdown`] made from it.
#[derive(Debug)]
pub struct ShutdownSignal {
    tx: watch::Sender<bool>,
}

/// Listens for shutdown. Clone one per task.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

impl ShutdownSignal {
    pub fn new() -> (Self, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (Self { tx }, Shutdown { rx })
    }

    pub fn fire(&self) {
        self.tx.send_replace(true);
    }
}

impl Shutdown {
    /// Resolves once shutdown has been fired (at once if it already was).
    pub async fn recv(&mut self) {
        // An error means the signal was dropped: treat it as shutdown too.
        let _ = self.rx.wait_for(|fired| *fired).await;
    }

    pub fn is_fired(&self) -> bool {
        *self.rx.borrow()
    }
}
