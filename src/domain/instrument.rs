//! Where an official instrument comes from: the decision that issued it, where
//! its text was found and which of its item lists were checked against that
//! text. Carried by a questionnaire definition (`source`) so that import and
//! export keep it; it changes nothing in how answers are collected or counted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The provenance of a preset transcribed from an official instrument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The issuing decision's number, e.g. `56/QĐ-BYT`.
    pub decision: String,
    /// The decision's date as printed (ISO 8601), when it was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The document's title as printed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Addresses where the text (or a copy of it) was found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub found_at: Vec<String>,
    /// Per item list (a section code or a named list): true only when the
    /// transcription was checked against the primary text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub verified: BTreeMap<String, bool>,
    /// What is unknown, what differs between copies, and which official
    /// indicators need an aggregation Hailong lacks ("needs …").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}
