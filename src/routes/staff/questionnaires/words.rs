//! A refused definition's problems in words, where they are: `sections[1].questions[0]
//! .index.satisfied_min: …` becomes "Section 2 (e1), question e1_1: Satisfied from: …" in
//! the list at the top, and "Satisfied from: …" inside that question's own form.

use crate::domain::questionnaire::Definition;
use crate::domain::validation::FieldError;
use crate::error::field_message;
use crate::i18n::{self, Arg, Lang};

/// One problem: where it is (section, question) and what it says, at the field and in
/// the summary.
#[derive(Debug, Clone)]
pub struct Placed {
    pub section: Option<usize>,
    pub question: Option<usize>,
    /// The field's name and the message, shown in the form of that section or question.
    pub at_field: String,
    /// The same with its place, for the list at the top of the page.
    pub summary: String,
}

/// `sections[1].questions[0].index.satisfied_min` → `(Some(1), Some(0), "index.satisfied_min")`.
fn locate(path: &str) -> (Option<usize>, Option<usize>, String) {
    let (mut section, mut question) = (None, None);
    let mut rest = Vec::new();
    for step in path.split('.') {
        let (name, at) = match step.split_once('[') {
            Some((n, r)) => (n, r.trim_end_matches(']').parse::<usize>().ok()),
            None => (step, None),
        };
        match (name, at) {
            ("sections", Some(i)) if section.is_none() => section = Some(i),
            ("questions", Some(i)) if section.is_some() && question.is_none() => question = Some(i),
            (n, _) => rest.push(n),
        }
    }
    (section, question, rest.join("."))
}

/// The designer's label of a field (the one its form shows), `None` when it has none.
fn field_key(rest: &str) -> Option<&'static str> {
    Some(match rest {
        "label.vi" | "label" => "designer-label-vi",
        "label.en" => "designer-label-en",
        "help.vi" | "help" => "designer-help-vi",
        "help.en" => "designer-help-en",
        "title.vi" | "title" => "designer-title-vi",
        "title.en" => "designer-title-en",
        "min" => "designer-min",
        "max" => "designer-max",
        "index.satisfied_min" => "designer-satisfied-min",
        "index.element" => "designer-element",
        "index.criterion" => "designer-criterion",
        "index.options" => "designer-index-options",
        "index.cap" => "designer-cap",
        r if r.starts_with("options") => "designer-options",
        r if r.starts_with("condition") => "designer-condition",
        "code" => "hub-designer-code",
        _ => return None,
    })
}

/// Each problem of `errors` in `lang`, placed in `def` (the definition as it was refused,
/// whose codes name the places).
pub fn placed(def: &Definition, lang: Lang, errors: &[FieldError]) -> Vec<Placed> {
    errors
        .iter()
        .map(|e| {
            let message = field_message(lang, e);
            let (section, question, rest) = locate(&e.field);
            let at_field = match field_key(&rest) {
                Some(key) => format!("{}: {message}", i18n::t(lang, key, &[])),
                None => message,
            };
            let s = section.and_then(|i| def.sections.get(i));
            let place = match (section, question) {
                (Some(si), Some(qi)) => {
                    let code = s
                        .and_then(|s| s.questions.get(qi))
                        .map_or_else(|| (qi + 1).to_string(), |q| q.code.clone());
                    Some(i18n::t(
                        lang,
                        "hub-designer-at-question",
                        &[
                            ("section", Arg::from((si + 1) as u64)),
                            ("question", Arg::from(code)),
                        ],
                    ))
                }
                (Some(si), None) => Some(i18n::t(
                    lang,
                    "hub-designer-at-section",
                    &[
                        ("section", Arg::from((si + 1) as u64)),
                        (
                            "code",
                            Arg::from(s.map(|s| s.code.clone()).unwrap_or_default()),
                        ),
                    ],
                )),
                _ => None,
            };
            let summary = match place {
                Some(p) => format!("{p}: {at_field}"),
                None => at_field.clone(),
            };
            Placed {
                section,
                question,
                at_field,
                summary,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_read_as_its_section_question_and_field() {
        assert_eq!(
            locate("sections[1].questions[0].index.satisfied_min"),
            (Some(1), Some(0), "index.satisfied_min".to_owned())
        );
        assert_eq!(
            locate("sections[2].title.vi"),
            (Some(2), None, "title.vi".to_owned())
        );
        assert_eq!(
            locate("sections[0].questions[3].options[1].label.vi"),
            (Some(0), Some(3), "options.label.vi".to_owned())
        );
        assert_eq!(locate("code"), (None, None, "code".to_owned()));
        assert_eq!(field_key("options.label.vi"), Some("designer-options"));
        assert_eq!(
            field_key("index.satisfied_min"),
            Some("designer-satisfied-min")
        );
        assert_eq!(field_key("something_else"), None);
    }
}
