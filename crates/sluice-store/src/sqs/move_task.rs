//! Dead-letter queue redrive: StartMessageMoveTask / ListMessageMoveTasks /
//! CancelMessageMoveTask.
//!
//! A task moves the messages visible in a dead-letter queue when it starts
//! (`ApproximateNumberOfMessagesToMove`) to its DestinationArn, or back to each message's
//! source queue (`DeadLetterQueueSourceArn`) when none is given, at most
//! MaxNumberOfMessagesPerSecond a second. Each message is received, sent to its target and
//! then deleted from the dead-letter queue, so a crash in between leaves at most a
//! duplicate, never a loss. Tasks live in memory: a restart ends them (their messages not
//! yet moved stay in the dead-letter queue).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::{NewMessage, SqsError, SqsStore};

/// Tasks remembered per source queue (ListMessageMoveTasks shows at most 10).
const KEEP: usize = 10;
/// How long received messages stay invisible while being moved.
const MOVE_VISIBILITY: Duration = Duration::from_secs(60);

/// A task's status, as AWS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveStatus {
    Running,
    Completed,
    Cancelling,
    Cancelled,
    Failed,
}

impl MoveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MoveStatus::Running => "RUNNING",
            MoveStatus::Completed => "COMPLETED",
            MoveStatus::Cancelling => "CANCELLING",
            MoveStatus::Cancelled => "CANCELLED",
            MoveStatus::Failed => "FAILED",
        }
    }
}

/// What ListMessageMoveTasks shows of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveTaskView {
    pub handle: String,
    pub status: MoveStatus,
    pub source_arn: String,
    pub destination_arn: Option<String>,
    pub rate: Option<u32>,
    pub moved: u64,
    pub to_move: u64,
    pub failure_reason: Option<String>,
    pub started_ms: u64,
}

#[derive(Debug)]
pub(super) struct MoveTask {
    handle: String,
    source_arn: String,
    destination_arn: Option<String>,
    rate: Option<u32>,
    to_move: u64,
    started_ms: u64,
    moved: AtomicU64,
    cancel: AtomicBool,
    outcome: std::sync::Mutex<Option<(MoveStatus, Option<String>)>>,
}

impl MoveTask {
    fn view(&self) -> MoveTaskView {
        let outcome = self
            .outcome
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let (status, failure_reason) = match outcome {
            Some(o) => o,
            None if self.cancel.load(Ordering::SeqCst) => (MoveStatus::Cancelling, None),
            None => (MoveStatus::Running, None),
        };
        MoveTaskView {
            handle: self.handle.clone(),
            status,
            source_arn: self.source_arn.clone(),
            destination_arn: self.destination_arn.clone(),
            rate: self.rate,
            moved: self.moved.load(Ordering::SeqCst),
            to_move: self.to_move,
            failure_reason,
            started_ms: self.started_ms,
        }
    }

    fn running(&self) -> bool {
        self.outcome
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_none()
    }

    fn end(&self, status: MoveStatus, reason: Option<String>) {
        *self
            .outcome
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((status, reason));
    }
}

/// Errors of the move-task operations, with AWS's texts.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    NotFound(String),
    /// `UnsupportedOperation`.
    #[error("{0}")]
    Unsupported(String),
    /// `InvalidParameterValue`.
    #[error("{0}")]
    Invalid(String),
}

