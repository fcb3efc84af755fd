//! The language of surveys: types that parse, never raw strings.

pub mod answer;
pub mod answers;
pub mod campaign;
pub mod cells;
pub mod condition;
pub mod csv_rows;
pub mod editor;
pub mod fieldwork;
pub mod flow;
pub mod instrument;
pub mod json;
pub mod locality;
pub mod planning;
pub mod publication;
pub mod question_type;
pub mod questionnaire;
pub mod sampling;
pub mod submission;
pub mod text;
pub mod validation;
pub mod xlsform;
pub mod xlsx_guard;
