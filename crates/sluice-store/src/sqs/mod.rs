//! The embedded SQS: queues, messages, visibility, redrive, FIFO groups, durably.
//!
//! # Storage
//!
//! ```text
//! DIR/sqs/queues.redb      queue records (id, name, settings, tags), fsync'd transactions
//! DIR/sqs/journal/         one ShardLog: every message change as a record (see `record`)
//! ```
//!
//! - Every change to messages (send, receive, visibility change, delete, purge, retention
//!   expiry, redrive) is one journal record, pushed while the queue's lock is held, so the
//!   journal's order is the order of the changes. One writer task group-commits whatever
//!   is queued (one fdatasync for many requests) and an operation answers only once its
//!   records are durable: an acknowledged send, delete or receive survives `kill -9`, and
//!   messages in flight at a crash reappear after their visibility timeout.
//! - Memory holds a small index entry per message ([`queue`]: journal position, enqueue
//!   time, visibility, receive count, FIFO group), never bodies; bodies are read from the
//!   journal when received.
//! - A message's sequence number is the journal index of its Send record: unique for the
//!   data dir's life, never reused even after compaction, so a receipt handle (queue id,
//!   sequence number, receive count) can never name another message.
//! - Open replays the journal from its start into the index (a torn last commit is
//!   dropped whole by the log's recovery) and rebuilds FIFO deduplication from sends of
//!   the last five minutes.
//! - Compaction, cued each time the journal grows by `compact_every_bytes`, frees old
//!   segments: it picks the newest segment boundary below which at most half the bytes are
//!   live messages (and every record is older than the five-minute deduplication window),
//!   copies those live messages forward as Snapshot records, waits for them to be durable
//!   and trims the log before the boundary. Disk use stays within about twice the live
//!   data plus a few segments.
//!
//! # Semantics kept (as AWS)
//!
//! Visibility timeouts (per receive, per ChangeMessageVisibility), delays (per queue, per
//! message on standard queues), retention (expired messages vanish), ApproximateReceiveCount
//! and ApproximateFirstReceiveTimestamp, redrive to the dead-letter queue when a message
//! would be received for the (maxReceiveCount+1)-th time (it keeps its id, body,
//! attributes, SentTimestamp and receive count and gains DeadLetterQueueSourceArn), FIFO
//! order per message group with one in-flight batch per group, five-minute deduplication by
//! MessageDeduplicationId (queue or message-group scope), receipt handles new on every
//! receive.
//!
//! Deliberate differences: a message moved to a dead-letter queue counts its retention from
//! the move (AWS keeps the original enqueue time for standard queues); FIFO
//! ReceiveRequestAttemptId is ignored; QueueDeletedRecently is not enforced; the total
//! 12-hour visibility limit per message is not tracked (each change is checked alone).
//!
//! # In-process API (the SQS event source poller, on-failure destinations)
//!
//! Queues are named by name or by ARN.
//!
//! - [`SqsStore::receive`]`(queue, max, visibility) -> Vec<ReceivedMessage>`: up to `max`
//!   messages now (none waiting), each invisible for `visibility` (the queue's
//!   VisibilityTimeout when `None`); [`ReceivedMessage`] carries the message id, receipt
//!   handle, body, MD5 of body, every system attribute as AWS's strings, message
//!   attributes and their MD5. Redrive applies as for any receive.
//! - [`SqsStore::receive_wait`]: the same, long-polling up to `wait`; answers as soon as
//!   a message is available. Dropping the future (shutdown) is safe: messages it had
//!   already taken stay in flight and reappear after their visibility timeout.
//! - [`SqsStore::delete`]`(queue, receipt_handles) -> Vec<Result<(), SqsError>>`: one
//!   result per handle, after the deletes are durable.
//! - [`SqsStore::change_visibility`]`(queue, handle, visibility)`.
//! - [`SqsStore::subscribe`]`(queue) -> QueueWatch`: after a receive came back empty,
//!   `QueueWatch::available().await` resolves when messages may have become receivable (a
//!   send, a visibility change, a FIFO group freed, a delay or visibility timeout running
//!   out, the queue deleted, the store closing). It can wake spuriously; receive after it.
//! - [`SqsStore::queue`]`(queue) -> QueueView`: settings (VisibilityTimeout,
//!   RedrivePolicy, FIFO) and counts.
//! - [`SqsStore::send`]`(queue, body, message_attributes) -> SentMessage` and
//!   [`SqsStore::send_message`] with a full [`NewMessage`].
//!
//! Time comes from the store's [`Clock`]: the wall clock in production, [`Clock::tokio`]
//! for tests under `tokio::time::pause`, [`Clock::manual`] for this module's tests.

mod attributes;
mod clock;
mod digest;
mod journal;
mod message;
mod meta;
pub mod move_task;
mod queue;
mod receipt;
mod record;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, Weak};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

pub use attributes::{QueueSettings, RedrivePolicy, check_queue_name, parse_queue_arn};
pub use clock::{Clock, ManualClock};
pub use digest::{attributes_md5, md5_hex};
pub use message::{
    AttributeValue, MessageAttributeValue, NewMessage, ReceivedMessage, SentMessage,
    check_attribute, valid_characters,
};
pub use meta::QueueRecord;

use self::journal::Journal;
use self::meta::QueueDb;
use self::queue::{Dedup, Pick, QueueState, VisibilityError};
use self::receipt::Receipt;
use self::record::{Event, Payload, State};
use crate::log::LogOptions;
use crate::{DataDir, StoreError};

/// An SQS error, by AWS error name; messages are AWS's texts (QueueDoesNotExist's differs by
/// protocol, so the wire layer words it).
#[derive(Debug, thiserror::Error)]
pub enum SqsError {
    #[error("The specified queue does not exist.")]
    QueueDoesNotExist,
    /// CreateQueue on an existing name with different attributes.
    #[error("{0}")]
    QueueNameExists(String),
    #[error("{0}")]
    InvalidAttributeName(String),
    #[error("{0}")]
    InvalidAttributeValue(String),
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("{0}")]
    MissingParameter(String),
    #[error("{0}")]
    InvalidMessageContents(String),
    #[error("{0}")]
    ReceiptHandleIsInvalid(String),
    #[error("{0}")]
    MessageNotInflight(String),
    #[error("{0}")]
    PurgeQueueInProgress(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SqsError {
    /// Only storage failures are worth retrying; the rest are the caller's input.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SqsError::Store(e) if e.is_retryable())
    }
}

