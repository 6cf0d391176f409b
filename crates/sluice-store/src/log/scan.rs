//! Walking the frames of one segment with positional reads (`read_exact_at`), so any
//! number of readers and the writer share one file handle without a seek position.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::format::{self, FrameMeta, Parsed};
use crate::StoreError;

/// First read size; doubles on each refill up to `MAX_CHUNK`, so a one-record lookup reads
/// little and a long scan reads in large blocks.
const FIRST_CHUNK: usize = 8 << 10;
const MAX_CHUNK: usize = 1 << 20;

/// Why a scan stopped early.
#[derive(Debug)]
pub(super) enum ScanError {
    Io(io::Error),
    /// The frame at `offset` is short, fails its checksum, or carries the wrong index.
    Bad {
        offset: u64,
        reason: String,
    },
}

impl ScanError {
    pub fn into_store(self, path: &Path) -> StoreError {
        match self {
            ScanError::Io(source) => StoreError::Io {
                path: path.display().to_string(),
                source,
            },
            ScanError::Bad { offset, reason } => StoreError::CorruptLog {
                path: path.display().to_string(),
                offset,
                reason,
            },
        }
    }
}

/// Frames of one segment from `offset` up to `limit`, each checked (length, CRC, and that
/// its index is the one expected next).
pub(super) struct Cursor<'a> {
    file: &'a File,
    /// Storage, zero-filled only when it grows; `buf[..filled]` holds file bytes.
    buf: Vec<u8>,
    filled: usize,
    /// File offset of `buf[0]`.
    buf_offset: u64,
    /// Start of the next frame in `buf`.
    pos: usize,
    /// Start in `buf` of the frame last returned.
    frame_at: usize,
    limit: u64,
    expect: u64,
    chunk: usize,
    bytes_read: Option<&'a AtomicU64>,
}

impl<'a> Cursor<'a> {
    /// `expect` is the index of the frame at `offset`.
    pub fn new(file: &'a File, offset: u64, limit: u64, expect: u64) -> Self {
        Cursor {
            file,
            buf: Vec::new(),
            filled: 0,
            buf_offset: offset,
            pos: 0,
            frame_at: 0,
            limit,
            expect,
            chunk: FIRST_CHUNK,
            bytes_read: None,
        }
    }

    /// Counts bytes read into `counter` (the log's statistics).
    pub fn counting(mut self, counter: &'a AtomicU64) -> Self {
        self.bytes_read = Some(counter);
        self
    }

    /// File offset of the next frame.
    pub fn offset(&self) -> u64 {
        self.buf_offset + self.pos as u64
    }

    /// Index the next frame must carry.
    pub fn expect(&self) -> u64 {
        self.expect
    }

    /// The next frame, or `None` exactly at `limit`.
    pub fn next_frame(&mut self) -> Result<Option<FrameMeta>, ScanError> {
        loop {
            if self.offset() >= self.limit {
                return Ok(None);
            }
            match format::parse_frame(&self.buf[self.pos..self.filled]) {
                Parsed::Frame(m) => {
                    if m.index != self.expect {
                        return Err(self.bad(format!(
                            "frame carries index {} where {} was expected",
                            m.index, self.expect
                        )));
                    }
                    self.frame_at = self.pos;
                    self.pos += m.len;
                    self.expect += 1;
                    return Ok(Some(m));
                }
                Parsed::Incomplete(need) => {
                    let have = (self.buf_offset + self.filled as u64).min(self.limit);
                    if self.offset() + need as u64 > self.limit || have >= self.limit {
                        return Err(self.bad("frame runs past the end of the segment".into()));
                    }
                    self.refill(need).map_err(ScanError::Io)?;
                }
                Parsed::Bad(reason) => return Err(self.bad(reason.into())),
            }
        }
    }

    fn bad(&self, reason: String) -> ScanError {
        ScanError::Bad {
            offset: self.offset(),
            reason,
        }
    }

    /// Key bytes of the frame last returned by `next_frame`.
    pub fn key(&self, m: &FrameMeta) -> &[u8] {
        let r = m.key_range();
        &self.buf[self.frame_at + r.start..self.frame_at + r.end]
    }

    /// Data bytes of the frame last returned by `next_frame`.
    pub fn data(&self, m: &FrameMeta) -> &[u8] {
        let r = m.data_range();
        &self.buf[self.frame_at + r.start..self.frame_at + r.end]
    }

    /// Makes at least `need` bytes from `pos` available (the caller checked they exist
    /// before `limit`).
    fn refill(&mut self, need: usize) -> io::Result<()> {
        self.buf.copy_within(self.pos..self.filled, 0);
        self.filled -= self.pos;
        self.buf_offset += self.pos as u64;
        self.pos = 0;
        self.frame_at = 0;
        let end = self.buf_offset + self.filled as u64;
        let room = usize::try_from(self.limit - end).unwrap_or(usize::MAX);
        let want = need.saturating_sub(self.filled).max(self.chunk).min(room);
        self.chunk = (self.chunk * 2).min(MAX_CHUNK);
        let upto = self.filled + want;
        if self.buf.len() < upto {
            self.buf.resize(upto, 0);
        }
        self.file
            .read_exact_at(&mut self.buf[self.filled..upto], end)?;
        self.filled = upto;
        if let Some(c) = self.bytes_read {
            c.fetch_add(want as u64, Ordering::Relaxed);
        }
        Ok(())
    }
}
