//! The language of surveys: types that parse, never raw strings.

pub mod answers;
pub mod campaign;
pub mod condition;
pub mod json;
pub mod locality;
pub mod planning;
pub mod questionnaire;
pub mod sampling;
pub mod submission;
pub mod text;
pub mod validation;
pub mod xlsform;
