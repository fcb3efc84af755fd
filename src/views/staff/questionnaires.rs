//! The questionnaire designer's pages: the list, and the editor.

use serde::Serialize;

use crate::services::questionnaires::Summary;

/// A preset a new questionnaire may start from.
#[derive(Debug, Serialize)]
pub struct PresetOption {
    pub file: &'static str,
    pub title: String,
}

/// The list of questionnaires.
#[derive(Debug, Serialize)]
pub struct ListPage {
    pub questionnaires: Vec<Summary>,
    pub presets: Vec<PresetOption>,
    pub can_write: bool,
    pub errors: Vec<String>,
    /// An imported XLSForm's warnings (sheet, row, name, column: what happened).
    pub warnings: Vec<String>,
    /// The questionnaire an XLSForm was just imported into.
    pub imported: Option<i64>,
}

/// A question as the editor shows it.
#[derive(Debug, Serialize)]
pub struct QuestionView {
    pub index: usize,
    pub code: String,
    pub kind: &'static str,
    pub required: bool,
    pub label_vi: String,
    pub label_en: String,
    pub help_vi: String,
    pub help_en: String,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub options: String,
    /// The question's condition in words (any form, compound included).
    pub condition: Option<String>,
    /// True when the simple form cannot edit the condition (kept on save).
    pub condition_compound: bool,
    /// Constraint, required expression, cascading filter, default and
    /// read-only, in words, for reading (edited in the JSON).
    pub logic: Vec<String>,
    pub element: String,
    pub criterion: String,
    pub satisfied_min: Option<i64>,
    /// Scale: reverse-coded; yes/no: "no" counts as 1.
    pub reverse: bool,
    /// Choice: each option with whether it counts as 1 in the index (then any value
    /// the mapping names that the question does not have, ticked, to untick).
    pub count_options: Vec<CountOption>,
    /// Number: the mapping's cap, empty without one.
    pub cap: String,
    pub cond_question: String,
    pub cond_op: &'static str,
    pub cond_value: String,
    pub dont_know: bool,
    pub not_applicable: bool,
    /// Problems of the last change at this question's fields, in words.
    pub errors: Vec<String>,
}

/// A choice question's option in its index mapping form.
#[derive(Debug, Serialize)]
pub struct CountOption {
    pub value: String,
    /// The option's label in the page's language (empty for a value it does not have).
    pub label: String,
    pub counted: bool,
}

/// A section as the editor shows it.
#[derive(Debug, Serialize)]
pub struct SectionView {
    pub index: usize,
    pub code: String,
    pub title_vi: String,
    pub title_en: String,
    /// The words leading into its statements.
    pub lead_in_vi: String,
    pub lead_in_en: String,
    /// The section's condition in words.
    pub condition: Option<String>,
    pub questions: Vec<QuestionView>,
    /// Problems of the last change at this section's own fields, in words.
    pub errors: Vec<String>,
}

/// The editor of one questionnaire's newest version.
#[derive(Debug, Serialize)]
pub struct EditPage {
    pub summary: Summary,
    pub version: i32,
    pub status: String,
    pub checksum: Option<String>,
    pub title_vi: String,
    pub title_en: String,
    pub sections: Vec<SectionView>,
    pub indices: Vec<String>,
    pub types: Vec<&'static str>,
    pub can_write: bool,
    pub errors: Vec<String>,
    pub notice: Option<String>,
    /// Where the texts without Vietnamese are (a draft that needs translation).
    pub untranslated: Vec<String>,
}
