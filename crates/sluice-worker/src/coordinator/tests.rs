#![allow(clippy::unwrap_used)]

use std::time::Duration;

use sluice_core::arn::SourceArn;
use sluice_core::mapping::{EventSourceMapping, MappingSettings, MappingState};
use sluice_store::{DataDir, MetaStore};

use super::*;

fn mapping(uuid: &str, state: MappingState, enabled: bool) -> EventSourceMapping {
    EventSourceMapping {
        uuid: uuid.into(),
        source: SourceArn::parse("arn:aws:sqs:us-east-1:000000000000:jobs").unwrap(),
        function_arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{uuid}"),
        function_name: uuid.into(),
        state,
        enabled,
        state_transition_reason: "USER_INITIATED".into(),
        last_modified_ms: 1,
        last_processing_result: None,
        settings: MappingSettings {
            batch_size: 10,
            maximum_batching_window: Duration::ZERO,
            report_batch_item_failures: false,
            filter_patterns: vec![],
            maximum_concurrency: None,
            kms_key_arn: None,
            metrics: None,
            stream: None,
        },
    }
}

#[test]
fn every_transitional_state_comes_to_rest() {
    let t = tempfile::tempdir().unwrap();
    let store = MetaStore::open(&DataDir::open(t.path()).unwrap()).unwrap();
    let cases = [
        (
            "a",
            MappingState::Creating,
            true,
            Some(MappingState::Enabled),
        ),
        (
            "b",
            MappingState::Enabling,
            true,
            Some(MappingState::Enabled),
        ),
        (
            "c",
            MappingState::Disabling,
            false,
            Some(MappingState::Disabled),
        ),
        (
            "d",
            MappingState::Updating,
            false,
            Some(MappingState::Disabled),
        ),
        (
            "e",
            MappingState::Updating,
            true,
            Some(MappingState::Enabled),
        ),
        ("f", MappingState::Deleting, true, None),
        (
            "g",
            MappingState::Disabled,
            false,
            Some(MappingState::Disabled),
        ),
    ];
    for (uuid, state, enabled, _) in &cases {
        store
            .insert_mapping(&mapping(uuid, *state, *enabled), None, |_| false)
            .unwrap()
            .unwrap();
    }
    assert_eq!(settle_all(&store, 5, &Default::default()).unwrap(), 6);
    for (uuid, _, _, want) in &cases {
        assert_eq!(
            store.get_mapping(uuid).unwrap().map(|m| m.state),
            *want,
            "{uuid}"
        );
    }
    assert_eq!(store.get_mapping("a").unwrap().unwrap().last_modified_ms, 5);
    assert_eq!(settle_all(&store, 6, &Default::default()).unwrap(), 0);
}

#[tokio::test(start_paused = true)]
async fn coordinator_wakes_on_change_and_stops_on_shutdown() {
    let t = tempfile::tempdir().unwrap();
    let store = MetaStore::open(&DataDir::open(t.path()).unwrap()).unwrap();
    let (signal, shutdown) = crate::ShutdownSignal::new();
    let kinesis = sluice_store::kinesis::KinesisStore::open(
        store.clone(),
        &DataDir::open(t.path()).unwrap(),
        "us-east-1",
        "000000000000",
    )
    .unwrap();
    let invoker: std::sync::Arc<dyn sluice_core::function::Invoker> =
        std::sync::Arc::new(crate::FunctionInvoker::new());
    let destination: std::sync::Arc<dyn sluice_core::source::FailureDestination> =
        std::sync::Arc::new(crate::destination::OutboxDestination::new(store.clone()));
    let task = tokio::spawn(
        Coordinator::new(
            store.clone(),
            kinesis,
            invoker,
            destination,
            "us-east-1".into(),
        )
        .run(shutdown),
    );
    let mut changes = store.subscribe();
    changes.borrow_and_update();
    store
        .insert_mapping(&mapping("a", MappingState::Creating, true), None, |_| false)
        .unwrap()
        .unwrap();
    // Wait for the coordinator's own write (the second change).
    loop {
        changes.changed().await.unwrap();
        if store.get_mapping("a").unwrap().unwrap().state == MappingState::Enabled {
            break;
        }
    }
    signal.fire();
    task.await.unwrap();
}
