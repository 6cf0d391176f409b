//! The query protocol: a form's flattened members into the JSON 1.0 input value, and an
//! operation's JSON output into AWS's XML.
//!
//! Requests flatten lists and maps with 1-based indexes under the member's singular name:
//! `Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=60`, `AttributeName.1=All`,
//! `MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String&...StringValue=x`,
//! `SendMessageBatchRequestEntry.2.Id=b`, `Tag.1.Key=k&Tag.1.Value=v`, `TagKey.1=k`.
//!
//! Answers are `<{Op}Response xmlns="http://queue.amazonaws.com/doc/2012-11-05/">` with a
//! `<{Op}Result>` (for operations with output) and `<ResponseMetadata><RequestId>`; maps are
//! flattened as `<Attribute><Name/><Value/></Attribute>` (`<Tag><Key/><Value/></Tag>`,
//! `<MessageAttribute><Name/><Value>...</Value></MessageAttribute>`), lists as repeated
//! elements (`<QueueUrl>`, `<Message>`, `<SendMessageBatchResultEntry>`,
//! `<BatchResultErrorEntry>`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::SqsWireError;

pub const NAMESPACE: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

/// Escapes text for an XML element. A carriage return is written as a character reference,
/// as AWS does: XML parsers turn a literal one into a newline, which would change the body
/// (and its MD5) a client reads back.
pub fn escape(s: &str) -> String {
    let escaped = crate::protocol::aws_query::xml_escape(s);
    if escaped.contains('\r') {
        escaped.replace('\r', "&#xD;")
    } else {
        escaped
    }
}

/// Members whose values are integers.
const INTEGERS: [&str; 6] = [
    "MaxNumberOfMessagesPerSecond",
    "DelaySeconds",
    "MaxNumberOfMessages",
    "VisibilityTimeout",
    "WaitTimeSeconds",
    "MaxResults",
];

/// Parameters of the request itself, not of the operation.
fn is_envelope(key: &str) -> bool {
    matches!(
        key,
        "Action"
            | "Version"
            | "AWSAccessKeyId"
            | "Signature"
            | "SignatureMethod"
            | "SignatureVersion"
            | "Timestamp"
            | "Expires"
            | "SecurityToken"
    ) || key.starts_with("X-Amz-")
}

/// A form key path as a tree: `a.1.b=x` is `{a: {1: {b: x}}}`.
#[derive(Debug, Default)]
struct Node {
    value: Option<String>,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn insert(&mut self, path: &[&str], value: String) {
        match path.split_first() {
            None => self.value = Some(value),
            Some((head, rest)) => self
                .children
                .entry((*head).to_owned())
                .or_default()
                .insert(rest, value),
        }
    }

    /// Children with numeric keys, in index order.
    fn indexed(&self) -> Vec<&Node> {
        let mut items: Vec<(u64, &Node)> = self
            .children
            .iter()
            .filter_map(|(k, v)| k.parse::<u64>().ok().map(|i| (i, v)))
            .collect();
        items.sort_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, n)| n).collect()
    }

    fn child_value(&self, name: &str) -> Option<&str> {
        self.children.get(name).and_then(|n| n.value.as_deref())
    }
}