impl SqsStore {
    fn moves(&self) -> std::sync::MutexGuard<'_, Vec<Arc<MoveTask>>> {
        self.inner
            .moves
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// StartMessageMoveTask: returns the task handle.
    pub fn start_move_task(
        &self,
        source_arn: &str,
        destination_arn: Option<&str>,
        rate: Option<i64>,
    ) -> Result<String, MoveError> {
        if let Some(r) = rate
            && !(1..=500).contains(&r)
        {
            return Err(MoveError::Invalid(format!(
                "Value {r} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500."
            )));
        }
        let source = self
            .name_of_arn(source_arn)
            .filter(|n| self.contains(n))
            .ok_or_else(|| {
                MoveError::NotFound(
                    "The resource that you specified for the SourceArn parameter doesn't exist."
                        .into(),
                )
            })?
            .to_owned();
        if let Some(d) = destination_arn
            && !self.name_of_arn(d).is_some_and(|n| self.contains(n))
        {
            return Err(MoveError::NotFound(
                "The resource that you specified for the DestinationArn parameter doesn't exist."
                    .into(),
            ));
        }
        if self
            .dead_letter_sources(&source)
            .map_or(true, |s| s.is_empty())
        {
            return Err(MoveError::Invalid(
                "Source queue must be configured as a Dead Letter Queue.".into(),
            ));
        }
        let view = self
            .queue(&source)
            .map_err(|e| MoveError::NotFound(e.to_string()))?;
        let mut tasks = self.moves();
        if tasks
            .iter()
            .any(|t| t.source_arn == source_arn && t.running())
        {
            return Err(MoveError::Unsupported(
                "There is already a task running. Only one active task is allowed for a source queue arn at a given time.".into(),
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let handle = {
            use base64::Engine;
            let doc = serde_json::json!({"taskId": id, "sourceArn": source_arn});
            base64::engine::general_purpose::STANDARD.encode(doc.to_string())
        };
        let task = Arc::new(MoveTask {
            handle: handle.clone(),
            source_arn: source_arn.to_owned(),
            destination_arn: destination_arn.map(str::to_owned),
            rate: rate.and_then(|r| u32::try_from(r).ok()),
            to_move: view.visible as u64,
            started_ms: self.inner.clock.now_ms(),
            moved: AtomicU64::new(0),
            cancel: AtomicBool::new(false),
            outcome: std::sync::Mutex::new(None),
        });
        tasks.insert(0, task.clone());
        let mut kept = 0;
        tasks.retain(|t| {
            if t.source_arn != source_arn {
                return true;
            }
            kept += 1;
            kept <= KEEP
        });
        drop(tasks);
        let store = self.clone();
        tokio::spawn(async move {
            let result = store.run_move(&task, &source).await;
            match result {
                Ok(()) if task.cancel.load(Ordering::SeqCst) => {
                    task.end(MoveStatus::Cancelled, None);
                }
                Ok(()) => task.end(MoveStatus::Completed, None),
                Err(reason) => task.end(MoveStatus::Failed, Some(reason)),
            }
        });
        Ok(handle)
    }

    async fn run_move(&self, task: &MoveTask, source: &str) -> Result<(), String> {
        let started = tokio::time::Instant::now();
        while task.moved.load(Ordering::SeqCst) < task.to_move {
            if task.cancel.load(Ordering::SeqCst) || self.is_stopping() {
                return Ok(());
            }
            let left = task.to_move - task.moved.load(Ordering::SeqCst);
            let mut want = left.min(10) as usize;
            if let Some(rate) = task.rate {
                want = want.min(rate as usize);
            }
            let batch = self
                .receive(source, want, Some(MOVE_VISIBILITY))
                .await
                .map_err(|e| e.to_string())?;
            if batch.is_empty() {
                return Ok(());
            }
            for m in batch {
                let target = match &task.destination_arn {
                    Some(d) => d.clone(),
                    None => match m.attributes.get("DeadLetterQueueSourceArn") {
                        Some(s) => s.clone(),
                        None => {
                            // Left where it is, visible again at once.
                            let _ = self
                                .change_visibility(source, &m.receipt_handle, Duration::ZERO)
                                .await;
                            return Err(format!(
                                "Message {} has no DeadLetterQueueSourceArn to return to; specify a DestinationArn.",
                                m.message_id
                            ));
                        }
                    },
                };
                let Some(name) = self.name_of_arn(&target).map(str::to_owned) else {
                    return Err(format!("Destination {target} is not a queue ARN."));
                };
                let msg = NewMessage {
                    body: m.body.clone(),
                    message_attributes: m.message_attributes.clone(),
                    trace_header: m.attributes.get("AWSTraceHeader").cloned(),
                    group_id: m.attributes.get("MessageGroupId").cloned(),
                    dedup_id: m
                        .attributes
                        .get("MessageDeduplicationId")
                        .cloned()
                        .or_else(|| name.ends_with(".fifo").then(|| m.message_id.clone())),
                    ..NewMessage::default()
                };
                if let Err(e) = self.send_message(&name, msg).await {
                    let _ = self
                        .change_visibility(source, &m.receipt_handle, Duration::ZERO)
                        .await;
                    return Err(format!("Could not send to {target}: {e}"));
                }
                match self.delete_message(source, &m.receipt_handle).await {
                    Ok(()) | Err(SqsError::ReceiptHandleIsInvalid(_)) => {}
                    Err(e) => return Err(e.to_string()),
                }
                task.moved.fetch_add(1, Ordering::SeqCst);
            }
            if let Some(rate) = task.rate {
                // Keep the average at or under the rate.
                let due = Duration::from_secs_f64(
                    task.moved.load(Ordering::SeqCst) as f64 / f64::from(rate),
                );
                let elapsed = started.elapsed();
                if due > elapsed {
                    tokio::time::sleep(due - elapsed).await;
                }
            }
        }
        Ok(())
    }

    /// ListMessageMoveTasks: the most recent tasks of a source queue, newest first.
    pub fn list_move_tasks(
        &self,
        source_arn: &str,
        max: Option<i64>,
    ) -> Result<Vec<MoveTaskView>, MoveError> {
        if let Some(n) = max
            && !(1..=10).contains(&n)
        {
            return Err(MoveError::Invalid(format!(
                "Value {n} for parameter MaxResults is invalid. Reason: Must be between 1 and 10."
            )));
        }
        if !self
            .name_of_arn(source_arn)
            .is_some_and(|n| self.contains(n))
        {
            return Err(MoveError::NotFound(
                "The resource that you specified for the SourceArn parameter doesn't exist.".into(),
            ));
        }
        let limit = max.map_or(1, |n| n.unsigned_abs() as usize);
        Ok(self
            .moves()
            .iter()
            .filter(|t| t.source_arn == source_arn)
            .take(limit)
            .map(|t| t.view())
            .collect())
    }

    /// CancelMessageMoveTask: returns how many messages were moved so far.
    pub fn cancel_move_task(&self, handle: &str) -> Result<u64, MoveError> {
        let tasks = self.moves();
        let Some(task) = tasks.iter().find(|t| t.handle == handle) else {
            return Err(MoveError::NotFound(
                "The resource that you specified for the TaskHandle parameter doesn't exist."
                    .into(),
            ));
        };
        if !task.running() || task.cancel.load(Ordering::SeqCst) {
            return Err(MoveError::Unsupported(
                "Only active tasks can be cancelled.".into(),
            ));
        }
        task.cancel.store(true, Ordering::SeqCst);
        Ok(task.moved.load(Ordering::SeqCst))
    }
}
