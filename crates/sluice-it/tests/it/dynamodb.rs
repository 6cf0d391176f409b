//! The embedded DynamoDB and DynamoDB Streams driven by aws-sdk-dynamodb and
//! aws-sdk-dynamodbstreams, and DynamoDB stream mappings delivering to an HTTP function.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use aws_sdk_lambda::types::EventSourcePosition;

use crate::harness::*;

pub(crate) fn ddb(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(endpoint)
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

fn streams(endpoint: &str) -> aws_sdk_dynamodbstreams::Client {
    let conf = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodbstreams::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodbstreams::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_dynamodbstreams::Client::from_conf(conf)
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.into())
}

/// Creates table `name` (hash `pk` S, range `sk` N when `range`) with a stream.
async fn create(
    c: &aws_sdk_dynamodb::Client,
    name: &str,
    range: bool,
    view: StreamViewType,
) -> String {
    let mut req = c
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(view)
                .build()
                .unwrap(),
        );
    if range {
        req = req
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("sk")
                    .attribute_type(ScalarAttributeType::N)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("sk")
                    .key_type(KeyType::Range)
                    .build()
                    .unwrap(),
            );
    }
    let out = req.send().await.unwrap();
    out.table_description()
        .unwrap()
        .latest_stream_arn()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_items_conditions_and_queries() {
    let f = ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await;
    let sl = Sluice::start(&f.url).await;
    let c = ddb(&sl.endpoint());
    let arn = create(&c, "orders", true, StreamViewType::NewAndOldImages).await;
    assert!(
        arn.starts_with("arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/"),
        "{arn}"
    );
    let tables = c.list_tables().send().await.unwrap();
    assert!(tables.table_names().contains(&"orders".to_owned()));
    assert!(
        tables.table_names().contains(&"users".to_owned()),
        "config table"
    );
    let d = c
        .describe_table()
        .table_name("orders")
        .send()
        .await
        .unwrap();
    let t = d.table().unwrap();
    assert_eq!(t.latest_stream_arn(), Some(arn.as_str()));
    assert_eq!(
        t.latest_stream_label(),
        arn.rsplit_once("/stream/").map(|x| x.1)
    );

    for i in 1..=5 {
        c.put_item()
            .table_name("orders")
            .item("pk", s("a"))
            .item("sk", n(&i.to_string()))
            .item("v", s(&format!("v{i}")))
            .send()
            .await
            .unwrap();
    }
    // Conditional put on an existing key fails with AWS's error.
    let err = c
        .put_item()
        .table_name("orders")
        .item("pk", s("a"))
        .item("sk", n("1"))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_conditional_check_failed_exception()),
        "{err:?}"
    );
    let up = c
        .update_item()
        .table_name("orders")
        .key("pk", s("a"))
        .key("sk", n("1"))
        .update_expression("SET #v = :v, cnt = if_not_exists(cnt, :zero) + :one REMOVE gone")
        .condition_expression("v = :old")
        .expression_attribute_names("#v", "v")
        .expression_attribute_values(":v", s("changed"))
        .expression_attribute_values(":old", s("v1"))
        .expression_attribute_values(":zero", n("0"))
        .expression_attribute_values(":one", n("1"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    let attrs = up.attributes().unwrap();
    assert_eq!(attrs.get("v"), Some(&s("changed")));
    assert_eq!(attrs.get("cnt"), Some(&n("1")));

    let got = c
        .get_item()
        .table_name("orders")
        .key("pk", s("a"))
        .key("sk", n("1"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.item().unwrap().get("v"), Some(&s("changed")));

    let q = c
        .query()
        .table_name("orders")
        .key_condition_expression("pk = :p AND sk BETWEEN :lo AND :hi")
        .expression_attribute_values(":p", s("a"))
        .expression_attribute_values(":lo", n("2"))
        .expression_attribute_values(":hi", n("4"))
        .scan_index_forward(false)
        .send()
        .await
        .unwrap();
    let sks: Vec<_> = q.items().iter().map(|i| i["sk"].clone()).collect();
    assert_eq!(sks, [n("4"), n("3"), n("2")]);

    let mut seen = 0;
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    loop {
        let page = c
            .scan()
            .table_name("orders")
            .limit(2)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        seen += page.items().len();
        match page.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => break,
        }
    }
    assert_eq!(seen, 5);

    let del = c
        .delete_item()
        .table_name("orders")
        .key("pk", s("a"))
        .key("sk", n("2"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(del.attributes().unwrap().get("v"), Some(&s("v2")));

    let missing = c
        .get_item()
        .table_name("nope")
        .key("pk", s("a"))
        .send()
        .await
        .unwrap_err();
    assert!(
        missing
            .as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{missing:?}"
    );
    let bad = c
        .put_item()
        .table_name("orders")
        .item("sk", n("1"))
        .send()
        .await
        .unwrap_err();
    let meta = bad.as_service_error().map(|e| e.meta().clone()).unwrap();
    assert_eq!(meta.code(), Some("ValidationException"));
    assert_eq!(
        meta.message(),
        Some("One or more parameter values were invalid: Missing the key pk in the item")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_stream_records_through_the_streams_api_survive_restart() {
    let f = ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await;
    let mut sl = Sluice::start(&f.url).await;
    let c = ddb(&sl.endpoint());
    let arn = create(&c, "people", false, StreamViewType::NewAndOldImages).await;
    c.put_item()
        .table_name("people")
        .item("pk", s("p1"))
        .item("age", n("30"))
        .send()
        .await
        .unwrap();
    // The same item again changes nothing: no record.
    c.put_item()
        .table_name("people")
        .item("pk", s("p1"))
        .item("age", n("30"))
        .send()
        .await
        .unwrap();
    c.update_item()
        .table_name("people")
        .key("pk", s("p1"))
        .update_expression("ADD age :one")
        .expression_attribute_values(":one", n("1"))
        .send()
        .await
        .unwrap();
    c.delete_item()
        .table_name("people")
        .key("pk", s("p1"))
        .send()
        .await
        .unwrap();
    sl.restart().await;

    let st = streams(&sl.endpoint());
    let listed = st.list_streams().table_name("people").send().await.unwrap();
    assert_eq!(listed.streams().len(), 1);
    assert_eq!(listed.streams()[0].stream_arn(), Some(arn.as_str()));
    let d = st.describe_stream().stream_arn(&arn).send().await.unwrap();
    let desc = d.stream_description().unwrap();
    assert_eq!(desc.stream_status().map(|s| s.as_str()), Some("ENABLED"));
    let shard = &desc.shards()[0];
    let shard_id = shard.shard_id().unwrap();
    assert!(shard_id.starts_with("shardId-"), "{shard_id}");
    let it = st
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(shard_id)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap();
    let got = st
        .get_records()
        .shard_iterator(it.shard_iterator().unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<_> = got
        .records()
        .iter()
        .map(|r| r.event_name().unwrap().as_str().to_owned())
        .collect();
    assert_eq!(names, ["INSERT", "MODIFY", "REMOVE"]);
    let modify = got.records()[1].dynamodb().unwrap();
    let old = modify.old_image().unwrap();
    let new = modify.new_image().unwrap();
    assert_eq!(
        old.get("age"),
        Some(&aws_sdk_dynamodbstreams::types::AttributeValue::N(
            "30".into()
        ))
    );
    assert_eq!(
        new.get("age"),
        Some(&aws_sdk_dynamodbstreams::types::AttributeValue::N(
            "31".into()
        ))
    );
    let seqs: Vec<_> = got
        .records()
        .iter()
        .map(|r| r.dynamodb().unwrap().sequence_number().unwrap().to_owned())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // AFTER_SEQUENCE_NUMBER of the first record starts at the second.
    let after = st
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(shard_id)
        .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
        .sequence_number(&seqs[0])
        .send()
        .await
        .unwrap();
    let rest = st
        .get_records()
        .shard_iterator(after.shard_iterator().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.records().len(), 2);
    assert!(rest.next_shard_iterator().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_mapping_delivers_insert_modify_remove() {
    let mut f = ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await;
    let sl = Sluice::start(&f.url).await;
    let c = ddb(&sl.endpoint());
    let arn = create(&c, "accounts", false, StreamViewType::NewAndOldImages).await;
    c.put_item()
        .table_name("accounts")
        .item("pk", s("k1"))
        .item("n", n("1"))
        .send()
        .await
        .unwrap();
    let m = sl
        .lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(10)
        .send()
        .await
        .unwrap();
    wait_state(&sl.lambda(), m.uuid().unwrap(), "Enabled").await;
    c.update_item()
        .table_name("accounts")
        .key("pk", s("k1"))
        .update_expression("SET n = :two")
        .expression_attribute_values(":two", n("2"))
        .send()
        .await
        .unwrap();
    c.delete_item()
        .table_name("accounts")
        .key("pk", s("k1"))
        .send()
        .await
        .unwrap();
    let records = f.records(3).await;
    let names: Vec<_> = records
        .iter()
        .map(|r| r["eventName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["INSERT", "MODIFY", "REMOVE"]);
    let first = &records[0];
    assert_eq!(first["eventSource"], "aws:dynamodb");
    assert_eq!(first["eventVersion"], "1.1");
    assert_eq!(first["awsRegion"], "us-east-1");
    assert_eq!(first["eventSourceARN"], arn.as_str());
    let id = first["eventID"].as_str().unwrap();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    let d = &first["dynamodb"];
    assert_eq!(d["Keys"], serde_json::json!({"pk": {"S": "k1"}}));
    assert_eq!(d["NewImage"]["n"], serde_json::json!({"N": "1"}));
    assert!(d["ApproximateCreationDateTime"].is_f64());
    assert_eq!(d["StreamViewType"], "NEW_AND_OLD_IMAGES");
    assert!(d["SizeBytes"].as_u64().unwrap() > 0);
    assert_eq!(
        records[1]["dynamodb"]["OldImage"]["n"],
        serde_json::json!({"N": "1"})
    );
    assert_eq!(
        records[1]["dynamodb"]["NewImage"]["n"],
        serde_json::json!({"N": "2"})
    );
    assert!(records[2]["dynamodb"].get("NewImage").is_none());
    assert_eq!(
        records[2]["dynamodb"]["OldImage"]["n"],
        serde_json::json!({"N": "2"})
    );

    // A mapping on a stream that does not exist is refused.
    let err = sl
        .lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(
            "arn:aws:dynamodb:us-east-1:000000000000:table/ghost/stream/2026-01-01T00:00:00.000",
        )
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("InvalidParameterValueException"),
        "{err:?}"
    );
}

fn service_meta<E>(
    err: &aws_sdk_dynamodb::error::SdkError<E>,
) -> aws_sdk_dynamodb::error::ErrorMetadata
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::fmt::Debug,
{
    let e = err.as_service_error().expect("a service error");
    aws_sdk_dynamodb::error::ErrorMetadata::builder()
        .code(e.code().unwrap_or_default())
        .message(e.message().unwrap_or_default())
        .build()
}

fn put_request(pk: &str, sk: &str) -> aws_sdk_dynamodb::types::WriteRequest {
    aws_sdk_dynamodb::types::WriteRequest::builder()
        .put_request(
            aws_sdk_dynamodb::types::PutRequest::builder()
                .item("pk", s(pk))
                .item("sk", n(sk))
                .item("v", s(&format!("{pk}{sk}")))
                .build()
                .unwrap(),
        )
        .build()
}

fn delete_request(pk: &str, sk: &str) -> aws_sdk_dynamodb::types::WriteRequest {
    aws_sdk_dynamodb::types::WriteRequest::builder()
        .delete_request(
            aws_sdk_dynamodb::types::DeleteRequest::builder()
                .key("pk", s(pk))
                .key("sk", n(sk))
                .build()
                .unwrap(),
        )
        .build()
}

/// The event names of every record of `arn`'s first shard, oldest first.
async fn stream_event_names(st: &aws_sdk_dynamodbstreams::Client, arn: &str) -> Vec<String> {
    let d = st.describe_stream().stream_arn(arn).send().await.unwrap();
    let desc = d.stream_description().unwrap();
    let mut names = Vec::new();
    for shard in desc.shards() {
        let it = st
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shard.shard_id().unwrap())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap();
        let got = st
            .get_records()
            .shard_iterator(it.shard_iterator().unwrap())
            .send()
            .await
            .unwrap();
        names.extend(
            got.records()
                .iter()
                .map(|r| r.event_name().unwrap().as_str().to_owned()),
        );
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_batch_write_and_get_across_tables() {
    use aws_sdk_dynamodb::types::KeysAndAttributes;
    let f = ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await;
    let sl = Sluice::start(&f.url).await;
    let c = ddb(&sl.endpoint());
    let st = streams(&sl.endpoint());
    let arn_a = create(&c, "batch_a", true, StreamViewType::NewAndOldImages).await;
    create(&c, "batch_b", true, StreamViewType::KeysOnly).await;

    let out = c
        .batch_write_item()
        .request_items(
            "batch_a",
            (1..=20).map(|i| put_request("a", &i.to_string())).collect(),
        )
        .request_items(
            "batch_b",
            vec![put_request("b", "1"), put_request("b", "2")],
        )
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_items().is_none_or(HashMap::is_empty));
    let out = c
        .batch_write_item()
        .request_items(
            "batch_a",
            vec![delete_request("a", "1"), put_request("a", "2")],
        )
        .send()
        .await
        .unwrap();
    assert!(out.unprocessed_items().is_none_or(HashMap::is_empty));
    let names = stream_event_names(&st, &arn_a).await;
    assert_eq!(
        names.len(),
        21,
        "20 inserts, one remove; an unchanged put writes nothing"
    );
    assert_eq!(names.last().map(String::as_str), Some("REMOVE"));

    // 26 requests, duplicates, an empty list: AWS's texts, nothing written.
    let cases: Vec<(Vec<aws_sdk_dynamodb::types::WriteRequest>, &str)> = vec![
        (
            (1..=26).map(|i| put_request("z", &i.to_string())).collect(),
            "Too many items requested for the BatchWriteItem call",
        ),
        (
            vec![put_request("z", "1"), delete_request("z", "1")],
            "Provided list of item keys contains duplicates",
        ),
        (
            vec![],
            "1 validation error detected: Value '{batch_a=[]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]",
        ),
    ];
    for (list, want) in cases {
        let err = c
            .batch_write_item()
            .request_items("batch_a", list)
            .send()
            .await
            .unwrap_err();
        let meta = service_meta(&err);
        assert_eq!(meta.code(), Some("ValidationException"));
        assert_eq!(meta.message(), Some(want));
    }
    let err = c
        .batch_write_item()
        .request_items("batch_a", vec![put_request("z", "1")])
        .request_items("ghost", vec![put_request("z", "1")])
        .send()
        .await
        .unwrap_err();
    assert_eq!(service_meta(&err).code(), Some("ResourceNotFoundException"));
    let z = c
        .query()
        .table_name("batch_a")
        .key_condition_expression("pk = :z")
        .expression_attribute_values(":z", s("z"))
        .send()
        .await
        .unwrap();
    assert_eq!(z.count(), 0, "failed batches wrote nothing");

    let keys = |pk: &str, sks: &[&str]| {
        let mut b = KeysAndAttributes::builder();
        for sk in sks {
            b = b.keys(HashMap::from([
                ("pk".to_owned(), s(pk)),
                ("sk".to_owned(), n(sk)),
            ]));
        }
        b
    };
    let got = c
        .batch_get_item()
        .request_items(
            "batch_a",
            keys("a", &["2", "3", "1"])
                .projection_expression("sk, #v")
                .expression_attribute_names("#v", "v")
                .build()
                .unwrap(),
        )
        .request_items("batch_b", keys("b", &["1"]).build().unwrap())
        .send()
        .await
        .unwrap();
    let responses = got.responses().unwrap();
    let mut a: Vec<_> = responses["batch_a"]
        .iter()
        .map(|i| (i["sk"].clone(), i["v"].clone(), i.contains_key("pk")))
        .collect();
    a.sort_by_key(|(sk, _, _)| sk.as_n().unwrap().parse::<i32>().unwrap());
    assert_eq!(
        a,
        [(n("2"), s("a2"), false), (n("3"), s("a3"), false)],
        "the deleted item is left out; the projection applies"
    );
    assert_eq!(responses["batch_b"].len(), 1);
    assert!(got.unprocessed_keys().is_none_or(HashMap::is_empty));
    let err = c
        .batch_get_item()
        .request_items("batch_a", keys("a", &["2", "2"]).build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        service_meta(&err).message(),
        Some("Provided list of item keys contains duplicates")
    );
    let many: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let err = c
        .batch_get_item()
        .request_items("batch_a", keys("a", &many).build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        service_meta(&err).message(),
        Some("Too many items requested for the BatchGetItem call")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_transactions_commit_or_cancel_whole() {
    use aws_sdk_dynamodb::types::{
        ConditionCheck, Delete, Get, Put, ReturnValuesOnConditionCheckFailure, TransactGetItem,
        TransactWriteItem, Update,
    };
    let f = ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await;
    let sl = Sluice::start(&f.url).await;
    let c = ddb(&sl.endpoint());
    let st = streams(&sl.endpoint());
    let arn = create(&c, "ledger", true, StreamViewType::NewAndOldImages).await;
    c.put_item()
        .table_name("ledger")
        .item("pk", s("acct"))
        .item("sk", n("1"))
        .item("balance", n("100"))
        .send()
        .await
        .unwrap();
    let key = |sk: &str| HashMap::from([("pk".to_owned(), s("acct")), ("sk".to_owned(), n(sk))]);
    let debit = |amount: &str| {
        TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name("ledger")
                    .set_key(Some(key("1")))
                    .update_expression("SET balance = balance - :a")
                    .condition_expression("balance >= :a")
                    .expression_attribute_values(":a", n(amount))
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let entry = |sk: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name("ledger")
                    .item("pk", s("acct"))
                    .item("sk", n(sk))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .unwrap(),
            )
            .build()
    };
    c.transact_write_items()
        .transact_items(debit("30"))
        .transact_items(entry("2"))
        .send()
        .await
        .unwrap();

    // Overdrawn: cancelled with one reason per action, nothing applied.
    let err = c
        .transact_write_items()
        .transact_items(debit("500"))
        .transact_items(entry("3"))
        .send()
        .await
        .unwrap_err();
    let svc = err.into_service_error();
    let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(tc) = svc else {
        panic!("{svc:?}");
    };
    assert_eq!(
        tc.message(),
        Some(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]"
        )
    );
    let reasons = tc.cancellation_reasons();
    assert_eq!(reasons.len(), 2);
    assert_eq!(reasons[0].code(), Some("ConditionalCheckFailed"));
    assert_eq!(reasons[0].message(), Some("The conditional request failed"));
    assert_eq!(
        reasons[0].item().and_then(|i| i.get("balance")),
        Some(&n("70"))
    );
    assert_eq!(reasons[1].code(), Some("None"));

    // Two actions on one item.
    let err = c
        .transact_write_items()
        .transact_items(debit("1"))
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name("ledger")
                        .set_key(Some(key("1")))
                        .condition_expression("attribute_exists(pk)")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let meta = service_meta(&err);
    assert_eq!(meta.code(), Some("ValidationException"));
    assert_eq!(
        meta.message(),
        Some("Transaction request cannot include multiple operations on one item")
    );

    // A delete and a check together.
    c.transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name("ledger")
                        .set_key(Some(key("2")))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name("ledger")
                        .set_key(Some(key("1")))
                        .condition_expression("balance = :b")
                        .expression_attribute_values(":b", n("70"))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();

    let got = c
        .transact_get_items()
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name("ledger")
                        .set_key(Some(key("1")))
                        .projection_expression("balance")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name("ledger")
                        .set_key(Some(key("2")))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let r = got.responses();
    assert_eq!(r.len(), 2);
    assert_eq!(
        r[0].item().cloned(),
        Some(HashMap::from([("balance".to_owned(), n("70"))]))
    );
    assert!(r[1].item().is_none(), "deleted in the transaction");
    assert_eq!(
        stream_event_names(&st, &arn).await,
        ["INSERT", "MODIFY", "INSERT", "REMOVE"],
        "one record per change, none for the cancelled transaction or the check"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_update_table_streams_and_billing() {
    let f = ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await;
    let sl = Sluice::start(&f.url).await;
    let c = ddb(&sl.endpoint());
    let st = streams(&sl.endpoint());
    let first = create(&c, "evolving", false, StreamViewType::NewImage).await;
    let stream_spec = |on: bool, view: Option<StreamViewType>| {
        StreamSpecification::builder()
            .stream_enabled(on)
            .set_stream_view_type(view)
            .build()
            .unwrap()
    };
    let err = c
        .update_table()
        .table_name("evolving")
        .stream_specification(stream_spec(true, Some(StreamViewType::KeysOnly)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        service_meta(&err).message(),
        Some("Table already has an enabled stream: TableName: evolving")
    );
    c.put_item()
        .table_name("evolving")
        .item("pk", s("1"))
        .send()
        .await
        .unwrap();
    let out = c
        .update_table()
        .table_name("evolving")
        .stream_specification(stream_spec(false, None))
        .send()
        .await
        .unwrap();
    let t = out.table_description().unwrap();
    assert!(t.stream_specification().is_none());
    assert_eq!(t.latest_stream_arn(), Some(first.as_str()));
    let err = c
        .update_table()
        .table_name("evolving")
        .stream_specification(stream_spec(false, None))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        service_meta(&err).message(),
        Some("Table has no stream to disable: TableName: evolving")
    );
    let d = st
        .describe_stream()
        .stream_arn(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.stream_description()
            .unwrap()
            .stream_status()
            .map(|s| s.as_str()),
        Some("DISABLED")
    );
    assert_eq!(stream_event_names(&st, &first).await, ["INSERT"]);

    let out = c
        .update_table()
        .table_name("evolving")
        .stream_specification(stream_spec(true, Some(StreamViewType::KeysOnly)))
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(
            aws_sdk_dynamodb::types::ProvisionedThroughput::builder()
                .read_capacity_units(3)
                .write_capacity_units(4)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let second = out
        .table_description()
        .unwrap()
        .latest_stream_arn()
        .unwrap()
        .to_owned();
    assert_ne!(second, first);
    let d = c
        .describe_table()
        .table_name("evolving")
        .send()
        .await
        .unwrap();
    let t = d.table().unwrap();
    assert_eq!(t.latest_stream_arn(), Some(second.as_str()));
    assert_eq!(
        t.stream_specification().and_then(|s| s.stream_view_type()),
        Some(&StreamViewType::KeysOnly)
    );
    assert_eq!(
        t.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::Provisioned)
    );
    let pt = t.provisioned_throughput().unwrap();
    assert_eq!(
        (pt.read_capacity_units(), pt.write_capacity_units()),
        (Some(3), Some(4))
    );
    c.put_item()
        .table_name("evolving")
        .item("pk", s("2"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream_event_names(&st, &second).await, ["INSERT"]);
    assert_eq!(stream_event_names(&st, &first).await, ["INSERT"]);
    let listed = st
        .list_streams()
        .table_name("evolving")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.streams().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_secondary_indexes_describe_query_and_scan() {
    use aws_sdk_dynamodb::types::{
        GlobalSecondaryIndex, LocalSecondaryIndex, Projection, ProjectionType,
    };
    let f = ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await;
    let sl = Sluice::start(&f.url).await;
    let c = ddb(&sl.endpoint());
    let def = |name: &str, t: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(t)
            .build()
            .unwrap()
    };
    let key = |name: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(t)
            .build()
            .unwrap()
    };
    let base = || {
        c.create_table()
            .table_name("tickets")
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(def("pk", ScalarAttributeType::S))
            .attribute_definitions(def("sk", ScalarAttributeType::N))
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
    };
    let gsi = GlobalSecondaryIndex::builder()
        .index_name("by_owner")
        .key_schema(key("owner", KeyType::Hash))
        .key_schema(key("due", KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .non_key_attributes("title")
                .build(),
        )
        .build()
        .unwrap();
    let lsi = LocalSecondaryIndex::builder()
        .index_name("by_due")
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("due", KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::KeysOnly)
                .build(),
        )
        .build()
        .unwrap();

    // The index key attribute must be defined.
    let err = base()
        .global_secondary_indexes(gsi.clone())
        .attribute_definitions(def("owner", ScalarAttributeType::S))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        service_meta(&err).message(),
        Some(
            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [due], AttributeDefinitions: [pk, sk, owner]"
        )
    );
    let bad_lsi = LocalSecondaryIndex::builder()
        .index_name("wrong")
        .key_schema(key("owner", KeyType::Hash))
        .key_schema(key("due", KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .unwrap();
    let err = base()
        .attribute_definitions(def("owner", ScalarAttributeType::S))
        .attribute_definitions(def("due", ScalarAttributeType::N))
        .local_secondary_indexes(bad_lsi)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        service_meta(&err).message(),
        Some(
            "One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: wrong. index hash key: owner, table hash key: pk"
        )
    );

    base()
        .attribute_definitions(def("owner", ScalarAttributeType::S))
        .attribute_definitions(def("due", ScalarAttributeType::N))
        .global_secondary_indexes(gsi)
        .local_secondary_indexes(lsi)
        .send()
        .await
        .unwrap();
    for (pk, sk, owner, due) in [
        ("p1", "1", Some("ann"), "30"),
        ("p1", "2", Some("ann"), "10"),
        ("p2", "1", Some("bob"), "20"),
        ("p2", "2", Some("ann"), "20"),
        ("p3", "1", None, "5"),
    ] {
        let mut put = c
            .put_item()
            .table_name("tickets")
            .item("pk", s(pk))
            .item("sk", n(sk))
            .item("due", n(due))
            .item("title", s(&format!("{pk}/{sk}")))
            .item("body", s("long"));
        if let Some(o) = owner {
            put = put.item("owner", s(o));
        }
        put.send().await.unwrap();
    }
    let d = c
        .describe_table()
        .table_name("tickets")
        .send()
        .await
        .unwrap();
    let t = d.table().unwrap();
    let g = &t.global_secondary_indexes()[0];
    assert_eq!(g.index_name(), Some("by_owner"));
    assert_eq!(g.index_status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(g.item_count(), Some(4), "sparse: p3 has no owner");
    assert_eq!(
        g.index_arn(),
        Some("arn:aws:dynamodb:us-east-1:000000000000:table/tickets/index/by_owner")
    );
    assert_eq!(
        g.projection().and_then(|p| p.projection_type()),
        Some(&ProjectionType::Include)
    );
    let l = &t.local_secondary_indexes()[0];
    assert_eq!(l.index_name(), Some("by_due"));
    assert_eq!(l.item_count(), Some(5));

    // Query the GSI, two per page: due order, projected, keys carry index + table key.
    let mut seen = Vec::new();
    let mut start = None;
    loop {
        let page = c
            .query()
            .table_name("tickets")
            .index_name("by_owner")
            .key_condition_expression("#o = :o AND due >= :d")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":o", s("ann"))
            .expression_attribute_values(":d", n("10"))
            .limit(2)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        for i in page.items() {
            assert!(i.contains_key("title") && !i.contains_key("body"), "{i:?}");
            seen.push(i["title"].as_s().unwrap().clone());
        }
        match page.last_evaluated_key() {
            Some(k) => {
                let mut names: Vec<_> = k.keys().cloned().collect();
                names.sort();
                assert_eq!(names, ["due", "owner", "pk", "sk"]);
                start = Some(k.clone());
            }
            None => break,
        }
    }
    assert_eq!(seen, ["p1/2", "p2/2", "p1/1"]);

    let q = c
        .query()
        .table_name("tickets")
        .index_name("by_due")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p1"))
        .scan_index_forward(false)
        .send()
        .await
        .unwrap();
    let dues: Vec<_> = q.items().iter().map(|i| i["due"].clone()).collect();
    assert_eq!(dues, [n("30"), n("10")]);
    assert!(
        q.items().iter().all(|i| !i.contains_key("title")),
        "KEYS_ONLY"
    );

    let scan = c
        .scan()
        .table_name("tickets")
        .index_name("by_owner")
        .send()
        .await
        .unwrap();
    assert_eq!(scan.count(), 4);
    let err = c
        .query()
        .table_name("tickets")
        .index_name("nope")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        service_meta(&err).message(),
        Some("The table does not have the specified index: nope")
    );
    let err = c
        .put_item()
        .table_name("tickets")
        .item("pk", s("p9"))
        .item("sk", n("1"))
        .item("owner", n("7"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        service_meta(&err).message(),
        Some(
            "One or more parameter values were invalid: Type mismatch for Index Key owner Expected: S Actual: N IndexName: by_owner"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_ttl_expiry_reaches_the_function_as_a_service_remove() {
    use aws_sdk_dynamodb::types::{TimeToLiveSpecification, TimeToLiveStatus};
    let mut f = ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await;
    let sl = Sluice::start(&f.url).await;
    let c = ddb(&sl.endpoint());
    let st = streams(&sl.endpoint());
    let arn = create(&c, "sessions", false, StreamViewType::NewAndOldImages).await;
    let ttl = |on: bool| {
        TimeToLiveSpecification::builder()
            .enabled(on)
            .attribute_name("expires")
            .build()
            .unwrap()
    };
    let out = c
        .update_time_to_live()
        .table_name("sessions")
        .time_to_live_specification(ttl(true))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.time_to_live_specification().map(|s| s.attribute_name()),
        Some("expires")
    );
    let err = c
        .update_time_to_live()
        .table_name("sessions")
        .time_to_live_specification(ttl(true))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        service_meta(&err).message(),
        Some("TimeToLive is already enabled")
    );
    let d = c
        .describe_time_to_live()
        .table_name("sessions")
        .send()
        .await
        .unwrap();
    let desc = d.time_to_live_description().unwrap();
    assert_eq!(desc.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(desc.attribute_name(), Some("expires"));

    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for (pk, at) in [("gone", now_s - 60), ("kept", now_s + 3600)] {
        c.put_item()
            .table_name("sessions")
            .item("pk", s(pk))
            .item("expires", n(&at.to_string()))
            .send()
            .await
            .unwrap();
    }
    let m = sl
        .lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();
    wait_state(&sl.lambda(), m.uuid().unwrap(), "Enabled").await;
    // The expirer's timer, driven directly with the current time.
    let store = sl.server.as_ref().unwrap().dynamodb().clone();
    let now_ms = now_s * 1000 + 999;
    let deleted = tokio::task::spawn_blocking(move || store.expire_now(now_ms))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deleted, 1);

    let records = f.records(3).await;
    let names: Vec<_> = records
        .iter()
        .map(|r| r["eventName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["INSERT", "INSERT", "REMOVE"]);
    let remove = &records[2];
    assert_eq!(
        remove["dynamodb"]["Keys"],
        serde_json::json!({"pk": {"S": "gone"}})
    );
    assert_eq!(
        remove["userIdentity"],
        serde_json::json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
    );
    assert!(records[0].get("userIdentity").is_none());

    // The Streams API shape of the same record.
    let d = st.describe_stream().stream_arn(&arn).send().await.unwrap();
    let shard = d.stream_description().unwrap().shards()[0]
        .shard_id()
        .unwrap()
        .to_owned();
    let it = st
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap();
    let got = st
        .get_records()
        .shard_iterator(it.shard_iterator().unwrap())
        .send()
        .await
        .unwrap();
    let identity = got.records()[2].user_identity().unwrap();
    assert_eq!(identity.principal_id(), Some("dynamodb.amazonaws.com"));
    assert_eq!(identity.r#type(), Some("Service"));
    let kept = c
        .get_item()
        .table_name("sessions")
        .key("pk", s("kept"))
        .send()
        .await
        .unwrap();
    assert!(kept.item().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_mapping_delivers_across_shard_rollovers_in_order() {
    let mut f = ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await;
    let sl = Sluice::start(&f.url).await;
    let c = ddb(&sl.endpoint());
    let st = streams(&sl.endpoint());
    let arn = create(&c, "rolling", false, StreamViewType::NewImage).await;
    let m = sl
        .lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(2)
        .send()
        .await
        .unwrap();
    wait_state(&sl.lambda(), m.uuid().unwrap(), "Enabled").await;
    let store = sl.server.as_ref().unwrap().dynamodb().clone();
    let put = |i: usize| {
        c.put_item()
            .table_name("rolling")
            .item("pk", s(&format!("k{i}")))
            .item("n", n(&i.to_string()))
            .send()
    };
    let mut next = 0;
    for _round in 0..3 {
        for _ in 0..3 {
            put(next).await.unwrap();
            next += 1;
        }
        // The rollover timer, forced.
        let (s2, a2) = (store.clone(), arn.clone());
        let rolled = tokio::task::spawn_blocking(move || s2.roll_over(&a2, now_ms()))
            .await
            .unwrap()
            .unwrap();
        assert!(rolled.is_some());
    }
    put(next).await.unwrap();
    let records = f.records(10).await;
    let ns: Vec<_> = records
        .iter()
        .map(|r| {
            r["dynamodb"]["NewImage"]["n"]["N"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let want: Vec<_> = (0..10).map(|i| i.to_string()).collect();
    assert_eq!(
        ns, want,
        "every record once, in write order, across three rollovers"
    );

    let d = st.describe_stream().stream_arn(&arn).send().await.unwrap();
    let shards = d.stream_description().unwrap().shards();
    assert_eq!(shards.len(), 4);
    for pair in shards.windows(2) {
        assert_eq!(pair[1].parent_shard_id(), pair[0].shard_id());
        assert!(
            pair[0]
                .sequence_number_range()
                .unwrap()
                .ending_sequence_number()
                .is_some()
        );
    }
    assert!(shards[0].parent_shard_id().is_none());
    assert!(
        shards[3]
            .sequence_number_range()
            .unwrap()
            .ending_sequence_number()
            .is_none()
    );
    // A closed shard read to its end: its records only, then no NextShardIterator.
    let it = st
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(shards[1].shard_id().unwrap())
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap();
    let got = st
        .get_records()
        .shard_iterator(it.shard_iterator().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(got.records().len(), 3);
    assert!(got.next_shard_iterator().is_none());
    let first_seq = got.records()[0]
        .dynamodb()
        .unwrap()
        .sequence_number()
        .unwrap()
        .to_owned();

    // Retention: a day later the old records are gone and asking for them says so.
    let s2 = store.clone();
    let trimmed = tokio::task::spawn_blocking(move || {
        s2.trim_streams(now_ms() + 25 * 3600 * 1000, 24 * 3600 * 1000)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(trimmed, 10);
    let err = st
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(shards[1].shard_id().unwrap())
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .sequence_number(&first_seq)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_trimmed_data_access_exception()),
        "{err:?}"
    );
}

fn now_ms() -> u64 {
    u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_update_table_creates_and_deletes_gsis() {
    use aws_sdk_dynamodb::types::{
        CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction,
        GlobalSecondaryIndexUpdate, Projection, ProjectionType,
    };
    let f = ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await;
    let sl = Sluice::start(&f.url).await;
    let c = ddb(&sl.endpoint());
    create(&c, "people_idx", false, StreamViewType::KeysOnly).await;
    for (pk, city) in [("a", Some("oslo")), ("b", Some("rome")), ("c", None)] {
        let mut put = c.put_item().table_name("people_idx").item("pk", s(pk));
        if let Some(city) = city {
            put = put.item("city", s(city));
        }
        put.send().await.unwrap();
    }
    let create_gsi = |name: &str| {
        GlobalSecondaryIndexUpdate::builder()
            .create(
                CreateGlobalSecondaryIndexAction::builder()
                    .index_name(name)
                    .key_schema(
                        KeySchemaElement::builder()
                            .attribute_name("city")
                            .key_type(KeyType::Hash)
                            .build()
                            .unwrap(),
                    )
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let city_def = AttributeDefinition::builder()
        .attribute_name("city")
        .attribute_type(ScalarAttributeType::S)
        .build()
        .unwrap();
    c.update_table()
        .table_name("people_idx")
        .attribute_definitions(city_def.clone())
        .global_secondary_index_updates(create_gsi("by_city"))
        .send()
        .await
        .unwrap();
    let d = c
        .describe_table()
        .table_name("people_idx")
        .send()
        .await
        .unwrap();
    let t = d.table().unwrap();
    assert_eq!(t.global_secondary_indexes().len(), 1);
    assert_eq!(
        t.global_secondary_indexes()[0].item_count(),
        Some(2),
        "backfilled, sparse"
    );
    assert_eq!(t.attribute_definitions().len(), 2);
    let q = c
        .query()
        .table_name("people_idx")
        .index_name("by_city")
        .key_condition_expression("city = :c")
        .expression_attribute_values(":c", s("rome"))
        .send()
        .await
        .unwrap();
    assert_eq!(q.items()[0].get("pk"), Some(&s("b")));

    let err = c
        .update_table()
        .table_name("people_idx")
        .attribute_definitions(city_def)
        .global_secondary_index_updates(create_gsi("by_city"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        service_meta(&err).message(),
        Some("Attempting to create an index which already exists")
    );
    let err = c
        .update_table()
        .table_name("people_idx")
        .global_secondary_index_updates(create_gsi("by_town"))
        .global_secondary_index_updates(create_gsi("by_town"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        service_meta(&err).message(),
        Some(
            "One or more parameter values were invalid: Only one global secondary index update per index is allowed simultaneously. Index: by_town"
        )
    );

    c.update_table()
        .table_name("people_idx")
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .delete(
                    DeleteGlobalSecondaryIndexAction::builder()
                        .index_name("by_city")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let d = c
        .describe_table()
        .table_name("people_idx")
        .send()
        .await
        .unwrap();
    let t = d.table().unwrap();
    assert!(t.global_secondary_indexes().is_empty());
    assert_eq!(
        t.attribute_definitions().len(),
        1,
        "city's definition went with it"
    );
    let err = c
        .query()
        .table_name("people_idx")
        .index_name("by_city")
        .key_condition_expression("city = :c")
        .expression_attribute_values(":c", s("rome"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(service_meta(&err).code(), Some("ValidationException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_latest_mapping_skips_closed_shards_and_older_records() {
    let mut f = ScriptedFunction::start(Arc::new(|_| (200, "{}".into()))).await;
    let sl = Sluice::start(&f.url).await;
    let c = ddb(&sl.endpoint());
    let arn = create(&c, "latest_rolled", false, StreamViewType::NewImage).await;
    let store = sl.server.as_ref().unwrap().dynamodb().clone();
    let put = |i: usize| {
        c.put_item()
            .table_name("latest_rolled")
            .item("pk", s(&format!("k{i}")))
            .item("n", n(&i.to_string()))
            .send()
    };
    // Two closed shards and an open one, all with records, before the mapping exists.
    for i in 0..3 {
        put(i).await.unwrap();
        if i < 2 {
            let (s2, a2) = (store.clone(), arn.clone());
            tokio::task::spawn_blocking(move || s2.roll_over(&a2, now_ms()))
                .await
                .unwrap()
                .unwrap()
                .unwrap();
        }
    }
    let m = sl
        .lambda()
        .create_event_source_mapping()
        .function_name("echo")
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::Latest)
        .send()
        .await
        .unwrap();
    wait_state(&sl.lambda(), m.uuid().unwrap(), "Enabled").await;
    put(10).await.unwrap();
    let first = f.records(1).await;
    assert_eq!(
        first[0]["dynamodb"]["NewImage"]["n"]["N"], "10",
        "nothing written before Create, from any shard"
    );
}
