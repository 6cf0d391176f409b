#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;
use serde_json::json;

/// No blob or timestamp members: CBOR and JSON map one to one.
const PLAIN: CborShapes = CborShapes {
    blobs: &[],
    timestamps: &[],
};

/// A CBOR text string header + bytes (definite, short).
fn text(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let n = s.len();
    if n < 24 {
        out.push(0x60 | n as u8);
    } else {
        assert!(n < 256);
        out.extend([0x78, n as u8]);
    }
    out.extend_from_slice(s.as_bytes());
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `{"StreamName": "s1", "Data": h'68656c6c6f', "PartitionKey": "pk"}` as a definite map.
fn put_record_definite() -> Vec<u8> {
    cat(&[
        &[0xa3],
        &text("StreamName"),
        &text("s1"),
        &text("Data"),
        &[0x45],
        b"hello",
        &text("PartitionKey"),
        &text("pk"),
    ])
}

#[test]
fn put_record_definite_map() {
    let body = put_record_definite();
    let v = decode_request(&body, &KINESIS).unwrap();
    assert_eq!(
        v,
        json!({"StreamName": "s1", "Data": "aGVsbG8=", "PartitionKey": "pk"})
    );
    // Member order is kept (serde_json preserve_order).
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["StreamName", "Data", "PartitionKey"]);
}

#[test]
fn put_record_indefinite_map_as_jackson_writes_it() {
    // Jackson: `writeStartObject()` -> 0xbf ... 0xff; long text as 0x7f chunks 0xff.
    let body = cat(&[
        &[0xbf],
        &text("StreamName"),
        &text("s1"),
        &text("Data"),
        // Indefinite byte string in two chunks: "hel" + "lo".
        &[0x5f, 0x43],
        b"hel",
        &[0x42],
        b"lo",
        &[0xff],
        &text("PartitionKey"),
        // Indefinite text in two chunks: "p" + "k", with an empty chunk between.
        &[0x7f, 0x61, b'p', 0x60, 0x61, b'k', 0xff],
        &text("ExplicitHashKey"),
        &text("123"),
        &[0xff],
    ]);
    let v = decode_request(&body, &KINESIS).unwrap();
    assert_eq!(
        v,
        json!({
            "StreamName": "s1",
            "Data": "aGVsbG8=",
            "PartitionKey": "pk",
            "ExplicitHashKey": "123"
        })
    );
}

#[test]
fn put_records_with_indefinite_array_of_indefinite_maps() {
    let entry = |data: &[u8], pk: &str| {
        cat(&[
            &[0xbf],
            &text("Data"),
            &[0x40 | data.len() as u8],
            data,
            &text("PartitionKey"),
            &text(pk),
            &[0xff],
        ])
    };
    let body = cat(&[
        &[0xbf],
        &text("Records"),
        &[0x9f],
        &entry(&[0, 1, 2], "a"),
        &entry(&[], "b"),
        &[0xff],
        &text("StreamName"),
        &text("s"),
        &[0xff],
    ]);
    let v = decode_request(&body, &KINESIS).unwrap();
    assert_eq!(
        v,
        json!({
            "Records": [
                {"Data": "AAEC", "PartitionKey": "a"},
                {"Data": "", "PartitionKey": "b"}
            ],
            "StreamName": "s"
        })
    );
}

#[test]
fn get_shard_iterator_timestamp_is_tag_1_epoch_millis() {
    // The wire capture of aws-sdk-java-v2's GetShardIterator(AT_TIMESTAMP) from floci-io/floci
    // issue #2368: `"Timestamp": c1 1b 000001a013accc38` = tag 1, u64 1787036486712 ms.
    let body = cat(&[
        &[0xbf],
        &text("ShardIteratorType"),
        &text("AT_TIMESTAMP"),
        &text("Timestamp"),
        &[0xc1, 0x1b, 0x00, 0x00, 0x01, 0xa0, 0x13, 0xac, 0xcc, 0x38],
        &[0xff],
    ]);
    let v = decode_request(&body, &KINESIS).unwrap();
    assert_eq!(v["ShardIteratorType"], "AT_TIMESTAMP");
    assert_eq!(v["Timestamp"].as_f64().unwrap(), 1_787_036_486.712);
}

