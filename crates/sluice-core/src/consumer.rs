//! The per-shard consumer lifecycle (KCL's consumer states).
//!
//! ```text
//!   WaitingOnParents ──parents done──► Initializing ──cursor open──► Processing
//!          │                                │                           │
//!          └────────── stop ────────────────┴──────── stop / shard end / failure
//!                                                                       ▼
//!                                                      ShuttingDown(reason) ──► Done
//! ```
//!
//! A consumer holds its shard's lease from Initializing until Done. `ShuttingDown` lets the
//! batch in flight finish and checkpoint (on `ShardEnd` it checkpoints the end itself).

/// Why a consumer is shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownReason {
    /// Every record of the closed shard is processed.
    ShardEnd,
    /// The mapping was disabled, updated away, deleted, or Sluice is stopping.
    Requested,
    /// The lease was lost or the source failed for good.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerState {
    WaitingOnParents,
    Initializing,
    Processing,
    ShuttingDown(ShutdownReason),
    Done,
}

/// What happened to a consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerEvent {
    ParentsDone,
    CursorOpened,
    ShardEnded,
    StopRequested,
    Failed,
    Finished,
}

impl ConsumerState {
    /// The one transition function. Events that do not apply leave the state as it is.
    pub fn on(self, event: ConsumerEvent) -> Self {
        use ConsumerEvent as E;
        use ConsumerState as S;
        match (self, event) {
            (S::Done, _) => S::Done,
            (S::ShuttingDown(_), E::Finished) => S::Done,
            (S::ShuttingDown(r), _) => S::ShuttingDown(r),
            (S::WaitingOnParents, E::ParentsDone) => S::Initializing,
            (S::Initializing, E::CursorOpened) => S::Processing,
            (S::Processing, E::ShardEnded) => S::ShuttingDown(ShutdownReason::ShardEnd),
            (_, E::StopRequested) => S::ShuttingDown(ShutdownReason::Requested),
            (_, E::Failed) => S::ShuttingDown(ShutdownReason::Failed),
            (s, _) => s,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::WaitingOnParents => "WaitingOnParents",
            Self::Initializing => "Initializing",
            Self::Processing => "Processing",
            Self::ShuttingDown(ShutdownReason::ShardEnd) => "ShuttingDown(ShardEnd)",
            Self::ShuttingDown(ShutdownReason::Requested) => "ShuttingDown(Requested)",
            Self::ShuttingDown(ShutdownReason::Failed) => "ShuttingDown(Failed)",
            Self::Done => "Done",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ConsumerEvent as E;
    use super::ConsumerState as S;
    use super::*;

    #[test]
    fn transitions() {
        let cases = [
            (S::WaitingOnParents, E::ParentsDone, S::Initializing),
            (S::WaitingOnParents, E::CursorOpened, S::WaitingOnParents),
            (
                S::WaitingOnParents,
                E::StopRequested,
                S::ShuttingDown(ShutdownReason::Requested),
            ),
            (S::Initializing, E::CursorOpened, S::Processing),
            (
                S::Initializing,
                E::Failed,
                S::ShuttingDown(ShutdownReason::Failed),
            ),
            (
                S::Processing,
                E::ShardEnded,
                S::ShuttingDown(ShutdownReason::ShardEnd),
            ),
            (
                S::Processing,
                E::StopRequested,
                S::ShuttingDown(ShutdownReason::Requested),
            ),
            (
                S::ShuttingDown(ShutdownReason::ShardEnd),
                E::StopRequested,
                S::ShuttingDown(ShutdownReason::ShardEnd),
            ),
            (
                S::ShuttingDown(ShutdownReason::Requested),
                E::Finished,
                S::Done,
            ),
            (S::Done, E::ParentsDone, S::Done),
        ];
        for (from, event, to) in cases {
            assert_eq!(from.on(event), to, "{from:?} + {event:?}");
        }
    }
}
