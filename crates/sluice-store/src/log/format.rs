//! Byte layouts of segment files, record frames and index files (see the parent module's
//! header for the picture). Pure functions over byte slices: no I/O here.

use std::ops::Range;

/// First bytes of every segment file; the last byte is the format version.
pub(super) const SEGMENT_MAGIC: [u8; 8] = *b"SLCLOG\x00\x01";
/// Magic, first index (u64), arrival floor (u64).
pub(super) const SEGMENT_HEADER_LEN: u64 = 24;

/// First bytes of every index file; the last byte is the format version.
pub(super) const INDEX_MAGIC: [u8; 8] = *b"SLCIDX\x00\x01";
/// Magic, then six u64: first index, end, first arrival, last arrival, segment length,
/// entry count.
pub(super) const INDEX_HEADER_LEN: u64 = 56;
/// Index, arrival, offset.
pub(super) const INDEX_ENTRY_LEN: u64 = 24;

/// `body_len` (u32) and `crc` (u32).
pub(super) const FRAME_PREFIX: usize = 8;
/// Index (u64), arrival (u64), key length (u16), flags (u16), commit delta (u32).
pub(super) const BODY_HEADER: usize = 24;
/// Largest partition key the frame can carry.
pub(super) const MAX_KEY: usize = u16::MAX as usize;
/// Largest frame body accepted on write and believed on read. Kinesis records are at most
/// 1 MiB and DynamoDB items 400 KB; the bound keeps a damaged length from asking for
/// gigabytes.
pub(super) const MAX_BODY: usize = 16 << 20;

/// Set on the last record of each append: recovery never keeps part of an append.
pub(super) const FLAG_APPEND_END: u16 = 1;

pub(super) fn segment_file_name(base: u64) -> String {
    format!("{base:020}.log")
}

pub(super) fn index_file_name(base: u64) -> String {
    format!("{base:020}.idx")
}

/// What a file in the log directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileKind {
    Segment(u64),
    Index(u64),
    /// A half-written index file from an interrupted seal.
    Temp,
}

pub(super) fn classify(name: &str) -> Option<FileKind> {
    if name.ends_with(".tmp") {
        return Some(FileKind::Temp);
    }
    let (stem, ext) = name.split_once('.')?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let base: u64 = stem.parse().ok()?;
    match ext {
        "log" => Some(FileKind::Segment(base)),
        "idx" => Some(FileKind::Index(base)),
        _ => None,
    }
}

pub(super) fn le_u16(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    a.copy_from_slice(&b[at..at + 2]);
    u16::from_le_bytes(a)
}

pub(super) fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

pub(super) fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

pub(super) fn encode_segment_header(base: u64, arrival_floor: u64) -> [u8; 24] {
    let mut h = [0u8; 24];
    h[..8].copy_from_slice(&SEGMENT_MAGIC);
    h[8..16].copy_from_slice(&base.to_le_bytes());
    h[16..24].copy_from_slice(&arrival_floor.to_le_bytes());
    h
}

/// Checks a segment header; returns the arrival floor.
pub(super) fn decode_segment_header(h: &[u8], base: u64) -> Result<u64, String> {
    if h.len() < SEGMENT_HEADER_LEN as usize || h[..8] != SEGMENT_MAGIC {
        return Err("not a Sluice log segment (bad magic or format version)".into());
    }
    let stored = le_u64(h, 8);
    if stored != base {
        return Err(format!(
            "segment header says first index {stored}, file name says {base}"
        ));
    }
    Ok(le_u64(h, 16))
}

/// Appends one frame to `buf`. The caller has checked `key.len() <= MAX_KEY` and the body
/// size against `MAX_BODY`, and that `index - commit_start` fits a u32.
pub(super) fn encode_frame(
    buf: &mut Vec<u8>,
    index: u64,
    arrival_ms: u64,
    commit_start: u64,
    flags: u16,
    key: &[u8],
    data: &[u8],
) {
    let body_len = BODY_HEADER + key.len() + data.len();
    debug_assert!(key.len() <= MAX_KEY && body_len <= MAX_BODY);
    debug_assert!(index - commit_start <= u64::from(u32::MAX));
    let start = buf.len();
    buf.extend_from_slice(&(body_len as u32).to_le_bytes());
    buf.extend_from_slice(&[0u8; 4]);
    buf.extend_from_slice(&index.to_le_bytes());
    buf.extend_from_slice(&arrival_ms.to_le_bytes());
    buf.extend_from_slice(&(key.len() as u16).to_le_bytes());
    buf.extend_from_slice(&flags.to_le_bytes());
    buf.extend_from_slice(&((index - commit_start) as u32).to_le_bytes());
    buf.extend_from_slice(key);
    buf.extend_from_slice(data);
    let crc = frame_crc(&buf[start..]);
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// CRC32 over the length field and the body (everything but the CRC itself).
fn frame_crc(frame: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&frame[..4]);
    h.update(&frame[FRAME_PREFIX..]);
    h.finalize()
}

/// A frame that passed its checks, described relative to the slice it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FrameMeta {
    pub index: u64,
    pub arrival_ms: u64,
    pub flags: u16,
    /// First index of the group commit that wrote this frame.
    pub commit_start: u64,
    pub key_len: usize,
    pub data_len: usize,
    /// Whole frame, prefix included.
    pub len: usize,
}