#[test]
fn timestamps_without_tag_in_timestamp_members_and_tag_1_anywhere() {
    // An untagged number in a timestamp member is millis too (the SDK's payload format).
    let body = cat(&[
        &[0xa1],
        &text("StreamCreationTimestamp"),
        &[0x19, 0x05, 0xdc],
    ]);
    assert_eq!(
        decode_request(&body, &KINESIS).unwrap(),
        json!({"StreamCreationTimestamp": 1.5})
    );
    // Tag 1 around a float, outside a timestamp member; and tag 1 in an array.
    let body = cat(&[
        &[0xa2],
        &text("x"),
        &[0xc1, 0xfb],
        &2500.0f64.to_be_bytes(),
        &text("y"),
        &[0x81, 0xc1, 0x00],
    ]);
    assert_eq!(
        decode_request(&body, &PLAIN).unwrap(),
        json!({"x": 2.5, "y": [0.0]})
    );
    // A non-number inside tag 1 is refused; a string in a timestamp member passes through.
    assert!(decode_request(&[0xc1, 0x61, b'x'], &KINESIS).is_err());
    let body = cat(&[
        &[0xa1],
        &text("Timestamp"),
        &text("2016-04-04T19:58:46.480Z"),
    ]);
    assert_eq!(
        decode_request(&body, &KINESIS).unwrap(),
        json!({"Timestamp": "2016-04-04T19:58:46.480Z"})
    );
}

