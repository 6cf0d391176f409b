//! The digests SQS hands back: `MD5OfMessageBody` / `MD5OfBody` (MD5 of the UTF-8 body) and
//! `MD5OfMessageAttributes` / `MD5OfMessageSystemAttributes` (MD5 of AWS's attribute
//! encoding, which the Java, .NET and Go SDKs recompute and compare).
//!
//! MD5 (RFC 1321) is written out here because the store's in-process `send` (used by the
//! engine's on-failure destinations) must produce the same digests as the API without the
//! store depending on a hashing crate; it is checked against the RFC's test suite and, in the
//! API's tests, against the `md-5` crate.
//!
//! The attribute encoding, per attribute in name order: `len(name)` (4-byte big-endian) and
//! the name's UTF-8 bytes, `len(data type)` and the data type, one transport byte (1 for a
//! string value, 2 for binary, 3 for a string list, 4 for a binary list), then the value as
//! `len(value)` and its bytes (each list item so).

use std::collections::BTreeMap;

use super::message::{AttributeValue, MessageAttributeValue};

const S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
    14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
    21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

fn block(state: &mut [u32; 4], chunk: &[u8]) {
    let mut m = [0u32; 16];
    for (i, w) in m.iter_mut().enumerate() {
        *w = u32::from_le_bytes([
            chunk[i * 4],
            chunk[i * 4 + 1],
            chunk[i * 4 + 2],
            chunk[i * 4 + 3],
        ]);
    }
    let [mut a, mut b, mut c, mut d] = *state;
    for i in 0..64 {
        let (f, g) = match i / 16 {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let rotated = a
            .wrapping_add(f)
            .wrapping_add(K[i])
            .wrapping_add(m[g])
            .rotate_left(S[i]);
        a = d;
        d = c;
        c = b;
        b = b.wrapping_add(rotated);
    }
    state[0] = state[0].wrapping_add(a);
    state[1] = state[1].wrapping_add(b);
    state[2] = state[2].wrapping_add(c);
    state[3] = state[3].wrapping_add(d);
}

/// MD5 of `data`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    let mut state: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    let mut chunks = data.chunks_exact(64);
    for chunk in &mut chunks {
        block(&mut state, chunk);
    }
    let rest = chunks.remainder();
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let tail_len = if rest.len() < 56 { 64 } else { 128 };
    let bits = (data.len() as u64).wrapping_mul(8);
    tail[tail_len - 8..tail_len].copy_from_slice(&bits.to_le_bytes());
    for chunk in tail[..tail_len].chunks_exact(64) {
        block(&mut state, chunk);
    }
    let mut out = [0u8; 16];
    for (i, w) in state.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// Lowercase hex of a digest.
pub fn hex(digest: &[u8; 16]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(32);
    for b in digest {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Lowercase hex MD5 of `data`, as `MD5OfMessageBody`.
pub fn md5_hex(data: &[u8]) -> String {
    hex(&md5(data))
}

fn put(buf: &mut Vec<u8>, bytes: &[u8]) {
    // Attribute names, types and values are far below 4 GiB (the message limit is 1 MiB).
    buf.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    buf.extend_from_slice(bytes);
}

/// `MD5OfMessageAttributes` of `attributes` (also `MD5OfMessageSystemAttributes`); `None`
/// when there are none, as AWS then omits the member.
pub fn attributes_md5(attributes: &BTreeMap<String, MessageAttributeValue>) -> Option<String> {
    if attributes.is_empty() {
        return None;
    }
    let mut buf = Vec::new();
    // BTreeMap<String, _> iterates in byte order of the names, the order AWS sorts in.
    for (name, v) in attributes {
        put(&mut buf, name.as_bytes());
        put(&mut buf, v.data_type.as_bytes());
        match &v.value {
            AttributeValue::String(s) => {
                buf.push(1);
                put(&mut buf, s.as_bytes());
            }
            AttributeValue::Binary(b) => {
                buf.push(2);
                put(&mut buf, b);
            }
            AttributeValue::StringList(items) => {
                buf.push(3);
                for s in items {
                    put(&mut buf, s.as_bytes());
                }
            }
            AttributeValue::BinaryList(items) => {
                buf.push(4);
                for b in items {
                    put(&mut buf, b);
                }
            }
        }
    }
    Some(md5_hex(&buf))
}
