//! Field errors: what is wrong, where, as a stable code that is also the
//! translation key of its message.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One problem with one field of an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the field, e.g. `sections[0].questions[2].label.vi`.
    pub field: String,
    /// Stable snake_case code; the message is `t("error-" + code)`.
    pub code: String,
    /// Values to put into the message.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str) -> FieldError {
        FieldError {
            field: field.into(),
            code: code.to_owned(),
            params: BTreeMap::new(),
        }
    }

    /// Adds a value for the message.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> FieldError {
        self.params.insert(key.to_owned(), value.into());
        self
    }
}