#[test]
fn scalars_decode_to_json() {
    let cases: &[(&[u8], Value)] = &[
        (&[0x00], json!(0)),
        (&[0x17], json!(23)),
        (&[0x18, 0xff], json!(255)),
        (
            &[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            json!(u64::MAX),
        ),
        (&[0x20], json!(-1)),
        (&[0x38, 0x63], json!(-100)),
        (
            &[0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            json!(i64::MIN),
        ),
        (&[0xf4], json!(false)),
        (&[0xf5], json!(true)),
        (&[0xf6], Value::Null),
        (&[0xf7], Value::Null),
        (&[0xf9, 0x3c, 0x00], json!(1.0)),
        (&[0xf9, 0xc4, 0x00], json!(-4.0)),
        (&[0xf9, 0x00, 0x01], json!(5.960464477539063e-8)),
        (&[0xfa, 0x3f, 0xc0, 0x00, 0x00], json!(1.5)),
        (
            &[0xfb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18],
            json!(std::f64::consts::PI),
        ),
        (&[0x60], json!("")),
        (&[0x40], json!("")),
        (&[0x80], json!([])),
        (&[0xa0], json!({})),
        (&[0x9f, 0xff], json!([])),
        (&[0xbf, 0xff], json!({})),
        // Bignums as Jackson writes BigInteger: 256 and -1 - 256.
        (&[0xc2, 0x42, 0x01, 0x00], json!(256)),
        (&[0xc3, 0x42, 0x01, 0x00], json!(-257)),
        // Other tags are transparent (tag 0: date-time text, tag 32: URI).
        (&[0xd8, 0x20, 0x61, b'u'], json!("u")),
    ];
    for (bytes, want) in cases {
        assert_eq!(
            &decode_request(bytes, &PLAIN).unwrap(),
            want,
            "decoding {bytes:02x?}"
        );
    }
    // Below i64::MIN only an f64 holds it.
    let v = decode_request(
        &[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        &PLAIN,
    );
    assert_eq!(v.unwrap().as_f64().unwrap(), -18_446_744_073_709_551_616.0);
}

#[test]
fn empty_body_is_an_empty_object() {
    assert_eq!(decode_request(&[], &KINESIS).unwrap(), json!({}));
}

#[test]
fn get_records_response_round_trip() {
    let resp = json!({
        "Records": [
            {
                "SequenceNumber": "49590338271490256608559692538361571095921575989136588898",
                "ApproximateArrivalTimestamp": 1_700_000_000.123,
                "Data": "aGVsbG8=",
                "PartitionKey": "pk",
                "EncryptionType": "NONE"
            },
            {
                "SequenceNumber": "2",
                "ApproximateArrivalTimestamp": 1_700_000_001,
                "Data": "",
                "PartitionKey": "pk2"
            }
        ],
        "NextShardIterator": "AAAA",
        "MillisBehindLatest": 0,
        "ChildShards": []
    });
    let bytes = encode_response(&resp, &KINESIS);
    // Data goes out as a byte string, the timestamp as tag 1 + u64 millis.
    let hello = cat(&[&text("Data"), &[0x45], b"hello"]);
    assert!(bytes.windows(hello.len()).any(|w| w == hello.as_slice()));
    let ts = cat(&[
        &text("ApproximateArrivalTimestamp"),
        &[0xc1, 0x1b],
        &1_700_000_000_123u64.to_be_bytes(),
    ]);
    assert!(bytes.windows(ts.len()).any(|w| w == ts.as_slice()));
    let ts2 = cat(&[
        &text("ApproximateArrivalTimestamp"),
        &[0xc1, 0x1b],
        &1_700_000_001_000u64.to_be_bytes(),
    ]);
    assert!(bytes.windows(ts2.len()).any(|w| w == ts2.as_slice()));

    let back = decode_request(&bytes, &KINESIS).unwrap();
    let mut want = resp.clone();
    // Integer seconds come back as f64 seconds.
    want["Records"][1]["ApproximateArrivalTimestamp"] = json!(1_700_000_001.0);
    assert_eq!(back, want);
}

#[test]
fn encoding_is_exact() {
    let resp = json!({
        "Records": [{"Data": "AQI=", "ApproximateArrivalTimestamp": 1.5}],
        "MillisBehindLatest": 0
    });
    let want = cat(&[
        &[0xa2],
        &text("Records"),
        &[0x81, 0xa2],
        &text("Data"),
        &[0x42, 0x01, 0x02],
        &text("ApproximateArrivalTimestamp"),
        &[0xc1, 0x19, 0x05, 0xdc],
        &text("MillisBehindLatest"),
        &[0x00],
    ]);
    assert_eq!(encode_response(&resp, &KINESIS), want);

    // Numbers: integers stay integers (minimal), other numbers are float64; null, bools.
    let v = json!([1, -1, 1000, u64::MAX, 0.5, null, true, false, "é"]);
    let want = cat(&[
        &[0x89, 0x01, 0x20, 0x19, 0x03, 0xe8],
        &[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        &[0xfb],
        &0.5f64.to_be_bytes(),
        &[0xf6, 0xf5, 0xf4, 0x62, 0xc3, 0xa9],
    ]);
    assert_eq!(encode_response(&v, &KINESIS), want);

    // Blob members that are not base64 stay text; blob-named members nested in arrays don't
    // count (members only); unpadded base64 is accepted.
    let v = json!({"Data": "not base64!", "x": ["AQI="]});
    let back = decode_request(&encode_response(&v, &KINESIS), &KINESIS).unwrap();
    assert_eq!(back, v);
    let v = json!({"Data": "AQI"});
    assert_eq!(
        encode_response(&v, &KINESIS),
        cat(&[&[0xa1], &text("Data"), &[0x42, 0x01, 0x02]])
    );
}

#[test]
fn error_body() {
    let bytes = encode_error(
        "ResourceNotFoundException",
        "Stream s under account 0 not found.",
    );
    assert_eq!(bytes[0], 0xa2);
    assert_eq!(
        decode_request(&bytes, &KINESIS).unwrap(),
        json!({
            "__type": "ResourceNotFoundException",
            "message": "Stream s under account 0 not found."
        })
    );
    // The same as encode_response of the JSON error body.
    let json_body = json!({"__type": "X", "message": "m"});
    assert_eq!(
        encode_error("X", "m"),
        encode_response(&json_body, &KINESIS)
    );
}

#[test]
fn truncated_bodies_are_errors() {
    for body in [
        put_record_definite(),
        cat(&[&[0xbf], &text("Data"), &[0x5f, 0x41, 0x00, 0xff], &[0xff]]),
        cat(&[&[0xa1], &text("Timestamp"), &[0xc1, 0x1b], &[0u8; 8]]),
        vec![0xf9, 0x3c, 0x00],
    ] {
        assert!(decode_request(&body, &KINESIS).is_ok());
        for cut in 1..body.len() {
            let err = decode_request(&body[..cut], &KINESIS).unwrap_err();
            assert!(!err.message.is_empty(), "prefix {cut} of {body:02x?}");
        }
    }
    let err = decode_request(&put_record_definite()[..5], &KINESIS).unwrap_err();
    assert!(err.message.contains("end of input"), "{err}");
    assert_eq!(err.offset, 5);
}

#[test]
fn trailing_garbage_is_an_error() {
    let mut body = put_record_definite();
    let len = body.len();
    body.push(0x00);
    let err = decode_request(&body, &KINESIS).unwrap_err();
    assert_eq!(err.offset, len);
    assert!(err.message.contains("trailing"), "{err}");
    // Two top-level items.
    assert!(decode_request(&[0xa0, 0xa0], &KINESIS).is_err());
    // A stray break after a definite map.
    assert!(decode_request(&[0xa0, 0xff], &KINESIS).is_err());
}

#[test]
fn huge_length_headers_on_a_ten_byte_input() {
    let max = [0xff; 8];
    for head in [0x5b, 0x7b, 0x9b, 0xbb] {
        // Byte string, text, array, map of 2^64 - 1, then one byte: 10 bytes in all.
        let body = cat(&[&[head], &max, &[0x00]]);
        assert_eq!(body.len(), 10);
        assert!(decode_request(&body, &KINESIS).is_err(), "{head:#x}");
    }
    // 2^32 - 1 items, and lengths inside indefinite strings.
    assert!(
        decode_request(
            &[0x9a, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00],
            &KINESIS
        )
        .is_err()
    );
    assert!(
        decode_request(
            &[0x5f, 0x5a, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0xff],
            &KINESIS
        )
        .is_err()
    );
    assert!(
        decode_request(
            &[0xa1, 0x7a, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00],
            &KINESIS
        )
        .is_err()
    );
}

#[test]
fn nesting_is_limited_to_64() {
    // 64 nested arrays are fine, 65 are not.
    let mut ok = vec![0x81; MAX_DEPTH - 1];
    ok.push(0x80);
    assert!(decode_request(&ok, &KINESIS).is_ok());
    let mut deep = vec![0x81; MAX_DEPTH];
    deep.push(0x80);
    let err = decode_request(&deep, &KINESIS).unwrap_err();
    assert!(err.message.contains("nesting"), "{err}");
    assert_eq!(err.offset, MAX_DEPTH);
    // Far deeper indefinite arrays, maps and tags do not overflow the stack.
    for unit in [&[0x9f][..], &[0xa1, 0x61, b'k'], &[0xc6]] {
        let body = unit.repeat(200_000);
        assert!(decode_request(&body, &KINESIS).is_err());
    }
}

#[test]
fn malformed_items_are_errors() {
    let cases: &[&[u8]] = &[
        &[0xff],                         // break outside a container
        &[0x1c],                         // reserved additional info
        &[0xfc],                         // reserved simple encoding
        &[0xe0],                         // simple value 0
        &[0xf8, 0x20],                   // simple value 32
        &[0xa1, 0x01, 0x02],             // integer map key
        &[0xa1, 0x41, b'k', 0x02],       // byte-string map key
        &[0xbf, 0x80, 0x01, 0xff],       // array map key
        &[0xbf, 0x61, b'k'],             // indefinite map without its value
        &[0xa1, 0x61, b'k'],             // definite map without its value
        &[0x5f, 0x61, b'x', 0xff],       // text chunk in a byte string
        &[0x7f, 0x41, b'x', 0xff],       // byte chunk in a text string
        &[0x7f, 0x7f, 0xff, 0xff],       // nested indefinite text
        &[0x62, 0xc3, 0x28],             // invalid UTF-8
        &[0xf9, 0x7c, 0x00],             // half-float infinity
        &[0xfa, 0x7f, 0xc0, 0x00, 0x00], // float NaN
        &[0xc2, 0x01],                   // bignum tag around an integer
        &[0xc1, 0xf9, 0x7e, 0x00],       // timestamp NaN
    ];
    for body in cases {
        assert!(
            decode_request(body, &KINESIS).is_err(),
            "should refuse {body:02x?}"
        );
    }
}

#[test]
fn content_type_detection() {
    assert!(is_cbor_content_type("application/x-amz-cbor-1.1"));
    assert!(is_cbor_content_type(
        "Application/X-Amz-Cbor-1.1; charset=utf-8"
    ));
    assert!(!is_cbor_content_type("application/x-amz-json-1.1"));
    assert!(!is_cbor_content_type("application/cbor"));
    assert!(!is_cbor_content_type(""));
    assert_eq!(CONTENT_TYPE, "application/x-amz-cbor-1.1");
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((".{0,8}", inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// A GetRecords-like response with Kinesis blob and timestamp members.
fn records_response() -> impl Strategy<Value = Value> {
    let record = (
        prop::collection::vec(any::<u8>(), 0..64),
        -10_000_000_000_000i64..10_000_000_000_000,
        "[0-9]{1,56}",
        ".{1,16}",
    )
        .prop_map(|(data, millis, seq, pk)| {
            json!({
                "SequenceNumber": seq,
                "ApproximateArrivalTimestamp": millis as f64 / 1000.0,
                "Data": base64::engine::general_purpose::STANDARD.encode(data),
                "PartitionKey": pk,
            })
        });
    (prop::collection::vec(record, 0..8), any::<u32>()).prop_map(|(records, behind)| {
        json!({"Records": records, "NextShardIterator": "it", "MillisBehindLatest": behind})
    })
}

proptest! {
    #[test]
    fn encode_then_decode_round_trips(v in json_value()) {
        let bytes = encode_response(&v, &PLAIN);
        prop_assert_eq!(decode_request(&bytes, &PLAIN).unwrap(), v);
    }

    #[test]
    fn kinesis_blobs_and_timestamps_round_trip(v in records_response()) {
        let bytes = encode_response(&v, &KINESIS);
        prop_assert_eq!(decode_request(&bytes, &KINESIS).unwrap(), v);
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_request(&bytes, &KINESIS);
    }

    #[test]
    fn decode_never_panics_on_damaged_valid_bodies(
        v in json_value(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = encode_response(&v, &KINESIS);
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let end = cut.index(bytes.len() + 1);
        let _ = decode_request(&bytes[..end], &KINESIS);
        let _ = decode_request(&bytes, &KINESIS);
    }
}
