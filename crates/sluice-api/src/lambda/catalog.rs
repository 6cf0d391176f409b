//! The control plane's view of what exists, loaded from the store for one request.

use std::collections::{HashMap, HashSet};

use sluice_core::arn::{DestinationArn, FunctionRef, SourceArn};
use sluice_core::mapping::Catalog;
use sluice_store::kinesis::KinesisStore;
use sluice_store::{MetaStore, SourceType, StoreError};

/// A snapshot of functions, Kinesis streams and consumers, and declared sources.
#[derive(Debug, Default)]
pub struct StoreCatalog {
    functions: HashSet<String>,
    sources: HashMap<String, SourceType>,
    /// Stream ARNs and consumer ARNs of the embedded Kinesis.
    kinesis: HashSet<String>,
}

impl StoreCatalog {
    pub fn load(store: &MetaStore, kinesis: &KinesisStore) -> Result<Self, StoreError> {
        let mut arns = HashSet::new();
        for s in kinesis.list_streams()? {
            arns.extend(s.consumers.iter().map(|c| c.arn.clone()));
            arns.insert(s.arn);
        }
        Ok(Self {
            kinesis: arns,
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
}

impl Catalog for StoreCatalog {
    /// Only `$LATEST` exists until versions and aliases land with the functions work.
    fn function_exists(&self, function: &FunctionRef) -> bool {
        self.functions.contains(&function.name)
            && function.qualifier.as_deref().is_none_or(|q| q == "$LATEST")
    }

    fn source_exists(&self, source: &SourceArn) -> bool {
        match source {
            SourceArn::KinesisStream { arn, .. } | SourceArn::KinesisConsumer { arn, .. } => {
                self.kinesis.contains(arn)
            }
            SourceArn::DynamoDbStream { arn, .. } => self.has(arn, SourceType::DynamoDbStream),
            SourceArn::SqsQueue { arn, .. } => self.has(arn, SourceType::SqsQueue),
        }
    }

    fn destination_exists(&self, destination: &DestinationArn) -> bool {
        match destination {
            DestinationArn::SqsQueue { arn, .. } => self.has(arn, SourceType::SqsQueue),
            DestinationArn::SnsTopic { arn, .. } => self.has(arn, SourceType::SnsTopic),
        }
    }
}
