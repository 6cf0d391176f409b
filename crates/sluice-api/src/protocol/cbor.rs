//! The AWS CBOR wire format (`Content-Type: application/x-amz-cbor-1.1`), converted at the edge
//! to and from the JSON 1.1 values the handlers work on.
//!
//! The Java SDK v2 (and so the KCL) talks to Kinesis in CBOR by default: the same operations,
//! `X-Amz-Target: Kinesis_20131202.<Op>` and shapes as awsJson 1.1, only the bodies differ.
//! [`decode_request`] turns a CBOR request body into the JSON value a handler takes,
//! [`encode_response`] turns the handler's JSON answer into CBOR, and [`encode_error`] does the
//! same for error bodies.
//!
//! # Wire facts relied on, and where they come from
//!
//! - **Requests are written by Jackson's `CBORGenerator`** behind the SDK's `SdkJsonGenerator`
//!   (aws/aws-sdk-java-v2 `core/protocols/aws-json-protocol/.../SdkJsonGenerator.java`,
//!   `core/protocols/aws-cbor-protocol/.../SdkStructuredCborFactory.java`). Jackson writes
//!   `writeStartObject()` / `writeStartArray()` as *indefinite-length* maps and arrays
//!   (`0xBF … 0xFF`, `0x9F … 0xFF`), and strings longer than 3996 chars as indefinite-length
//!   text in chunks (`_writeChunkedString`, `BYTE_STRING_INDEFINITE`; FasterXML
//!   jackson-dataformats-binary `CBORGenerator.java`). So indefinite items are accepted
//!   everywhere here.
//! - **Blobs are CBOR byte strings**, not base64 text: `SdkJsonGenerator.writeValue(ByteBuffer)`
//!   calls `generator.writeBinary(..)`, which Jackson writes as major type 2. On the way back
//!   the SDK's `JsonProtocolUnmarshaller.unmarshallSdkBytes` takes a byte string ("embedded
//!   object") as is and only base64-decodes text. localstack does the same
//!   (`localstack/aws/protocol/parser.py` `_parse_blob`: "CBOR does not base64 encode binary
//!   data"; `serializer.py` `_serialize_type_blob` writes raw bytes for CBOR).
//! - **Timestamps are CBOR tag 1 around an *integer* of epoch milliseconds**, against RFC 8949
//!   (which says seconds): `SdkCborGenerator.writeValue(Instant)` does
//!   `writeTag(1); writeNumber(instant.toEpochMilli())` (aws-sdk-java-v2
//!   `core/protocols/aws-cbor-protocol/.../internal/SdkCborGenerator.java`; the v1 SDK the
//!   same with `date.getTime()`). `AwsCborProtocolFactory.getDefaultTimestampFormats` sets
//!   `PAYLOAD -> UNIX_TIMESTAMP_MILLIS` ("CBOR uses epoch millis for timestamps rather than
//!   epoch seconds with millisecond decimal precision like JSON protocols"), and responses are
//!   parsed by `StringToInstant` -> `DateUtils.parseUnixTimestampMillisInstant`, i.e.
//!   `Instant.ofEpochMilli(Long.parseLong(text))`: the value must be an integer — a float
//!   (`1.7E12`) fails to parse. Jackson's parser skips the tag, so the tag itself is optional
//!   for the SDK, but real Kinesis and localstack send it. Confirmed by aws/aws-sdk-java-v2
//!   issue #4661 (AT_TIMESTAMP sent as `c1 1b <millis>`), #184 / PR #186 and PR #979 ("Dates
//!   were being unmarshalled as epoch seconds for CBOR but it uses epoch millis on the wire"),
//!   localstack PRs #11071 / #11286 and `localstack/aws/client.py` `_patch_cbor2` ("AWS SDKs
//!   … need this to be an integer, and must not be a floating point number"), and
//!   floci-io/floci issue #2368 (a wire capture of `GetShardIterator`:
//!   `6954696d657374616d70 c1 1b 000001a013accc38`). So a request's tag 1 (and any number in a
//!   member named as a timestamp) is read as millis and handed on as `f64` epoch *seconds*; a
//!   response's timestamp members are written as tag 1 + integer millis.
//! - **Numbers**: Jackson writes ints minimally (`WRITE_MINIMAL_INTS`), longs outside `i32` as
//!   8-byte ints, doubles as float64 and floats as float32; `BigInteger` as tag 2/3 bignums.
//!   The SDK reads scalars via `asText()` + `Integer.parseInt`/`Long.parseLong`/…, so integer
//!   members must go out as CBOR integers (`5`, never `5.0`): JSON integers stay integers here.
//! - **Errors** are `{"__type": …, "message": …}` maps in the same content type (localstack
//!   `serializer.py` `JSONResponseSerializer._serialize_error` writes `cbor2.dumps(body)` for
//!   the CBOR types and also sets `X-Amzn-Errortype`).
//! - **Which members are blobs and timestamps** (botocore
//!   `botocore/data/kinesis/2013-12-02/service-2.json`): the only blob shape is `Data`
//!   (members `Data` of `PutRecordInput`, `PutRecordsRequestEntry`, `Record`); the only
//!   timestamp shape is `Timestamp`, used by the members `ApproximateArrivalTimestamp`
//!   (`Record`), `ConsumerCreationTimestamp` (`Consumer`, `ConsumerDescription`),
//!   `StreamCreationTimestamp` (`ListShardsInput`, `ListStreamConsumersInput`,
//!   `StreamDescription`, `StreamDescriptionSummary`, `StreamSummary`) and `Timestamp`
//!   (`GetShardIteratorInput`, `ShardFilter`, `StartingPosition`). No member is named
//!   `ExclusiveStartTimestamp` in that model.
//!
//! # Decoding rules
//!
//! Maps (keys must be text) become objects, arrays arrays, text strings strings, byte strings
//! standard base64 strings, integers JSON integers (below `i64::MIN`: `f64`), floats (16, 32
//! and 64 bit) `f64`, `true`/`false` booleans, `null`/`undefined` null. Tag 1 wraps a number of
//! epoch millis and becomes `f64` epoch seconds; a plain number under a member named in
//! [`CborShapes::timestamps`] is read the same way. Tags 2/3 (bignums) become numbers; every
//! other tag is transparent. An empty body is `{}`. Anything else — truncation, trailing bytes,
//! a non-text map key, a stray break, reserved initial bytes, simple values, non-finite floats,
//! nesting deeper than [`MAX_DEPTH`] — is a [`CborError`]. The decoder never panics and never
//! allocates by a length header: a container grows one decoded item at a time and a string is
//! only read once its bytes are known to be in the input.

