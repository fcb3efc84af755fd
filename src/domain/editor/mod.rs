//! The questionnaire designer's operations: each one changes a [`Definition`]
//! from the fields of one editor form (add, edit, move or delete a section or
//! a question, retitle). Pure: the handler loads the definition, calls
//! [`apply`] and saves the result through the usual validation.
//!
//! A malformed form (a position that is not a number, a section that does
//! not exist, an unknown operation…) is a [`FieldError`] naming the form
//! field; [`detail`] words it for the 400 answer.

use std::collections::HashMap;

use super::questionnaire::{
    Choice, Comparison, Condition, ConditionOp, Definition, IndexMapping, Question, QuestionType,
    ScalePoint, Section,
};
use super::text::Text;
use super::validation::FieldError;

/// An editor form: field name → value, as posted.
pub type Form = HashMap<String, String>;

/// A new, empty definition: one section with one question to start from.
pub fn blank(code: &str, title: Text) -> Definition {
    Definition {
        code: code.to_owned(),
        title,
        description: Text::default(),
        sections: vec![Section {
            code: "s1".to_owned(),
            title: Text::vi_en("Phần 1", "Part 1"),
            description: Text::default(),
            lead_in: Text::default(),
            questions: vec![scale_question("q1", Text::vi_en("Câu hỏi 1", "Question 1"))],
            condition: None,
        }],
        indices: vec![],
        source: None,
    }
}

/// The standard five-point satisfaction scale.
pub fn scale_question(code: &str, label: Text) -> Question {
    let points = [
        ("Rất không hài lòng", "Very dissatisfied"),
        ("Không hài lòng", "Dissatisfied"),
        ("Bình thường", "Neither"),
        ("Hài lòng", "Satisfied"),
        ("Rất hài lòng", "Very satisfied"),
    ];
    Question {
        code: code.to_owned(),
        kind: QuestionType::Scale,
        required: false,
        label,
        help: Text::default(),
        min: Some(1),
        max: Some(5),
        points: points
            .iter()
            .zip(1..)
            .map(|((vi, en), value)| ScalePoint {
                value,
                label: Text::vi_en(vi, en),
            })
            .collect(),
        options: vec![],
        dont_know: false,
        not_applicable: false,
        condition: None,
        index: None,
        ..Default::default()
    }
}

/// The error codes of a malformed editor form (see [`detail`]).
pub const NOT_A_POSITION: &str = "not_a_position";
pub const NOT_A_WHOLE_NUMBER: &str = "not_a_whole_number";
pub const NOT_A_NUMBER: &str = "not_a_number";
pub const NO_SUCH: &str = "no_such";
pub const UNKNOWN_OPERATION: &str = "unknown_operation";

/// The words of a malformed form's problem, as the 400 answer gives them:
/// `section is not a position`, `no such question type`…
pub fn detail(e: &FieldError) -> String {
    let param = |k: &str| e.params.get(k).map(String::as_str).unwrap_or("");
    match e.code.as_str() {
        NOT_A_POSITION => format!("{} is not a position", e.field),
        NOT_A_WHOLE_NUMBER => format!("{} is not a whole number", e.field),
        NOT_A_NUMBER => format!("{} is not a number", e.field),
        NO_SUCH => format!("no such {}", param("what")),
        UNKNOWN_OPERATION => format!("unknown operation {:?}", param("op")),
        other => format!("{}: {other}", e.field),
    }
}

/// A form field, trimmed; empty when absent.
fn field<'a>(form: &'a Form, key: &str) -> &'a str {
    form.get(key).map(|s| s.trim()).unwrap_or("")
}

fn index_of(form: &Form, key: &str) -> Result<usize, FieldError> {
    field(form, key)
        .parse()
        .map_err(|_| FieldError::new(key, NOT_A_POSITION))
}

fn opt_int(form: &Form, key: &str) -> Result<Option<i64>, FieldError> {
    let v = field(form, key);
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| FieldError::new(key, NOT_A_WHOLE_NUMBER))
}

fn opt_number(form: &Form, key: &str) -> Result<Option<f64>, FieldError> {
    let v = field(form, key);
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| FieldError::new(key, NOT_A_NUMBER))
}

/// The field `key` names something that does not exist (`what`).
fn missing(key: &str, what: &str) -> FieldError {
    FieldError::new(key, NO_SUCH).with("what", what)
}

/// The text of the fields `{prefix}_vi` and `{prefix}_en`.
fn text_pair(form: &Form, prefix: &str) -> Text {
    Text::vi_en(
        field(form, &format!("{prefix}_vi")),
        field(form, &format!("{prefix}_en")),
    )
}

/// Lines `value | vi | en` as options (blank lines skipped, missing parts
/// empty).
pub fn parse_options(text: &str) -> Vec<Choice> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.split('|').map(str::trim);
            let value = parts.next().unwrap_or("").to_owned();
            let vi = parts.next().unwrap_or("");
            let en = parts.next().unwrap_or("");
            Choice {
                value,
                label: Text::vi_en(vi, en),
                filters: Default::default(),
            }
        })
        .collect()
}

