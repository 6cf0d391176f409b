//! Sequence numbers: 56 decimal digits, as AWS's are.
//!
//! ```text
//! 49 | stream creation, epoch ms (13) | shard ordinal (6) | record index in the shard (35)
//! ```
//!
//! Numeric order equals (stream, shard, index) order, so a shard's numbers grow with its
//! records, and a child shard (higher ordinal) starts above its parents. Parsing accepts only
//! this form: a number from another stream or shard is recognised as such.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SequenceNumber {
    pub stream_epoch_ms: u64,
    pub shard: u32,
    pub index: u64,
}

impl SequenceNumber {
    pub fn new(stream_epoch_ms: u64, shard: u32, index: u64) -> Self {
        Self {
            stream_epoch_ms,
            shard,
            index,
        }
    }

    /// Parses a sequence number Sluice issued.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != 56 || !s.bytes().all(|b| b.is_ascii_digit()) || !s.starts_with("49") {
            return None;
        }
        let epoch = s.get(2..15)?.parse().ok()?;
        let shard = s.get(15..21)?.parse().ok()?;
        let index = s.get(21..56)?.parse().ok()?;
        Some(Self::new(epoch, shard, index))
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "49{:013}{:06}{:035}",
            self.stream_epoch_ms % 10_000_000_000_000,
            self.shard % 1_000_000,
            self.index
        )
    }
}

/// True when `s` is a well-formed decimal sequence number of any origin (the model's
/// pattern `0|([1-9]\d{0,128})`).
pub fn is_decimal(s: &str) -> bool {
    s == "0"
        || (!s.is_empty()
            && s.len() <= 129
            && !s.starts_with('0')
            && s.bytes().all(|b| b.is_ascii_digit()))
}
