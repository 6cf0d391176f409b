#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use proptest::prelude::*;
use sluice_store::sqs::{MessageAttributeValue, attributes_md5, md5_hex};

use super::*;

proptest! {
    /// The store's own MD5 agrees with the md-5 crate.
    #[test]
    fn store_md5_matches_the_md5_crate(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let want: String = Md5::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
        prop_assert_eq!(md5_hex(&data), want);
    }
}

#[test]
fn attribute_digest_is_awss_encoding() {
    let mut attrs = BTreeMap::new();
    attrs.insert(
        "b".to_owned(),
        MessageAttributeValue::binary("Binary", vec![0u8, 255]),
    );
    attrs.insert("a".to_owned(), MessageAttributeValue::string("String", "x"));
    let mut buf = Vec::new();
    for (name, dtype, kind, value) in [
        ("a", "String", 1u8, b"x".to_vec()),
        ("b", "Binary", 2u8, vec![0u8, 255]),
    ] {
        for part in [name.as_bytes(), dtype.as_bytes()] {
            buf.extend_from_slice(&u32::try_from(part.len()).unwrap().to_be_bytes());
            buf.extend_from_slice(part);
        }
        buf.push(kind);
        buf.extend_from_slice(&u32::try_from(value.len()).unwrap().to_be_bytes());
        buf.extend_from_slice(&value);
    }
    let want: String = Md5::digest(&buf)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(attributes_md5(&attrs), Some(want));
}

#[test]
fn request_paths_name_queues() {
    assert_eq!(path_queue("/000000000000/jobs"), Some("jobs".into()));
    assert_eq!(
        path_queue("/000000000000/jobs.fifo/"),
        Some("jobs.fifo".into())
    );
    assert_eq!(path_queue("/"), None);
    assert_eq!(path_queue("/2015-03-31/functions"), None);
    assert_eq!(path_queue("/000000000000/jobs/extra"), None);
}

#[test]
fn errors_carry_both_names() {
    let e = SqsWireError::from(SqsError::QueueDoesNotExist);
    assert_eq!(e.code.json_type(), "com.amazonaws.sqs#QueueDoesNotExist");
    assert_eq!(
        e.code.query_code(),
        "AWS.SimpleQueueService.NonExistentQueue"
    );
    assert_eq!(
        e.message_for(Protocol::Json),
        "The specified queue does not exist."
    );
    assert_eq!(
        e.message_for(Protocol::Query),
        "The specified queue does not exist for this wsdl version."
    );
    let r = e.json_response();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.headers()["x-amzn-query-error"],
        "AWS.SimpleQueueService.NonExistentQueue;Sender"
    );
    assert_eq!(
        SqsWireError::new(Code::PurgeQueueInProgress, "x")
            .code
            .status(),
        StatusCode::FORBIDDEN
    );
    let entry = SqsWireError::new(Code::ReceiptHandleIsInvalid, "bad").failed_entry("i");
    assert_eq!(
        entry,
        json!({"Id": "i", "SenderFault": true, "Code": "ReceiptHandleIsInvalid", "Message": "bad"})
    );
}

#[test]
fn batch_checks_in_aws_order() {
    let code = |ids: &[Option<&str>]| check_batch("E", ids).unwrap_err().code;
    assert_eq!(code(&[]), Code::EmptyBatchRequest);
    assert_eq!(code(&[Some("a"); 11]), Code::TooManyEntriesInBatchRequest);
    assert_eq!(code(&[Some("a:b")]), Code::InvalidBatchEntryId);
    assert_eq!(
        code(&[Some("a"), Some("a")]),
        Code::BatchEntryIdsNotDistinct
    );
    assert_eq!(code(&[None]), Code::MissingParameter);
    check_batch("E", &[Some("a"), Some("b-c_1")]).unwrap();
}
