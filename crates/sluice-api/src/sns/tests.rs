#![allow(clippy::unwrap_used)]

use super::form::Form;

fn form(pairs: &[(&str, &str)]) -> Form {
    Form::new(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

#[test]
fn flattened_maps_lists_and_entries_group_by_index_in_numeric_order() {
    let f = form(&[
        ("Attributes.entry.10.key", "b"),
        ("Attributes.entry.10.value", "2"),
        ("Attributes.entry.2.key", "a"),
        ("Attributes.entry.2.value", "1"),
        ("TagKeys.member.2", "y"),
        ("TagKeys.member.1", "x"),
        ("PublishBatchRequestEntries.member.1.Id", "one"),
        ("PublishBatchRequestEntries.member.1.Message", "m"),
        (
            "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name",
            "k",
        ),
        (
            "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.DataType",
            "String",
        ),
        ("Attributes.entry.x.key", "ignored: not an index"),
    ]);
    let entries = f.entries("Attributes.entry", "key", "value");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries["a"], "1");
    assert_eq!(entries["b"], "2");
    assert_eq!(f.list("TagKeys.member"), vec!["x", "y"]);
    let batch = f.members_nested("PublishBatchRequestEntries.member");
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].0["Id"], "one");
    assert_eq!(batch[0].0["Message"], "m");
    assert_eq!(batch[0].1[0]["Name"], "k");
    assert_eq!(batch[0].1[0]["Value.DataType"], "String");
}

#[test]
fn missing_members_are_validation_errors() {
    let f = form(&[("Action", "Publish")]);
    let e = f.required("TopicArn").unwrap_err();
    assert_eq!(e.code, "ValidationError");
    assert_eq!(
        e.message,
        "1 validation error detected: Value null at 'topicArn' failed to satisfy constraint: Member must not be null"
    );
}
