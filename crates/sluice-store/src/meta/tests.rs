#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use sluice_core::arn::SourceArn;
use sluice_core::function::{FunctionCode, FunctionOrigin, FunctionRecord};
use sluice_core::mapping::{EventSourceMapping, MappingSettings, MappingState};

use super::*;

fn function(name: &str) -> FunctionRecord {
    FunctionRecord {
        name: name.into(),
        code: FunctionCode::Url {
            url: "http://127.0.0.1:1/".into(),
        },
        origin: FunctionOrigin::Config,
        runtime: None,
        handler: None,
        role: "arn:aws:iam::000000000000:role/r".into(),
        description: String::new(),
        timeout: Duration::from_secs(3),
        memory_size: 128,
        environment: BTreeMap::new(),
        last_modified: "2026-01-01T00:00:00.000+0000".into(),
        revision_id: "r1".into(),
    }
}

fn mapping(uuid: &str, function: &str) -> EventSourceMapping {
    EventSourceMapping {
        uuid: uuid.into(),
        source: SourceArn::parse("arn:aws:sqs:us-east-1:000000000000:jobs").unwrap(),
        function_arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{function}"),
        function_name: function.into(),
        state: MappingState::Creating,
        enabled: true,
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
fn everything_survives_reopen() {
    let t = tempfile::tempdir().unwrap();
    let dir = DataDir::open(t.path()).unwrap();
    {
        let s = MetaStore::open(&dir).unwrap();
        assert!(s.create_function(&function("a")).unwrap());
        assert!(!s.create_function(&function("a")).unwrap());
        s.insert_mapping(&mapping("u1", "a"), None, |_| false)
            .unwrap()
            .unwrap();
        s.update_tags("arn:x", |t| {
            t.insert("k".into(), "v".into());
        })
        .unwrap();
    }
    let s = MetaStore::open(&dir).unwrap();
    assert_eq!(s.get_function("a").unwrap().unwrap(), function("a"));
    assert_eq!(s.get_mapping("u1").unwrap().unwrap(), mapping("u1", "a"));
    assert_eq!(
        s.get_tags("arn:x").unwrap().get("k").map(String::as_str),
        Some("v")
    );
}

#[test]
fn second_open_of_one_dir_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let dir = DataDir::open(t.path()).unwrap();
    let _s = MetaStore::open(&dir).unwrap();
    assert!(matches!(MetaStore::open(&dir), Err(StoreError::InUse(_))));
}

#[test]
fn insert_refuses_conflicts_and_modify_is_atomic() {
    let t = tempfile::tempdir().unwrap();
    let s = MetaStore::open(&DataDir::open(t.path()).unwrap()).unwrap();
    let mut rx = s.subscribe();
    s.insert_mapping(&mapping("u1", "a"), None, |_| false)
        .unwrap()
        .unwrap();
    assert!(rx.has_changed().unwrap());
    rx.borrow_and_update();
    let clash = s
        .insert_mapping(&mapping("u2", "a"), None, |m| {
            m.function_arn.ends_with(":a")
        })
        .unwrap()
        .unwrap_err();
    assert_eq!(clash.uuid, "u1");
    assert!(!rx.has_changed().unwrap());

    let refused = s
        .modify_mapping("u1", |_| Err::<Option<EventSourceMapping>, _>("no"))
        .unwrap();
    assert_eq!(refused, Some(Err("no")));
    let changed = s
        .modify_mapping::<()>("u1", |m| {
            let mut n = m.clone();
            n.state = MappingState::Enabled;
            Ok(Some(n))
        })
        .unwrap();
    assert_eq!(
        changed.unwrap().unwrap().unwrap().state,
        MappingState::Enabled
    );
    assert!(
        s.modify_mapping::<()>("nope", |_| Ok(None))
            .unwrap()
            .is_none()
    );

    let arn = "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:u1";
    s.update_tags(arn, |t| {
        t.insert("k".into(), "v".into());
    })
    .unwrap();
    s.modify_mapping::<()>("u1", |_| Ok(None)).unwrap();
    assert!(s.get_mapping("u1").unwrap().is_none());
    assert!(s.get_tags(arn).unwrap().is_empty());
}

#[test]
fn delete_checkpoints_removes_one_mappings_only() {
    use sluice_core::source::Checkpoint;
    let t = tempfile::tempdir().unwrap();
    let dir = DataDir::open(t.path()).unwrap();
    let s = MetaStore::open(&dir).unwrap();
    s.put_checkpoints(
        "u1",
        &[("a", Checkpoint::ShardEnd), ("b", Checkpoint::ShardEnd)],
    )
    .unwrap();
    s.put_checkpoints("u10", &[("a", Checkpoint::ShardEnd)])
        .unwrap();
    s.delete_checkpoints("u1").unwrap();
    assert!(s.checkpoints("u1").unwrap().is_empty());
    assert_eq!(
        s.checkpoints("u10").unwrap().len(),
        1,
        "a prefix is not a mapping"
    );
}
