//! Per-shard append-only record log: one [`ShardLog`] per Kinesis shard (and per DynamoDB
//! stream shard), in its own directory.
//!
//! # Files
//!
//! ```text
//! DIR/
//!   00000000000000000000.log   segment: records 0.. (named by its first index, 20 digits)
//!   00000000000000000000.idx   sparse index of that segment, written when it is sealed
//!   00000000000000001234.log   the active segment (the newest): appends go here
//! ```
//!
//! A segment is a 24-byte header (`SLCLOG\0\x01`, first index u64, arrival floor u64: the
//! last arrival time when it was created, so arrival times stay monotonic even when every
//! older segment was deleted) followed by frames, all integers little-endian:
//!
//! ```text
//! body_len u32 | crc32 u32 | index u64 | arrival_ms u64 | key_len u16 | flags u16 |
//! commit_delta u32 | partition key (key_len bytes, UTF-8) | data (the rest of the body)
//! ```
//!
//! `body_len` counts everything after the CRC; the CRC (crc32fast) covers `body_len` and the
//! body. Flag bit 0 marks the last record of an `append` call. `commit_delta` is the
//! record's distance from the first index of the group commit that wrote it.
//!
//! An index file is `SLCIDX\0\x01`, a summary (first index, end, first and last arrival,
//! segment length, entry count: six u64), the entries (index, arrival_ms, file offset: three
//! u64), and a CRC32 of everything before it. There is an entry for a segment's first record
//! and then for the first record at least `index_interval_bytes` after the previous entry.
//!
//! # Invariants
//!
//! - Indices are contiguous from 0 and never reused; segment `N+1` starts where `N` ends.
//!   Arrival times never decrease (an append's arrival is `max(now_ms, last arrival)`).
//! - An append's records are contiguous in one segment (segments roll only between
//!   appends) and one fdatasync covers them before `append` resolves. A segment rolls when
//!   it has reached `segment_bytes`, so it may pass that by one group commit.
//! - Readers see only durable records: `end()`, the active segment's length and its
//!   in-memory index move forward together, after the fdatasync.
//! - Memory per sealed segment is a fixed-size summary; the active segment's sparse index
//!   (one entry per `index_interval_bytes`) is the only per-data memory. Sealed lookups
//!   binary-search the index file with positional reads. Nothing is kept per record.
//! - Group commit (see `write`): each commit is written and fdatasync'd before the next one
//!   is written, so at a crash at most the last commit of the newest segment can be partly
//!   on disk, and every older byte is durable.
//!
//! # Recovery (`ShardLog::open`)
//!
//! - Leftover `*.tmp` files and index files of deleted segments are removed.
//! - Each older segment is checked through its index file: the file's CRC and summary must
//!   match the segment, and the frames from the last index entry to the end of the file must
//!   be intact and agree with the summary. Otherwise the segment is scanned once and its
//!   index file rewritten; any damage found by that scan is [`StoreError::CorruptLog`].
//! - The newest segment is scanned whole (its index lives in memory). At the first bad frame
//!   (short, bad CRC, wrong index), the rest of the file is searched for an intact frame of
//!   a later group commit: finding one means damage inside durable data, which is an error.
//!   Otherwise the file is cut back to the end of the last complete append: a torn tail,
//!   or an append that was never acknowledged, is dropped whole.
//! - `start()` after a restart is the first index of the oldest remaining segment; callers
//!   re-apply their retention cutoff with [`ShardLog::trim_before`].
//!
//! Damage in the middle of an older segment is found when it is read: every frame read is
//! CRC-checked and must carry the index expected there.
//!
//! # What the log does not do
//!
//! - No per-record deletion and no compaction: retention deletes whole sealed segments; the
//!   active segment is never deleted, only hidden behind `start()`.
//! - No encryption, no compression, no replication.
//! - No guard against two `ShardLog`s on one directory: the data directory's lock covers
//!   the process, and one owner per shard directory is the caller's job.
//! - A failed write or fsync leaves the log refusing appends (what reached the disk is
//!   unknown; fsync errors are not retried) until it is reopened; such an append's
//!   records may or may not be there after the reopen.
//! - Index files are not fsync'd: they are a cache, checked and rebuilt at open.
//! - With `fsync: false` (tests, benchmarks) nothing is fsync'd: a process crash loses
//!   nothing, a machine crash may lose anything after the last fsync the OS made.

