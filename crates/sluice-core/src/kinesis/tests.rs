#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::iterator::ITERATOR_TTL_MS;
use super::shards::{parse_shard_id, shard_id};
use super::*;

fn covers_all(layout: &ShardLayout) {
    let mut open: Vec<HashRange> = layout.open().map(|s| s.range).collect();
    open.sort_by_key(|r| r.start);
    assert_eq!(open.first().unwrap().start, 0);
    assert_eq!(open.last().unwrap().end, u128::MAX);
    for w in open.windows(2) {
        assert_eq!(w[0].end + 1, w[1].start, "{open:?}");
    }
}

#[test]
fn initial_layouts_match_aws_ranges() {
    let two = ShardLayout::initial(2, 0);
    assert_eq!(
        two.shards[0].range.end,
        170141183460469231731687303715884105727
    );
    assert_eq!(
        two.shards[1].range.start,
        170141183460469231731687303715884105728
    );
    let three = ShardLayout::initial(3, 0);
    assert_eq!(
        three.shards[0].range.end,
        113427455640312821154458202477256070484
    );
    assert_eq!(
        three.shards[1].range.start,
        113427455640312821154458202477256070485
    );
    assert_eq!(
        three.shards[2].range.start,
        226854911280625642308916404954512140970
    );
    for n in [1, 2, 3, 4, 7, 10, 64, 500] {
        let l = ShardLayout::initial(n, 0);
        assert_eq!(l.open_count(), n);
        covers_all(&l);
    }
}

#[test]
fn records_route_by_md5_of_the_partition_key() {
    // MD5("a") = 0cc175b9c0f1b6a831c399e269772661
    assert_eq!(hash_key_of("a"), 0x0cc175b9c0f1b6a831c399e269772661);
    let l = ShardLayout::initial(4, 0);
    assert_eq!(l.route(hash_key_of("a")).unwrap().ordinal, 0);
}

#[test]
fn split_merge_and_rescale_keep_the_space_covered() {
    let mut l = ShardLayout::initial(2, 0);
    let mid = l.shards[0].range.end / 2;
    let kids = l.split("shardId-000000000000", mid, "s", "0", 1).unwrap();
    assert_eq!(kids, [2, 3]);
    assert!(l.get(0).unwrap().closed);
    assert_eq!(l.get(2).unwrap().parent, Some(0));
    covers_all(&l);
    assert!(matches!(
        l.split("shardId-000000000000", mid, "s", "0", 1),
        Err(Reshard::Closed(..))
    ));
    assert!(matches!(
        l.split("shardId-000000000001", 0, "s", "0", 1),
        Err(Reshard::BadSplitKey(..))
    ));
    assert!(matches!(
        l.split("shardId-000000000009", 5, "s", "0", 1),
        Err(Reshard::NoShard(..))
    ));
    assert!(matches!(
        l.merge("shardId-000000000002", "shardId-000000000001", "s", "0", 1),
        Err(Reshard::NotAdjacent(..))
    ));
    let child = l
        .merge("shardId-000000000003", "shardId-000000000001", "s", "0", 1)
        .unwrap();
    let c = l.get(child).unwrap();
    assert_eq!((c.parent, c.adjacent_parent), (Some(3), Some(1)));
    covers_all(&l);
    let created = l.rescale(5, 2);
    assert_eq!(created.len(), 5);
    covers_all(&l);
    for o in created {
        let s = l.get(o).unwrap();
        assert!(s.parents().count() >= 1);
        for p in s.parents() {
            let pr = l.get(p).unwrap().range;
            assert!(pr.start <= s.range.end && s.range.start <= pr.end);
        }
    }
}

#[test]
fn shard_ids_round_trip() {
    assert_eq!(shard_id(7), "shardId-000000000007");
    assert_eq!(parse_shard_id("shardId-000000000007"), Some(7));
    assert_eq!(parse_shard_id("shardId-7"), Some(7));
    assert_eq!(parse_shard_id("7"), None);
    assert_eq!(parse_shard_id("shardId-"), None);
}

#[test]
fn sequence_numbers_are_56_digits_in_order() {
    let a = SequenceNumber::new(1_700_000_000_000, 3, 41);
    let s = a.to_string();
    assert_eq!(s.len(), 56);
    assert_eq!(SequenceNumber::parse(&s), Some(a));
    let b = SequenceNumber::new(1_700_000_000_000, 3, 42);
    assert!(a.to_string() < b.to_string());
    assert!(SequenceNumber::new(1_700_000_000_000, 4, 0).to_string() > b.to_string());
    assert_eq!(SequenceNumber::parse("123"), None);
}

#[test]
fn iterators_expire_and_reject_tampering() {
    let key = IteratorKey::from_bytes([7; 32]);
    let it = ShardIterator {
        stream: "orders".into(),
        stream_epoch_ms: 1,
        shard: 2,
        index: 3,
        issued_ms: 1000,
    };
    let token = it.encode(&key);
    assert_eq!(
        ShardIterator::decode(&token, &key, 1000 + ITERATOR_TTL_MS).unwrap(),
        it
    );
    assert!(matches!(
        ShardIterator::decode(&token, &key, 1001 + ITERATOR_TTL_MS),
        Err(IteratorError::Expired { .. })
    ));
    let other = IteratorKey::from_bytes([8; 32]);
    assert_eq!(
        ShardIterator::decode(&token, &other, 1000),
        Err(IteratorError::Invalid)
    );
    assert_eq!(
        ShardIterator::decode("not base64!", &key, 1000),
        Err(IteratorError::Invalid)
    );
}

proptest! {
    #[test]
    fn any_altered_token_is_refused(flip in 0usize..64, bit in 0u8..8) {
        let key = IteratorKey::from_bytes([1; 32]);
        let it = ShardIterator { stream: "s".into(), stream_epoch_ms: 5, shard: 1, index: 9, issued_ms: 10 };
        let mut raw = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, it.encode(&key)).unwrap();
        let i = flip % raw.len();
        raw[i] ^= 1 << bit;
        let token = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, raw);
        prop_assert_eq!(ShardIterator::decode(&token, &key, 10), Err(IteratorError::Invalid));
    }

    #[test]
    fn divide_partitions_any_range(n in 1u32..1000) {
        let parts = HashRange::ALL.divide(n);
        prop_assert_eq!(parts.len() as u32, n);
        prop_assert_eq!(parts[0].start, 0);
        prop_assert_eq!(parts[parts.len() - 1].end, u128::MAX);
        for w in parts.windows(2) {
            prop_assert_eq!(w[0].end + 1, w[1].start);
        }
    }
}
