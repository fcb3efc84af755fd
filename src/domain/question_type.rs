//! The kinds of answer a question takes.

use serde::{Deserialize, Serialize};

/// The kind of answer a question takes.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    Scale,
    SingleChoice,
    MultipleChoice,
    YesNo,
    Number,
    #[default]
    ShortText,
    LongText,
}

impl QuestionType {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionType::Scale => "scale",
            QuestionType::SingleChoice => "single_choice",
            QuestionType::MultipleChoice => "multiple_choice",
            QuestionType::YesNo => "yes_no",
            QuestionType::Number => "number",
            QuestionType::ShortText => "short_text",
            QuestionType::LongText => "long_text",
        }
    }
}
