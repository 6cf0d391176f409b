//! The journal: every SQS change as one record of a single [`ShardLog`], written in the
//! order the changes were made, acknowledged once fsync'd.
//!
//! Callers push encoded records while holding the lock of the queue they change, so the log
//! order of a message's records is the order its state changed in memory. `push` assigns
//! the log index at once (the writer is the log's only appender, so indices are known
//! before the write) and hands the record to one writer task; the writer takes everything
//! queued, appends it as one group commit (one fdatasync), and publishes the new durable
//! end. `wait(index)` resolves once that index is durable. While one commit is on disk the
//! next batch gathers, so concurrent requests share fsyncs.
//!
//! Arrival times passed to the log strictly increase from one commit to the next, so a
//! segment boundary (always between commits) can be named by time: compaction trims with
//! `trim_before(arrival_of(boundary))` and removes exactly the segments before it.
//!
//! A failed write leaves the journal failed: every later push and wait errors until the
//! store is reopened (what reached the disk is then recovered by the log).

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::clock::Clock;
use crate::StoreError;
use crate::log::{LogOptions, NewRecord, ShardLog};

/// Most records in one commit.
const MAX_BATCH: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Durable {
    /// One past the last durable index.
    end: u64,
    failed: bool,
}

struct PushSide {
    /// Index the next pushed record gets.
    next: u64,
    /// `None` once closed.
    tx: Option<mpsc::UnboundedSender<Vec<u8>>>,
}

pub struct Journal {
    log: ShardLog,
    push: Mutex<PushSide>,
    durable: watch::Receiver<Durable>,
    durable_tx: Mutex<Option<watch::Sender<Durable>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("log", &self.log).finish()
    }
}

impl Journal {
    /// Opens (and recovers) the log in `dir`. Blocking. Nothing is written until
    /// [`Journal::start`].
    pub fn open(dir: &Path, options: LogOptions) -> Result<Self, StoreError> {
        let log = ShardLog::open(dir, options)?;
        let end = log.end();
        let (durable_tx, durable) = watch::channel(Durable { end, failed: false });
        Ok(Self {
            log,
            push: Mutex::new(PushSide {
                next: end,
                tx: None,
            }),
            durable,
            durable_tx: Mutex::new(Some(durable_tx)),
            writer: Mutex::new(None),
        })
    }

    pub fn log(&self) -> &ShardLog {
        &self.log
    }

    /// Starts the writer task; `grew` gets a token each time about `every` bytes were
    /// appended (compaction's cue).
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub fn start(
        &self,
        clock: Clock,
        grew: mpsc::Sender<()>,
        every: u64,
    ) -> Result<(), StoreError> {
        let Some(durable_tx) = self
            .durable_tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return Ok(());
        };
        let (tx, rx) = mpsc::unbounded_channel();
        self.push.lock().unwrap_or_else(PoisonError::into_inner).tx = Some(tx);
        let last_arrival = match self.log.end() {
            0 => 0,
            end => self.log.arrival_of(end - 1)?.unwrap_or(0),
        };
        let log = self.log.clone();
        let handle = tokio::spawn(write_loop(
            log,
            rx,
            durable_tx,
            clock,
            last_arrival,
            grew,
            every,
        ));
        *self.writer.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        Ok(())
    }

    fn failed(&self, why: &str) -> StoreError {
        StoreError::LogFailed {
            path: self.log.dir().display().to_string(),
            reason: why.to_owned(),
        }
    }

    /// Queues `data` as the next record; returns its log index.
    pub fn push(&self, data: Vec<u8>) -> Result<u64, StoreError> {
        if self.durable.borrow().failed {
            return Err(self.failed("an earlier journal write failed"));
        }
        let mut side = self.push.lock().unwrap_or_else(PoisonError::into_inner);
        let index = side.next;
        let sent = side.tx.as_ref().is_some_and(|tx| tx.send(data).is_ok());
        if !sent {
            return Err(self.failed("the journal is closed"));
        }
        side.next += 1;
        Ok(index)
    }

    /// Resolves once the record at `index` is durable.
    pub async fn wait(&self, index: u64) -> Result<(), StoreError> {
        let mut rx = self.durable.clone();
        match rx.wait_for(|d| d.end > index || d.failed).await {
            Ok(d) if !d.failed => Ok(()),
            Ok(_) => Err(self.failed("the journal write failed")),
            Err(_) => Err(self.failed("the journal writer stopped")),
        }
    }

    /// The record at `index`, `None` when it is no longer (or not yet) readable. Blocking.
    pub fn read(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let mut got = self.log.read(index, 1, usize::MAX)?;
        Ok(match got.pop() {
            Some(r) if r.index == index => Some(r.data),
            _ => None,
        })
    }

    /// Stops taking records and waits until everything pushed is written.
    pub async fn close(&self) {
        self.push.lock().unwrap_or_else(PoisonError::into_inner).tx = None;
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(h) = handle
            && let Err(e) = h.await
        {
            tracing::error!(error = %e, "SQS journal writer failed.");
        }
    }
}

async fn write_loop(
    log: ShardLog,
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
    durable: watch::Sender<Durable>,
    clock: Clock,
    mut last_arrival: u64,
    grew: mpsc::Sender<()>,
    every: u64,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut expected = log.end();
    let mut since = 0u64;
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let bytes: usize = batch.iter().map(Vec::len).sum();
        let records: Vec<NewRecord> = batch
            .drain(..)
            .map(|data| NewRecord {
                partition_key: String::new(),
                data,
            })
            .collect();
        let now = clock.now_ms().max(last_arrival + 1);
        last_arrival = now;
        match log.append(records, now).await {
            Ok(range) if range.start == expected => {
                expected = range.end;
                durable.send_modify(|d| d.end = range.end);
            }
            Ok(range) => {
                tracing::error!(log = %log.dir().display(), expected, got = range.start, "SQS journal indices diverged; refusing further writes.");
                durable.send_modify(|d| d.failed = true);
                return;
            }
            Err(e) => {
                tracing::error!(log = %log.dir().display(), error = %e, "SQS journal write failed; refusing further writes.");
                durable.send_modify(|d| d.failed = true);
                return;
            }
        }
        since += bytes as u64;
        if since >= every {
            since = 0;
            let _ = grew.try_send(());
        }
    }
}