/// A question's options as [`parse_options`] reads them back.
pub fn options_text(q: &Question) -> String {
    q.options
        .iter()
        .map(|o| {
            let en = o.label.0.get("en").map(String::as_str).unwrap_or("");
            format!("{} | {} | {}", o.value, o.label.get("vi"), en)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The operators the designer's simple condition form edits.
const EDITABLE_OPS: [ConditionOp; 5] = [
    ConditionOp::Answered,
    ConditionOp::Eq,
    ConditionOp::Ne,
    ConditionOp::Gte,
    ConditionOp::Lte,
];

/// The question's condition when the simple form can edit it: a single leaf
/// without a function and with one of the form's operators.
pub fn editable_leaf(q: &Question) -> Option<&Comparison> {
    q.condition
        .as_ref()
        .and_then(Condition::as_leaf)
        .filter(|c| c.func.is_none() && EDITABLE_OPS.contains(&c.op))
}

/// True when the question has a condition the simple form cannot show
/// (a tree, a function, another operator): saving keeps it unchanged.
pub fn has_compound_condition(q: &Question) -> bool {
    q.condition.is_some() && editable_leaf(q).is_none()
}

/// The condition of the edit form: none without a question; the value is a
/// whole number, `true`/`false`, or else an option value.
pub fn condition_of(form: &Form) -> Result<Option<Condition>, FieldError> {
    let question = field(form, "cond_question");
    if question.is_empty() {
        return Ok(None);
    }
    let op = match field(form, "cond_op") {
        "answered" | "" => ConditionOp::Answered,
        "eq" => ConditionOp::Eq,
        "ne" => ConditionOp::Ne,
        "gte" => ConditionOp::Gte,
        "lte" => ConditionOp::Lte,
        _ => return Err(missing("cond_op", "condition")),
    };
    let raw = field(form, "cond_value");
    let value = if op == ConditionOp::Answered || raw.is_empty() {
        None
    } else if let Ok(n) = raw.parse::<i64>() {
        Some(serde_json::Value::from(n))
    } else if raw == "true" || raw == "false" {
        Some(serde_json::Value::from(raw == "true"))
    } else {
        Some(serde_json::Value::from(raw))
    };
    Ok(Some(Condition::leaf(question, op, value)))
}

/// A new question from the form: its code (from `code_field`), type, texts
/// and, for choices, options; scales get the standard five labelled points.
pub fn new_question(form: &Form, code_field: &str) -> Result<Question, FieldError> {
    let mut q = scale_question(field(form, code_field), text_pair(form, "label"));
    q.kind = match field(form, "type") {
        "scale" => QuestionType::Scale,
        "single_choice" => QuestionType::SingleChoice,
        "multiple_choice" => QuestionType::MultipleChoice,
        "yes_no" => QuestionType::YesNo,
        "number" => QuestionType::Number,
        "short_text" => QuestionType::ShortText,
        "long_text" => QuestionType::LongText,
        _ => return Err(missing("type", "question type")),
    };
    if q.kind != QuestionType::Scale {
        q.points.clear();
        q.min = None;
        q.max = None;
    }
    if matches!(
        q.kind,
        QuestionType::SingleChoice | QuestionType::MultipleChoice
    ) {
        q.options = parse_options(field(form, "options"));
    }
    Ok(q)
}

/// The position `from` moves to, one step `up` or down, if still in `0..len`.
fn step(from: usize, up: bool, len: usize) -> Option<usize> {
    let to = if up {
        from.checked_sub(1)
    } else {
        Some(from + 1)
    };
    to.filter(|t| *t < len)
}

/// Applies one editor operation (the field `op`) to a definition.
pub fn apply(def: &mut Definition, form: &Form) -> Result<(), FieldError> {
    let op = field(form, "op");
    match op {
        "title" => def.title = text_pair(form, "title"),
        "add_section" => {
            // A section needs at least one question: the form brings the first.
            let first = new_question(form, "question_code")?;
            def.sections.push(Section {
                code: field(form, "code").to_owned(),
                title: text_pair(form, "title"),
                description: Text::default(),
                lead_in: Text::default(),
                questions: vec![first],
                condition: None,
            });
        }
        "edit_section" | "move_section" | "delete_section" => {
            let si = index_of(form, "section")?;
            if si >= def.sections.len() {
                return Err(missing("section", "section"));
            }
            match op {
                "edit_section" => {
                    let section = &mut def.sections[si];
                    section.title = text_pair(form, "title");
                    section.lead_in = text_pair(form, "lead_in");
                }
                "delete_section" => {
                    def.sections.remove(si);
                }
                _ => {
                    let up = field(form, "dir") == "up";
                    if let Some(to) = step(si, up, def.sections.len()) {
                        def.sections.swap(si, to);
                    }
                }
            }
        }
        "add_question" => {
            let si = index_of(form, "section")?;
            let q = new_question(form, "code")?;
            let section = def
                .sections
                .get_mut(si)
                .ok_or_else(|| missing("section", "section"))?;
            section.questions.push(q);
        }
        "edit_question" | "move_question" | "delete_question" => {
            let si = index_of(form, "section")?;
            let qi = index_of(form, "question")?;
            let section = def
                .sections
                .get_mut(si)
                .ok_or_else(|| missing("section", "section"))?;
            if qi >= section.questions.len() {
                return Err(missing("question", "question"));
            }
            match op {
                "delete_question" => {
                    section.questions.remove(qi);
                }
                "move_question" => {
                    let up = field(form, "dir") == "up";
                    if let Some(to) = step(qi, up, section.questions.len()) {
                        section.questions.swap(qi, to);
                    }
                }
                _ => edit_question(&mut section.questions[qi], form)?,
            }
        }
        _ => return Err(FieldError::new("op", UNKNOWN_OPERATION).with("op", op)),
    }
    Ok(())
}

/// The edit form of one question: texts, flags, the simple condition (a
/// compound one is kept), bounds of a number, options of a choice (their
/// cascading filters kept) and the index mapping ([`mapping_of`]) of any type but text.
fn edit_question(q: &mut Question, form: &Form) -> Result<(), FieldError> {
    q.label = text_pair(form, "label");
    let help = text_pair(form, "help");
    q.help = if help.is_empty() {
        Text::default()
    } else {
        help
    };
    q.required = form.contains_key("required");
    if !has_compound_condition(q) {
        q.condition = condition_of(form)?;
    }
    q.dont_know = form.contains_key("dont_know");
    q.not_applicable = form.contains_key("not_applicable");
    if matches!(q.kind, QuestionType::Number) {
        q.min = opt_int(form, "min")?;
        q.max = opt_int(form, "max")?;
    }
    if matches!(
        q.kind,
        QuestionType::SingleChoice | QuestionType::MultipleChoice
    ) {
        let mut options = parse_options(field(form, "options"));
        // Cascading-list columns are not edited here: keep them.
        for o in &mut options {
            if let Some(old) = q.options.iter().find(|p| p.value == o.value) {
                o.filters = old.filters.clone();
            }
        }
        q.options = options;
    }
    if q.kind != QuestionType::ShortText && q.kind != QuestionType::LongText {
        q.index = mapping_of(q, form)?;
    }
    Ok(())
}

/// The prefix of a choice question's "counts as 1" checkboxes: `count.{option value}`.
pub const COUNT_PREFIX: &str = "count.";

/// The index mapping of the edit form, for a question of any type that can feed an
/// index: none when element and criterion are both empty. The code of the index and
/// the weight stay as they were (they are edited in the JSON); what the form shows
/// depends on the type:
/// - scale: "satisfied" from (`satisfied_min`) and reverse-coded (`reverse`);
/// - yes/no: which answer counts as 1 (`counts`: `yes` or `no`; "no" is stored as
///   `reverse`, which mirrors the 0/1 item);
/// - single or multiple choice: the options that count as 1, one checkbox
///   `count.{value}` each (the values are checked against the options by
///   [`Definition::check`], which names an unknown one);
/// - number: an optional cap (`cap`); the item's value is the answer itself.
///
/// What a type's form does not show (the threshold of a number, the reverse flag of
/// a choice) is kept.
pub fn mapping_of(q: &Question, form: &Form) -> Result<Option<IndexMapping>, FieldError> {
    let element = field(form, "element");
    let criterion = field(form, "criterion");
    if element.is_empty() && criterion.is_empty() {
        return Ok(None);
    }
    let previous = q.index.as_ref();
    let mut m = IndexMapping {
        index: previous.and_then(|m| m.index.clone()),
        element: element.to_owned(),
        criterion: criterion.to_owned(),
        weight: previous.map_or(1.0, |m| m.weight),
        reverse: previous.is_some_and(|m| m.reverse),
        satisfied_min: previous.map_or(4, |m| m.satisfied_min),
        options: Vec::new(),
        cap: None,
    };
    match q.kind {
        QuestionType::YesNo => m.reverse = field(form, "counts") == "no",
        QuestionType::SingleChoice | QuestionType::MultipleChoice => {
            let mut ticked: Vec<&str> = form
                .iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .filter_map(|(k, _)| k.strip_prefix(COUNT_PREFIX))
                .collect();
            // The question's order first, then any value it does not have (sorted, so
            // the problem names them in a stable order).
            ticked.sort_by_key(|v| {
                (
                    q.options
                        .iter()
                        .position(|o| o.value == *v)
                        .unwrap_or(usize::MAX),
                    *v,
                )
            });
            m.options = ticked.into_iter().map(str::to_owned).collect();
        }
        QuestionType::Number => m.cap = opt_number(form, "cap")?,
        // Text feeds no index ([`edit_question`] does not ask; validation would refuse).
        QuestionType::Scale | QuestionType::ShortText | QuestionType::LongText => {
            m.reverse = form.contains_key("reverse");
            m.satisfied_min = opt_int(form, "satisfied_min")?.unwrap_or(4);
        }
    }
    Ok(Some(m))
}

#[cfg(test)]
mod tests;