/// How the store lays out and paces its files.
#[derive(Debug, Clone)]
pub struct SqsOptions {
    pub log: LogOptions,
    /// Compaction is considered each time the journal grew by this many bytes.
    pub compact_every_bytes: u64,
    pub clock: Clock,
}

impl Default for SqsOptions {
    fn default() -> Self {
        // Bodies are read one record at a time: a denser sparse index keeps each read short.
        let log = LogOptions {
            index_interval_bytes: 1024,
            ..LogOptions::default()
        };
        Self {
            compact_every_bytes: log.segment_bytes,
            log,
            clock: Clock::system(),
        }
    }
}

/// Receives of at most this many messages read their bodies on the calling task.
const INLINE_READS: usize = 10;

/// The answer of GetQueueAttributes' dynamic part plus the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueView {
    pub record: QueueRecord,
    pub arn: String,
    pub visible: usize,
    pub not_visible: usize,
    pub delayed: usize,
}

impl QueueView {
    /// Every attribute GetQueueAttributes `All` shows, as AWS's strings.
    pub fn attributes(&self) -> BTreeMap<String, String> {
        let mut out = self.record.settings.render();
        out.insert("QueueArn".into(), self.arn.clone());
        out.insert(
            "ApproximateNumberOfMessages".into(),
            self.visible.to_string(),
        );
        out.insert(
            "ApproximateNumberOfMessagesNotVisible".into(),
            self.not_visible.to_string(),
        );
        out.insert(
            "ApproximateNumberOfMessagesDelayed".into(),
            self.delayed.to_string(),
        );
        out.insert("CreatedTimestamp".into(), self.record.created_s.to_string());
        out.insert(
            "LastModifiedTimestamp".into(),
            self.record.modified_s.to_string(),
        );
        out
    }
}

/// One queue: its state behind a lock held only for in-memory work (never across I/O or
/// an await), and the counter long polls wait on.
#[derive(Debug)]
struct QueueHandle {
    id: u64,
    name: String,
    arn: String,
    state: Mutex<QueueState>,
    /// Bumped when messages may have become receivable.
    notify: watch::Sender<u64>,
}

impl QueueHandle {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake(&self) {
        self.notify.send_modify(|n| *n = n.wrapping_add(1));
    }
}

struct Inner {
    region: String,
    account: String,
    clock: Clock,
    db: QueueDb,
    journal: Journal,
    journal_dir: PathBuf,
    queues: RwLock<BTreeMap<String, Arc<QueueHandle>>>,
    /// Serialises control-plane writes (create, set attributes, tags, delete).
    control: Mutex<()>,
    /// `true` once closing: long polls answer at once.
    closed: watch::Sender<bool>,
    /// Dead-letter queue redrive tasks, newest first.
    moves: Mutex<Vec<Arc<move_task::MoveTask>>>,
}

/// The embedded SQS. Cheap to clone.
#[derive(Clone)]
pub struct SqsStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqsStore")
            .field("journal", &self.inner.journal_dir)
            .finish_non_exhaustive()
    }
}