mod format;
mod recover;
mod scan;
mod write;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use tokio::sync::{oneshot, watch};

use self::format::{INDEX_ENTRY_LEN, INDEX_HEADER_LEN, IndexEntry, Summary};
use self::recover::{corrupt, io_err};
use self::scan::Cursor;
use self::write::{FlushGuard, Pending, Queue, Writer};
use crate::StoreError;

/// How a log lays out its files.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// A segment is sealed and a new one started once it reaches this size; retention
    /// deletes whole segments, so this is also its granularity.
    pub segment_bytes: u64,
    /// Distance between sparse index entries: a read scans at most about this much before
    /// the record it wants.
    pub index_interval_bytes: u64,
    /// fdatasync before an append resolves. `false` only for tests and benchmarks.
    pub fsync: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            segment_bytes: 64 << 20,
            index_interval_bytes: 4096,
            fsync: true,
        }
    }
}

/// A record to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    pub partition_key: String,
    pub data: Vec<u8>,
}

/// A durable record as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// Position in the shard, from 0, contiguous.
    pub index: u64,
    /// Arrival time in milliseconds since the epoch, never decreasing along the log.
    pub arrival_ms: u64,
    pub partition_key: String,
    pub data: Vec<u8>,
}

/// Counters since the log was opened, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogStats {
    /// `append` calls that carried records.
    pub appends: u64,
    /// Group commits written (each covers one or more appends).
    pub commits: u64,
    /// fdatasync calls on segment data.
    pub fsyncs: u64,
    /// Bytes read from segment files by `read`, `index_at_time` and `arrival_of`.
    pub bytes_read: u64,
}

#[derive(Default)]
struct Counters {
    appends: AtomicU64,
    commits: AtomicU64,
    fsyncs: AtomicU64,
    bytes_read: AtomicU64,
}

/// An append-only log of one shard. Cheap to clone; all clones share one log.
#[derive(Clone)]
pub struct ShardLog {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ShardLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardLog")
            .field("dir", &self.shared.dir)
            .field("start", &self.start())
            .field("end", &self.end())
            .finish()
    }
}

struct Shared {
    dir: PathBuf,
    opts: LogOptions,
    /// What readers see. Held only for short sections without I/O, except `destroy`.
    state: RwLock<State>,
    /// The append side; locked by the running flush (and `destroy`). Lock order: writer,
    /// then state.
    writer: Mutex<Writer>,
    queue: Mutex<Queue>,
    /// Durable end, for `end()` without a lock.
    end: AtomicU64,
    end_tx: watch::Sender<u64>,
    /// The sealed segment read last, so a reader catching up does not reopen its files on
    /// every call. Only one: file handles per segment would grow with retention.
    sealed_files: Mutex<Option<SealedFiles>>,
    stats: Counters,
}

struct State {
    /// First readable index (moved by retention).
    start: u64,
    /// Sealed segments, oldest first.
    sealed: VecDeque<Summary>,
    active: Active,
    destroyed: bool,
}

/// The segment appends go to; every field describes durable records only.
struct Active {
    base: u64,
    file: Arc<File>,
    len: u64,
    end: u64,
    first_arrival: Option<u64>,
    /// Arrival of its last record, or its arrival floor when it has none.
    last_arrival: u64,
    entries: Vec<IndexEntry>,
}

#[derive(Clone)]
struct SealedFiles {
    base: u64,
    log: Arc<File>,
    idx: Arc<File>,
}

/// Where a scan for a record starts.
struct Located {
    file: Arc<File>,
    path: PathBuf,
    /// Offset of a frame at or before the wanted record, and its index.
    offset: u64,
    index: u64,
    /// Durable length and end of the segment.
    limit: u64,
    end: u64,
    /// The log's start when located.
    start: u64,
}

enum Target {
    /// The segment holding this index (raised to `start()`).
    Index(u64),
    /// The segment holding the first record with `arrival_ms >=` this.
    Time(u64),
}

