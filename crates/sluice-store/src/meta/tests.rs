#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use sluice_core::arn::SourceArn;
use sluice_core::function::{AliasRecord, FunctionCode, FunctionOrigin, FunctionRecord};
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
        version: None,
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
fn modify_function_writes_only_what_change_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let store = MetaStore::open(&DataDir::open(dir.path()).unwrap()).unwrap();
    assert!(
        store
            .modify_function("absent", |f| Ok::<_, ()>(f.clone()))
            .unwrap()
            .is_none()
    );
    store.put_function(&function("f")).unwrap();
    let refused = store
        .modify_function("f", |_| Err::<FunctionRecord, _>("stale revision"))
        .unwrap();
    assert_eq!(refused, Some(Err("stale revision")));
    assert_eq!(store.get_function("f").unwrap(), Some(function("f")));
    let changed = store
        .modify_function("f", |f| {
            Ok::<_, ()>(FunctionRecord {
                memory_size: 512,
                ..f.clone()
            })
        })
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(changed.memory_size, 512);
    assert_eq!(store.get_function("f").unwrap().unwrap().memory_size, 512);
}

#[test]
fn versions_are_numbered_snapshots_and_aliases_resolve_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = MetaStore::open(&DataDir::open(dir.path()).unwrap()).unwrap();
    assert!(
        store
            .publish_version("f", |l, _, _| Ok::<_, ()>(Some(l.clone())))
            .unwrap()
            .is_none()
    );
    store.put_function(&function("f")).unwrap();
    let mut seen = Vec::new();
    let v1 = store
        .publish_version("f", |l, last, next| {
            seen.push((last.is_none(), next));
            Ok::<_, ()>(Some(l.clone()))
        })
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(v1.version, Some(1));
    // `None` answers the last version; nothing new is written.
    let same = store
        .publish_version("f", |_, last, next| {
            seen.push((last.is_none(), next));
            Ok::<_, ()>(None)
        })
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(same.version, Some(1));
    assert_eq!(seen, [(true, 1), (false, 2)]);
    store
        .modify_function("f", |f| {
            Ok::<_, ()>(FunctionRecord {
                memory_size: 1024,
                ..f.clone()
            })
        })
        .unwrap();
    let v2 = store
        .publish_version("f", |l, _, _| Ok::<_, ()>(Some(l.clone())))
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(v2.version, Some(2));
    assert_eq!(store.list_versions("f").unwrap(), [v1.clone(), v2.clone()]);

    let alias = AliasRecord {
        function: "f".into(),
        name: "live".into(),
        function_version: "1".into(),
        description: String::new(),
        revision_id: "a1".into(),
    };
    assert!(store.create_alias(&alias).unwrap());
    assert!(!store.create_alias(&alias).unwrap());
    assert_eq!(
        store.resolve_function("f", Some("live")).unwrap(),
        Some(v1.clone())
    );
    assert_eq!(
        store.resolve_function("f", Some("2")).unwrap(),
        Some(v2.clone())
    );
    assert_eq!(
        store
            .resolve_function("f", Some("$LATEST"))
            .unwrap()
            .unwrap()
            .memory_size,
        1024
    );
    assert_eq!(store.resolve_function("f", Some("3")).unwrap(), None);
    assert_eq!(store.resolve_function("f", Some("gone")).unwrap(), None);
    assert_eq!(
        store
            .function_for_arn("arn:aws:lambda:us-east-1:000000000000:function:f:live")
            .unwrap(),
        Some(v1)
    );
    let mut qualifiers = store.function_qualifiers().unwrap();
    qualifiers.sort();
    assert_eq!(qualifiers, ["f:1", "f:2", "f:live"]);

    // Deleting the function takes its versions and aliases; numbers start again at 1.
    assert!(store.delete_function("f").unwrap());
    assert!(store.function_qualifiers().unwrap().is_empty());
    store.put_function(&function("f")).unwrap();
    let fresh = store
        .publish_version("f", |l, _, _| Ok::<_, ()>(Some(l.clone())))
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(fresh.version, Some(1));
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
