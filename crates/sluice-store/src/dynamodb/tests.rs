use std::collections::BTreeMap;

use serde_json::json;

use super::expr::{self, Substitutions};
use super::stream::{self, Change};
use super::value::{Av, Item, item_from_json, normalize_number};
use super::*;
use crate::DataDir;

fn item(v: serde_json::Value) -> Item {
    item_from_json(&v).expect("item")
}

fn subs(values: serde_json::Value, names: &[(&str, &str)]) -> Substitutions {
    let values: BTreeMap<String, Av> = item(values).into_iter().collect();
    let names = names
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Substitutions::new(names, values)
}

fn cond(text: &str, s: &mut Substitutions) -> expr::Cond {
    expr::parse_condition(text, "Condition", s).expect("parses")
}

#[test]
fn numbers_normalize_and_compare() {
    for (input, want) in [
        ("1", "1"),
        ("01.50", "1.5"),
        ("-0", "0"),
        ("1E+2", "100"),
        ("0.001", "0.001"),
        ("-12.300", "-12.3"),
        ("1.5e-3", "0.0015"),
    ] {
        assert_eq!(normalize_number(input).as_deref(), Ok(want), "{input}");
    }
    assert!(normalize_number("abc").is_err());
    assert!(normalize_number("").is_err());
    assert_eq!(value::cmp_numbers("-2", "1"), Ordering::Less);
    assert_eq!(value::cmp_numbers("10", "9.99"), Ordering::Greater);
    assert_eq!(value::cmp_numbers("-10", "-9"), Ordering::Less);
    assert_eq!(value::add_numbers("1.5", "2", false).as_deref(), Ok("3.5"));
    assert_eq!(value::add_numbers("1", "3", true).as_deref(), Ok("-2"));
}

#[test]
fn attribute_values_round_trip() {
    let v = json!({"a": {"S": "x"}, "n": {"N": "1.0"}, "m": {"M": {"b": {"BOOL": true}}},
        "l": {"L": [{"NULL": true}, {"SS": ["b", "a"]}]}});
    let parsed = item(v);
    assert_eq!(
        value::item_to_json(&parsed),
        json!({"a": {"S": "x"}, "n": {"N": "1"}, "m": {"M": {"b": {"BOOL": true}}},
            "l": {"L": [{"NULL": true}, {"SS": ["a", "b"]}]}})
    );
    for bad in [
        json!({}),
        json!({"S": "a", "N": "1"}),
        json!({"N": "x"}),
        json!({"SS": []}),
    ] {
        assert!(Av::from_json(&bad).is_err(), "{bad}");
    }
}

#[test]
fn conditions_evaluate() {
    let it = item(
        json!({"pk": {"S": "a"}, "n": {"N": "5"}, "s": {"S": "hello"},
        "m": {"M": {"x": {"N": "1"}}}, "l": {"L": [{"S": "z"}]}}),
    );
    let cases: &[(&str, bool)] = &[
        ("attribute_exists(pk)", true),
        ("attribute_not_exists(pk)", false),
        ("attribute_not_exists(#missing)", true),
        ("n = :five", true),
        ("n <> :five", false),
        ("n > :one AND n < :ten", true),
        ("n BETWEEN :one AND :five", true),
        ("n IN (:one, :ten)", false),
        ("begins_with(s, :he)", true),
        ("contains(s, :ll)", true),
        ("size(s) = :five", true),
        ("m.x = :one", true),
        ("l[0] = :z", true),
        ("NOT (n = :one) OR n = :ten", true),
        ("(n = :one OR n = :ten) AND attribute_exists(pk)", false),
        ("attribute_type(n, :ntype)", true),
        ("#missing = :one", false),
        ("#missing <> :one", true),
    ];
    for (text, want) in cases {
        let mut s = subs(
            json!({":five": {"N": "5"}, ":one": {"N": "1"}, ":ten": {"N": "10"},
                ":he": {"S": "he"}, ":ll": {"S": "ll"}, ":z": {"S": "z"}, ":ntype": {"S": "N"}}),
            &[("#missing", "nope")],
        );
        let c = cond(text, &mut s);
        assert_eq!(expr::eval(&c, &it), *want, "{text}");
    }
}