impl FrameMeta {
    pub fn key_range(&self) -> Range<usize> {
        let at = FRAME_PREFIX + BODY_HEADER;
        at..at + self.key_len
    }

    pub fn data_range(&self) -> Range<usize> {
        let at = FRAME_PREFIX + BODY_HEADER + self.key_len;
        at..at + self.data_len
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Parsed {
    Frame(FrameMeta),
    /// At least this many bytes (from the frame start) are needed to decide.
    Incomplete(usize),
    Bad(&'static str),
}

/// Parses the frame at the start of `buf`.
pub(super) fn parse_frame(buf: &[u8]) -> Parsed {
    if buf.len() < FRAME_PREFIX {
        return Parsed::Incomplete(FRAME_PREFIX);
    }
    let body_len = le_u32(buf, 0) as usize;
    if !(BODY_HEADER..=MAX_BODY).contains(&body_len) {
        return Parsed::Bad("implausible frame length");
    }
    let len = FRAME_PREFIX + body_len;
    if buf.len() < len {
        return Parsed::Incomplete(len);
    }
    let frame = &buf[..len];
    if le_u32(frame, 4) != frame_crc(frame) {
        return Parsed::Bad("checksum mismatch");
    }
    let index = le_u64(frame, 8);
    let arrival_ms = le_u64(frame, 16);
    let key_len = usize::from(le_u16(frame, 24));
    let flags = le_u16(frame, 26);
    let delta = u64::from(le_u32(frame, 28));
    if key_len > body_len - BODY_HEADER {
        return Parsed::Bad("key longer than frame");
    }
    let Some(commit_start) = index.checked_sub(delta) else {
        return Parsed::Bad("commit start before index 0");
    };
    Parsed::Frame(FrameMeta {
        index,
        arrival_ms,
        flags,
        commit_start,
        key_len,
        data_len: body_len - BODY_HEADER - key_len,
        len,
    })
}

/// One sparse index entry: the record `index`, its arrival and the file offset of its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct IndexEntry {
    pub index: u64,
    pub arrival_ms: u64,
    pub offset: u64,
}

pub(super) fn decode_entry(b: &[u8]) -> IndexEntry {
    IndexEntry {
        index: le_u64(b, 0),
        arrival_ms: le_u64(b, 8),
        offset: le_u64(b, 16),
    }
}

/// What is kept in memory for a sealed segment: fixed size, whatever its record count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Summary {
    /// First index (the file name).
    pub base: u64,
    /// One past the last index.
    pub end: u64,
    pub first_arrival: u64,
    pub last_arrival: u64,
    /// File length in bytes.
    pub len: u64,
    /// Entries in the index file.
    pub entries: u64,
}

pub(super) fn encode_index(s: &Summary, entries: &[IndexEntry]) -> Vec<u8> {
    let mut b = Vec::with_capacity(
        INDEX_HEADER_LEN as usize + entries.len() * INDEX_ENTRY_LEN as usize + 4,
    );
    b.extend_from_slice(&INDEX_MAGIC);
    for v in [
        s.base,
        s.end,
        s.first_arrival,
        s.last_arrival,
        s.len,
        entries.len() as u64,
    ] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for e in entries {
        b.extend_from_slice(&e.index.to_le_bytes());
        b.extend_from_slice(&e.arrival_ms.to_le_bytes());
        b.extend_from_slice(&e.offset.to_le_bytes());
    }
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

/// Checks a whole index file against the segment it claims to describe; returns the summary
/// and the last entry. Any inconsistency is a reason to rebuild, never trusted.
pub(super) fn decode_index(
    b: &[u8],
    base: u64,
    segment_len: u64,
) -> Result<(Summary, IndexEntry), &'static str> {
    let head = INDEX_HEADER_LEN as usize;
    if b.len() < head + 4 || b[..8] != INDEX_MAGIC {
        return Err("bad magic or too short");
    }
    let (body, crc) = b.split_at(b.len() - 4);
    if crc32fast::hash(body) != le_u32(crc, 0) {
        return Err("checksum mismatch");
    }
    let s = Summary {
        base: le_u64(b, 8),
        end: le_u64(b, 16),
        first_arrival: le_u64(b, 24),
        last_arrival: le_u64(b, 32),
        len: le_u64(b, 40),
        entries: le_u64(b, 48),
    };
    let count = usize::try_from(s.entries).map_err(|_| "entry count")?;
    if body.len() - head != count.saturating_mul(INDEX_ENTRY_LEN as usize) {
        return Err("entry count does not match length");
    }
    if s.base != base || s.len != segment_len || s.end <= s.base || count == 0 {
        return Err("summary does not match the segment");
    }
    let mut prev: Option<IndexEntry> = None;
    for chunk in body[head..].chunks_exact(INDEX_ENTRY_LEN as usize) {
        let e = decode_entry(chunk);
        let ok = match prev {
            None => {
                e.index == base && e.arrival_ms == s.first_arrival && e.offset == SEGMENT_HEADER_LEN
            }
            Some(p) => e.index > p.index && e.offset > p.offset && e.arrival_ms >= p.arrival_ms,
        };
        if !ok || e.index >= s.end || e.offset >= s.len || e.arrival_ms > s.last_arrival {
            return Err("entries out of order or out of range");
        }
        prev = Some(e);
    }
    match prev {
        Some(last) => Ok((s, last)),
        None => Err("no entries"),
    }
}