/// How a flattened member maps to the JSON member.
enum Shape {
    /// `Name.N=v` → `"Json": [v, ...]`
    List(&'static str),
    /// `Name.N.{Id,...}` → `"Json": [{...}, ...]`
    StructList(&'static str),
    /// `Name.N.Key=k & Name.N.Value=v` → `"Json": {k: v}` (value scalar or structure)
    Map(&'static str, &'static str, &'static str),
}

fn shape(member: &str, op: &str) -> Option<Shape> {
    Some(match member {
        "Attribute" => Shape::Map("Attributes", "Name", "Value"),
        "AttributeName" => Shape::List("AttributeNames"),
        "MessageAttributeName" => Shape::List("MessageAttributeNames"),
        "MessageSystemAttributeName" => Shape::List("MessageSystemAttributeNames"),
        "MessageAttribute" => Shape::Map("MessageAttributes", "Name", "Value"),
        "MessageSystemAttribute" => Shape::Map("MessageSystemAttributes", "Name", "Value"),
        "Tag" if op == "CreateQueue" => Shape::Map("tags", "Key", "Value"),
        "Tag" => Shape::Map("Tags", "Key", "Value"),
        "TagKey" => Shape::List("TagKeys"),
        "StringListValue" => Shape::List("StringListValues"),
        "BinaryListValue" => Shape::List("BinaryListValues"),
        "SendMessageBatchRequestEntry"
        | "DeleteMessageBatchRequestEntry"
        | "ChangeMessageVisibilityBatchRequestEntry" => Shape::StructList("Entries"),
        _ => return None,
    })
}

fn scalar(member: &str, value: &str) -> Result<Value, SqsWireError> {
    if INTEGERS.contains(&member) {
        return value.trim().parse::<i64>().map(|n| json!(n)).map_err(|_| {
            SqsWireError::invalid(format!(
                "Value {value} for parameter {member} is invalid. Reason: Must be an integer."
            ))
        });
    }
    Ok(json!(value))
}

fn convert(node: &Node, op: &str) -> Result<Value, SqsWireError> {
    let mut out = Map::new();
    for (member, child) in &node.children {
        match shape(member, op) {
            Some(Shape::List(json_name)) => {
                let items: Vec<Value> = child
                    .indexed()
                    .into_iter()
                    .filter_map(|n| n.value.clone().map(Value::String))
                    .collect();
                out.insert(json_name.to_owned(), Value::Array(items));
            }
            Some(Shape::StructList(json_name)) => {
                let items = child
                    .indexed()
                    .into_iter()
                    .map(|n| convert(n, op))
                    .collect::<Result<Vec<_>, _>>()?;
                out.insert(json_name.to_owned(), Value::Array(items));
            }
            Some(Shape::Map(json_name, key, value)) => {
                let mut map = Map::new();
                for entry in child.indexed() {
                    let Some(k) = entry.child_value(key) else {
                        continue;
                    };
                    let v = match entry.children.get(value) {
                        Some(v) if v.children.is_empty() => {
                            json!(v.value.clone().unwrap_or_default())
                        }
                        Some(v) => convert(v, op)?,
                        None => Value::Null,
                    };
                    map.insert(k.to_owned(), v);
                }
                out.insert(json_name.to_owned(), Value::Object(map));
            }
            None if child.children.is_empty() => {
                out.insert(
                    member.clone(),
                    scalar(member, child.value.as_deref().unwrap_or_default())?,
                );
            }
            None => {
                out.insert(member.clone(), convert(child, op)?);
            }
        }
    }
    Ok(Value::Object(out))
}

/// The JSON 1.0 input of `op` from a query request's pairs.
pub fn input(op: &str, pairs: &[(String, String)]) -> Result<Value, SqsWireError> {
    let mut root = Node::default();
    for (k, v) in pairs {
        if is_envelope(k) {
            continue;
        }
        let path: Vec<&str> = k.split('.').collect();
        root.insert(&path, v.clone());
    }
    convert(&root, op)
}

/// Operations whose answer has a `<{Op}Result>` element.
const WITH_RESULT: [&str; 14] = [
    "StartMessageMoveTask",
    "ListMessageMoveTasks",
    "CancelMessageMoveTask",
    "CreateQueue",
    "GetQueueUrl",
    "ListQueues",
    "GetQueueAttributes",
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibilityBatch",
    "ListDeadLetterSourceQueues",
    "ListQueueTags",
];

struct Xml(String);

impl Xml {
    fn open(&mut self, name: &str) {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push('>');
    }

    fn close(&mut self, name: &str) {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
    }

    fn text(&mut self, name: &str, text: &str) {
        self.open(name);
        self.0.push_str(&escape(text));
        self.close(name);
    }

    fn scalar(&mut self, name: &str, v: &Value) {
        match v {
            Value::String(s) => self.text(name, s),
            Value::Bool(b) => self.text(name, if *b { "true" } else { "false" }),
            Value::Number(n) => self.text(name, &n.to_string()),
            Value::Null => {}
            other => self.members(name, other, ""),
        }
    }

    /// `<Entry><Key>k</Key><Value>v</Value></Entry>` for each map entry.
    fn map(&mut self, entry: &str, key: &str, value: &str, map: &Value, op: &str) {
        let Some(obj) = map.as_object() else {
            return;
        };
        for (k, v) in obj {
            self.open(entry);
            self.text(key, k);
            if v.is_object() {
                self.members(value, v, op);
            } else {
                self.scalar(value, v);
            }
            self.close(entry);
        }
    }

    /// An element holding `v`'s members, each rendered by AWS's rules.
    fn members(&mut self, name: &str, v: &Value, op: &str) {
        self.open(name);
        self.fields(v, op);
        self.close(name);
    }

    fn fields(&mut self, v: &Value, op: &str) {
        let Some(obj) = v.as_object() else {
            return;
        };
        for (k, v) in obj {
            match k.as_str() {
                "Attributes" => self.map("Attribute", "Name", "Value", v, op),
                "MessageAttributes" => self.map("MessageAttribute", "Name", "Value", v, op),
                "Tags" => self.map("Tag", "Key", "Value", v, op),
                "QueueUrls" | "queueUrls" => self.list("QueueUrl", v, op),
                "Messages" => self.list("Message", v, op),
                "Results" => self.list("ListMessageMoveTasksResultEntry", v, op),
                "Failed" => self.list("BatchResultErrorEntry", v, op),
                "Successful" => self.list(&format!("{op}ResultEntry"), v, op),
                "StringListValues" => self.list("StringListValue", v, op),
                "BinaryListValues" => self.list("BinaryListValue", v, op),
                _ => self.scalar(k, v),
            }
        }
    }

    fn list(&mut self, element: &str, v: &Value, op: &str) {
        for item in v.as_array().into_iter().flatten() {
            if item.is_object() {
                self.members(element, item, op);
            } else {
                self.scalar(element, item);
            }
        }
    }
}

/// AWS's XML answer for `op`'s JSON output.
pub fn render(op: &str, output: &Value, request_id: &str) -> String {
    let mut x = Xml(String::with_capacity(512));
    x.0.push_str("<?xml version=\"1.0\"?>");
    x.0.push_str(&format!("<{op}Response xmlns=\"{NAMESPACE}\">"));
    if WITH_RESULT.contains(&op) {
        x.members(&format!("{op}Result"), output, op);
    }
    x.open("ResponseMetadata");
    x.text("RequestId", request_id);
    x.close("ResponseMetadata");
    x.close(&format!("{op}Response"));
    x.0
}

#[cfg(test)]
mod tests;