use std::convert::Infallible;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use minicbor::data::{Tag, Type};
use minicbor::{Decoder, Encoder};
use serde_json::{Map, Number, Value};

/// The request content type of the Java SDK's CBOR protocol (and of Kinesis' CBOR answers).
pub const CONTENT_TYPE: &str = "application/x-amz-cbor-1.1";

/// How deep arrays, maps and tags may nest in a request body.
pub const MAX_DEPTH: usize = 64;

/// Whether a `Content-Type` header value names the AWS CBOR protocol
/// (`application/x-amz-cbor-1.1`, any version, any parameters, any case).
pub fn is_cbor_content_type(content_type: &str) -> bool {
    let t = content_type.trim_start().as_bytes();
    let prefix = b"application/x-amz-cbor";
    t.len() >= prefix.len() && t[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Which members of a service's shapes are blobs and which are timestamps, by member name.
/// (Names are enough for Kinesis: no member name is used by two shapes of different types.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CborShapes {
    /// Members whose JSON value is base64 text and whose CBOR value is a byte string.
    pub blobs: &'static [&'static str],
    /// Members whose JSON value is epoch seconds and whose CBOR value is tag 1 + epoch millis.
    pub timestamps: &'static [&'static str],
}

impl CborShapes {
    fn is_blob(&self, member: &str) -> bool {
        self.blobs.contains(&member)
    }

    fn is_timestamp(&self, member: &str) -> bool {
        self.timestamps.contains(&member)
    }
}

/// Kinesis (`2013-12-02`), from botocore's `service-2.json`; see the module header.
pub const KINESIS: CborShapes = CborShapes {
    blobs: &["Data"],
    timestamps: &[
        "ApproximateArrivalTimestamp",
        "ConsumerCreationTimestamp",
        "StreamCreationTimestamp",
        "Timestamp",
    ],
};

/// A request body that is not acceptable CBOR. `offset` is the byte where the offending item
/// starts (or where the input ran out).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CBOR body at byte {offset}: {message}")]
pub struct CborError {
    pub offset: usize,
    pub message: String,
}

impl CborError {
    fn new(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}

/// Decodes a CBOR request body into the JSON 1.1 value the handlers take (see the module
/// header for the rules).
pub fn decode_request(body: &[u8], shapes: &CborShapes) -> Result<Value, CborError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let mut reader = Reader {
        d: Decoder::new(body),
        len: body.len(),
        shapes,
    };
    let value = reader.value(0, false)?;
    let end = reader.d.position();
    if end != body.len() {
        return Err(CborError::new(
            end,
            format!(
                "{} trailing byte(s) after the top-level item",
                body.len() - end
            ),
        ));
    }
    Ok(value)
}

