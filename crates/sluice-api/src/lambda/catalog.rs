//! The control plane's view of what exists, loaded from the store for one request.

use std::collections::{HashMap, HashSet};

use sluice_core::arn::{DestinationArn, FunctionRef, SourceArn};
use sluice_core::mapping::Catalog;
use sluice_store::kinesis::KinesisStore;
use sluice_store::sns::SnsStore;
use sluice_store::sqs::SqsStore;
use sluice_store::{MetaStore, SourceType, StoreError};

/// A snapshot of functions, Kinesis streams and consumers, SQS queues, and declared
/// sources.
#[derive(Debug, Default)]
pub struct StoreCatalog {
    functions: HashSet<String>,
    /// `name:qualifier` of every published version and alias.
    qualified: HashSet<String>,
    sources: HashMap<String, SourceType>,
    /// Stream ARNs and consumer ARNs of the embedded Kinesis.
    kinesis: HashSet<String>,
    /// Queue ARNs of the embedded SQS.
    sqs: HashSet<String>,
    /// Current stream ARNs of the embedded DynamoDB's tables.
    dynamodb: HashSet<String>,
    /// Topic ARNs of the embedded SNS.
    sns: HashSet<String>,
}

impl StoreCatalog {
    pub fn load(
        store: &MetaStore,
        kinesis: &KinesisStore,
        sqs: &SqsStore,
        sns: &SnsStore,
    ) -> Result<Self, StoreError> {
        let mut arns = HashSet::new();
        for s in kinesis.list_streams()? {
            arns.extend(s.consumers.iter().map(|c| c.arn.clone()));
            arns.insert(s.arn);
        }
        Ok(Self {
            dynamodb: sluice_store::dynamodb::DynamoStore::current_stream_arns(store)?
                .into_iter()
                .collect(),
            kinesis: arns,
            sns: sns.list_topics().into_iter().collect(),
            sqs: sqs.list_queues().iter().map(|n| sqs.queue_arn(n)).collect(),
            qualified: store.function_qualifiers()?.into_iter().collect(),
            functions: store
                .list_functions()?
                .into_iter()
                .map(|f| f.name)
                .collect(),
            sources: store
                .list_sources()?
                .into_iter()
                .map(|s| (s.arn, s.kind))
                .collect(),
        })
    }

    fn has(&self, arn: &str, kind: SourceType) -> bool {
        self.sources.get(arn) == Some(&kind)
    }

    /// An SQS queue exists when the embedded SQS has it (or, as before it existed, when a
    /// source record declares it).
    fn has_queue(&self, arn: &str) -> bool {
        self.sqs.contains(arn) || self.has(arn, SourceType::SqsQueue)
    }
}

impl Catalog for StoreCatalog {
    /// `$LATEST`, a published version or an alias of a stored function.
    fn function_exists(&self, function: &FunctionRef) -> bool {
        self.functions.contains(&function.name)
            && function.qualifier.as_deref().is_none_or(|q| {
                q == "$LATEST" || self.qualified.contains(&format!("{}:{q}", function.name))
            })
    }

    fn source_exists(&self, source: &SourceArn) -> bool {
        match source {
            SourceArn::KinesisStream { arn, .. } | SourceArn::KinesisConsumer { arn, .. } => {
                self.kinesis.contains(arn)
            }
            SourceArn::DynamoDbStream { arn, .. } => self.dynamodb.contains(arn),
            SourceArn::SqsQueue { arn, .. } => self.has_queue(arn),
        }
    }

    fn destination_exists(&self, destination: &DestinationArn) -> bool {
        match destination {
            DestinationArn::SqsQueue { arn, .. } => self.has_queue(arn),
            DestinationArn::SnsTopic { arn, .. } => {
                self.sns.contains(arn) || self.has(arn, SourceType::SnsTopic)
            }
        }
    }
}