enum Choice {
    Active {
        base: u64,
        file: Arc<File>,
        len: u64,
        end: u64,
        entry: IndexEntry,
    },
    Sealed(Summary),
}

impl Shared {
    fn segment_path(&self, base: u64) -> PathBuf {
        self.dir.join(format::segment_file_name(base))
    }

    fn failed(&self, reason: &str) -> StoreError {
        StoreError::LogFailed {
            path: self.dir.display().to_string(),
            reason: reason.to_string(),
        }
    }
}

impl ShardLog {
    /// Opens or creates the log in `dir` (created if missing), recovering as the module
    /// header describes. Blocking.
    pub fn open(dir: &Path, opts: LogOptions) -> Result<ShardLog, StoreError> {
        let r = recover::recover(dir, opts.index_interval_bytes, opts.fsync)?;
        let a = r.active;
        let file = Arc::new(a.file);
        let start = r.sealed.first().map_or(a.base, |s| s.base);
        let last_entry_offset = a.entries.last().map(|e| e.offset);
        let writer = Writer {
            file: file.clone(),
            base: a.base,
            len: a.len,
            next: a.end,
            last_arrival: a.last_arrival,
            last_entry_offset,
            failed: None,
        };
        let state = State {
            start,
            sealed: r.sealed.into(),
            active: Active {
                base: a.base,
                file,
                len: a.len,
                end: a.end,
                first_arrival: a.first_arrival,
                last_arrival: a.last_arrival,
                entries: a.entries,
            },
            destroyed: false,
        };
        let (end_tx, _) = watch::channel(a.end);
        Ok(ShardLog {
            shared: Arc::new(Shared {
                dir: dir.to_path_buf(),
                opts,
                state: RwLock::new(state),
                writer: Mutex::new(writer),
                queue: Mutex::new(Queue::default()),
                end: AtomicU64::new(a.end),
                end_tx,
                sealed_files: Mutex::new(None),
                stats: Counters::default(),
            }),
        })
    }

    /// The directory holding this log's files.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Appends `records` in order, all or nothing, and resolves once they are durable.
    /// Concurrent calls share one write and one fdatasync. Returns the indices assigned.
    ///
    /// Every record is checked first: a partition key over 65,535 bytes or a record over
    /// 16 MiB fails the whole call with [`StoreError::RecordTooLarge`]. If the write or
    /// the fsync fails, the call fails and the log refuses appends until it is reopened.
    ///
    /// Dropping the future does not cancel the append: the commit runs detached, and the
    /// records may be written without an answer (as after a crash).
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime (the commit runs on its blocking pool).
    pub async fn append(
        &self,
        records: Vec<NewRecord>,
        now_ms: u64,
    ) -> Result<Range<u64>, StoreError> {
        if records.is_empty() {
            let end = self.end();
            return Ok(end..end);
        }
        for r in &records {
            let key = r.partition_key.len();
            let body = format::BODY_HEADER + key + r.data.len();
            if key > format::MAX_KEY {
                return Err(StoreError::RecordTooLarge(format!(
                    "partition key of {key} bytes; the log stores at most {}",
                    format::MAX_KEY
                )));
            }
            if body > format::MAX_BODY {
                return Err(StoreError::RecordTooLarge(format!(
                    "record of {} bytes; the log stores at most {}",
                    key + r.data.len(),
                    format::MAX_BODY - format::BODY_HEADER
                )));
            }
        }
        let (reply, rx) = oneshot::channel();
        let lead = {
            let mut q = self
                .shared
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            q.pending.push(Pending {
                records,
                now_ms,
                reply,
            });
            !std::mem::replace(&mut q.flushing, true)
        };
        self.shared.stats.appends.fetch_add(1, Ordering::Relaxed);
        if lead {
            let guard = FlushGuard {
                shared: self.shared.clone(),
                armed: true,
            };
            if self.shared.opts.fsync {
                tokio::task::spawn_blocking(move || write::flush_loop(guard));
            } else {
                // Without fdatasync a flush is a copy into the page cache: it runs here,
                // without a hop to the blocking pool and back.
                write::flush_loop(guard);
            }
        }
        match rx.await {
            Ok(result) => result,
            Err(_) => Err(self
                .shared
                .failed("the log writer stopped before answering")),
        }
    }

