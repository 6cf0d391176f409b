//! Shard iterators: opaque, keyed, expiring tokens naming a position in a shard.
//!
//! A token is base64 of `payload || tag`, where the payload holds the stream name and
//! creation time, the shard, the next record index and the issue time, and the tag is the
//! first 16 bytes of SHA-256(key || payload). The key is per data dir (kept in metadata), so
//! tokens survive a restart; a token altered in any byte, made by another Sluice, or naming
//! another stream incarnation is refused. Tokens expire 5 minutes after issue, as on AWS.

use base64::Engine;
use sha2::{Digest, Sha256};

/// How long an iterator stays valid.
pub const ITERATOR_TTL_MS: u64 = 300_000;
const VERSION: u8 = 1;
const TAG: usize = 16;

/// The secret that makes tokens tamper-evident.
#[derive(Clone)]
pub struct IteratorKey([u8; 32]);

impl std::fmt::Debug for IteratorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IteratorKey(..)")
    }
}

impl IteratorKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn tag(&self, payload: &[u8]) -> [u8; TAG] {
        let mut h = Sha256::new();
        h.update(self.0);
        h.update(payload);
        let digest = h.finalize();
        let mut tag = [0u8; TAG];
        tag.copy_from_slice(&digest[..TAG]);
        tag
    }
}

/// A decoded iterator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardIterator {
    pub stream: String,
    pub stream_epoch_ms: u64,
    pub shard: u32,
    /// The index of the next record to return.
    pub index: u64,
    pub issued_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IteratorError {
    #[error("Invalid ShardIterator.")]
    Invalid,
    #[error(
        "Iterator expired. The iterator was created at time {issued_ms} while right now it is {now_ms} which is further in the future than the tolerated delay of 300000 milliseconds."
    )]
    Expired { issued_ms: u64, now_ms: u64 },
}

impl ShardIterator {
    pub fn encode(&self, key: &IteratorKey) -> String {
        let mut p = Vec::with_capacity(29 + self.stream.len() + TAG);
        p.push(VERSION);
        p.extend_from_slice(&self.stream_epoch_ms.to_be_bytes());
        p.extend_from_slice(&self.shard.to_be_bytes());
        p.extend_from_slice(&self.index.to_be_bytes());
        p.extend_from_slice(&self.issued_ms.to_be_bytes());
        p.extend_from_slice(self.stream.as_bytes());
        let tag = key.tag(&p);
        p.extend_from_slice(&tag);
        base64::engine::general_purpose::STANDARD.encode(p)
    }

    /// Decodes and checks a token at time `now_ms`.
    pub fn decode(token: &str, key: &IteratorKey, now_ms: u64) -> Result<Self, IteratorError> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(token)
            .map_err(|_| IteratorError::Invalid)?;
        if raw.len() < 29 + TAG {
            return Err(IteratorError::Invalid);
        }
        let (payload, tag) = raw.split_at(raw.len() - TAG);
        if key.tag(payload) != tag || payload.first() != Some(&VERSION) {
            return Err(IteratorError::Invalid);
        }
        let u64_at = |at: usize| -> Result<u64, IteratorError> {
            payload
                .get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or(IteratorError::Invalid)
        };
        let shard = payload
            .get(9..13)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
            .ok_or(IteratorError::Invalid)?;
        let it = Self {
            stream_epoch_ms: u64_at(1)?,
            shard,
            index: u64_at(13)?,
            issued_ms: u64_at(21)?,
            stream: String::from_utf8(payload.get(29..).unwrap_or_default().to_vec())
                .map_err(|_| IteratorError::Invalid)?,
        };
        if now_ms > it.issued_ms.saturating_add(ITERATOR_TTL_MS) {
            return Err(IteratorError::Expired {
                issued_ms: it.issued_ms,
                now_ms,
            });
        }
        Ok(it)
    }
}