struct Reader<'b, 's> {
    d: Decoder<'b>,
    /// The input length, where truncation is reported.
    len: usize,
    shapes: &'s CborShapes,
}

/// Maps a minicbor error for the item that starts at `start`.
fn fail(len: usize, start: usize, e: &minicbor::decode::Error) -> CborError {
    if e.is_end_of_input() {
        CborError::new(len, "unexpected end of input (truncated body)")
    } else {
        CborError::new(e.position().unwrap_or(start), e.to_string())
    }
}

impl Reader<'_, '_> {
    /// One data item. `depth` counts the containers (arrays, maps, tags) around it;
    /// `timestamp_member` says it is the value of a member named as a timestamp.
    fn value(&mut self, depth: usize, timestamp_member: bool) -> Result<Value, CborError> {
        let start = self.d.position();
        let ty = self.d.datatype().map_err(|e| fail(self.len, start, &e))?;
        match ty {
            Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::Int
            | Type::F16
            | Type::F32
            | Type::F64 => {
                let n = self.number(start, ty)?;
                if timestamp_member {
                    millis_to_seconds(start, &n)
                } else {
                    Ok(Value::Number(n))
                }
            }
            Type::Bool => self
                .d
                .bool()
                .map(Value::Bool)
                .map_err(|e| fail(self.len, start, &e)),
            Type::Null => {
                self.d.null().map_err(|e| fail(self.len, start, &e))?;
                Ok(Value::Null)
            }
            Type::Undefined => {
                self.d.undefined().map_err(|e| fail(self.len, start, &e))?;
                Ok(Value::Null)
            }
            Type::Bytes | Type::BytesIndef => {
                let bytes = self.bytes(start)?;
                Ok(Value::String(
                    base64::engine::general_purpose::STANDARD.encode(bytes),
                ))
            }
            Type::String | Type::StringIndef => self.text(start).map(Value::String),
            Type::Array | Type::ArrayIndef => {
                let depth = enter(start, depth)?;
                let len = self.d.array().map_err(|e| fail(self.len, start, &e))?;
                let mut items = Vec::new();
                match len {
                    Some(n) => {
                        // Each item takes at least one byte: a lying count runs out of input.
                        for _ in 0..n {
                            items.push(self.value(depth, false)?);
                        }
                    }
                    None => {
                        while !self.at_break()? {
                            items.push(self.value(depth, false)?);
                        }
                    }
                }
                Ok(Value::Array(items))
            }
            Type::Map | Type::MapIndef => {
                let depth = enter(start, depth)?;
                let len = self.d.map().map_err(|e| fail(self.len, start, &e))?;
                let mut members = Map::new();
                match len {
                    Some(n) => {
                        for _ in 0..n {
                            self.member(depth, &mut members)?;
                        }
                    }
                    None => {
                        while !self.at_break()? {
                            self.member(depth, &mut members)?;
                        }
                    }
                }
                Ok(Value::Object(members))
            }
            Type::Tag => {
                let depth = enter(start, depth)?;
                let tag = self.d.tag().map_err(|e| fail(self.len, start, &e))?;
                self.tagged(start, depth, tag, timestamp_member)
            }
            Type::Break => Err(CborError::new(start, "unexpected break (0xff)")),
            Type::Simple => Err(CborError::new(start, "unsupported CBOR simple value")),
            Type::Unknown(b) => Err(CborError::new(
                start,
                format!("reserved initial byte {b:#04x}"),
            )),
        }
    }

    /// One map entry: a text key, then its value.
    fn member(&mut self, depth: usize, members: &mut Map<String, Value>) -> Result<(), CborError> {
        let start = self.d.position();
        let ty = self.d.datatype().map_err(|e| fail(self.len, start, &e))?;
        if !matches!(ty, Type::String | Type::StringIndef) {
            return Err(CborError::new(
                start,
                format!("map key must be a text string, found {ty}"),
            ));
        }
        let key = self.text(start)?;
        let timestamp = self.shapes.is_timestamp(&key);
        let value = self.value(depth, timestamp)?;
        members.insert(key, value);
        Ok(())
    }

    /// Whether an indefinite container ends here; consumes the break if so.
    fn at_break(&mut self) -> Result<bool, CborError> {
        let pos = self.d.position();
        match self.d.datatype() {
            Ok(Type::Break) => {
                self.d.set_position(pos + 1);
                Ok(true)
            }
            Ok(_) => Ok(false),
            Err(e) => Err(fail(self.len, pos, &e)),
        }
    }

