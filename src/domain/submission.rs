//! The envelope of a submitted response: `{submission_id, locality, answers, channel?}`.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::answers::{self, Answers};
use super::campaign::Channel;
use super::json::{StrictJsonError, parse_strict_object};
use super::questionnaire::Definition;
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

/// Why a submission body was refused before any campaign rule was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionError {
    /// Not strict JSON, or not an object (the API answers 400).
    #[error("malformed body: {0}")]
    Json(#[from] StrictJsonError),
    /// Envelope or answer problems, each naming its field (the API answers 422).
    #[error("invalid submission: {0:?}")]
    Fields(Vec<FieldError>),
}

/// Parses a submission body as `POST /api/v1/campaigns/{slug}/responses` and
/// the kiosk's JSON submissions do: strict JSON ([`parse_strict_object`]), the
/// envelope ([`parse_envelope`]), then the answers against `def`
/// ([`answers::parse`]). Campaign rules that need the database (dates,
/// localities) are left to the caller. Pure and total: any bytes give `Ok` or
/// a structured error, never a panic (fuzzed by `fuzz/fuzz_targets/submission.rs`).
pub fn parse_submission(
    def: &Definition,
    bytes: &[u8],
) -> Result<(Submission, Answers), SubmissionError> {
    let map = parse_strict_object(bytes)?;
    let submission = parse_envelope(map).map_err(SubmissionError::Fields)?;
    let parsed = answers::parse(def, &submission.answers).map_err(SubmissionError::Fields)?;
    Ok((submission, parsed))
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