/// FIFO SequenceNumber of a message: a 20-digit number increasing with the sequence number.
pub fn sequence_number(seq: u64) -> String {
    (10_000_000_000_000_000_000u128 + u128::from(seq)).to_string()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn invalid_receipt(handle: &str) -> SqsError {
    SqsError::ReceiptHandleIsInvalid(format!(
        "The input receipt handle \"{handle}\" is not a valid receipt handle."
    ))
}

fn corrupt(index: u64, reason: String) -> StoreError {
    StoreError::Corrupt {
        table: "sqs journal",
        key: index.to_string(),
        reason,
    }
}

impl SqsStore {
    /// Opens the SQS data of `dir` with the wall clock. Blocking (replays the journal);
    /// must run inside a Tokio runtime (it starts the journal writer).
    pub fn open(dir: &DataDir, region: &str, account: &str) -> Result<Self, StoreError> {
        Self::open_with(dir, region, account, SqsOptions::default())
    }

    pub fn open_with(
        dir: &DataDir,
        region: &str,
        account: &str,
        options: SqsOptions,
    ) -> Result<Self, StoreError> {
        let root = dir.root().join("sqs");
        std::fs::create_dir_all(&root).map_err(|source| StoreError::Io {
            path: root.display().to_string(),
            source,
        })?;
        let db = QueueDb::open(&root.join("queues.redb"))?;
        let journal_dir = root.join("journal");
        let journal = Journal::open(&journal_dir, options.log.clone())?;
        let clock = options.clock.clone();
        let now = clock.now_ms();
        let mut states: HashMap<u64, QueueState> = db
            .all()?
            .into_iter()
            .map(|r| (r.id, QueueState::new(r)))
            .collect();
        replay(&journal, &mut states, now)?;
        let mut expired = Vec::new();
        let mut queues = BTreeMap::new();
        for (id, mut st) in states {
            expired.extend(st.advance(now).into_iter().map(|seq| (id, seq)));
            let name = st.record.name.clone();
            queues.insert(
                name.clone(),
                Arc::new(QueueHandle {
                    id,
                    arn: format!("arn:aws:sqs:{region}:{account}:{name}"),
                    name,
                    state: Mutex::new(st),
                    notify: watch::channel(0).0,
                }),
            );
        }
        let (grew_tx, grew_rx) = mpsc::channel(1);
        journal.start(clock.clone(), grew_tx, options.compact_every_bytes.max(1))?;
        for (id, seq) in expired {
            journal.push(record::delete(id, seq))?;
        }
        let store = SqsStore {
            inner: Arc::new(Inner {
                region: region.to_owned(),
                account: account.to_owned(),
                clock,
                db,
                journal,
                journal_dir,
                queues: RwLock::new(queues),
                control: Mutex::new(()),
                closed: watch::channel(false).0,
                moves: Mutex::new(Vec::new()),
            }),
        };
        spawn_compaction(Arc::downgrade(&store.inner), grew_rx);
        Ok(store)
    }

    pub fn region(&self) -> &str {
        &self.inner.region
    }

    pub fn account(&self) -> &str {
        &self.inner.account
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub fn queue_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:sqs:{}:{}:{name}",
            self.inner.region, self.inner.account
        )
    }

    /// The queue name an ARN of this Sluice's region and account names.
    pub fn name_of_arn<'a>(&self, arn: &'a str) -> Option<&'a str> {
        let (region, account, name) = parse_queue_arn(arn)?;
        (region == self.inner.region && account == self.inner.account).then_some(name)
    }

    fn lookup(&self, name: &str) -> Option<Arc<QueueHandle>> {
        self.inner
            .queues
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// A queue by name or ARN.
    fn handle(&self, queue: &str) -> Result<Arc<QueueHandle>, SqsError> {
        let name = if queue.starts_with("arn:") {
            self.name_of_arn(queue).ok_or(SqsError::QueueDoesNotExist)?
        } else {
            queue
        };
        self.lookup(name).ok_or(SqsError::QueueDoesNotExist)
    }

    /// Locks a queue that must still exist, and applies what time has done to it (the
    /// journal records of expired messages are pushed under the lock).
    fn lock_live<'a>(
        &self,
        h: &'a QueueHandle,
        now: u64,
    ) -> Result<MutexGuard<'a, QueueState>, SqsError> {
        let mut st = h.lock();
        if st.deleted {
            return Err(SqsError::QueueDoesNotExist);
        }
        for seq in st.advance(now) {
            self.inner.journal.push(record::delete(h.id, seq))?;
        }
        Ok(st)
    }

    /// Whether a queue of this name exists.
    /// Whether a queue (by name or ARN) holds no message at all: none visible, in flight or
    /// delayed. A missing queue holds none.
    pub fn is_empty(&self, queue: &str) -> bool {
        self.handle(queue)
            .map_or(true, |h| h.lock().counts() == (0, 0, 0))
    }

    /// Messages visible now (a queue's backlog), by name or ARN; 0 for a missing queue.
    pub fn visible(&self, queue: &str) -> usize {
        self.handle(queue).map_or(0, |h| h.lock().counts().0)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.lookup(name).is_some()
    }

    /// Whether the queue an ARN names exists here.
    pub fn contains_arn(&self, arn: &str) -> bool {
        self.name_of_arn(arn).is_some_and(|n| self.contains(n))
    }

    /// Every queue name, in order.
    pub fn list_queues(&self) -> Vec<String> {
        self.inner
            .queues
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    fn control(&self) -> MutexGuard<'_, ()> {
        self.inner
            .control
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Checks a redrive policy's dead-letter queue: it must exist here and be of the
    /// source's type. `raw` is the attribute as given (for the error text).
    fn check_redrive(
        &self,
        settings: &QueueSettings,
        raw: Option<&String>,
    ) -> Result<(), SqsError> {
        let Some(p) = &settings.redrive_policy else {
            return Ok(());
        };
        let raw = raw.cloned().unwrap_or_else(|| p.render());
        let bad = |reason: &str| {
            SqsError::InvalidParameterValue(format!(
                "Value {raw} for parameter RedrivePolicy is invalid. Reason: {reason}"
            ))
        };
        let dlq = self
            .name_of_arn(&p.dead_letter_target_arn)
            .and_then(|n| self.lookup(n))
            .ok_or_else(|| bad("Dead letter target does not exist."))?;
        let dlq_fifo = dlq.lock().fifo();
        if dlq_fifo != settings.fifo {
            return Err(bad(
                "Dead-letter queue must be of the same type (standard or FIFO) as the source queue.",
            ));
        }
        Ok(())
    }

    /// CreateQueue: the new queue's record, or the existing one when every given
    /// attribute matches it (QueueNameExists when one differs).
    pub fn create_queue(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    ) -> Result<QueueRecord, SqsError> {
        let settings = QueueSettings::for_create(name, attributes)?;
        let _control = self.control();
        if let Some(h) = self.lookup(name) {
            let st = h.lock();
            return match st.record.settings.first_difference(name, attributes)? {
                Some(k) => Err(SqsError::QueueNameExists(format!(
                    "A queue already exists with the same name and a different value for attribute {k}"
                ))),
                None => Ok(st.record.clone()),
            };
        }
        self.check_redrive(&settings, attributes.get("RedrivePolicy"))?;
        let now_s = self.inner.clock.now_ms() / 1000;
        let record = match self.inner.db.create(name, |id| QueueRecord {
            id,
            name: name.to_owned(),
            created_s: now_s,
            modified_s: now_s,
            settings,
            tags,
        })? {
            Ok(r) => r,
            Err(existing) => return Ok(existing),
        };
        let handle = Arc::new(QueueHandle {
            id: record.id,
            name: name.to_owned(),
            arn: self.queue_arn(name),
            state: Mutex::new(QueueState::new(record.clone())),
            notify: watch::channel(0).0,
        });
        self.inner
            .queues
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), handle);
        tracing::info!(queue = name, "SQS queue created.");
        Ok(record)
    }

    /// A queue's record and counts (time applied first).
    pub fn queue(&self, queue: &str) -> Result<QueueView, SqsError> {
        let h = self.handle(queue)?;
        let st = self.lock_live(&h, self.inner.clock.now_ms())?;
        let (visible, not_visible, delayed) = st.counts();
        Ok(QueueView {
            record: st.record.clone(),
            arn: h.arn.clone(),
            visible,
            not_visible,
            delayed,
        })
    }

    /// SetQueueAttributes.
    pub fn set_queue_attributes(
        &self,
        queue: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        let h = self.handle(queue)?;
        let _control = self.control();
        let mut record = h.lock().record.clone();
        record.settings.apply(attributes)?;
        if attributes.contains_key("RedrivePolicy") {
            self.check_redrive(&record.settings, attributes.get("RedrivePolicy"))?;
        }
        record.modified_s = self.inner.clock.now_ms() / 1000;
        self.inner.db.put(&record)?;
        let mut st = h.lock();
        if st.deleted {
            return Err(SqsError::QueueDoesNotExist);
        }
        st.record = record;
        drop(st);
        // A shorter retention or delay may change what is receivable.
        h.wake();
        Ok(())
    }

    /// TagQueue.
    pub fn tag_queue(&self, queue: &str, tags: &BTreeMap<String, String>) -> Result<(), SqsError> {
        self.change_tags(queue, |t| t.extend(tags.clone()))
    }

    /// UntagQueue.
    pub fn untag_queue(&self, queue: &str, keys: &[String]) -> Result<(), SqsError> {
        self.change_tags(queue, |t| {
            for k in keys {
                t.remove(k);
            }
        })
    }

    fn change_tags(
        &self,
        queue: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), SqsError> {
        let h = self.handle(queue)?;
        let _control = self.control();
        let mut record = h.lock().record.clone();
        change(&mut record.tags);
        self.inner.db.put(&record)?;
        let mut st = h.lock();
        if st.deleted {
            return Err(SqsError::QueueDoesNotExist);
        }
        st.record.tags = record.tags;
        Ok(())
    }

    /// DeleteQueue: the queue and its messages are gone at once.
    pub fn delete_queue(&self, queue: &str) -> Result<(), SqsError> {
        let h = self.handle(queue)?;
        let _control = self.control();
        self.inner.db.remove(&h.name)?;
        self.inner
            .queues
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&h.name);
        {
            let mut st = h.lock();
            st.deleted = true;
            st.purge();
        }
        h.wake();
        tracing::info!(queue = %h.name, "SQS queue deleted.");
        Ok(())
    }

    /// Names of the queues whose RedrivePolicy targets `queue`.
    pub fn dead_letter_sources(&self, queue: &str) -> Result<Vec<String>, SqsError> {
        let h = self.handle(queue)?;
        let handles: Vec<Arc<QueueHandle>> = self
            .inner
            .queues
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        Ok(handles
            .iter()
            .filter(|q| {
                q.lock()
                    .record
                    .settings
                    .redrive_policy
                    .as_ref()
                    .is_some_and(|p| p.dead_letter_target_arn == h.arn)
            })
            .map(|q| q.name.clone())
            .collect())
    }

    /// PurgeQueue: every message goes; once per 60 seconds.
    pub async fn purge_queue(&self, queue: &str) -> Result<(), SqsError> {
        let h = self.handle(queue)?;
        let now = self.inner.clock.now_ms();
        let index = {
            let mut st = self.lock_live(&h, now)?;
            if st.last_purge_ms.is_some_and(|t| now < t + 60_000) {
                return Err(SqsError::PurgeQueueInProgress(format!(
                    "Only one PurgeQueue operation on {} is allowed every 60 seconds.",
                    h.name
                )));
            }
            st.last_purge_ms = Some(now);
            st.purge();
            self.inner.journal.push(record::purge(h.id))?
        };
        self.inner.journal.wait(index).await?;
        Ok(())
    }

    /// Sends one message with body and message attributes (the in-process sender).
    pub async fn send(
        &self,
        queue: &str,
        body: impl Into<String>,
        message_attributes: BTreeMap<String, MessageAttributeValue>,
    ) -> Result<SentMessage, SqsError> {
        let msg = NewMessage {
            message_attributes,
            ..NewMessage::new(body)
        };
        self.send_message(queue, msg).await
    }

    /// SendMessage.
    pub async fn send_message(
        &self,
        queue: &str,
        msg: NewMessage,
    ) -> Result<SentMessage, SqsError> {
        self.send_batch(queue, vec![msg])
            .await?
            .pop()
            .unwrap_or(Err(SqsError::QueueDoesNotExist))
    }

    /// SendMessageBatch: one result per message, in order; each accepted message is
    /// durable when this returns.
    pub async fn send_batch(
        &self,
        queue: &str,
        msgs: Vec<NewMessage>,
    ) -> Result<Vec<Result<SentMessage, SqsError>>, SqsError> {
        let h = self.handle(queue)?;
        let settings = {
            let st = h.lock();
            if st.deleted {
                return Err(SqsError::QueueDoesNotExist);
            }
            st.record.settings.clone()
        };
        let now = self.inner.clock.now_ms();
        // Everything but the queue's own state is prepared before taking its lock.
        struct Ready {
            slot: usize,
            payload: Vec<u8>,
            sent: SentMessage,
            group: Option<String>,
            dedup: Option<String>,
            delay_ms: u64,
        }
        let mut results: Vec<Option<Result<SentMessage, SqsError>>> =
            Vec::with_capacity(msgs.len());
        let mut ready = Vec::with_capacity(msgs.len());
        for (slot, mut m) in msgs.into_iter().enumerate() {
            if let Err(e) = message::check(&m, &settings) {
                results.push(Some(Err(e)));
                continue;
            }
            results.push(None);
            if settings.fifo && m.dedup_id.is_none() {
                m.dedup_id = Some(md5_hex(m.body.as_bytes()));
            }
            let id = uuid::Uuid::new_v4();
            let body_md5 = digest::md5(m.body.as_bytes());
            let sent = SentMessage {
                message_id: id.to_string(),
                md5_of_body: digest::hex(&body_md5),
                md5_of_message_attributes: attributes_md5(&m.message_attributes),
                md5_of_system_attributes: attributes_md5(&m.system_attributes()),
                sequence_number: None,
            };
            let delay_ms = if settings.fifo {
                u64::from(settings.delay_seconds) * 1000
            } else {
                m.delay
                    .map_or(u64::from(settings.delay_seconds) * 1000, millis)
            };
            let payload = record::payload(&Payload {
                message_id: *id.as_bytes(),
                sent_ms: now,
                body_md5,
                trace_header: m.trace_header,
                dlq_source_arn: None,
                attributes: m.message_attributes,
                body: m.body,
            });
            ready.push(Ready {
                slot,
                payload,
                sent,
                group: m.group_id,
                dedup: m.dedup_id,
                delay_ms,
            });
        }
        let mut wait_for: Option<u64> = None;
        if !ready.is_empty() {
            let mut st = self.lock_live(&h, now)?;
            let fifo = st.fifo();
            for mut r in ready {
                let key = match (&r.group, &r.dedup) {
                    (Some(g), Some(d)) if fifo => Some(st.dedup_key(g, d)),
                    _ => None,
                };
                if let Some(k) = &key
                    && let Some(prior) = st.dedup_get(k, now)
                {
                    r.sent.message_id = prior.message_id;
                    r.sent.sequence_number = Some(sequence_number(prior.seq));
                    wait_for = wait_for.max(Some(prior.seq));
                    results[r.slot] = Some(Ok(r.sent));
                    continue;
                }
                let enqueued_ms = st.enqueue_time(now);
                let state = State {
                    enqueued_ms,
                    visible_at: enqueued_ms + r.delay_ms,
                    first_receive_ms: 0,
                    receive_count: 0,
                };
                let data = record::message(
                    h.id,
                    None,
                    &state,
                    r.group.as_deref(),
                    if fifo { r.dedup.as_deref() } else { None },
                    &r.payload,
                );
                let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
                let seq = self.inner.journal.push(data)?;
                st.insert(seq, seq, size, state, r.group.as_deref(), now);
                if let Some(k) = key {
                    st.dedup_put(
                        k,
                        Dedup {
                            message_id: r.sent.message_id.clone(),
                            seq,
                            at_ms: now,
                        },
                    );
                    r.sent.sequence_number = Some(sequence_number(seq));
                }
                wait_for = wait_for.max(Some(seq));
                results[r.slot] = Some(Ok(r.sent));
            }
            drop(st);
            h.wake();
        }
        if let Some(i) = wait_for {
            self.inner.journal.wait(i).await?;
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(Err(SqsError::QueueDoesNotExist)))
            .collect())
    }

    /// The dead-letter queue a receive from `st`'s queue may move messages to, with its
    /// maxReceiveCount; `None` when there is no redrive or its target is gone.
    fn redrive_target(&self, st: &QueueState) -> Option<(Arc<QueueHandle>, u32)> {
        let p = st.record.settings.redrive_policy.as_ref()?;
        let dlq = self.lookup(self.name_of_arn(&p.dead_letter_target_arn)?)?;
        Some((dlq, p.max_receive_count))
    }

    /// Receives up to `max` (1..=10 on the wire; any here) messages now, each invisible
    /// for `visibility` (the queue's VisibilityTimeout when `None`).
    pub async fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Option<Duration>,
    ) -> Result<Vec<ReceivedMessage>, SqsError> {
        let h = self.handle(queue)?;
        self.receive_from(&h, max, visibility).await
    }

    async fn receive_from(
        &self,
        h: &Arc<QueueHandle>,
        max: usize,
        visibility: Option<Duration>,
    ) -> Result<Vec<ReceivedMessage>, SqsError> {
        let now = self.inner.clock.now_ms();
        let (picks, moving, dlq, fifo, last) = {
            let mut st = self.lock_live(h, now)?;
            let visibility_ms = visibility.map_or(
                u64::from(st.record.settings.visibility_timeout) * 1000,
                millis,
            );
            let target = self.redrive_target(&st);
            let picked = st.pick(now, max, visibility_ms, target.as_ref().map(|t| t.1));
            let mut last = None;
            for p in &picked.received {
                last = Some(self.inner.journal.push(record::receive(
                    h.id,
                    p.seq,
                    p.receive_count,
                    p.first_receive_ms,
                    p.visible_at,
                ))?);
            }
            (
                picked.received,
                picked.moving,
                target.map(|t| t.0),
                st.fifo(),
                last,
            )
        };
        if let Some(dlq) = &dlq {
            for (seq, loc) in moving {
                if let Err(e) = self.move_to_dlq(h, dlq, seq, loc).await {
                    tracing::warn!(queue = %h.name, error = %e, "Could not move a message to its dead-letter queue.");
                    h.lock().restore(seq, self.inner.clock.now_ms());
                }
            }
        }
        let Some(last) = last else {
            return Ok(Vec::new());
        };
        self.inner.journal.wait(last).await?;
        // At most a few bodies, just written or recently read: page-cache reads, done here
        // rather than with a hop to the blocking pool. Larger receives go there.
        if picks.len() <= INLINE_READS {
            return Ok(self.read_received(h, fifo, &picks)?);
        }
        let store = self.clone();
        let handle = h.clone();
        let read = tokio::task::spawn_blocking(move || store.read_received(&handle, fifo, &picks));
        match read.await {
            Ok(r) => Ok(r?),
            Err(e) => Err(StoreError::Io {
                path: "sqs receive".into(),
                source: std::io::Error::other(e.to_string()),
            }
            .into()),
        }
    }

    /// The record holding message `seq`'s body: at `loc`, or where compaction moved it
    /// meanwhile. Blocking.
    fn read_message(
        &self,
        h: &QueueHandle,
        seq: u64,
        loc: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(data) = self.inner.journal.read(loc)? {
            return Ok(Some(data));
        }
        let moved = h.lock().entry(seq).map(|e| e.loc).filter(|l| *l != loc);
        match moved {
            Some(l) => self.inner.journal.read(l),
            None => Ok(None),
        }
    }

    /// Reads the bodies of received messages. Blocking.
    fn read_received(
        &self,
        h: &QueueHandle,
        fifo: bool,
        picks: &[Pick],
    ) -> Result<Vec<ReceivedMessage>, StoreError> {
        let queue_id = h.id;
        let mut out = Vec::with_capacity(picks.len());
        for p in picks {
            let Some(data) = self.read_message(h, p.seq, p.loc)? else {
                tracing::warn!(seq = p.seq, "Received message's record is gone; skipped.");
                continue;
            };
            let Ok(Event::Message(m)) = record::decode(&data) else {
                return Err(corrupt(p.loc, "not a message record".into()));
            };
            let payload = record::decode_payload(m.payload).map_err(|r| corrupt(p.loc, r))?;
            let mut attributes = BTreeMap::new();
            attributes.insert("SenderId".to_owned(), self.inner.account.clone());
            attributes.insert("SentTimestamp".to_owned(), payload.sent_ms.to_string());
            attributes.insert(
                "ApproximateReceiveCount".to_owned(),
                p.receive_count.to_string(),
            );
            attributes.insert(
                "ApproximateFirstReceiveTimestamp".to_owned(),
                p.first_receive_ms.to_string(),
            );
            if let Some(t) = &payload.trace_header {
                attributes.insert("AWSTraceHeader".to_owned(), t.clone());
            }
            if let Some(s) = &payload.dlq_source_arn {
                attributes.insert("DeadLetterQueueSourceArn".to_owned(), s.clone());
            }
            if let Some(g) = m.group {
                attributes.insert("MessageGroupId".to_owned(), g.to_owned());
            }
            if fifo {
                if let Some(d) = m.dedup {
                    attributes.insert("MessageDeduplicationId".to_owned(), d.to_owned());
                }
                attributes.insert("SequenceNumber".to_owned(), sequence_number(p.seq));
            }
            out.push(ReceivedMessage {
                message_id: uuid::Uuid::from_bytes(payload.message_id).to_string(),
                receipt_handle: Receipt {
                    queue_id,
                    seq: p.seq,
                    receive_count: p.receive_count,
                }
                .encode(),
                md5_of_body: digest::hex(&payload.body_md5),
                md5_of_message_attributes: attributes_md5(&payload.attributes),
                body: payload.body,
                attributes,
                message_attributes: payload.attributes,
            });
        }
        Ok(out)
    }

    /// Copies a Moving message into the dead-letter queue, then deletes it from its source.
    async fn move_to_dlq(
        &self,
        src: &Arc<QueueHandle>,
        dlq: &Arc<QueueHandle>,
        seq: u64,
        loc: u64,
    ) -> Result<(), SqsError> {
        let store = self.clone();
        let data = tokio::task::spawn_blocking(move || store.inner.journal.read(loc))
            .await
            .map_err(|e| StoreError::Io {
                path: "sqs redrive".into(),
                source: std::io::Error::other(e.to_string()),
            })??
            .ok_or(SqsError::QueueDoesNotExist)?;
        let Ok(Event::Message(m)) = record::decode(&data) else {
            return Err(corrupt(loc, "not a message record".into()).into());
        };
        let mut payload = record::decode_payload(m.payload).map_err(|r| corrupt(loc, r))?;
        payload.dlq_source_arn = Some(src.arn.clone());
        let payload = record::payload(&payload);
        let now = self.inner.clock.now_ms();
        // Read before locking the DLQ: two queue locks are never held at once (redrive
        // policies may form a cycle).
        let (count, first) = src
            .lock()
            .entry(seq)
            .map_or((m.state.receive_count, m.state.first_receive_ms), |e| {
                (e.receive_count, e.first_receive_ms)
            });
        let moved = {
            let mut d = self.lock_live(dlq, now)?;
            let enqueued_ms = d.enqueue_time(now);
            let state = State {
                enqueued_ms,
                visible_at: enqueued_ms,
                first_receive_ms: first,
                receive_count: count,
            };
            let fifo = d.fifo();
            let data = record::message(
                dlq.id,
                None,
                &state,
                m.group,
                if fifo { m.dedup } else { None },
                &payload,
            );
            let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
            let new_seq = self.inner.journal.push(data)?;
            d.insert(new_seq, new_seq, size, state, m.group, now);
            new_seq
        };
        dlq.wake();
        let mut last = moved;
        {
            let mut s = src.lock();
            if s.remove(seq).is_some() {
                last = self.inner.journal.push(record::delete(src.id, seq))?;
            }
        }
        src.wake();
        self.inner.journal.wait(last).await?;
        tracing::debug!(queue = %src.name, dlq = %dlq.name, "Message moved to the dead-letter queue.");
        Ok(())
    }

    /// Like [`SqsStore::receive`], but waits up to `wait` for a message to arrive (long
    /// polling): answers as soon as at least one message is available.
    pub async fn receive_wait(
        &self,
        queue: &str,
        max: usize,
        visibility: Option<Duration>,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, SqsError> {
        let h = self.handle(queue)?;
        let deadline = self.inner.clock.now_ms().saturating_add(millis(wait));
        let mut changes = h.notify.subscribe();
        let mut closed = self.inner.closed.subscribe();
        loop {
            changes.borrow_and_update();
            let got = self.receive_from(&h, max, visibility).await?;
            let now = self.inner.clock.now_ms();
            if !got.is_empty() || now >= deadline || *closed.borrow_and_update() {
                return Ok(got);
            }
            let due = h.lock().next_due().map_or(deadline, |d| d.min(deadline));
            tokio::select! {
                _ = changes.changed() => {}
                () = self.inner.clock.sleep_until(due) => {}
                _ = closed.changed() => {}
            }
        }
    }

    /// DeleteMessage / DeleteMessageBatch: one result per handle.
    pub async fn delete(
        &self,
        queue: &str,
        receipt_handles: &[String],
    ) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        let h = self.handle(queue)?;
        let now = self.inner.clock.now_ms();
        let mut out = Vec::with_capacity(receipt_handles.len());
        let mut last = None;
        let mut freed = false;
        {
            let mut st = self.lock_live(&h, now)?;
            for handle in receipt_handles {
                let r = match Receipt::decode(handle) {
                    Some(r) if r.queue_id == h.id => r,
                    _ => {
                        out.push(Err(invalid_receipt(handle)));
                        continue;
                    }
                };
                match st.delete(r.seq, r.receive_count) {
                    Ok(Some(_)) => {
                        last = Some(self.inner.journal.push(record::delete(h.id, r.seq))?);
                        freed |= st.fifo();
                        out.push(Ok(()));
                    }
                    Ok(None) => out.push(Ok(())),
                    Err(queue::Expired) => out.push(Err(SqsError::InvalidParameterValue(format!(
                        "Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
                    )))),
                }
            }
        }
        if freed {
            h.wake();
        }
        if let Some(i) = last {
            self.inner.journal.wait(i).await?;
        }
        Ok(out)
    }

    /// DeleteMessage.
    pub async fn delete_message(&self, queue: &str, receipt_handle: &str) -> Result<(), SqsError> {
        self.delete(queue, &[receipt_handle.to_owned()])
            .await?
            .pop()
            .unwrap_or(Ok(()))
    }

    /// ChangeMessageVisibility.
    pub async fn change_visibility(
        &self,
        queue: &str,
        receipt_handle: &str,
        visibility: Duration,
    ) -> Result<(), SqsError> {
        self.change_visibility_batch(queue, &[(receipt_handle.to_owned(), visibility)])
            .await?
            .pop()
            .unwrap_or(Ok(()))
    }

    /// ChangeMessageVisibilityBatch: one result per entry. The new timeout counts from now.
    pub async fn change_visibility_batch(
        &self,
        queue: &str,
        entries: &[(String, Duration)],
    ) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        let h = self.handle(queue)?;
        let now = self.inner.clock.now_ms();
        let mut out = Vec::with_capacity(entries.len());
        let mut last = None;
        {
            let mut st = self.lock_live(&h, now)?;
            for (handle, visibility) in entries {
                let r = match Receipt::decode(handle) {
                    Some(r) if r.queue_id == h.id => r,
                    _ => {
                        out.push(Err(invalid_receipt(handle)));
                        continue;
                    }
                };
                let visible_at = now.saturating_add(millis(*visibility));
                match st.change_visibility(r.seq, r.receive_count, now, visible_at) {
                    Ok(()) => {
                        last = Some(self.inner.journal.push(record::visibility(
                            h.id, r.seq, visible_at,
                        ))?);
                        out.push(Ok(()));
                    }
                    Err(VisibilityError::Gone) => out.push(Err(SqsError::InvalidParameterValue(format!(
                        "Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
                    )))),
                    Err(VisibilityError::NotInFlight) => out.push(Err(SqsError::MessageNotInflight(
                        "The message referred to isn't in flight.".into(),
                    ))),
                }
            }
        }
        if last.is_some() {
            h.wake();
        }
        if let Some(i) = last {
            self.inner.journal.wait(i).await?;
        }
        Ok(out)
    }

    /// Follows a queue's availability (see the module doc).
    pub fn subscribe(&self, queue: &str) -> Result<QueueWatch, SqsError> {
        let h = self.handle(queue)?;
        let mut changes = h.notify.subscribe();
        changes.borrow_and_update();
        Ok(QueueWatch {
            store: self.clone(),
            changes,
            closed: self.inner.closed.subscribe(),
            handle: h,
        })
    }

    /// Ends long polls, stops the journal writer once everything pushed is written.
    /// Operations after this fail.
    pub async fn close(&self) {
        self.inner.closed.send_replace(true);
        self.inner.journal.close().await;
    }

    /// Ends long polls at once (they answer what they have); the store keeps working.
    /// Called when the server begins shutting down.
    pub fn stop_waiting(&self) {
        self.inner.closed.send_replace(true);
    }

    /// True once [`Self::stop_waiting`] was called: long polls return at once from then on,
    /// so pollers must stop receiving.
    pub fn is_stopping(&self) -> bool {
        *self.inner.closed.borrow()
    }

    /// Journal segments: (first index, bytes), oldest first. Blocking.
    fn segments(&self) -> Result<Vec<(u64, u64)>, StoreError> {
        let dir = &self.inner.journal_dir;
        let io = |source| StoreError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name();
            let Some(base) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".log"))
                .filter(|n| n.len() == 20)
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            out.push((base, entry.metadata().map_err(io)?.len()));
        }
        out.sort_unstable();
        Ok(out)
    }

    fn handles(&self) -> Vec<Arc<QueueHandle>> {
        self.inner
            .queues
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// Frees journal segments that hold mostly dead records (see the module doc); returns
    /// how many live messages were copied forward.
    pub async fn compact(&self) -> Result<usize, SqsError> {
        let now = self.inner.clock.now_ms();
        let store = self.clone();
        let segments = tokio::task::spawn_blocking(move || store.segments())
            .await
            .map_err(|e| StoreError::Io {
                path: "sqs compaction".into(),
                source: std::io::Error::other(e.to_string()),
            })??;
        if segments.len() < 2 {
            return Ok(0);
        }
        let handles = self.handles();
        let bases: Vec<u64> = segments.iter().map(|s| s.0).collect();
        let mut live = vec![0u64; segments.len()];
        for h in &handles {
            let Ok(st) = self.lock_live(h, now) else {
                continue;
            };
            for (_, e) in st.entries() {
                let i = bases.partition_point(|b| *b <= e.loc).saturating_sub(1);
                live[i] += u64::from(e.size);
            }
        }
        let log = self.inner.journal.log().clone();
        let mut boundary = None;
        let (mut bytes, mut live_bytes) = (0u64, 0u64);
        for k in 1..segments.len() {
            bytes += segments[k - 1].1;
            live_bytes += live[k - 1];
            if live_bytes * 2 <= bytes {
                boundary = Some(bases[k]);
            }
        }
        let Some(boundary) = boundary else {
            return Ok(0);
        };
        let cut = {
            let log = log.clone();
            tokio::task::spawn_blocking(move || log.arrival_of(boundary))
                .await
                .map_err(|e| StoreError::Io {
                    path: "sqs compaction".into(),
                    source: std::io::Error::other(e.to_string()),
                })??
        };
        let Some(cut) = cut.filter(|ms| ms.saturating_add(queue::DEDUP_WINDOW_MS) <= now) else {
            return Ok(0);
        };
        let mut copied = 0;
        let mut last = None;
        for h in &handles {
            let below: Vec<(u64, u64)> = {
                let st = h.lock();
                if st
                    .entries()
                    .any(|(_, e)| e.loc < boundary && e.slot == queue::Slot::Moving)
                {
                    return Ok(copied);
                }
                st.entries()
                    .filter(|(_, e)| e.loc < boundary)
                    .map(|(s, e)| (s, e.loc))
                    .collect()
            };
            for (seq, loc) in below {
                let store = self.clone();
                let data = tokio::task::spawn_blocking(move || store.inner.journal.read(loc))
                    .await
                    .map_err(|e| StoreError::Io {
                        path: "sqs compaction".into(),
                        source: std::io::Error::other(e.to_string()),
                    })??;
                let Some(data) = data else {
                    return Ok(copied);
                };
                let Ok(Event::Message(m)) = record::decode(&data) else {
                    return Err(corrupt(loc, "not a message record".into()).into());
                };
                let mut st = h.lock();
                let Some(e) = st.entry(seq).filter(|e| e.loc == loc) else {
                    continue;
                };
                let snapshot =
                    record::message(h.id, Some(seq), &e.state(), m.group, m.dedup, m.payload);
                let index = self.inner.journal.push(snapshot)?;
                st.relocate(seq, loc, index);
                copied += 1;
                last = Some(index);
            }
        }
        if let Some(i) = last {
            self.inner.journal.wait(i).await?;
        }
        tokio::task::spawn_blocking(move || log.trim_before(cut))
            .await
            .map_err(|e| StoreError::Io {
                path: "sqs compaction".into(),
                source: std::io::Error::other(e.to_string()),
            })??;
        tracing::debug!(boundary, copied, "SQS journal compacted.");
        Ok(copied)
    }

    /// Group commits and fsyncs of the journal since open (tests, benches).
    pub fn journal_stats(&self) -> crate::log::LogStats {
        self.inner.journal.log().stats()
    }

    /// The journal's first retained index (tests).
    pub fn journal_start(&self) -> u64 {
        self.inner.journal.log().start()
    }
}