    fn number(&mut self, start: usize, ty: Type) -> Result<Number, CborError> {
        let n = match ty {
            Type::U8 | Type::U16 | Type::U32 | Type::U64 => {
                Number::from(self.d.u64().map_err(|e| fail(self.len, start, &e))?)
            }
            Type::I8 | Type::I16 | Type::I32 | Type::I64 => {
                Number::from(self.d.i64().map_err(|e| fail(self.len, start, &e))?)
            }
            Type::Int => {
                // A negative integer below i64::MIN: only an f64 can hold it in JSON.
                let i = i128::from(self.d.int().map_err(|e| fail(self.len, start, &e))?);
                finite(start, i as f64)?
            }
            Type::F16 => {
                let input = self.d.input();
                let Some(&[hi, lo]) = input.get(start + 1..start + 3) else {
                    return Err(CborError::new(
                        input.len(),
                        "unexpected end of input (truncated body)",
                    ));
                };
                self.d.set_position(start + 3);
                finite(start, f16_to_f64(u16::from_be_bytes([hi, lo])))?
            }
            Type::F32 => {
                let f = self.d.f32().map_err(|e| fail(self.len, start, &e))?;
                finite(start, f64::from(f))?
            }
            Type::F64 => {
                let f = self.d.f64().map_err(|e| fail(self.len, start, &e))?;
                finite(start, f)?
            }
            other => {
                return Err(CborError::new(
                    start,
                    format!("expected a number, found {other}"),
                ));
            }
        };
        Ok(n)
    }

    /// The content of a byte string, definite or in chunks.
    fn bytes(&mut self, start: usize) -> Result<Vec<u8>, CborError> {
        let mut out = Vec::new();
        let chunks = self.d.bytes_iter().map_err(|e| fail(self.len, start, &e))?;
        for chunk in chunks {
            match chunk {
                Ok(c) => out.extend_from_slice(c),
                Err(e) => return Err(fail(self.len, start, &e)),
            }
        }
        Ok(out)
    }

    /// The content of a text string, definite or in chunks (each chunk valid UTF-8).
    fn text(&mut self, start: usize) -> Result<String, CborError> {
        let mut out = String::new();
        let chunks = self.d.str_iter().map_err(|e| fail(self.len, start, &e))?;
        for chunk in chunks {
            match chunk {
                Ok(c) => out.push_str(c),
                Err(e) => return Err(fail(self.len, start, &e)),
            }
        }
        Ok(out)
    }

    /// The item after a tag (the tag itself already read).
    fn tagged(
        &mut self,
        start: usize,
        depth: usize,
        tag: Tag,
        timestamp_member: bool,
    ) -> Result<Value, CborError> {
        match u64::from(tag) {
            // Epoch date-time; AWS puts epoch *millis* in it (see the module header).
            1 => {
                let inner = self.d.position();
                let ty = self.d.datatype().map_err(|e| fail(self.len, inner, &e))?;
                let n = self.number(inner, ty).map_err(|e| {
                    if e.message.starts_with("expected a number") {
                        CborError::new(inner, "tag 1 (epoch time) must enclose a number")
                    } else {
                        e
                    }
                })?;
                millis_to_seconds(start, &n)
            }
            // Bignums, as Jackson writes a BigInteger.
            t @ (2 | 3) => {
                let inner = self.d.position();
                if !matches!(
                    self.d.datatype().map_err(|e| fail(self.len, inner, &e))?,
                    Type::Bytes | Type::BytesIndef
                ) {
                    return Err(CborError::new(
                        inner,
                        "a bignum tag must enclose a byte string",
                    ));
                }
                let magnitude = self.bytes(inner)?;
                Ok(Value::Number(bignum(start, &magnitude, t == 3)?))
            }
            _ => self.value(depth, timestamp_member),
        }
    }
}

/// The depth of the items inside a container that starts at `start`.
fn enter(start: usize, depth: usize) -> Result<usize, CborError> {
    if depth >= MAX_DEPTH {
        Err(CborError::new(
            start,
            format!("nesting deeper than {MAX_DEPTH} levels"),
        ))
    } else {
        Ok(depth + 1)
    }
}

fn finite(start: usize, f: f64) -> Result<Number, CborError> {
    Number::from_f64(f).ok_or_else(|| CborError::new(start, "non-finite float (NaN or infinity)"))
}

