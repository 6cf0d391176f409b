//! The append path: group commit by a leader on the blocking pool.
//!
//! An appender queues its records with a one-shot reply channel. The appender that finds
//! no flush in progress starts one on Tokio's blocking pool; that flush takes everything
//! queued, writes it with positional writes, fdatasyncs once, publishes the new end, answers
//! every waiter, and loops while more arrived meanwhile. When the queue is empty it stops:
//! an idle log has no thread and no timer. Because the flush runs detached from the
//! appender's future, dropping an `append` future never strands the queue.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use tokio::sync::oneshot;

use super::format::{self, FLAG_APPEND_END, IndexEntry, SEGMENT_HEADER_LEN, Summary};
use super::recover::{self, io_err};
use super::{Active, NewRecord, Shared};
use crate::StoreError;

/// Encoded bytes are written out (without fsync) once a commit's buffer reaches this size,
/// so a large group commit does not hold a second copy of all its records.
const WRITE_BUF: usize = 4 << 20;

pub(super) type Reply = oneshot::Sender<Result<Range<u64>, StoreError>>;

/// One `append` call waiting for its commit.
pub(super) struct Pending {
    pub records: Vec<NewRecord>,
    pub now_ms: u64,
    pub reply: Reply,
}

/// Owned by whichever flush is running (the mutex only makes that visible to the compiler
/// and to `destroy`).
pub(super) struct Writer {
    pub file: Arc<File>,
    pub base: u64,
    /// Durable length of the active segment.
    pub len: u64,
    /// Next index to assign.
    pub next: u64,
    pub last_arrival: u64,
    pub last_entry_offset: Option<u64>,
    /// Set after a write or fsync error (what reached the disk is unknown until the log is
    /// reopened), or by `destroy`. Every later append fails with it.
    pub failed: Option<String>,
}

/// Queue of appends waiting for the next flush.
#[derive(Default)]
pub(super) struct Queue {
    pub pending: Vec<Pending>,
    pub flushing: bool,
}

/// Ends a flush that stops without emptying the queue (a panic, or the runtime dropping
/// the task before it ran): waiters get an error instead of hanging, and the log refuses
/// further appends since its writer state may be half-updated.
pub(super) struct FlushGuard {
    pub shared: Arc<Shared>,
    pub armed: bool,
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let reason = "the log writer stopped unexpectedly".to_string();
        self.shared
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .failed
            .get_or_insert(reason.clone());
        let pending = {
            let mut q = self
                .shared
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            q.flushing = false;
            std::mem::take(&mut q.pending)
        };
        for p in pending {
            let _ = p.reply.send(Err(self.shared.failed(&reason)));
        }
    }
}

/// Runs on the blocking pool until the queue is empty.
pub(super) fn flush_loop(mut guard: FlushGuard) {
    loop {
        let batch = {
            let mut q = guard
                .shared
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if q.pending.is_empty() {
                q.flushing = false;
                guard.armed = false;
                return;
            }
            std::mem::take(&mut q.pending)
        };
        flush_round(&guard.shared, batch);
    }
}

/// Records of one group commit, encoded for the active segment.
struct Chunk {
    buf: Vec<u8>,
    /// File offset where `buf[0]` goes.
    buf_offset: u64,
    commit_start: u64,
    next: u64,
    first_arrival: Option<u64>,
    last_arrival: u64,
    entries: Vec<IndexEntry>,
    last_entry_offset: Option<u64>,
}

impl Chunk {
    fn start(w: &Writer) -> Self {
        Chunk {
            buf: Vec::new(),
            buf_offset: w.len,
            commit_start: w.next,
            next: w.next,
            first_arrival: None,
            last_arrival: w.last_arrival,
            entries: Vec::new(),
            last_entry_offset: w.last_entry_offset,
        }
    }

    fn end_offset(&self) -> u64 {
        self.buf_offset + self.buf.len() as u64
    }

    /// Encodes one append; returns its index range.
    fn encode(&mut self, p: &Pending, interval: u64) -> Range<u64> {
        let first = self.next;
        let arrival = p.now_ms.max(self.last_arrival);
        let n = p.records.len();
        for (i, r) in p.records.iter().enumerate() {
            let offset = self.end_offset();
            if self
                .last_entry_offset
                .is_none_or(|l| offset - l >= interval)
            {
                self.entries.push(IndexEntry {
                    index: self.next,
                    arrival_ms: arrival,
                    offset,
                });
                self.last_entry_offset = Some(offset);
            }
            let flags = if i + 1 == n { FLAG_APPEND_END } else { 0 };
            format::encode_frame(
                &mut self.buf,
                self.next,
                arrival,
                self.commit_start,
                flags,
                r.partition_key.as_bytes(),
                &r.data,
            );
            self.next += 1;
        }
        self.first_arrival.get_or_insert(arrival);
        self.last_arrival = arrival;
        first..self.next
    }
}

fn flush_round(shared: &Shared, batch: Vec<Pending>) {
    let mut w = shared.writer.lock().unwrap_or_else(PoisonError::into_inner);
    let mut pending = batch.into_iter();
    let mut waiting: Vec<(Reply, Range<u64>)> = Vec::new();
    if let Err(e) = run_round(shared, &mut w, &mut pending, &mut waiting) {
        if w.failed.is_none() {
            tracing::error!(log = %shared.dir.display(), error = %e, "Log append failed; the log refuses appends until reopened.");
            w.failed = Some(format!("an earlier append failed ({e}); reopen the log"));
        }
        for (reply, _) in waiting {
            let _ = reply.send(Err(replicate(shared, &e)));
        }
        for p in pending {
            let _ = p.reply.send(Err(replicate(shared, &e)));
        }
    }
}

