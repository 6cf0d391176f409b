#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn source_arns_parse_by_service() {
    let cases: &[(&str, Option<SourceKind>)] = &[
        (
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders",
            Some(SourceKind::Kinesis),
        ),
        (
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders/consumer/c1:1700000000",
            Some(SourceKind::Kinesis),
        ),
        (
            "arn:aws:dynamodb:us-east-1:000000000000:table/users/stream/2026-01-01T00:00:00.000",
            Some(SourceKind::DynamoDbStreams),
        ),
        (
            "arn:aws:sqs:us-east-1:000000000000:jobs",
            Some(SourceKind::Sqs),
        ),
        (
            "arn:aws:sqs:us-east-1:000000000000:jobs.fifo",
            Some(SourceKind::Sqs),
        ),
        ("arn:aws:dynamodb:us-east-1:000000000000:table/users", None),
        ("arn:aws:s3:::bucket", None),
        ("arn:aws:kinesis:us-east-1:000000000000:stream/", None),
        (
            "arn:aws:kinesis:us-east-1:000000000000:stream/a/consumer/c",
            None,
        ),
        ("arn:aws:sqs:us-east-1:000000000000:bad name", None),
        ("not an arn", None),
    ];
    for (arn, kind) in cases {
        assert_eq!(SourceArn::parse(arn).map(|s| s.kind()), *kind, "{arn}");
    }
    assert!(
        SourceArn::parse("arn:aws:sqs:us-east-1:000000000000:jobs.fifo")
            .unwrap()
            .is_fifo_queue()
    );
    assert!(
        !SourceArn::parse("arn:aws:sqs:us-east-1:000000000000:jobs")
            .unwrap()
            .is_fifo_queue()
    );
}

#[test]
fn function_names_parse_in_every_form() {
    let scope = Scope::new("us-east-1", "000000000000");
    let cases: &[(&str, &str, Option<&str>, bool)] = &[
        ("fn", "fn", None, false),
        ("fn:$LATEST", "fn", Some("$LATEST"), false),
        ("fn:1", "fn", Some("1"), false),
        ("fn:prod", "fn", Some("prod"), false),
        ("000000000000:function:fn", "fn", None, false),
        ("000000000000:function:fn:prod", "fn", Some("prod"), false),
        (
            "arn:aws:lambda:us-east-1:000000000000:function:fn",
            "fn",
            None,
            false,
        ),
        (
            "arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST",
            "fn",
            Some("$LATEST"),
            false,
        ),
        (
            "arn:aws:lambda:eu-west-1:000000000000:function:fn",
            "fn",
            None,
            true,
        ),
        ("111111111111:function:fn", "fn", None, true),
    ];
    for (given, name, qual, foreign) in cases {
        let f = FunctionRef::parse(given).unwrap_or_else(|| panic!("{given} should parse"));
        assert_eq!(f.name, *name, "{given}");
        assert_eq!(f.qualifier.as_deref(), *qual, "{given}");
        assert_eq!(f.is_foreign(&scope), *foreign, "{given}");
    }
    assert_eq!(
        FunctionRef::parse("fn:prod").unwrap().qualified_arn(&scope),
        "arn:aws:lambda:us-east-1:000000000000:function:fn:prod"
    );
    for bad in [
        "bad name!",
        "",
        "fn:",
        "arn:aws:lambda:us-east-1:1:function:fn",
    ] {
        assert!(FunctionRef::parse(bad).is_none(), "{bad}");
    }
}

#[test]
fn destinations_are_queues_or_topics() {
    assert!(matches!(
        DestinationArn::parse("arn:aws:sqs:us-east-1:000000000000:dlq"),
        Some(DestinationArn::SqsQueue { .. })
    ));
    assert!(matches!(
        DestinationArn::parse("arn:aws:sns:us-east-1:000000000000:alerts"),
        Some(DestinationArn::SnsTopic { .. })
    ));
    assert!(DestinationArn::parse("arn:aws:s3:::bucket").is_none());
    assert!(is_valid_destination_arn(""));
    assert!(is_valid_destination_arn("arn:aws:s3:::bucket"));
    assert!(!is_valid_destination_arn("nope"));
}

#[test]
fn event_source_arn_pattern() {
    assert!(is_valid_event_source_arn(
        "arn:aws:sqs:us-east-1:000000000000:q"
    ));
    assert!(is_valid_event_source_arn("arn:aws:s3:::bucket"));
    assert!(!is_valid_event_source_arn("sqs-queue"));
}