/// Waits for a queue's messages to (maybe) become receivable; see [`SqsStore::subscribe`].
#[derive(Debug)]
pub struct QueueWatch {
    store: SqsStore,
    handle: Arc<QueueHandle>,
    changes: watch::Receiver<u64>,
    closed: watch::Receiver<bool>,
}

impl QueueWatch {
    /// Resolves on a change, when the next delay or visibility timeout runs out, or when
    /// the store closes.
    pub async fn available(&mut self) {
        if *self.closed.borrow_and_update() {
            return;
        }
        let due = self.handle.lock().next_due();
        let clock = self.store.inner.clock.clone();
        tokio::select! {
            _ = self.changes.changed() => {}
            () = async {
                match due {
                    Some(d) => clock.sleep_until(d).await,
                    None => std::future::pending().await,
                }
            } => {}
            _ = self.closed.changed() => {}
        }
    }
}

/// Rebuilds queue states from the journal. Blocking.
fn replay(
    journal: &Journal,
    states: &mut HashMap<u64, QueueState>,
    now: u64,
) -> Result<(), StoreError> {
    let log = journal.log();
    let end = log.end();
    let mut next = log.start();
    while next < end {
        let batch = log.read(next, 4096, 16 << 20)?;
        if batch.is_empty() {
            break;
        }
        for r in batch {
            next = r.index + 1;
            let event = record::decode(&r.data).map_err(|reason| corrupt(r.index, reason))?;
            match event {
                Event::Message(m) => {
                    let Some(st) = states.get_mut(&m.queue_id) else {
                        continue;
                    };
                    let seq = m.seq.unwrap_or(r.index);
                    let size = u32::try_from(r.data.len()).unwrap_or(u32::MAX);
                    st.insert(seq, r.index, size, m.state, m.group, now);
                    if let (None, true, Some(g), Some(d)) = (m.seq, st.fifo(), m.group, m.dedup)
                        && m.state.enqueued_ms + queue::DEDUP_WINDOW_MS > now
                    {
                        let payload = record::decode_payload(m.payload)
                            .map_err(|reason| corrupt(r.index, reason))?;
                        let key = st.dedup_key(g, d);
                        st.dedup_put(
                            key,
                            Dedup {
                                message_id: uuid::Uuid::from_bytes(payload.message_id).to_string(),
                                seq,
                                at_ms: m.state.enqueued_ms,
                            },
                        );
                    }
                }
                Event::Receive {
                    queue_id,
                    seq,
                    receive_count,
                    first_receive_ms,
                    visible_at,
                } => {
                    if let Some(st) = states.get_mut(&queue_id) {
                        st.replay_state(
                            seq,
                            Some((receive_count, first_receive_ms)),
                            visible_at,
                            now,
                        );
                    }
                }
                Event::Visibility {
                    queue_id,
                    seq,
                    visible_at,
                } => {
                    if let Some(st) = states.get_mut(&queue_id) {
                        st.replay_state(seq, None, visible_at, now);
                    }
                }
                Event::Delete { queue_id, seq } => {
                    if let Some(st) = states.get_mut(&queue_id) {
                        st.remove(seq);
                    }
                }
                Event::Purge { queue_id } => {
                    if let Some(st) = states.get_mut(&queue_id) {
                        st.purge();
                    }
                }
            }
        }
    }
    Ok(())
}

/// Runs compaction each time the journal writer reports growth; ends with the store.
fn spawn_compaction(inner: Weak<Inner>, mut grew: mpsc::Receiver<()>) {
    tokio::spawn(async move {
        while grew.recv().await.is_some() {
            let Some(inner) = inner.upgrade() else {
                return;
            };
            let store = SqsStore { inner };
            if let Err(e) = store.compact().await {
                tracing::warn!(error = %e, "SQS journal compaction failed.");
            }
        }
    });
}