#[test]
fn expression_errors_carry_aws_texts() {
    let mut s = subs(json!({}), &[]);
    let e = expr::parse_condition("a = :v", "Condition", &mut s).expect_err("undefined value");
    assert_eq!(
        e,
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :v"
    );
    let e = expr::parse_condition("#a = b", "Condition", &mut s).expect_err("undefined name");
    assert!(e.contains("attribute name: #a"), "{e}");
    let e = expr::parse_condition("a = ", "Condition", &mut s).expect_err("syntax");
    assert!(
        e.starts_with("Invalid ConditionExpression: Syntax error"),
        "{e}"
    );
    let e = expr::parse_condition("", "KeyCondition", &mut s).expect_err("empty");
    assert!(e.starts_with("Invalid KeyConditionExpression"), "{e}");
    let e = expr::parse_condition("status = a", "Condition", &mut s).expect_err("reserved");
    assert!(e.contains("reserved keyword: status"), "{e}");
    let mut s = subs(json!({":u": {"S": "x"}}), &[("#n", "n")]);
    expr::parse_condition("a = b", "Condition", &mut s).expect("parses");
    assert!(s.check_unused().expect_err("unused").contains("#n"));
}

#[test]
fn updates_apply() {
    let old = item(
        json!({"pk": {"S": "a"}, "n": {"N": "5"}, "gone": {"S": "x"},
        "tags": {"SS": ["a"]}, "l": {"L": [{"N": "1"}]}, "m": {"M": {}}}),
    );
    let mut s = subs(
        json!({":two": {"N": "2"}, ":v": {"S": "new"}, ":t": {"SS": ["b"]},
            ":l": {"L": [{"N": "2"}]}, ":d": {"N": "9"}}),
        &[("#n", "n")],
    );
    let actions = expr::parse_update(
        "SET #n = #n + :two, v = :v, l = list_append(l, :l), m.k = :v, \
         c = if_not_exists(c, :d) REMOVE gone ADD tags :t, cnt :two",
        &mut s,
    )
    .expect("parses");
    s.check_unused().expect("all used");
    let new = expr::apply_update(&old, &actions).expect("applies");
    assert_eq!(
        value::item_to_json(&new),
        json!({"pk": {"S": "a"}, "n": {"N": "7"}, "v": {"S": "new"},
            "tags": {"SS": ["a", "b"]}, "l": {"L": [{"N": "1"}, {"N": "2"}]},
            "m": {"M": {"k": {"S": "new"}}}, "c": {"N": "9"}, "cnt": {"N": "2"}})
    );
    let mut s = subs(json!({":v": {"S": "x"}}), &[]);
    let bad = expr::parse_update("SET a = :v SET b = :v", &mut s).expect_err("twice");
    assert!(bad.starts_with("Invalid UpdateExpression"), "{bad}");
    let mut s = subs(json!({":v": {"S": "x"}}), &[]);
    let a = expr::parse_update("SET a = b + :v", &mut s).expect("parses");
    assert!(expr::apply_update(&old, &a).is_err());
}

#[test]
fn stream_records_follow_view_types() {
    let keys = item(json!({"pk": {"S": "a"}}));
    let old = item(json!({"pk": {"S": "a"}, "v": {"N": "1"}}));
    let new = item(json!({"pk": {"S": "a"}, "v": {"N": "2"}}));
    let make = |view: &str, o: Option<&Item>, n: Option<&Item>| {
        stream::record(&Change {
            view_type: view,
            region: "us-east-1",
            keys: &keys,
            old: o,
            new: n,
            sequence_number: &stream::sequence_number(7),
            now_ms: 1_732_550_000_123,
        })
    };
    let r = make("NEW_AND_OLD_IMAGES", Some(&old), Some(&new)).expect("modify");
    assert_eq!(r["eventName"], "MODIFY");
    assert_eq!(r["eventVersion"], "1.1");
    assert_eq!(r["eventSource"], "aws:dynamodb");
    assert_eq!(r["awsRegion"], "us-east-1");
    let id = r["eventID"].as_str().expect("id");
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()));
    let d = &r["dynamodb"];
    assert_eq!(d["ApproximateCreationDateTime"], json!(1_732_550_000.0));
    assert_eq!(d["Keys"], json!({"pk": {"S": "a"}}));
    assert_eq!(d["OldImage"]["v"], json!({"N": "1"}));
    assert_eq!(d["NewImage"]["v"], json!({"N": "2"}));
    assert_eq!(d["SequenceNumber"], "100000000000000000007");
    assert_eq!(d["StreamViewType"], "NEW_AND_OLD_IMAGES");
    assert!(d["SizeBytes"].as_u64().is_some_and(|n| n > 0));

    let r = make("KEYS_ONLY", None, Some(&new)).expect("insert");
    assert_eq!(r["eventName"], "INSERT");
    assert!(r["dynamodb"].get("NewImage").is_none());
    let r = make("NEW_IMAGE", Some(&old), None).expect("remove");
    assert_eq!(r["eventName"], "REMOVE");
    assert!(r["dynamodb"].get("OldImage").is_none());
    let r = make("OLD_IMAGE", Some(&old), None).expect("remove");
    assert_eq!(r["dynamodb"]["OldImage"], value::item_to_json(&old));
    assert!(
        make("NEW_IMAGE", Some(&old), Some(&old)).is_none(),
        "no change, no record"
    );
    assert_eq!(
        stream::parse_sequence_number("100000000000000000007"),
        Some(7)
    );
    assert_eq!(stream::stream_label(0), "1970-01-01T00:00:00.000");
}