    /// One past the last durable index (the number of records ever appended).
    pub fn end(&self) -> u64 {
        self.shared.end.load(Ordering::Acquire)
    }

    /// Follows `end()`: changes after each durable append.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.end_tx.subscribe()
    }

    /// Index of the oldest retained record (`end()` when none is).
    pub fn start(&self) -> u64 {
        self.state().start
    }

    /// Counters since the log was opened.
    pub fn stats(&self) -> LogStats {
        let s = &self.shared.stats;
        LogStats {
            appends: s.appends.load(Ordering::Relaxed),
            commits: s.commits.load(Ordering::Relaxed),
            fsyncs: s.fsyncs.load(Ordering::Relaxed),
            bytes_read: s.bytes_read.load(Ordering::Relaxed),
        }
    }

    /// Up to `max_records` durable records from `max(from, start())` on, in order, stopping
    /// before the keys and data would pass `max_bytes` (but at least one record if any).
    /// Blocking: positional reads starting at the nearest sparse index entry.
    pub fn read(
        &self,
        from: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let mut out: Vec<StoredRecord> = Vec::new();
        let mut next = from;
        let mut bytes = 0usize;
        while out.len() < max_records {
            let Ok(loc) = self.locate(Target::Index(next))? else {
                break;
            };
            next = next.max(loc.start);
            let mut cur = Cursor::new(&loc.file, loc.offset, loc.limit, loc.index)
                .counting(&self.shared.stats.bytes_read);
            while cur.expect() < loc.end {
                let m = self.next_in(&mut cur, &loc)?;
                if m.index < next {
                    continue;
                }
                let size = m.key_len + m.data_len;
                if out.len() >= max_records || (!out.is_empty() && bytes + size > max_bytes) {
                    return Ok(out);
                }
                let partition_key = String::from_utf8(cur.key(&m).to_vec()).map_err(|_| {
                    corrupt(
                        &loc.path,
                        cur.offset() - m.len as u64,
                        "partition key is not UTF-8",
                    )
                })?;
                out.push(StoredRecord {
                    index: m.index,
                    arrival_ms: m.arrival_ms,
                    partition_key,
                    data: cur.data(&m).to_vec(),
                });
                bytes += size;
                next = m.index + 1;
            }
        }
        Ok(out)
    }

    /// First retained index whose arrival is at or after `ms` (`end()` if none): a binary
    /// search over segment summaries, then over one sparse index, then a short scan.
    pub fn index_at_time(&self, ms: u64) -> Result<u64, StoreError> {
        let loc = match self.locate(Target::Time(ms))? {
            Ok(loc) => loc,
            Err(end) => return Ok(end),
        };
        let mut cur = Cursor::new(&loc.file, loc.offset, loc.limit, loc.index)
            .counting(&self.shared.stats.bytes_read);
        while cur.expect() < loc.end {
            let m = self.next_in(&mut cur, &loc)?;
            if m.arrival_ms >= ms {
                return Ok(m.index.max(loc.start));
            }
        }
        Err(corrupt(
            &loc.path,
            loc.limit,
            format!("no record arrived at or after {ms} although the segment summary says one did"),
        ))
    }

    /// Arrival time of a retained record; `None` outside `start()..end()`.
    pub fn arrival_of(&self, index: u64) -> Result<Option<u64>, StoreError> {
        let Ok(loc) = self.locate(Target::Index(index))? else {
            return Ok(None);
        };
        if index < loc.start {
            return Ok(None);
        }
        let mut cur = Cursor::new(&loc.file, loc.offset, loc.limit, loc.index)
            .counting(&self.shared.stats.bytes_read);
        while cur.expect() < loc.end {
            let m = self.next_in(&mut cur, &loc)?;
            if m.index == index {
                return Ok(Some(m.arrival_ms));
            }
        }
        Err(corrupt(
            &loc.path,
            loc.limit,
            format!("record {index} missing from its segment"),
        ))
    }

    /// Retention: records that arrived before `cutoff_ms` stop being readable, and sealed
    /// segments holding only such records are deleted. Blocking.
    pub fn trim_before(&self, cutoff_ms: u64) -> Result<(), StoreError> {
        let new_start = self.index_at_time(cutoff_ms)?;
        let removed: Vec<u64> = {
            let mut st = self.state_mut();
            st.start = st.start.max(new_start);
            let mut removed = Vec::new();
            while let Some(s) = st.sealed.front().copied() {
                if s.end > st.start {
                    break;
                }
                st.sealed.pop_front();
                removed.push(s.base);
            }
            removed
        };
        if removed.is_empty() {
            return Ok(());
        }
        {
            let mut cache = self.cache();
            if cache.as_ref().is_some_and(|c| removed.contains(&c.base)) {
                *cache = None;
            }
        }
        // Oldest first, index before segment: a crash part way leaves no gap, and at
        // worst a segment whose index is rebuilt or an index that recovery removes.
        for base in &removed {
            for name in [
                format::index_file_name(*base),
                format::segment_file_name(*base),
            ] {
                let path = self.shared.dir.join(name);
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err(&path)(e)),
                }
            }
        }
        tracing::debug!(log = %self.shared.dir.display(), segments = removed.len(), "Deleted expired log segments.");
        Ok(())
    }

    /// Deletes every file of the log, and its directory if nothing else is in it. Other
    /// clones of this log fail from then on. Blocking (waits for a running commit).
    pub fn destroy(self) -> Result<(), StoreError> {
        {
            let mut w = self
                .shared
                .writer
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            w.failed = Some("the log was destroyed".into());
            self.state_mut().destroyed = true;
        }
        *self.cache() = None;
        let dir = &self.shared.dir;
        for entry in fs::read_dir(dir).map_err(io_err(dir))? {
            let entry = entry.map_err(io_err(dir))?;
            let ours = entry
                .file_name()
                .to_str()
                .and_then(format::classify)
                .is_some();
            if ours {
                let path = entry.path();
                fs::remove_file(&path).map_err(io_err(&path))?;
            }
        }
        if let Err(e) = fs::remove_dir(dir) {
            tracing::debug!(log = %dir.display(), error = %e, "Log directory left in place.");
        }
        Ok(())
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.shared
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.shared
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Option<SealedFiles>> {
        self.shared
            .sealed_files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The next frame of a located segment, which must exist before `loc.end`.
    fn next_in(
        &self,
        cur: &mut Cursor<'_>,
        loc: &Located,
    ) -> Result<format::FrameMeta, StoreError> {
        match cur.next_frame() {
            Ok(Some(m)) => Ok(m),
            Ok(None) => Err(corrupt(
                &loc.path,
                loc.limit,
                format!("segment ends before record {}", cur.expect()),
            )),
            Err(e) => Err(e.into_store(&loc.path)),
        }
    }

    /// Finds the segment and sparse index entry to scan from; `Err(end)` when no retained
    /// record matches.
    fn locate(&self, target: Target) -> Result<Result<Located, u64>, StoreError> {
        // A sealed segment can be deleted by retention between choosing it and opening its
        // files; the next attempt then starts from the new start.
        for _ in 0..4 {
            let (choice, start) = {
                let st = self.state();
                if st.destroyed {
                    return Err(self.shared.failed("the log was destroyed"));
                }
                let (start, end) = (st.start, st.active.end);
                if start >= end {
                    return Ok(Err(end));
                }
                let a = &st.active;
                let choice = match target {
                    Target::Index(i) => {
                        let i = i.max(start);
                        if i >= end {
                            return Ok(Err(end));
                        }
                        if i >= a.base {
                            let k = a.entries.partition_point(|e| e.index <= i);
                            active_choice(a, k)
                        } else {
                            let k = st.sealed.partition_point(|s| s.base <= i);
                            match k.checked_sub(1).and_then(|k| st.sealed.get(k)) {
                                Some(s) => Choice::Sealed(*s),
                                None => return Ok(Err(end)),
                            }
                        }
                    }
                    Target::Time(ms) => {
                        let k = st.sealed.partition_point(|s| s.last_arrival < ms);
                        if let Some(s) = st.sealed.get(k) {
                            Choice::Sealed(*s)
                        } else if a.end > a.base && a.last_arrival >= ms {
                            let k = a.entries.partition_point(|e| e.arrival_ms < ms);
                            active_choice(a, k)
                        } else {
                            return Ok(Err(end));
                        }
                    }
                };
                (choice, start)
            };
            match choice {
                Choice::Active {
                    base,
                    file,
                    len,
                    end,
                    entry,
                } => {
                    return Ok(Ok(Located {
                        file,
                        path: self.shared.segment_path(base),
                        offset: entry.offset,
                        index: entry.index,
                        limit: len,
                        end,
                        start,
                    }));
                }
                Choice::Sealed(s) => {
                    let path = self.shared.segment_path(s.base);
                    let files = match self.sealed_files(s.base) {
                        Ok(f) => f,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {
                            if self.state().start >= s.end {
                                continue;
                            }
                            return Err(io_err(&path)(e));
                        }
                        Err(e) => return Err(io_err(&path)(e)),
                    };
                    let entry = match target {
                        Target::Index(i) => {
                            let i = i.max(start);
                            self.index_lookup(&files.idx, &s, |e| e.index <= i)?
                        }
                        Target::Time(ms) => {
                            self.index_lookup(&files.idx, &s, |e| e.arrival_ms < ms)?
                        }
                    };
                    return Ok(Ok(Located {
                        file: files.log,
                        path,
                        offset: entry.offset,
                        index: entry.index,
                        limit: s.len,
                        end: s.end,
                        start,
                    }));
                }
            }
        }
        Err(self
            .shared
            .failed("segments kept disappearing under a reader (retention racing reads)"))
    }

    fn sealed_files(&self, base: u64) -> io::Result<SealedFiles> {
        if let Some(c) = self.cache().as_ref()
            && c.base == base
        {
            return Ok(c.clone());
        }
        let dir = &self.shared.dir;
        let log = Arc::new(File::open(dir.join(format::segment_file_name(base)))?);
        let idx = Arc::new(File::open(dir.join(format::index_file_name(base)))?);
        let files = SealedFiles { base, log, idx };
        *self.cache() = Some(files.clone());
        Ok(files)
    }

    /// The last entry of a sealed segment's index file for which `pred` holds (entries where
    /// it holds form a prefix), or the first entry if none: a binary search with positional
    /// reads.
    fn index_lookup(
        &self,
        idx: &File,
        s: &Summary,
        pred: impl Fn(&IndexEntry) -> bool,
    ) -> Result<IndexEntry, StoreError> {
        let path = self.shared.dir.join(format::index_file_name(s.base));
        let read = |i: u64| -> Result<IndexEntry, StoreError> {
            let mut b = [0u8; INDEX_ENTRY_LEN as usize];
            idx.read_exact_at(&mut b, INDEX_HEADER_LEN + i * INDEX_ENTRY_LEN)
                .map_err(io_err(&path))?;
            self.shared
                .stats
                .bytes_read
                .fetch_add(INDEX_ENTRY_LEN, Ordering::Relaxed);
            Ok(format::decode_entry(&b))
        };
        let (mut lo, mut hi) = (0u64, s.entries);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(&read(mid)?) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let e = read(lo.saturating_sub(1))?;
        if e.index < s.base
            || e.index >= s.end
            || e.offset < format::SEGMENT_HEADER_LEN
            || e.offset >= s.len
        {
            return Err(corrupt(
                &path,
                INDEX_HEADER_LEN + lo * INDEX_ENTRY_LEN,
                "index entry out of range",
            ));
        }
        Ok(e)
    }
}

/// The active segment's entry before position `k` of its in-memory index (or its first).
fn active_choice(a: &Active, k: usize) -> Choice {
    let entry = a
        .entries
        .get(k.saturating_sub(1))
        .copied()
        .unwrap_or(IndexEntry {
            index: a.base,
            arrival_ms: a.first_arrival.unwrap_or(a.last_arrival),
            offset: format::SEGMENT_HEADER_LEN,
        });
    Choice::Active {
        base: a.base,
        file: a.file.clone(),
        len: a.len,
        end: a.end,
        entry,
    }
}
