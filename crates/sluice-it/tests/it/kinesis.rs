//! The embedded Kinesis through aws-sdk-kinesis.

use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType, StreamStatus};

use crate::harness::*;

async fn create(c: &aws_sdk_kinesis::Client, name: &str, shards: i32) {
    c.create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .unwrap();
    let d = c
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.stream_description_summary().unwrap().stream_status(),
        &StreamStatus::Active
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_and_read_with_every_iterator_type() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.kinesis();
    create(&c, "events", 1).await;

    let first = c
        .put_record()
        .stream_name("events")
        .partition_key("k")
        .data(Blob::new(b"one".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(first.shard_id(), "shardId-000000000000");
    assert_eq!(first.sequence_number().len(), 56);
    let entries: Vec<_> = (0..10)
        .map(|i| {
            PutRecordsRequestEntry::builder()
                .partition_key(format!("k{i}"))
                .data(Blob::new(format!("r{i}").into_bytes()))
                .build()
                .unwrap()
        })
        .collect();
    let batch = c
        .put_records()
        .stream_name("events")
        .set_records(Some(entries))
        .send()
        .await
        .unwrap();
    assert_eq!(batch.failed_record_count(), Some(0));
    assert_eq!(batch.records().len(), 10);
    let seqs: Vec<&str> = batch
        .records()
        .iter()
        .map(|r| r.sequence_number().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert!(first.sequence_number() < seqs[0]);

    let read = |it: String| {
        let c = c.clone();
        async move { c.get_records().shard_iterator(it).send().await.unwrap() }
    };
    let it = c
        .get_shard_iterator()
        .stream_name("events")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator()
        .unwrap()
        .to_owned();
    let all = read(it).await;
    assert_eq!(all.records().len(), 11);
    assert_eq!(all.records()[0].data().as_ref(), b"one");
    assert_eq!(all.records()[10].partition_key(), "k9");
    assert_eq!(all.millis_behind_latest(), Some(0));

    let at = c
        .get_shard_iterator()
        .stream_name("events")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .starting_sequence_number(seqs[3])
        .send()
        .await
        .unwrap();
    let got = read(at.shard_iterator().unwrap().to_owned()).await;
    assert_eq!(got.records()[0].sequence_number(), seqs[3]);
    let after = c
        .get_shard_iterator()
        .stream_name("events")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
        .starting_sequence_number(seqs[3])
        .send()
        .await
        .unwrap();
    let got = read(after.shard_iterator().unwrap().to_owned()).await;
    assert_eq!(got.records()[0].sequence_number(), seqs[4]);
    assert_eq!(got.records().len(), 6);

    let arrival = all.records()[5].approximate_arrival_timestamp().unwrap();
    let ts = c
        .get_shard_iterator()
        .stream_name("events")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::AtTimestamp)
        .timestamp(*arrival)
        .send()
        .await
        .unwrap();
    let got = read(ts.shard_iterator().unwrap().to_owned()).await;
    assert!(got.records().len() >= 6, "{}", got.records().len());

    let latest = c
        .get_shard_iterator()
        .stream_name("events")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::Latest)
        .send()
        .await
        .unwrap()
        .shard_iterator()
        .unwrap()
        .to_owned();
    let empty = read(latest.clone()).await;
    assert!(empty.records().is_empty());
    c.put_record()
        .stream_name("events")
        .partition_key("late")
        .data(Blob::new(b"late".to_vec()))
        .send()
        .await
        .unwrap();
    let next = read(empty.next_shard_iterator().unwrap().to_owned()).await;
    assert_eq!(next.records().len(), 1);
    assert_eq!(next.records()[0].data().as_ref(), b"late");

    let bad = c
        .get_records()
        .shard_iterator("AAAA")
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Some("InvalidArgumentException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_and_merge_show_children_at_shard_end() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start(&url).await;
    let c = s.kinesis();
    create(&c, "reshard", 1).await;
    for i in 0..5 {
        c.put_record()
            .stream_name("reshard")
            .partition_key(format!("p{i}"))
            .data(Blob::new(vec![i]))
            .send()
            .await
            .unwrap();
    }
    c.split_shard()
        .stream_name("reshard")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key("170141183460469231731687303715884105728")
        .send()
        .await
        .unwrap();
    let shards = c.list_shards().stream_name("reshard").send().await.unwrap();
    let ids: Vec<&str> = shards.shards().iter().map(|s| s.shard_id()).collect();
    assert_eq!(
        ids,
        [
            "shardId-000000000000",
            "shardId-000000000001",
            "shardId-000000000002"
        ]
    );
    assert_eq!(
        shards.shards()[1].parent_shard_id(),
        Some("shardId-000000000000")
    );
    assert!(
        shards.shards()[0]
            .sequence_number_range()
            .unwrap()
            .ending_sequence_number()
            .is_some()
    );

    let it = c
        .get_shard_iterator()
        .stream_name("reshard")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap();
    let out = c
        .get_records()
        .shard_iterator(it.shard_iterator().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(out.records().len(), 5);
    assert!(out.next_shard_iterator().is_none());
    let kids: Vec<&str> = out.child_shards().iter().map(|c| c.shard_id()).collect();
    assert_eq!(kids, ["shardId-000000000001", "shardId-000000000002"]);

    let e = c
        .put_record()
        .stream_name("nope")
        .partition_key("k")
        .data(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        e.message(),
        Some("Stream nope under account 000000000000 not found.")
    );

    c.merge_shards()
        .stream_name("reshard")
        .shard_to_merge("shardId-000000000001")
        .adjacent_shard_to_merge("shardId-000000000002")
        .send()
        .await
        .unwrap();
    let open = c
        .list_shards()
        .stream_name("reshard")
        .shard_filter(
            aws_sdk_kinesis::types::ShardFilter::builder()
                .r#type(aws_sdk_kinesis::types::ShardFilterType::AtLatest)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(open.shards().len(), 1);
    assert_eq!(
        open.shards()[0].adjacent_parent_shard_id(),
        Some("shardId-000000000002")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_survive_restart_and_streams_are_mapping_sources() {
    let (_f, url) = FakeFunction::start().await;
    let mut s = Sluice::start(&url).await;
    let c = s.kinesis();
    create(&c, "durable", 2).await;
    for i in 0..50 {
        c.put_record()
            .stream_name("durable")
            .partition_key(format!("key-{i}"))
            .data(Blob::new(format!("value-{i}").into_bytes()))
            .send()
            .await
            .unwrap();
    }
    let consumer = c
        .register_stream_consumer()
        .stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/durable")
        .consumer_name("efo")
        .send()
        .await
        .unwrap();
    let consumer_arn = consumer.consumer().unwrap().consumer_arn().to_owned();
    s.restart().await;
    let c = s.kinesis();
    let mut total = 0;
    for shard in ["shardId-000000000000", "shardId-000000000001"] {
        let it = c
            .get_shard_iterator()
            .stream_name("durable")
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap();
        let out = c
            .get_records()
            .shard_iterator(it.shard_iterator().unwrap())
            .send()
            .await
            .unwrap();
        total += out.records().len();
    }
    assert_eq!(total, 50);
    // The stream and its consumer are event sources now.
    let lambda = s.lambda();
    for arn in [
        "arn:aws:kinesis:us-east-1:000000000000:stream/durable",
        consumer_arn.as_str(),
    ] {
        lambda
            .create_event_source_mapping()
            .function_name("echo")
            .event_source_arn(arn)
            .starting_position(aws_sdk_lambda::types::EventSourcePosition::TrimHorizon)
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_limits_throttle_when_switched_on() {
    let (_f, url) = FakeFunction::start().await;
    let s = Sluice::start_with(&url, "\n[kinesis]\nshard_limits = true\n").await;
    let c = s.kinesis();
    create(&c, "limited", 1).await;
    // 500 records of 4 KiB is about 2 MiB: over one shard's 1 MiB per second.
    let entries: Vec<_> = (0..500)
        .map(|i| {
            PutRecordsRequestEntry::builder()
                .partition_key(format!("k{i}"))
                .data(Blob::new(vec![b'x'; 4096]))
                .build()
                .unwrap()
        })
        .collect();
    let out = c
        .put_records()
        .stream_name("limited")
        .set_records(Some(entries))
        .send()
        .await
        .unwrap();
    let failed = out.failed_record_count().unwrap_or(0);
    assert!(failed > 200, "{failed} records throttled");
    let throttled = out
        .records()
        .iter()
        .find(|r| r.error_code().is_some())
        .unwrap();
    assert_eq!(
        throttled.error_code(),
        Some("ProvisionedThroughputExceededException")
    );
    assert_eq!(
        throttled.error_message(),
        Some(
            "Rate exceeded for shard shardId-000000000000 in stream limited under account 000000000000."
        )
    );
    let it = c
        .get_shard_iterator()
        .stream_name("limited")
        .shard_id("shardId-000000000000")
        .shard_iterator_type(ShardIteratorType::Latest)
        .send()
        .await
        .unwrap()
        .shard_iterator()
        .unwrap()
        .to_owned();
    let mut saw_throttle = false;
    for _ in 0..20 {
        if let Err(e) = c.get_records().shard_iterator(&it).send().await {
            assert_eq!(e.code(), Some("ProvisionedThroughputExceededException"));
            saw_throttle = true;
            break;
        }
    }
    assert!(
        saw_throttle,
        "more than 5 GetRecords per second were all served"
    );
}
