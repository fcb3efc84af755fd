//! Strict RFC 8259 JSON: UTF-8 without a byte-order mark, one value and
//! nothing after it, no object with a repeated key. `serde_json` on its own
//! keeps the last of duplicate keys; this parser refuses them.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a body is not strict JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrictJsonError {
    #[error("starts with a byte-order mark")]
    Bom,
    #[error("not valid UTF-8")]
    InvalidUtf8,
    #[error("duplicate key {0:?}")]
    DuplicateKey(String),
    #[error("{0}")]
    Syntax(String),
    #[error("not a JSON object")]
    NotAnObject,
}

const DUPLICATE: &str = "\u{1}duplicate key:";

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::Number(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::Number(v.into())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Strict, E> {
        Number::from_f64(v)
            .map(|n| Strict(Value::Number(n)))
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Strict(Value::Array(out)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE}{key}")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Strict(Value::Object(out)))
    }
}

/// Parses exactly one strict JSON value.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, StrictJsonError> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(StrictJsonError::Bom);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| StrictJsonError::InvalidUtf8)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict::deserialize(&mut de).map_err(classify)?;
    de.end().map_err(classify)?;
    Ok(value.0)
}

/// Parses a strict JSON object.
pub fn parse_strict_object(bytes: &[u8]) -> Result<Map<String, Value>, StrictJsonError> {
    match parse_strict(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(StrictJsonError::NotAnObject),
    }
}

fn classify(e: serde_json::Error) -> StrictJsonError {
    let msg = e.to_string();
    match msg.find(DUPLICATE) {
        Some(at) => {
            let rest = &msg[at + DUPLICATE.len()..];
            // serde_json appends " at line L column C".
            let key = rest.rsplit_once(" at line ").map_or(rest, |(k, _)| k);
            StrictJsonError::DuplicateKey(key.to_owned())
        }
        None => StrictJsonError::Syntax(msg),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn refuses_what_rfc_8259_refuses() {
        assert_eq!(
            parse_strict(b"\xEF\xBB\xBF{}").unwrap_err(),
            StrictJsonError::Bom
        );
        assert_eq!(
            parse_strict(b"{\"a\":\"\xFF\"}").unwrap_err(),
            StrictJsonError::InvalidUtf8
        );
        assert_eq!(
            parse_strict(br#"{"a":1,"b":{"c":1,"c":2}}"#).unwrap_err(),
            StrictJsonError::DuplicateKey("c".into())
        );
        assert!(matches!(
            parse_strict(b"{} {}").unwrap_err(),
            StrictJsonError::Syntax(_)
        ));
        assert!(matches!(
            parse_strict(b"{\"a\":1,}").unwrap_err(),
            StrictJsonError::Syntax(_)
        ));
        assert!(matches!(
            parse_strict(b"").unwrap_err(),
            StrictJsonError::Syntax(_)
        ));
        assert_eq!(
            parse_strict_object(b"[1]").unwrap_err(),
            StrictJsonError::NotAnObject
        );
        assert_eq!(
            parse_strict(b" {\"a\": [1, 2.5, null, true]} \n").unwrap(),
            serde_json::json!({"a": [1, 2.5, null, true]})
        );
    }

    proptest! {
        #[test]
        fn agrees_with_serde_json_on_duplicate_free_input(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(v) = parse_strict(&bytes) {
                let loose: Value = serde_json::from_slice(&bytes).unwrap();
                prop_assert_eq!(v, loose);
            }
        }
    }
}
