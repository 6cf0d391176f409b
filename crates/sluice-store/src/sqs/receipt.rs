//! Receipt handles: which queue incarnation, which message, and which receive of it.
//!
//! A handle is 48 lowercase hex digits: queue id (u64), message sequence number (u64),
//! receive count (u32) and a CRC-32 of those 20 bytes (u32), all big-endian. The CRC tells
//! garbage from a handle Sluice made; a handle of another queue, or of a deleted queue's
//! earlier incarnation, names a queue id that is not the queue's. The receive count makes
//! every receive's handle new and lets a stale one be recognised.

/// A decoded receipt handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub queue_id: u64,
    pub seq: u64,
    pub receive_count: u32,
}

const SALT: &[u8] = b"sluice-sqs-receipt";

fn check(fields: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(SALT);
    h.update(fields);
    h.finalize()
}

impl Receipt {
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(24);
        b.extend_from_slice(&self.queue_id.to_be_bytes());
        b.extend_from_slice(&self.seq.to_be_bytes());
        b.extend_from_slice(&self.receive_count.to_be_bytes());
        let c = check(&b);
        b.extend_from_slice(&c.to_be_bytes());
        let mut s = String::with_capacity(48);
        for byte in b {
            s.push_str(&format!("{byte:02x}"));
        }
        s
    }

    /// `None` for anything Sluice did not make.
    pub fn decode(s: &str) -> Option<Self> {
        if s.len() != 48 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut b = [0u8; 24];
        for (i, out) in b.iter_mut().enumerate() {
            *out = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
        }
        let field = |r: std::ops::Range<usize>| -> Option<u64> {
            let mut a = [0u8; 8];
            a[8 - r.len()..].copy_from_slice(b.get(r)?);
            Some(u64::from_be_bytes(a))
        };
        let crc = u32::try_from(field(20..24)?).ok()?;
        if crc != check(&b[..20]) {
            return None;
        }
        Some(Receipt {
            queue_id: field(0..8)?,
            seq: field(8..16)?,
            receive_count: u32::try_from(field(16..20)?).ok()?,
        })
    }
}