/// Copies an error for each waiter of a failed commit.
fn replicate(shared: &Shared, e: &StoreError) -> StoreError {
    match e {
        StoreError::Io { path, source } => StoreError::Io {
            path: path.clone(),
            source: io::Error::new(source.kind(), source.to_string()),
        },
        StoreError::LogFailed { path, reason } => StoreError::LogFailed {
            path: path.clone(),
            reason: reason.clone(),
        },
        other => shared.failed(&other.to_string()),
    }
}

fn run_round(
    shared: &Shared,
    w: &mut Writer,
    pending: &mut impl Iterator<Item = Pending>,
    waiting: &mut Vec<(Reply, Range<u64>)>,
) -> Result<(), StoreError> {
    if let Some(reason) = &w.failed {
        return Err(shared.failed(reason));
    }
    let opts = &shared.opts;
    let mut chunk = Chunk::start(w);
    for p in pending.by_ref() {
        let n = p.records.len() as u64;
        // Roll only between appends, so one append never spans two segments.
        if chunk.next > w.base && chunk.end_offset() >= opts.segment_bytes {
            commit(shared, w, chunk, waiting)?;
            roll(shared, w)?;
            chunk = Chunk::start(w);
        } else if chunk.next - chunk.commit_start + n > u64::from(u32::MAX) {
            // Frames store their offset from the commit start in 32 bits.
            commit(shared, w, chunk, waiting)?;
            chunk = Chunk::start(w);
        }
        let range = chunk.encode(&p, opts.index_interval_bytes);
        waiting.push((p.reply, range));
        if chunk.buf.len() >= WRITE_BUF {
            write_out(shared, w, &mut chunk)?;
        }
    }
    commit(shared, w, chunk, waiting)
}

fn write_out(shared: &Shared, w: &Writer, chunk: &mut Chunk) -> Result<(), StoreError> {
    w.file
        .write_all_at(&chunk.buf, chunk.buf_offset)
        .map_err(|e| io_err(&shared.segment_path(w.base))(e))?;
    chunk.buf_offset += chunk.buf.len() as u64;
    chunk.buf.clear();
    Ok(())
}

/// Makes a chunk durable, publishes it to readers and answers its waiters.
fn commit(
    shared: &Shared,
    w: &mut Writer,
    mut chunk: Chunk,
    waiting: &mut Vec<(Reply, Range<u64>)>,
) -> Result<(), StoreError> {
    if chunk.next == chunk.commit_start {
        return Ok(());
    }
    write_out(shared, w, &mut chunk)?;
    if shared.opts.fsync {
        w.file
            .sync_data()
            .map_err(|e| io_err(&shared.segment_path(w.base))(e))?;
        shared.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
    }
    shared.stats.commits.fetch_add(1, Ordering::Relaxed);
    {
        let mut st = shared.state.write().unwrap_or_else(PoisonError::into_inner);
        let a = &mut st.active;
        a.len = chunk.buf_offset;
        a.end = chunk.next;
        a.entries.append(&mut chunk.entries);
        if a.first_arrival.is_none() {
            a.first_arrival = chunk.first_arrival;
        }
        a.last_arrival = chunk.last_arrival;
    }
    w.len = chunk.buf_offset;
    w.next = chunk.next;
    w.last_arrival = chunk.last_arrival;
    w.last_entry_offset = chunk.last_entry_offset;
    shared.end.store(chunk.next, Ordering::Release);
    shared.end_tx.send_replace(chunk.next);
    for (reply, range) in waiting.drain(..) {
        let _ = reply.send(Ok(range));
    }
    Ok(())
}

/// Seals the active segment (writes its index file) and starts the next one.
fn roll(shared: &Shared, w: &mut Writer) -> Result<(), StoreError> {
    let (summary, entries) = {
        let st = shared.state.read().unwrap_or_else(PoisonError::into_inner);
        let a = &st.active;
        let summary = Summary {
            base: a.base,
            end: a.end,
            first_arrival: a.first_arrival.unwrap_or(a.last_arrival),
            last_arrival: a.last_arrival,
            len: a.len,
            entries: a.entries.len() as u64,
        };
        (summary, a.entries.clone())
    };
    recover::write_index_file(&shared.dir, &summary, &entries)?;
    let file = Arc::new(recover::create_segment(
        &shared.dir,
        w.next,
        w.last_arrival,
        shared.opts.fsync,
    )?);
    {
        let mut st = shared.state.write().unwrap_or_else(PoisonError::into_inner);
        st.sealed.push_back(summary);
        st.active = Active {
            base: w.next,
            file: file.clone(),
            len: SEGMENT_HEADER_LEN,
            end: w.next,
            first_arrival: None,
            last_arrival: w.last_arrival,
            entries: Vec::new(),
        };
    }
    w.file = file;
    w.base = w.next;
    w.len = SEGMENT_HEADER_LEN;
    w.last_entry_offset = None;
    Ok(())
}