fn millis_to_seconds(start: usize, millis: &Number) -> Result<Value, CborError> {
    let ms = if let Some(i) = millis.as_i64() {
        i as f64
    } else if let Some(u) = millis.as_u64() {
        u as f64
    } else {
        millis.as_f64().unwrap_or(f64::NAN)
    };
    finite(start, ms / 1000.0).map(Value::Number)
}

fn bignum(start: usize, magnitude: &[u8], negative: bool) -> Result<Number, CborError> {
    let digits = match magnitude.iter().position(|&b| b != 0) {
        Some(first) => &magnitude[first..],
        None => &[][..],
    };
    if digits.len() <= 8 {
        let mut buf = [0u8; 8];
        buf[8 - digits.len()..].copy_from_slice(digits);
        let n = u64::from_be_bytes(buf);
        if !negative {
            return Ok(Number::from(n));
        }
        // Tag 3 holds -1 - n.
        if let Ok(i) = i64::try_from(n) {
            return Ok(Number::from(-1 - i));
        }
        return finite(start, -1.0 - n as f64);
    }
    let f = digits
        .iter()
        .fold(0.0f64, |acc, &b| acc * 256.0 + f64::from(b));
    finite(start, if negative { -1.0 - f } else { f })
}

/// IEEE 754 half precision to f64.
fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let frac = f64::from(bits & 0x03ff);
    let magnitude = match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    };
    sign * magnitude
}

/// Accepts standard base64 with or without padding (handlers write it padded).
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

type EncodeResult = Result<(), minicbor::encode::Error<Infallible>>;

/// Encodes a JSON 1.1 response value as CBOR for a CBOR client (definite-length maps and
/// arrays). Members named in `shapes.blobs` holding base64 text become byte strings (text that
/// is not base64 is left as text); members named in `shapes.timestamps` holding a number of
/// epoch seconds become tag 1 + integer epoch millis. Integers stay integers, other numbers are
/// float64.
pub fn encode_response(value: &Value, shapes: &CborShapes) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out);
    let written = write_value(&mut enc, value, shapes, None);
    // Writing into a Vec<u8> cannot fail: its minicbor `Write::Error` is `Infallible`.
    debug_assert!(written.is_ok());
    out
}

/// Encodes an error body, `{"__type": error_type, "message": message}`, as a CBOR map.
pub fn encode_error(error_type: &str, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let written: EncodeResult = Encoder::new(&mut out)
        .map(2)
        .and_then(|e| e.str("__type"))
        .and_then(|e| e.str(error_type))
        .and_then(|e| e.str("message"))
        .and_then(|e| e.str(message))
        .map(|_| ());
    debug_assert!(written.is_ok());
    out
}

fn write_value(
    enc: &mut Encoder<&mut Vec<u8>>,
    value: &Value,
    shapes: &CborShapes,
    member: Option<&str>,
) -> EncodeResult {
    match value {
        Value::Null => {
            enc.null()?;
        }
        Value::Bool(b) => {
            enc.bool(*b)?;
        }
        Value::Number(n) => {
            if member.is_some_and(|m| shapes.is_timestamp(m)) {
                enc.tag(Tag::new(1))?;
                enc.i64(seconds_to_millis(n))?;
            } else if let Some(u) = n.as_u64() {
                enc.u64(u)?;
            } else if let Some(i) = n.as_i64() {
                enc.i64(i)?;
            } else {
                enc.f64(n.as_f64().unwrap_or(f64::NAN))?;
            }
        }
        Value::String(s) => {
            let blob = member
                .filter(|m| shapes.is_blob(m))
                .and_then(|_| BASE64_LENIENT.decode(s).ok());
            match blob {
                Some(bytes) => enc.bytes(&bytes)?,
                None => enc.str(s)?,
            };
        }
        Value::Array(items) => {
            enc.array(items.len() as u64)?;
            for item in items {
                write_value(enc, item, shapes, None)?;
            }
        }
        Value::Object(members) => {
            enc.map(members.len() as u64)?;
            for (k, v) in members {
                enc.str(k)?;
                write_value(enc, v, shapes, Some(k))?;
            }
        }
    }
    Ok(())
}

/// Epoch seconds (integer or fractional) to whole epoch millis, saturating.
fn seconds_to_millis(seconds: &Number) -> i64 {
    if let Some(i) = seconds.as_i64() {
        i.saturating_mul(1000)
    } else if seconds.is_u64() {
        i64::MAX
    } else {
        // `as` saturates (and maps NaN to 0).
        (seconds.as_f64().unwrap_or(0.0) * 1000.0).round() as i64
    }
}

#[cfg(test)]
mod tests;
