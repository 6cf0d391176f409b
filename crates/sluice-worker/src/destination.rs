//! On-failure destinations.
//!
//! [`OutboxDestination`] sends each on-failure record to its SQS queue on the embedded SQS
//! (the record's JSON is the message body, as on AWS) and publishes it to SNS topics on the
//! embedded SNS (the record's JSON is the `Message`). A destination neither serves (a topic
//! declared but never created, say) keeps the record durably in the metadata store's
//! outbox, per destination ARN, in order, readable at `GET /_sluice/outbox?destination=<arn>`.

use serde_json::Value;
use sluice_core::arn::DestinationArn;
use sluice_core::source::{BoxFuture, FailureDestination, SourceError};
use sluice_store::MetaStore;
use sluice_store::sns::{PublishInput, SnsStore};
use sluice_store::sqs::SqsStore;

#[derive(Clone)]
pub struct OutboxDestination {
    store: MetaStore,
    sqs: Option<SqsStore>,
    sns: Option<SnsStore>,
}

impl std::fmt::Debug for OutboxDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxDestination").finish_non_exhaustive()
    }
}

impl OutboxDestination {
    pub fn new(store: MetaStore) -> Self {
        Self {
            store,
            sqs: None,
            sns: None,
        }
    }

    /// Delivers SQS destinations into the embedded SQS.
    pub fn with_sqs(mut self, sqs: SqsStore) -> Self {
        self.sqs = Some(sqs);
        self
    }
}

impl OutboxDestination {
    /// Publishes SNS destinations' records on the embedded SNS.
    pub fn with_sns(mut self, sns: SnsStore) -> Self {
        self.sns = Some(sns);
        self
    }
}

impl FailureDestination for OutboxDestination {
    fn send<'a>(
        &'a self,
        destination_arn: &'a str,
        record: Value,
    ) -> BoxFuture<'a, Result<(), SourceError>> {
        Box::pin(async move {
            if let (Some(sqs), Some(DestinationArn::SqsQueue { .. })) =
                (&self.sqs, DestinationArn::parse(destination_arn))
            {
                return sqs
                    .send(destination_arn, record.to_string(), Default::default())
                    .await
                    .map(|_| ())
                    .map_err(|e| SourceError::Transient(e.to_string()));
            }
            if let Some(sns) = &self.sns
                && sns.contains_arn(destination_arn)
            {
                let mut input = PublishInput::new(record.to_string());
                if destination_arn.ends_with(".fifo") {
                    // AWS requires a group for FIFO topics; one group keeps the records in order.
                    input.group_id = Some("sluice-on-failure".into());
                    input.dedup_id = Some(uuid::Uuid::new_v4().to_string());
                }
                return sns
                    .publish(destination_arn, input)
                    .await
                    .map(|_| ())
                    .map_err(|e| SourceError::Transient(e.to_string()));
            }
            let store = self.store.clone();
            let arn = destination_arn.to_owned();
            tokio::task::spawn_blocking(move || store.push_outbox(&arn, &record))
                .await
                .map_err(|e| SourceError::Transient(e.to_string()))?
                .map_err(|e| SourceError::Transient(e.to_string()))
        })
    }
}
