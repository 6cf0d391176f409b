//! On-failure destinations.
//!
//! [`OutboxDestination`] keeps each on-failure record durably in the metadata store's outbox,
//! per destination ARN, in order. The embedded SQS and SNS, when they land, deliver from the
//! outbox into the queue or topic; until then the records are readable at
//! `GET /_sluice/outbox?destination=<arn>`.

use serde_json::Value;
use sluice_core::source::{BoxFuture, FailureDestination, SourceError};
use sluice_store::MetaStore;

#[derive(Debug, Clone)]
pub struct OutboxDestination {
    store: MetaStore,
}

impl OutboxDestination {
    pub fn new(store: MetaStore) -> Self {
        Self { store }
    }
}

impl FailureDestination for OutboxDestination {
    fn send<'a>(
        &'a self,
        destination_arn: &'a str,
        record: Value,
    ) -> BoxFuture<'a, Result<(), SourceError>> {
        Box::pin(async move {
            let store = self.store.clone();
            let arn = destination_arn.to_owned();
            tokio::task::spawn_blocking(move || store.push_outbox(&arn, &record))
                .await
                .map_err(|e| SourceError::Transient(e.to_string()))?
                .map_err(|e| SourceError::Transient(e.to_string()))
        })
    }
}