fn open() -> (tempfile::TempDir, MetaStore, DynamoStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = DataDir::open(dir.path()).expect("data dir");
    let meta = MetaStore::open(&data).expect("meta");
    let ddb = DynamoStore::open(&meta, "us-east-1", "000000000000").expect("ddb");
    (dir, meta, ddb)
}

fn spec(name: &str, range: bool) -> TableSpec {
    let key = |n: &str, t: &str| KeyAttr {
        name: n.into(),
        ty: t.into(),
    };
    TableSpec {
        name: name.into(),
        hash: key("pk", "S"),
        range: range.then(|| key("sk", "N")),
        attributes: vec![key("pk", "S")],
        billing_mode: "PAY_PER_REQUEST".into(),
        read_capacity: 0,
        write_capacity: 0,
        stream_view_type: Some("NEW_AND_OLD_IMAGES".into()),
        stream_label: None,
    }
}

#[test]
fn writes_and_stream_records_are_one_transaction() {
    let (dir, meta, ddb) = open();
    let t = ddb
        .create_table(spec("users", false), 1_000)
        .expect("create");
    let arn = t.stream.expect("stream").arn;
    assert!(arn.ends_with("table/users/stream/1970-01-01T00:00:01.000"));
    let key = item(json!({"pk": {"S": "a"}}));
    let v1 = item(json!({"pk": {"S": "a"}, "v": {"N": "1"}}));
    ddb.write_item("users", &key, WriteKind::Put(v1.clone()), None, 2_000)
        .expect("put");
    ddb.write_item("users", &key, WriteKind::Put(v1.clone()), None, 2_000)
        .expect("same put");
    let mut s = subs(json!({":two": {"N": "2"}}), &[]);
    let c = expr::parse_condition("v = :two", "Condition", &mut s).expect("parses");
    let failed = ddb.write_item("users", &key, WriteKind::Delete, Some(&c), 3_000);
    assert!(matches!(
        failed,
        Err(DynamoError::ConditionalCheckFailed(Some(_)))
    ));
    ddb.write_item("users", &key, WriteKind::Delete, None, 3_000)
        .expect("delete");
    ddb.write_item("users", &key, WriteKind::Delete, None, 3_000)
        .expect("delete again");
    drop(ddb);
    drop(meta);

    // Reopened: the records are there, one per change.
    let data = DataDir::open(dir.path()).expect("data dir");
    let meta = MetaStore::open(&data).expect("meta");
    let ddb = DynamoStore::open(&meta, "us-east-1", "000000000000").expect("ddb");
    let records = ddb.read_records(&arn, 0, 100).expect("read");
    let names: Vec<_> = records
        .iter()
        .map(|(_, r)| {
            r.record["eventName"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(names, ["INSERT", "REMOVE"]);
    assert!(records[0].0 < records[1].0);
    assert_eq!(
        DynamoStore::current_stream_arns(&meta).expect("arns"),
        vec![arn.clone()]
    );
    assert!(ddb.get_item("users", &key).expect("get").is_none());
    ddb.delete_table("users", 4_000).expect("delete table");
    assert!(ddb.stream(&arn).expect("stream kept").ended_at.is_some());
    assert!(
        DynamoStore::current_stream_arns(&meta)
            .expect("arns")
            .is_empty()
    );
}

#[test]
fn query_and_scan_page_in_key_order() {
    let (_dir, _meta, ddb) = open();
    let t = ddb
        .create_table(spec("events", true), 1_000)
        .expect("create");
    for (pk, sk) in [("a", "3"), ("a", "1"), ("a", "20"), ("b", "1")] {
        let it = item(json!({"pk": {"S": pk}, "sk": {"N": sk}}));
        let key = t.key_of(&it);
        ddb.write_item("events", &key, WriteKind::Put(it), None, 2_000)
            .expect("put");
    }
    let mut s = subs(json!({":a": {"S": "a"}, ":lo": {"N": "2"}}), &[]);
    let kc = expr::parse_condition("pk = :a AND sk >= :lo", "KeyCondition", &mut s).expect("kc");
    let hash = Av::S("a".into());
    let page = ddb
        .query(&t, &hash, &kc, None, true, None, None)
        .expect("query");
    let sks: Vec<_> = page.items.iter().map(|i| i["sk"].clone()).collect();
    assert_eq!(sks, [Av::N("3".into()), Av::N("20".into())]);
    let mut s = subs(json!({":a": {"S": "a"}}), &[]);
    let kc = expr::parse_condition("pk = :a", "KeyCondition", &mut s).expect("kc");
    let first = ddb
        .query(&t, &hash, &kc, None, false, Some(2), None)
        .expect("query");
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.items[0]["sk"], Av::N("20".into()));
    let rest = ddb
        .query(
            &t,
            &hash,
            &kc,
            None,
            false,
            Some(2),
            first.last_key.as_ref(),
        )
        .expect("query");
    assert_eq!(rest.items.len(), 1);
    assert!(rest.last_key.is_none());

    let mut seen = 0;
    let mut start = None;
    loop {
        let p = ddb.scan(&t, None, Some(3), start.as_ref()).expect("scan");
        seen += p.items.len();
        match p.last_key {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    assert_eq!(seen, 4);
}

fn event_names(ddb: &DynamoStore, arn: &str) -> Vec<String> {
    ddb.read_records(arn, 0, 1000)
        .expect("read")
        .iter()
        .map(|(_, r)| {
            r.record["eventName"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

fn put_op(table: &str, v: serde_json::Value) -> WriteOp {
    let it = item(v);
    let key: Item = it
        .iter()
        .filter(|(k, _)| *k == "pk" || *k == "sk")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    WriteOp {
        table: table.into(),
        key,
        kind: WriteKind::Put(it),
        condition: None,
    }
}

#[test]
fn batch_writes_apply_together_with_one_record_each() {
    let (_dir, _meta, ddb) = open();
    let a = ddb.create_table(spec("a", false), 1_000).expect("a");
    ddb.create_table(spec("b", false), 1_000).expect("b");
    let arn = a.stream.expect("stream").arn;
    ddb.write_item(
        "a",
        &item(json!({"pk": {"S": "old"}})),
        WriteKind::Put(item(json!({"pk": {"S": "old"}}))),
        None,
        1_500,
    )
    .expect("seed");
    let ops = vec![
        put_op("a", json!({"pk": {"S": "x"}, "v": {"N": "1"}})),
        put_op("b", json!({"pk": {"S": "x"}})),
        WriteOp {
            table: "a".into(),
            key: item(json!({"pk": {"S": "old"}})),
            kind: WriteKind::Delete,
            condition: None,
        },
    ];
    ddb.write_batch(&ops, 2_000).expect("batch");
    assert_eq!(event_names(&ddb, &arn), ["INSERT", "INSERT", "REMOVE"]);
    assert!(
        ddb.get_item("b", &item(json!({"pk": {"S": "x"}})))
            .expect("get")
            .is_some()
    );

    // A batch naming a missing table writes nothing.
    let bad = vec![
        put_op("a", json!({"pk": {"S": "y"}})),
        put_op("ghost", json!({"pk": {"S": "y"}})),
    ];
    assert!(matches!(
        ddb.write_batch(&bad, 3_000),
        Err(DynamoError::ResourceNotFound(_))
    ));
    assert!(
        ddb.get_item("a", &item(json!({"pk": {"S": "y"}})))
            .expect("get")
            .is_none()
    );
    assert_eq!(event_names(&ddb, &arn).len(), 3);
    let got = ddb
        .get_items(&[
            ("a".into(), item(json!({"pk": {"S": "x"}}))),
            ("a".into(), item(json!({"pk": {"S": "nope"}}))),
        ])
        .expect("get items");
    assert!(got[0].is_some() && got[1].is_none());
}

#[test]
fn transactions_are_all_or_nothing() {
    let (_dir, _meta, ddb) = open();
    let a = ddb.create_table(spec("a", false), 1_000).expect("a");
    let arn = a.stream.expect("stream").arn;
    ddb.write_batch(
        &[put_op("a", json!({"pk": {"S": "k1"}, "n": {"N": "1"}}))],
        1_500,
    )
    .expect("seed");
    let mut s = subs(json!({":two": {"N": "2"}, ":one": {"N": "1"}}), &[]);
    let fails = cond("n = :two", &mut s);
    let adds = expr::parse_update("ADD n :one", &mut s).expect("update");
    let ops = vec![
        WriteOp {
            table: "a".into(),
            key: item(json!({"pk": {"S": "k1"}})),
            kind: WriteKind::Check,
            condition: Some(fails),
        },
        put_op("a", json!({"pk": {"S": "k2"}})),
    ];
    let Err(DynamoError::TransactionCanceled(reasons)) = ddb.write_transaction(&ops, 2_000) else {
        panic!("cancelled");
    };
    let codes: Vec<_> = reasons.iter().map(|r| r.code).collect();
    assert_eq!(codes, ["ConditionalCheckFailed", "None"]);
    assert_eq!(
        reasons[0].item.as_ref().map(|i| i["n"].clone()),
        Some(Av::N("1".into()))
    );
    assert!(
        ddb.get_item("a", &item(json!({"pk": {"S": "k2"}})))
            .expect("get")
            .is_none()
    );
    assert_eq!(event_names(&ddb, &arn), ["INSERT"]);

    let mut s = subs(json!({":one": {"N": "1"}}), &[]);
    let passes = cond("n = :one", &mut s);
    let ops = vec![
        WriteOp {
            table: "a".into(),
            key: item(json!({"pk": {"S": "k1"}})),
            kind: WriteKind::Update(adds),
            condition: Some(passes),
        },
        put_op("a", json!({"pk": {"S": "k2"}})),
    ];
    ddb.write_transaction(&ops, 3_000).expect("commits");
    assert_eq!(
        ddb.get_item("a", &item(json!({"pk": {"S": "k1"}})))
            .expect("get")
            .map(|i| i["n"].clone()),
        Some(Av::N("2".into()))
    );
    assert_eq!(event_names(&ddb, &arn), ["INSERT", "MODIFY", "INSERT"]);
}

#[test]
fn update_table_replaces_and_closes_streams() {
    let (_dir, meta, ddb) = open();
    let t = ddb.create_table(spec("t", false), 1_000).expect("t");
    let first = t.stream.expect("stream").arn;
    let enable = TableUpdate {
        stream: Some(Some("KEYS_ONLY".into())),
        ..TableUpdate::default()
    };
    let e = ddb.update_table("t", &enable, 2_000).expect_err("already");
    assert_eq!(
        e.to_string(),
        "Table already has an enabled stream: TableName: t"
    );
    let disable = TableUpdate {
        stream: Some(None),
        ..TableUpdate::default()
    };
    let t = ddb.update_table("t", &disable, 2_000).expect("disable");
    assert!(t.stream.is_none());
    assert_eq!(
        t.latest_stream.as_ref().map(|s| s.arn.as_str()),
        Some(first.as_str())
    );
    assert!(!ddb.stream(&first).expect("kept").enabled());
    let e = ddb.update_table("t", &disable, 2_500).expect_err("none");
    assert_eq!(
        e.to_string(),
        "Table has no stream to disable: TableName: t"
    );
    // Writes while disabled make no records anywhere.
    ddb.write_batch(&[put_op("t", json!({"pk": {"S": "a"}}))], 2_600)
        .expect("put");
    let t = ddb.update_table("t", &enable, 3_000).expect("enable");
    let second = t.stream.expect("stream");
    assert_ne!(second.arn, first);
    assert_eq!(second.label, "1970-01-01T00:00:03.000");
    assert_eq!(second.view_type, "KEYS_ONLY");
    ddb.write_batch(&[put_op("t", json!({"pk": {"S": "b"}}))], 3_100)
        .expect("put");
    assert!(event_names(&ddb, &first).is_empty());
    assert_eq!(event_names(&ddb, &second.arn), ["INSERT"]);
    assert_eq!(
        DynamoStore::current_stream_arns(&meta).expect("arns"),
        vec![second.arn.clone()]
    );
    let billing = TableUpdate {
        billing_mode: Some("PROVISIONED".into()),
        throughput: Some((5, 7)),
        ..TableUpdate::default()
    };
    let t = ddb.update_table("t", &billing, 4_000).expect("billing");
    assert_eq!(
        (t.billing_mode.as_str(), t.read_capacity, t.write_capacity),
        ("PROVISIONED", 5, 7)
    );
}

#[test]
fn secondary_indexes_are_sparse_ordered_and_paged() {
    let (_dir, _meta, ddb) = open();
    let key = |n: &str, t: &str| KeyAttr {
        name: n.into(),
        ty: t.into(),
    };
    let gsi = IndexDef {
        name: "by_status".into(),
        global: true,
        hash: key("status", "S"),
        range: Some(key("at", "N")),
        projection: Projection {
            kind: "KEYS_ONLY".into(),
            non_key: Vec::new(),
        },
        read_capacity: 0,
        write_capacity: 0,
    };
    let t = ddb
        .create_table_with_indexes(spec("orders", true), vec![gsi.clone()], 1_000)
        .expect("create");
    let rows = [
        json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "status": {"S": "open"}, "at": {"N": "30"}, "x": {"S": "1"}}),
        json!({"pk": {"S": "b"}, "sk": {"N": "1"}, "status": {"S": "open"}, "at": {"N": "10"}}),
        json!({"pk": {"S": "c"}, "sk": {"N": "1"}, "status": {"S": "open"}, "at": {"N": "20"}}),
        json!({"pk": {"S": "d"}, "sk": {"N": "1"}, "status": {"S": "done"}, "at": {"N": "5"}}),
        json!({"pk": {"S": "e"}, "sk": {"N": "1"}, "x": {"S": "no index key"}}),
    ];
    let ops: Vec<WriteOp> = rows.into_iter().map(|r| put_op("orders", r)).collect();
    ddb.write_batch(&ops, 2_000).expect("batch");
    let bad = put_op(
        "orders",
        json!({"pk": {"S": "f"}, "sk": {"N": "1"}, "status": {"N": "1"}}),
    );
    let e = ddb.write_batch(&[bad], 2_000).expect_err("type");
    assert!(
        e.to_string().contains(
            "Type mismatch for Index Key status Expected: S Actual: N IndexName: by_status"
        ),
        "{e}"
    );

    let mut s = subs(json!({":o": {"S": "open"}}), &[("#s", "status")]);
    let kc = cond("#s = :o", &mut s);
    let open = Av::S("open".into());
    let first = ddb
        .query_index(&t, &gsi, &open, &kc, None, true, Some(2), None)
        .expect("query");
    let pks: Vec<_> = first.items.iter().map(|i| i["pk"].clone()).collect();
    assert_eq!(pks, [Av::S("b".into()), Av::S("c".into())]);
    assert!(
        first.items.iter().all(|i| !i.contains_key("x")),
        "KEYS_ONLY projection"
    );
    let last = first.last_key.clone().expect("more");
    assert_eq!(
        last.keys().cloned().collect::<Vec<_>>(),
        ["at", "pk", "sk", "status"]
    );
    let rest = ddb
        .query_index(&t, &gsi, &open, &kc, None, true, Some(2), Some(&last))
        .expect("query");
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0]["pk"], Av::S("a".into()));
    let back = ddb
        .query_index(&t, &gsi, &open, &kc, None, false, None, None)
        .expect("query");
    assert_eq!(back.items[0]["pk"], Av::S("a".into()));

    let all = ddb.scan_index(&t, &gsi, None, None, None).expect("scan");
    assert_eq!(
        all.items.len(),
        4,
        "the item without the index key is not in it"
    );
    assert_eq!(ddb.index_stats(&t, &gsi).expect("stats").0, 4);
}

#[test]
fn ttl_expiry_deletes_past_items_with_a_service_record() {
    let (_dir, _meta, ddb) = open();
    let t = ddb
        .create_table(spec("sessions", false), 1_000)
        .expect("create");
    let arn = t.stream.expect("stream").arn;
    let now_ms = 1_800_000_000_000u64;
    let now_s = now_ms / 1000;
    let rows = [
        json!({"pk": {"S": "past"}, "exp": {"N": (now_s - 10).to_string()}}),
        json!({"pk": {"S": "future"}, "exp": {"N": (now_s + 10).to_string()}}),
        json!({"pk": {"S": "text"}, "exp": {"S": "0"}}),
        json!({"pk": {"S": "ancient"}, "exp": {"N": (now_s - 6 * 365 * 86_400).to_string()}}),
        json!({"pk": {"S": "none"}}),
    ];
    let ops: Vec<WriteOp> = rows.into_iter().map(|r| put_op("sessions", r)).collect();
    ddb.write_batch(&ops, 2_000).expect("seed");
    assert_eq!(ddb.expire_now(now_ms).expect("no ttl yet"), 0);
    let e = ddb
        .update_ttl("sessions", false, "exp")
        .expect_err("disabled");
    assert_eq!(e.to_string(), "TimeToLive is already disabled");
    ddb.update_ttl("sessions", true, "exp").expect("enable");
    let e = ddb
        .update_ttl("sessions", true, "exp")
        .expect_err("enabled");
    assert_eq!(e.to_string(), "TimeToLive is already enabled");
    let e = ddb
        .update_ttl("sessions", false, "other")
        .expect_err("other");
    assert_eq!(
        e.to_string(),
        "TimeToLive is active on a different AttributeName: current AttributeName is exp"
    );

    assert_eq!(ddb.expire_now(now_ms).expect("expire"), 1);
    assert!(
        ddb.get_item("sessions", &item(json!({"pk": {"S": "past"}})))
            .expect("get")
            .is_none()
    );
    for kept in ["future", "text", "ancient", "none"] {
        assert!(
            ddb.get_item("sessions", &item(json!({"pk": {"S": kept}})))
                .expect("get")
                .is_some(),
            "{kept}"
        );
    }
    let records = ddb.read_records(&arn, 0, 100).expect("read");
    let last = &records.last().expect("records").1.record;
    assert_eq!(last["eventName"], "REMOVE");
    assert_eq!(
        last["userIdentity"],
        json!({"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"})
    );
    assert!(records[0].1.record.get("userIdentity").is_none());
    assert_eq!(ddb.expire_now(now_ms).expect("again"), 0);
    assert_eq!(ddb.expire_now(now_ms + 20_000).expect("later"), 1);
}

#[test]
fn shards_roll_over_into_a_chain_and_retention_trims() {
    let (_dir, _meta, ddb) = open();
    let t = ddb
        .create_table(spec("rolling", false), 1_000)
        .expect("create");
    let arn = t.stream.expect("stream").arn;
    assert_eq!(
        ddb.roll_over(&arn, 1_500).expect("empty"),
        None,
        "nothing to close"
    );
    ddb.write_batch(&[put_op("rolling", json!({"pk": {"S": "a"}}))], 2_000)
        .expect("put");
    let child = ddb.roll_over(&arn, 3_000).expect("roll").expect("rolled");
    ddb.write_batch(&[put_op("rolling", json!({"pk": {"S": "b"}}))], 4_000)
        .expect("put");
    let shards = ddb.stream(&arn).expect("stream").shards();
    assert_eq!(shards.len(), 2);
    assert_eq!(shards[1].shard_id, child);
    assert_eq!(
        shards[1].parent.as_deref(),
        Some(shards[0].shard_id.as_str())
    );
    assert!(!shards[0].is_open() && shards[1].is_open());
    let records = ddb.read_records(&arn, 0, 10).expect("read");
    assert!(shards[0].holds(records[0].0) && !shards[0].holds(records[1].0));
    assert!(shards[1].holds(records[1].0));

    // Due only once the open shard is old enough.
    assert_eq!(ddb.roll_due(5_000, 10_000).expect("not due"), 0);
    assert_eq!(ddb.roll_due(13_000, 10_000).expect("due"), 1);
    assert_eq!(ddb.stream(&arn).expect("stream").shards().len(), 3);

    // Retention: the record written at 2 000 is older than 5 000 ms at 7 500.
    assert_eq!(ddb.trim_streams(7_500, 5_000).expect("trim"), 1);
    let meta = ddb.stream(&arn).expect("stream");
    assert_eq!(meta.trimmed_through, records[0].0);
    let left = ddb.read_records(&arn, 0, 10).expect("read");
    assert_eq!(left.len(), 1);
    assert_eq!(ddb.trim_streams(7_500, 5_000).expect("again"), 0);
}

#[test]
fn update_table_adds_and_drops_global_indexes() {
    let (_dir, _meta, ddb) = open();
    ddb.create_table(spec("t", false), 1_000).expect("create");
    let key = |n: &str, t: &str| KeyAttr {
        name: n.into(),
        ty: t.into(),
    };
    let gsi = IndexDef {
        name: "by_g".into(),
        global: true,
        hash: key("g", "N"),
        range: None,
        projection: Projection {
            kind: "ALL".into(),
            non_key: Vec::new(),
        },
        read_capacity: 0,
        write_capacity: 0,
    };
    let add = TableUpdate {
        indexes: vec![IndexChange::Create(gsi.clone(), vec![key("g", "N")])],
        ..TableUpdate::default()
    };
    let t = ddb.update_table("t", &add, 2_000).expect("add");
    assert_eq!(t.indexes, vec![gsi.clone()]);
    assert!(t.attributes.contains(&key("g", "N")));
    let e = ddb.update_table("t", &add, 2_000).expect_err("exists");
    assert_eq!(
        e.to_string(),
        "Attempting to create an index which already exists"
    );
    // Writes now check the index key type.
    let bad = put_op("t", json!({"pk": {"S": "a"}, "g": {"S": "x"}}));
    assert!(ddb.write_batch(&[bad], 2_500).is_err());
    let drop_it = TableUpdate {
        indexes: vec![IndexChange::Delete("by_g".into())],
        ..TableUpdate::default()
    };
    let t = ddb.update_table("t", &drop_it, 3_000).expect("drop");
    assert!(t.indexes.is_empty());
    assert_eq!(t.attributes, vec![key("pk", "S")]);
    assert!(matches!(
        ddb.update_table("t", &drop_it, 3_000),
        Err(DynamoError::ResourceNotFound(_))
    ));
}

#[test]
fn client_request_tokens_make_transactions_idempotent() {
    let (_dir, _meta, ddb) = open();
    let a = ddb.create_table(spec("a", false), 1_000).expect("a");
    let arn = a.stream.expect("stream").arn;
    let mut s = subs(json!({":one": {"N": "1"}}), &[]);
    let add = expr::parse_update("ADD n :one", &mut s).expect("update");
    let ops = vec![WriteOp {
        table: "a".into(),
        key: item(json!({"pk": {"S": "k"}})),
        kind: WriteKind::Update(add),
        condition: None,
    }];
    for _ in 0..3 {
        ddb.write_transaction_once(&ops, Some("tok"), 2_000)
            .expect("applies once");
    }
    let n = |ddb: &DynamoStore| {
        ddb.get_item("a", &item(json!({"pk": {"S": "k"}})))
            .expect("get")
            .map(|i| i["n"].clone())
    };
    assert_eq!(n(&ddb), Some(Av::N("1".into())));
    assert_eq!(event_names(&ddb, &arn), ["INSERT"]);
    let other = vec![put_op("a", json!({"pk": {"S": "other"}}))];
    assert!(matches!(
        ddb.write_transaction_once(&other, Some("tok"), 2_500),
        Err(DynamoError::IdempotentParameterMismatch)
    ));
    // Ten minutes later the token is new again.
    ddb.write_transaction_once(&ops, Some("tok"), 2_000 + TOKEN_TTL_MS)
        .expect("applies again");
    assert_eq!(n(&ddb), Some(Av::N("2".into())));
    ddb.trim_streams(2_000 + 3 * TOKEN_TTL_MS, u64::MAX)
        .expect("sweeps tokens");
    ddb.write_transaction_once(&other, Some("tok"), 2_000 + 3 * TOKEN_TTL_MS)
        .expect("token forgotten");
}

#[test]
fn a_closed_stream_is_forgotten_once_retention_has_passed() {
    let (_dir, _meta, ddb) = open();
    let t = ddb
        .create_table(spec("gone", false), 1_000)
        .expect("create");
    let arn = t.stream.expect("stream").arn;
    ddb.write_batch(&[put_op("gone", json!({"pk": {"S": "a"}}))], 2_000)
        .expect("put");
    let disable = TableUpdate {
        stream: Some(None),
        ..TableUpdate::default()
    };
    ddb.update_table("gone", &disable, 3_000).expect("disable");
    // Within retention: still readable, DISABLED.
    assert_eq!(ddb.trim_streams(3_500, 1_000).expect("trim"), 1);
    assert!(!ddb.stream(&arn).expect("kept").enabled());
    // Retention past the close: gone.
    ddb.trim_streams(4_500, 1_000).expect("trim");
    assert!(matches!(
        ddb.stream(&arn),
        Err(DynamoError::ResourceNotFound(_))
    ));
    assert!(ddb.list_streams().expect("list").is_empty());
    // The table's open stream is never dropped.
    let t = ddb
        .create_table(spec("kept", false), 5_000)
        .expect("create");
    ddb.trim_streams(u64::MAX / 2, 1_000).expect("trim");
    assert!(ddb.stream(&t.stream.expect("stream").arn).is_ok());
}
