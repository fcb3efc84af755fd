//! The envelope of a submitted response: `{submission_id, locality, answers, channel?}`.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::campaign::Channel;
use super::validation::FieldError;

/// A submission whose envelope is well formed (answers not yet checked).
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    /// The client's random id; a retry carries the same one.
    pub id: Uuid,
    pub locality: String,
    pub answers: Map<String, Value>,
    pub channel: Option<Channel>,
}

/// A channel named by a client.
pub fn parse_channel(s: &str) -> Option<Channel> {
    match s {
        "web" => Some(Channel::Web),
        "kiosk" => Some(Channel::Kiosk),
        "email" => Some(Channel::Email),
        "interview" => Some(Channel::Interview),
        "paper" => Some(Channel::Paper),
        "api" => Some(Channel::Api),
        _ => None,
    }
}

/// Parses the envelope; every problem is reported with its field name.
pub fn parse_envelope(mut map: Map<String, Value>) -> Result<Submission, Vec<FieldError>> {
    let mut errors = Vec::new();
    let id = match map.remove("submission_id") {
        Some(Value::String(s)) => match Uuid::try_parse(&s) {
            Ok(id) if s.len() == 36 => Some(id),
            _ => {
                errors.push(FieldError::new("submission_id", "invalid_submission_id"));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("submission_id", "invalid_submission_id"));
            None
        }
        None => {
            errors.push(FieldError::new("submission_id", "missing_field"));
            None
        }
    };
    let locality = match map.remove("locality") {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(_) => {
            errors.push(FieldError::new("locality", "unknown_locality"));
            None
        }
        None => {
            errors.push(FieldError::new("locality", "missing_field"));
            None
        }
    };
    let answers = match map.remove("answers") {
        Some(Value::Object(m)) => Some(m),
        Some(_) => {
            errors.push(FieldError::new("answers", "expected_object"));
            None
        }
        None => Some(Map::new()),
    };
    let channel = match map.remove("channel") {
        None => None,
        Some(Value::String(s)) => match parse_channel(&s) {
            Some(c) => Some(c),
            None => {
                errors.push(FieldError::new("channel", "invalid_channel"));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("channel", "invalid_channel"));
            None
        }
    };
    for key in map.keys() {
        errors.push(FieldError::new(key.clone(), "unknown_field"));
    }
    match (id, locality, answers) {
        (Some(id), Some(locality), Some(answers)) if errors.is_empty() => Ok(Submission {
            id,
            locality,
            answers,
            channel,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn envelope_fields_are_checked() {
        let ok = parse_envelope(obj(json!({
            "submission_id": "6f1c1f7e-3f5b-4b53-9d1e-6a1c8f0b2a11",
            "locality": "00004", "answers": {}, "channel": "kiosk"
        })))
        .unwrap();
        assert_eq!(ok.channel, Some(Channel::Kiosk));
        let errors = parse_envelope(obj(json!({
            "submission_id": "6f1c1f7e3f5b4b539d1e6a1c8f0b2a11",
            "answers": [], "channel": "fax", "extra": 1
        })))
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["submission_id", "locality", "answers", "channel", "extra"]
        );
    }
}
