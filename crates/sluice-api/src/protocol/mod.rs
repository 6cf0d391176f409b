//! Wire protocols shared by the services: error envelopes, request ids, and routing of the
//! protocols that share `POST /` (JSON by `X-Amz-Target`, query by `Action` plus the SigV4
//! credential scope).

pub mod aws_json;
pub mod aws_query;
pub mod cbor;
pub mod rest_json;

use axum::http::HeaderMap;

/// A fresh request id, as AWS returns in `x-amzn-RequestId`.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The service name of the SigV4 credential scope in `Authorization`
/// (`Credential=AKID/20260101/us-east-1/sqs/aws4_request`), if any. Any access key is
/// accepted: Sluice does not check signatures.
pub fn sigv4_service(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?;
    let scope = cred.split([',', ' ']).next()?;
    let mut parts = scope.split('/');
    let _key = parts.next()?;
    let _date = parts.next()?;
    let _region = parts.next()?;
    parts.next().map(str::to_owned)
}

/// Decodes an `application/x-www-form-urlencoded` string or a URL query into pairs, keeping
/// repeated keys (`tagKeys=a&tagKeys=b`) in order.
pub fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sigv4_scope_names_the_service() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=abc"
                .parse()
                .unwrap(),
        );
        assert_eq!(sigv4_service(&h).as_deref(), Some("sqs"));
        assert_eq!(sigv4_service(&HeaderMap::new()), None);
    }

    #[test]
    fn form_pairs_keep_repeats_and_decode() {
        assert_eq!(
            form_pairs("tagKeys=a&tagKeys=b%3Ac&x=1+2&flag"),
            vec![
                ("tagKeys".into(), "a".into()),
                ("tagKeys".into(), "b:c".into()),
                ("x".into(), "1 2".into()),
                ("flag".into(), String::new()),
            ]
        );
    }
}
