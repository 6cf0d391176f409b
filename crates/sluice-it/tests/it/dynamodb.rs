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

fn ddb(endpoint: &str) -> aws_sdk_dynamodb::Client {
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
