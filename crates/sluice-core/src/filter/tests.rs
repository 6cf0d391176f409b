#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use super::{FilterPattern, FilterSet, InvalidPattern, MAX_PATTERN_CHARS};

fn parse(pattern: &str) -> FilterPattern {
    FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern} should parse: {e:?}"))
}

/// Runs `(pattern, event, expected)` rows and reports every failing row at once.
fn check(rows: &[(&str, Value, bool)]) {
    let failures: Vec<String> = rows
        .iter()
        .filter(|(pattern, event, expected)| parse(pattern).matches(event) != *expected)
        .map(|(pattern, event, expected)| format!("{pattern} vs {event}: expected {expected}"))
        .collect();
    assert!(
        failures.is_empty(),
        "failing rows:\n{}",
        failures.join("\n")
    );
}

#[test]
fn invalid_patterns_are_rejected() {
    let too_long = format!(r#"{{"k":["{}"]}}"#, "x".repeat(MAX_PATTERN_CHARS));
    let cases: &[&str] = &[
        // Not an object / not JSON.
        r#""simple string""#,
        "",
        "   ",
        "42",
        "null",
        r#"[{"eventName": ["INSERT"]}]"#,
        r#"[{"eventName": ["INSERT"=123}]"#,
        r#"{"a": ["x"]"#,
        // Leaves must be non-empty arrays or objects.
        r#"{"eventSource":"aws:sqs"}"#,
        r#"{"eventSource":[]}"#,
        r#"{"eventSource":5}"#,
        r#"{"eventSource":null}"#,
        r#"{"body":{}}"#,
        r#"{"body":{"k":"v"}}"#,
        r#"{"k":[["nested"]]}"#,
        // Unknown operators, more than one key per operator.
        r#"{"k":[{"contains":"x"}]}"#,
        r#"{"k":[{}]}"#,
        r#"{"k":[{"prefix":"a","suffix":"b"}]}"#,
        // Wrong operand types.
        r#"{"k":[{"prefix":5}]}"#,
        r#"{"k":[{"prefix":{"anything-but":"x"}}]}"#,
        r#"{"k":[{"suffix":["x"]}]}"#,
        r#"{"k":[{"equals-ignore-case":["x"]}]}"#,
        r#"{"k":[{"exists":"true"}]}"#,
        r#"{"k":[{"wildcard":5}]}"#,
        // Wildcard syntax.
        r#"{"k":[{"wildcard":"a**b"}]}"#,
        r#"{"k":[{"wildcard":"a\\b"}]}"#,
        r#"{"k":[{"wildcard":"trailing\\"}]}"#,
        // anything-but operands.
        r#"{"k":[{"anything-but":null}]}"#,
        r#"{"k":[{"anything-but":true}]}"#,
        r#"{"k":[{"anything-but":[]}]}"#,
        r#"{"k":[{"anything-but":["a",1]}]}"#,
        r#"{"k":[{"anything-but":[null]}]}"#,
        r#"{"k":[{"anything-but":{"numeric":[">",1]}}]}"#,
        r#"{"k":[{"anything-but":{"prefix":""}}]}"#,
        r#"{"k":[{"anything-but":{"prefix":["a"]}}]}"#,
        r#"{"k":[{"anything-but":{"equals-ignore-case":[]}}]}"#,
        r#"{"k":[{"anything-but":{"equals-ignore-case":[1]}}]}"#,
        r#"{"k":[{"anything-but":{"prefix":"a","suffix":"b"}}]}"#,
        // Numeric.
        r#"{"k":[{"numeric":5}]}"#,
        r#"{"k":[{"numeric":[]}]}"#,
        r#"{"k":[{"numeric":[">"]}]}"#,
        r#"{"k":[{"numeric":[">","5"]}]}"#,
        r#"{"k":[{"numeric":["!=",5]}]}"#,
        r#"{"k":[{"numeric":[5,">"]}]}"#,
        r#"{"k":[{"numeric":[">",0,"<"]}]}"#,
        r#"{"k":[{"numeric":["<",10,">",0]}]}"#,
        r#"{"k":[{"numeric":["=",1,"<",3]}]}"#,
        r#"{"k":[{"numeric":[">",5,"<",5]}]}"#,
        r#"{"k":[{"numeric":[">",9,"<",1]}]}"#,
        r#"{"k":[{"numeric":[">",0,"<",5,"<",6]}]}"#,
        // CIDR.
        r#"{"k":[{"cidr":"10.0.0.0"}]}"#,
        r#"{"k":[{"cidr":"10.0.0.0/33"}]}"#,
        r#"{"k":[{"cidr":"10.0.0/24"}]}"#,
        r#"{"k":[{"cidr":"10.0.0.0/+8"}]}"#,
        r#"{"k":[{"cidr":"10.0.0.0/"}]}"#,
        r#"{"k":[{"cidr":"10.0.0.0/8/8"}]}"#,
        r#"{"k":[{"cidr":"::1/129"}]}"#,
        r#"{"k":[{"cidr":"not-an-ip/8"}]}"#,
        r#"{"k":[{"cidr":24}]}"#,
        // $or shapes that are not an OR fall back to a field, whose matchers are invalid.
        r#"{"$or":[{"a":["x"]}]}"#,
        r#"{"$or":[{"a":["x"]},{}]}"#,
        r#"{"$or":[{"a":["x"]},{"b":"y"}]}"#,
        // Too long.
        too_long.as_str(),
    ];
    let accepted: Vec<&str> = cases
        .iter()
        .copied()
        .filter(|p| FilterPattern::parse(p).is_ok())
        .collect();
    assert!(accepted.is_empty(), "wrongly accepted: {accepted:#?}");
}

#[test]
fn invalid_pattern_message_is_fixed_and_reason_is_specific() {
    let err: InvalidPattern = FilterPattern::parse(r#"{"k":[{"contains":"x"}]}"#).unwrap_err();
    assert_eq!(err.to_string(), "Invalid filter pattern definition.");
    assert!(err.reason.contains("contains"), "{}", err.reason);
}

#[test]
fn length_limit_is_in_characters() {
    // Exactly at the limit, using multi-byte characters: accepted.
    let filler = "é".repeat(MAX_PATTERN_CHARS - r#"{"k":[""]}"#.len());
    let at_limit = format!(r#"{{"k":["{filler}"]}}"#);
    assert_eq!(at_limit.chars().count(), MAX_PATTERN_CHARS);
    assert!(FilterPattern::parse(&at_limit).is_ok());
}

#[test]
fn empty_object_matches_everything() {
    check(&[
        ("{}", json!({}), true),
        ("{}", json!({"a": 1}), true),
        ("{}", json!("not even an object"), true),
    ]);
}

#[test]
fn exact_values() {
    check(&[
        (r#"{"a":["x"]}"#, json!({"a": "x"}), true),
        (r#"{"a":["x"]}"#, json!({"a": "X"}), false),
        (r#"{"a":["x"]}"#, json!({"b": "x"}), false),
        (r#"{"a":["x","y"]}"#, json!({"a": "y"}), true),
        (r#"{"a":[""]}"#, json!({"a": ""}), true),
        (r#"{"a":[""]}"#, json!({"a": null}), false),
        // Numbers compare numerically, never against strings.
        (r#"{"a":[5]}"#, json!({"a": 5}), true),
        (r#"{"a":[5]}"#, json!({"a": 5.0}), true),
        (r#"{"a":[5.0]}"#, json!({"a": 5}), true),
        (r#"{"a":[5e0]}"#, json!({"a": 5}), true),
        (r#"{"a":[5]}"#, json!({"a": "5"}), false),
        (r#"{"a":["5"]}"#, json!({"a": 5}), false),
        (r#"{"a":[-1]}"#, json!({"a": -1}), true),
        // Booleans and null.
        (r#"{"a":[true]}"#, json!({"a": true}), true),
        (r#"{"a":[true]}"#, json!({"a": false}), false),
        (r#"{"a":[true]}"#, json!({"a": "true"}), false),
        (r#"{"a":[null]}"#, json!({"a": null}), true),
        (r#"{"a":[null]}"#, json!({}), false),
        (r#"{"a":[null]}"#, json!({"a": ""}), false),
        // AND across keys.
        (
            r#"{"a":["x"],"b":["y"]}"#,
            json!({"a": "x", "b": "y"}),
            true,
        ),
        (
            r#"{"a":["x"],"b":["y"]}"#,
            json!({"a": "x", "b": "z"}),
            false,
        ),
        // An object-valued field is not a leaf.
        (r#"{"a":["x"]}"#, json!({"a": {"b": "x"}}), false),
    ]);
}

#[test]
fn arrays_in_the_event() {
    check(&[
        (r#"{"a":["x"]}"#, json!({"a": ["w", "x"]}), true),
        (r#"{"a":["x"]}"#, json!({"a": ["w", "y"]}), false),
        (r#"{"a":["x"]}"#, json!({"a": []}), false),
        (r#"{"a":["x"]}"#, json!({"a": [["x"]]}), true),
        (r#"{"a":[3]}"#, json!({"a": [1, 2, 3]}), true),
        (
            r#"{"a":[{"prefix":"ab"}]}"#,
            json!({"a": ["zz", "abc"]}),
            true,
        ),
        (
            r#"{"a":[{"numeric":[">",2]}]}"#,
            json!({"a": [1, 2]}),
            false,
        ),
        // Nested pattern over an array of objects: some element must match it whole.
        (
            r#"{"r":{"id":["1"],"v":["a"]}}"#,
            json!({"r": [{"id": "1", "v": "b"}, {"id": "1", "v": "a"}]}),
            true,
        ),
        (
            r#"{"r":{"id":["1"],"v":["a"]}}"#,
            json!({"r": [{"id": "1", "v": "b"}, {"id": "2", "v": "a"}]}),
            false,
        ),
    ]);
}

#[test]
fn prefix_and_suffix() {
    check(&[
        (r#"{"a":[{"prefix":"ab"}]}"#, json!({"a": "abc"}), true),
        (r#"{"a":[{"prefix":"ab"}]}"#, json!({"a": "ab"}), true),
        (r#"{"a":[{"prefix":"ab"}]}"#, json!({"a": "xabc"}), false),
        (r#"{"a":[{"prefix":"ab"}]}"#, json!({"a": "ABc"}), false),
        (r#"{"a":[{"prefix":"1"}]}"#, json!({"a": 12}), false),
        (r#"{"a":[{"prefix":""}]}"#, json!({"a": "anything"}), true),
        (
            r#"{"a":[{"prefix":{"equals-ignore-case":"AB"}}]}"#,
            json!({"a": "aBc"}),
            true,
        ),
        (
            r#"{"a":[{"prefix":{"equals-ignore-case":"AB"}}]}"#,
            json!({"a": "xab"}),
            false,
        ),
        (
            r#"{"a":[{"suffix":".png"}]}"#,
            json!({"a": "cat.png"}),
            true,
        ),
        (
            r#"{"a":[{"suffix":".png"}]}"#,
            json!({"a": "cat.PNG"}),
            false,
        ),
        (r#"{"a":[{"suffix":".png"}]}"#, json!({"a": "png"}), false),
        (
            r#"{"a":[{"suffix":{"equals-ignore-case":".PnG"}}]}"#,
            json!({"a": "cat.pNg"}),
            true,
        ),
    ]);
}

#[test]
fn equals_ignore_case() {
    check(&[
        (
            r#"{"a":[{"equals-ignore-case":"HeLLo"}]}"#,
            json!({"a": "hello"}),
            true,
        ),
        (
            r#"{"a":[{"equals-ignore-case":"HeLLo"}]}"#,
            json!({"a": "HELLO"}),
            true,
        ),
        (
            r#"{"a":[{"equals-ignore-case":"HeLLo"}]}"#,
            json!({"a": "hello!"}),
            false,
        ),
        (
            r#"{"a":[{"equals-ignore-case":"ÉTÉ"}]}"#,
            json!({"a": "été"}),
            true,
        ),
        (
            r#"{"a":[{"equals-ignore-case":"1"}]}"#,
            json!({"a": 1}),
            false,
        ),
    ]);
}

#[test]
fn anything_but() {
    check(&[
        (r#"{"a":[{"anything-but":"x"}]}"#, json!({"a": "y"}), true),
        (r#"{"a":[{"anything-but":"x"}]}"#, json!({"a": "x"}), false),
        // A missing field never matches; a present null does.
        (r#"{"a":[{"anything-but":"x"}]}"#, json!({}), false),
        (r#"{"a":[{"anything-but":"x"}]}"#, json!({"a": null}), true),
        (r#"{"a":[{"anything-but":"x"}]}"#, json!({"a": 3}), true),
        (
            r#"{"a":[{"anything-but":["x","y"]}]}"#,
            json!({"a": "y"}),
            false,
        ),
        (
            r#"{"a":[{"anything-but":["x","y"]}]}"#,
            json!({"a": "z"}),
            true,
        ),
        (
            r#"{"a":[{"anything-but":123}]}"#,
            json!({"a": 123.0}),
            false,
        ),
        (r#"{"a":[{"anything-but":123}]}"#, json!({"a": "123"}), true),
        (
            r#"{"a":[{"anything-but":[100,200]}]}"#,
            json!({"a": 200}),
            false,
        ),
        (
            r#"{"a":[{"anything-but":[100,200]}]}"#,
            json!({"a": 300}),
            true,
        ),
        // Arrays: matches when some element is not excluded.
        (
            r#"{"a":[{"anything-but":"x"}]}"#,
            json!({"a": ["x", "y"]}),
            true,
        ),
        (
            r#"{"a":[{"anything-but":"x"}]}"#,
            json!({"a": ["x"]}),
            false,
        ),
        (
            r#"{"a":[{"anything-but":{"prefix":"init"}}]}"#,
            json!({"a": "initializing"}),
            false,
        ),
        (
            r#"{"a":[{"anything-but":{"prefix":"init"}}]}"#,
            json!({"a": "running"}),
            true,
        ),
        (
            r#"{"a":[{"anything-but":{"suffix":".tmp"}}]}"#,
            json!({"a": "x.tmp"}),
            false,
        ),
        (
            r#"{"a":[{"anything-but":{"suffix":".tmp"}}]}"#,
            json!({"a": "x.txt"}),
            true,
        ),
        (
            r#"{"a":[{"anything-but":{"equals-ignore-case":["Stopped","Paused"]}}]}"#,
            json!({"a": "PAUSED"}),
            false,
        ),
        (
            r#"{"a":[{"anything-but":{"equals-ignore-case":"Stopped"}}]}"#,
            json!({"a": "running"}),
            true,
        ),
        (
            r#"{"a":[{"anything-but":{"wildcard":"*init*"}}]}"#,
            json!({"a": "reinitialize"}),
            false,
        ),
        (
            r#"{"a":[{"anything-but":{"wildcard":["a*","*z"]}}]}"#,
            json!({"a": "quiz"}),
            false,
        ),
        (
            r#"{"a":[{"anything-but":{"wildcard":["a*","*z"]}}]}"#,
            json!({"a": "quip"}),
            true,
        ),
    ]);
}

#[test]
fn numeric() {
    check(&[
        (r#"{"n":[{"numeric":["=",5]}]}"#, json!({"n": 5}), true),
        (r#"{"n":[{"numeric":["=",5]}]}"#, json!({"n": 5.0}), true),
        (
            r#"{"n":[{"numeric":["=",3.018e2]}]}"#,
            json!({"n": 301.8}),
            true,
        ),
        (r#"{"n":[{"numeric":["=",5]}]}"#, json!({"n": 5.1}), false),
        (r#"{"n":[{"numeric":["=",5]}]}"#, json!({"n": "5"}), false),
        (r#"{"n":[{"numeric":["<",5]}]}"#, json!({"n": 4.99}), true),
        (r#"{"n":[{"numeric":["<",5]}]}"#, json!({"n": 5}), false),
        (r#"{"n":[{"numeric":["<=",5]}]}"#, json!({"n": 5}), true),
        (r#"{"n":[{"numeric":[">",5]}]}"#, json!({"n": 5}), false),
        (r#"{"n":[{"numeric":[">",5]}]}"#, json!({"n": 6}), true),
        (r#"{"n":[{"numeric":[">=",5]}]}"#, json!({"n": 5}), true),
        (r#"{"n":[{"numeric":[">=",-1]}]}"#, json!({"n": -1}), true),
        (
            r#"{"n":[{"numeric":[">",0,"<=",5]}]}"#,
            json!({"n": 0}),
            false,
        ),
        (
            r#"{"n":[{"numeric":[">",0,"<=",5]}]}"#,
            json!({"n": 0.5}),
            true,
        ),
        (
            r#"{"n":[{"numeric":[">",0,"<=",5]}]}"#,
            json!({"n": 5}),
            true,
        ),
        (
            r#"{"n":[{"numeric":[">",0,"<=",5]}]}"#,
            json!({"n": 5.5}),
            false,
        ),
        (
            r#"{"n":[{"numeric":[">=",0,"<",5]}]}"#,
            json!({"n": 0}),
            true,
        ),
        (
            r#"{"n":[{"numeric":[">=",0,"<",5]}]}"#,
            json!({"n": 5}),
            false,
        ),
        (r#"{"n":[{"numeric":[">",0]}]}"#, json!({}), false),
        (r#"{"n":[{"numeric":[">",0]}]}"#, json!({"n": null}), false),
        (r#"{"n":[{"numeric":[">",0]}]}"#, json!({"n": true}), false),
    ]);
}

#[test]
fn exists() {
    check(&[
        (r#"{"a":[{"exists":true}]}"#, json!({"a": "x"}), true),
        (r#"{"a":[{"exists":true}]}"#, json!({"a": 0}), true),
        // Choice: null is a present leaf.
        (r#"{"a":[{"exists":true}]}"#, json!({"a": null}), true),
        (r#"{"a":[{"exists":true}]}"#, json!({}), false),
        (r#"{"a":[{"exists":true}]}"#, json!({"a": {"b": 1}}), false),
        (r#"{"a":[{"exists":true}]}"#, json!({"a": []}), false),
        (r#"{"a":[{"exists":true}]}"#, json!({"a": ["x"]}), true),
        (r#"{"a":[{"exists":false}]}"#, json!({}), true),
        (r#"{"a":[{"exists":false}]}"#, json!({"b": 1}), true),
        (r#"{"a":[{"exists":false}]}"#, json!({"a": "x"}), false),
        (r#"{"a":[{"exists":false}]}"#, json!({"a": null}), false),
        // Exists only works on leaves: an object-valued field counts as absent.
        (r#"{"a":[{"exists":false}]}"#, json!({"a": {"b": 1}}), true),
        // Missing or non-object parent: all its fields are missing.
        (r#"{"p":{"a":[{"exists":false}]}}"#, json!({}), true),
        (
            r#"{"p":{"a":[{"exists":false}]}}"#,
            json!({"p": "scalar"}),
            true,
        ),
        (
            r#"{"p":{"a":[{"exists":false}]}}"#,
            json!({"p": {"a": 1}}),
            false,
        ),
        (
            r#"{"p":{"a":[{"exists":true}]}}"#,
            json!({"p": "scalar"}),
            false,
        ),
        (r#"{"p":{"a":["x"]}}"#, json!({"p": "scalar"}), false),
        // OR with other matchers.
        (r#"{"a":["x",{"exists":false}]}"#, json!({}), true),
        (r#"{"a":["x",{"exists":false}]}"#, json!({"a": "x"}), true),
        (r#"{"a":["x",{"exists":false}]}"#, json!({"a": "y"}), false),
    ]);
}

#[test]
fn cidr() {
    check(&[
        (
            r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#,
            json!({"ip": "10.0.0.255"}),
            true,
        ),
        (
            r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#,
            json!({"ip": "10.0.1.0"}),
            false,
        ),
        (
            r#"{"ip":[{"cidr":"10.0.0.7/24"}]}"#,
            json!({"ip": "10.0.0.1"}),
            true,
        ),
        (
            r#"{"ip":[{"cidr":"0.0.0.0/0"}]}"#,
            json!({"ip": "192.168.1.1"}),
            true,
        ),
        (
            r#"{"ip":[{"cidr":"10.1.2.3/32"}]}"#,
            json!({"ip": "10.1.2.3"}),
            true,
        ),
        (
            r#"{"ip":[{"cidr":"10.1.2.3/32"}]}"#,
            json!({"ip": "10.1.2.4"}),
            false,
        ),
        (
            r#"{"ip":[{"cidr":"10.0.0.0/8"}]}"#,
            json!({"ip": "not an ip"}),
            false,
        ),
        (
            r#"{"ip":[{"cidr":"10.0.0.0/8"}]}"#,
            json!({"ip": "::ffff:a00:1"}),
            false,
        ),
        (
            r#"{"ip":[{"cidr":"10.0.0.0/8"}]}"#,
            json!({"ip": 10}),
            false,
        ),
        (
            r#"{"ip":[{"cidr":"2001:db8::/32"}]}"#,
            json!({"ip": "2001:db8:1234::1"}),
            true,
        ),
        (
            r#"{"ip":[{"cidr":"2001:db8::/32"}]}"#,
            json!({"ip": "2001:db9::1"}),
            false,
        ),
        (r#"{"ip":[{"cidr":"::/0"}]}"#, json!({"ip": "::1"}), true),
        (
            r#"{"ip":[{"cidr":"::/0"}]}"#,
            json!({"ip": "127.0.0.1"}),
            false,
        ),
    ]);
}

#[test]
fn wildcard() {
    check(&[
        (r#"{"a":[{"wildcard":"a*b"}]}"#, json!({"a": "ab"}), true),
        (r#"{"a":[{"wildcard":"a*b"}]}"#, json!({"a": "axxb"}), true),
        (
            r#"{"a":[{"wildcard":"a*b"}]}"#,
            json!({"a": "axxbc"}),
            false,
        ),
        (r#"{"a":[{"wildcard":"a*b"}]}"#, json!({"a": "b"}), false),
        (r#"{"a":[{"wildcard":"*"}]}"#, json!({"a": ""}), true),
        (r#"{"a":[{"wildcard":"*"}]}"#, json!({"a": 1}), false),
        (
            r#"{"a":[{"wildcard":"*.png"}]}"#,
            json!({"a": "dir/cat.png"}),
            true,
        ),
        (
            r#"{"a":[{"wildcard":"*/*/x"}]}"#,
            json!({"a": "a/b/x"}),
            true,
        ),
        (
            r#"{"a":[{"wildcard":"*/*/x"}]}"#,
            json!({"a": "a/x"}),
            false,
        ),
        (
            r#"{"a":[{"wildcard":"ab*ba"}]}"#,
            json!({"a": "aba"}),
            false,
        ),
        (
            r#"{"a":[{"wildcard":"ab*ba"}]}"#,
            json!({"a": "abba"}),
            true,
        ),
        (r#"{"a":[{"wildcard":"a*a*a"}]}"#, json!({"a": "aaa"}), true),
        (r#"{"a":[{"wildcard":"a*a*a"}]}"#, json!({"a": "aa"}), false),
        (r#"{"a":[{"wildcard":"é*ü"}]}"#, json!({"a": "éxü"}), true),
        (
            r#"{"a":[{"wildcard":"no-star"}]}"#,
            json!({"a": "no-star"}),
            true,
        ),
        (
            r#"{"a":[{"wildcard":"no-star"}]}"#,
            json!({"a": "no-stars"}),
            false,
        ),
        // Escapes: \* is a literal star, \\ a literal backslash.
        (r#"{"a":[{"wildcard":"a\\*b"}]}"#, json!({"a": "a*b"}), true),
        (
            r#"{"a":[{"wildcard":"a\\*b"}]}"#,
            json!({"a": "axb"}),
            false,
        ),
        (
            r#"{"a":[{"wildcard":"a\\\\*"}]}"#,
            json!({"a": "a\\bc"}),
            true,
        ),
        (
            r#"{"a":[{"wildcard":"a\\\\*"}]}"#,
            json!({"a": "abc"}),
            false,
        ),
    ]);
}

#[test]
fn or_operator() {
    check(&[
        (
            r#"{"$or":[{"a":["x"]},{"b":["y"]}]}"#,
            json!({"a": "x"}),
            true,
        ),
        (
            r#"{"$or":[{"a":["x"]},{"b":["y"]}]}"#,
            json!({"b": "y"}),
            true,
        ),
        (
            r#"{"$or":[{"a":["x"]},{"b":["y"]}]}"#,
            json!({"a": "y", "b": "x"}),
            false,
        ),
        // AND with a sibling key.
        (
            r#"{"s":["src"],"$or":[{"a":["x"]},{"b":["y"]}]}"#,
            json!({"s": "src", "b": "y"}),
            true,
        ),
        (
            r#"{"s":["src"],"$or":[{"a":["x"]},{"b":["y"]}]}"#,
            json!({"s": "other", "b": "y"}),
            false,
        ),
        // Nested level, and a branch that is itself an AND.
        (
            r#"{"d":{"$or":[{"a":[1]},{"b":[2],"c":[3]}]}}"#,
            json!({"d": {"b": 2, "c": 3}}),
            true,
        ),
        (
            r#"{"d":{"$or":[{"a":[1]},{"b":[2],"c":[3]}]}}"#,
            json!({"d": {"b": 2}}),
            false,
        ),
        // Nested $or inside a branch.
        (
            r#"{"$or":[{"a":["x"]},{"b":["y"],"$or":[{"c":[1]},{"d":[2]}]}]}"#,
            json!({"b": "y", "d": 2}),
            true,
        ),
        (
            r#"{"$or":[{"a":["x"]},{"b":["y"],"$or":[{"c":[1]},{"d":[2]}]}]}"#,
            json!({"b": "y", "d": 3}),
            false,
        ),
        // Branches with operators and exists:false.
        (
            r#"{"$or":[{"n":[{"numeric":[">",10]}]},{"n":[{"exists":false}]}]}"#,
            json!({}),
            true,
        ),
        (
            r#"{"$or":[{"n":[{"numeric":[">",10]}]},{"n":[{"exists":false}]}]}"#,
            json!({"n": 3}),
            false,
        ),
        // Not an OR shape: "$or" is an ordinary field name (event-ruler compatibility).
        (r#"{"$or":{"a":["x"]}}"#, json!({"$or": {"a": "x"}}), true),
        (r#"{"$or":["v"]}"#, json!({"$or": "v"}), true),
    ]);
}

#[test]
fn nested_sqs_body_and_dynamodb_images() {
    check(&[
        // SQS-style: the body has already been decoded into JSON by the caller.
        (r#"{"body":{"k":["v"]}}"#, json!({"body": {"k": "v"}}), true),
        (
            r#"{"body":{"k":["v"]}}"#,
            json!({"body": {"k": "w"}}),
            false,
        ),
        (
            r#"{"body":{"k":["v"]}}"#,
            json!({"body": "plain text"}),
            false,
        ),
        (r#"{"body":{"k":["v"]}}"#, json!({}), false),
        (
            r#"{"body":{"order":{"total":[{"numeric":[">=",100]}]}}}"#,
            json!({"body": {"order": {"total": 250}}}),
            true,
        ),
        // DynamoDB-style typed attribute values.
        (
            r#"{"dynamodb":{"NewImage":{"k":{"S":["v"]}}}}"#,
            json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"k": {"S": "v"}}}}),
            true,
        ),
        (
            r#"{"dynamodb":{"NewImage":{"k":{"S":["v"]}}}}"#,
            json!({"dynamodb": {"NewImage": {"k": {"N": "v"}}}}),
            false,
        ),
        (
            r#"{"eventName":["INSERT","MODIFY"],"dynamodb":{"NewImage":{"qty":{"N":[{"prefix":"1"}]}}}}"#,
            json!({"eventName": "MODIFY", "dynamodb": {"NewImage": {"qty": {"N": "12"}}}}),
            true,
        ),
        (
            r#"{"eventName":["INSERT","MODIFY"],"dynamodb":{"NewImage":{"qty":{"N":[{"prefix":"1"}]}}}}"#,
            json!({"eventName": "REMOVE", "dynamodb": {"NewImage": {"qty": {"N": "12"}}}}),
            false,
        ),
        (
            r#"{"dynamodb":{"OldImage":{"k":{"S":[{"exists":false}]}}}}"#,
            json!({"dynamodb": {"NewImage": {"k": {"S": "v"}}}}),
            true,
        ),
        // Kinesis-style event source and a nested data payload.
        (
            r#"{"eventSource":["aws:kinesis"],"data":{"temp":[{"numeric":[">",30]}]}}"#,
            json!({"eventSource": "aws:kinesis", "data": {"temp": 31.5}}),
            true,
        ),
    ]);
}

#[test]
fn duplicate_keys_last_one_wins() {
    check(&[
        (r#"{"a":["x"],"a":["y"]}"#, json!({"a": "y"}), true),
        (r#"{"a":["x"],"a":["y"]}"#, json!({"a": "x"}), false),
    ]);
}

#[test]
fn deeply_nested_event_arrays_do_not_overflow() {
    let mut event = json!("x");
    for _ in 0..100_000 {
        event = Value::Array(vec![event]);
    }
    // Not `json!`: it would re-serialize the value recursively.
    let event = Value::Object([("a".to_owned(), event)].into_iter().collect());
    assert!(parse(r#"{"a":["x"]}"#).matches(&event));
    assert!(!parse(r#"{"a":{"b":["x"]}}"#).matches(&event));
    // Dropping a 100k-deep Value recurses; forget it instead of risking the test stack.
    std::mem::forget(event);
}

#[test]
fn filter_set_ors_its_patterns() {
    let set = FilterSet::parse([r#"{"a":["x"]}"#, r#"{"b":[{"numeric":[">",1]}]}"#]).unwrap();
    assert!(!set.is_empty());
    assert!(set.matches(&json!({"a": "x"})));
    assert!(set.matches(&json!({"b": 2})));
    assert!(set.matches(&json!({"a": "x", "b": 0})));
    assert!(!set.matches(&json!({"a": "y", "b": 0})));
    assert!(!set.matches(&json!({})));
}

#[test]
fn empty_filter_set_matches_everything() {
    let set = FilterSet::parse(std::iter::empty()).unwrap();
    assert!(set.is_empty());
    assert_eq!(set, FilterSet::default());
    assert!(set.matches(&json!({})));
    assert!(set.matches(&json!({"anything": [1, 2, 3]})));
    assert!(set.matches(&json!(null)));
}

#[test]
fn filter_set_rejects_any_invalid_pattern() {
    let err = FilterSet::parse([r#"{"a":["x"]}"#, r#"{"eventSource":"aws:sqs"}"#]).unwrap_err();
    assert_eq!(err.to_string(), "Invalid filter pattern definition.");
}

#[test]
fn parse_is_deterministic_and_comparable() {
    let p = r#"{"a":[{"prefix":"x"},{"numeric":[">",1,"<",2]}],"$or":[{"b":[1]},{"c":[2]}]}"#;
    assert_eq!(parse(p), parse(p));
    assert_ne!(parse(p), parse(r#"{"a":["x"]}"#));
}
