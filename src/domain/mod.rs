//! The language of surveys: types that parse, never raw strings.

pub mod campaign;
pub mod locality;
pub mod planning;
pub mod questionnaire;
pub mod sampling;
pub mod text;
pub mod validation;
