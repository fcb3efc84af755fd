//! The language of surveys: types that parse, never raw strings.

pub mod answers;
pub mod campaign;
pub mod questionnaire;
pub mod text;
pub mod validation;
