//! One checked answer, as stored and as conditions see it.

use serde_json::{Number, Value};

/// The answer "don't know".
pub const DONT_KNOW: &str = "dk";
/// The answer "not applicable".
pub const NOT_APPLICABLE: &str = "na";

/// One checked answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Scale or number question.
    Int(i64),
    /// Single choice: the chosen option's value.
    Choice(String),
    /// Multiple choice: the chosen options' values, in the questionnaire's order.
    Choices(Vec<String>),
    /// Yes/no question.
    Bool(bool),
    /// Short or long text.
    Text(String),
    /// "Don't know" (`"dk"`), where offered; not counted as an answer.
    DontKnow,
    /// "Not applicable" (`"na"`), where offered; not counted as an answer.
    NotApplicable,
}

impl Answer {
    /// True for a substantive answer (not "don't know"/"not applicable").
    pub fn is_real(&self) -> bool {
        !matches!(self, Answer::DontKnow | Answer::NotApplicable)
    }

    /// The answer as stored: the same JSON shape the API accepts.
    pub fn to_json(&self) -> Value {
        match self {
            Answer::Int(n) => Value::Number(Number::from(*n)),
            Answer::Choice(s) | Answer::Text(s) => Value::String(s.clone()),
            Answer::Choices(list) => {
                Value::Array(list.iter().cloned().map(Value::String).collect())
            }
            Answer::Bool(b) => Value::Bool(*b),
            Answer::DontKnow => Value::String(DONT_KNOW.to_owned()),
            Answer::NotApplicable => Value::String(NOT_APPLICABLE.to_owned()),
        }
    }

    /// A short code for calibration cells (`"F"`, `"18-34"`, `"3"`, `"true"`).
    pub fn cell_value(&self) -> Option<String> {
        match self {
            Answer::Int(n) => Some(n.to_string()),
            Answer::Choice(s) => Some(s.clone()),
            Answer::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// The first 40 characters of a value, for a message.
pub(super) fn shorten(s: &str) -> String {
    s.chars().take(40).collect()
}
