//! A respondent's answers, parsed against a questionnaire [`Definition`].
//!
//! Raw answers arrive as a JSON object `{question code: value}` (from the API,
//! or built from a form by [`from_form`]). [`parse`] checks every rule — types,
//! bounds, "don't know"/"not applicable" only where offered, conditions (a
//! hidden question must not be answered), required answers, unknown codes,
//! text lengths — and reports every problem as a [`FieldError`] whose path is
//! `answers.<code>`.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Number, Value};

use super::questionnaire::{
    Choice, Condition, Definition, FilterOp, Question, QuestionType, Section,
};
use super::text::Text;
use super::validation::FieldError;

use super::answer::shorten;
pub use super::answer::{Answer, DONT_KNOW, NOT_APPLICABLE};

/// A checked set of answers, keyed by question code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers(pub BTreeMap<String, Answer>);

impl Answers {
    pub fn get(&self, code: &str) -> Option<&Answer> {
        self.0.get(code)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The compact JSON object stored in `responses.answers`.
    pub fn to_json_string(&self) -> String {
        let map: Map<String, Value> = self
            .0
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        Value::Object(map).to_string()
    }
}

/// Whether `cond` holds given the answers so far. A leaf on a question with
/// no substantive answer (unanswered, hidden, "don't know", "not
/// applicable") is false, whatever its operator (see [`super::condition`]
/// for the exact rule).
pub fn condition_holds(cond: &Condition, answers: &BTreeMap<String, Answer>) -> bool {
    cond.holds(&|code: &str| answers.get(code))
}

/// Whether question `q`'s own condition holds given the answers to earlier
/// questions (its section's condition is [`section_visible`]).
pub fn is_visible(q: &Question, answers: &BTreeMap<String, Answer>) -> bool {
    q.condition
        .as_ref()
        .is_none_or(|c| condition_holds(c, answers))
}

/// Whether a section is shown given the answers to earlier sections.
pub fn section_visible(s: &Section, answers: &BTreeMap<String, Answer>) -> bool {
    s.condition
        .as_ref()
        .is_none_or(|c| condition_holds(c, answers))
}

/// Whether question `q` of section `s` is shown: both conditions hold.
pub fn is_shown(s: &Section, q: &Question, answers: &BTreeMap<String, Answer>) -> bool {
    section_visible(s, answers) && is_visible(q, answers)
}

/// Whether a shown question must be answered: `required`, or `required_if`
/// holds. A read-only question is never asked for (its default is stored).
pub fn is_required(q: &Question, answers: &BTreeMap<String, Answer>) -> bool {
    !q.read_only
        && (q.required
            || q.required_if
                .as_ref()
                .is_some_and(|c| condition_holds(c, answers)))
}

/// The options a choice question offers given the earlier answers: all of
/// them, or for a cascading list those whose filter column equals (or is
/// selected in) the answer its filter names; none while that is unanswered.
pub fn offered_options<'a>(q: &'a Question, answers: &BTreeMap<String, Answer>) -> Vec<&'a Choice> {
    q.options
        .iter()
        .filter(|o| option_offered(q, o, answers))
        .collect()
}

/// Whether one option of `q` is offered (see [`offered_options`]).
pub fn option_offered(q: &Question, o: &Choice, answers: &BTreeMap<String, Answer>) -> bool {
    let Some(filter) = &q.choice_filter else {
        return true;
    };
    let Some(own) = o.filters.get(&filter.column) else {
        return false;
    };
    match (answers.get(&filter.question), filter.op) {
        (Some(Answer::Choices(list)), FilterOp::Selected) => list.contains(own),
        (Some(Answer::Choices(list)), FilterOp::Eq) => list.len() == 1 && list[0] == *own,
        (Some(Answer::Choice(s) | Answer::Text(s)), _) => s == own,
        (Some(Answer::Int(n)), FilterOp::Eq) => n.to_string() == *own,
        (Some(Answer::Bool(b)), FilterOp::Eq) => b.to_string() == *own,
        _ => false,
    }
}

/// Whether an answer satisfies its question's constraint (`"."` is the
/// answer). "Don't know" and "not applicable" are not checked.
pub fn constraint_holds(q: &Question, answer: &Answer, answers: &BTreeMap<String, Answer>) -> bool {
    if !answer.is_real() {
        return true;
    }
    q.constraint.as_ref().is_none_or(|c| {
        c.holds(&|code: &str| {
            if code == "." {
                Some(answer)
            } else {
                answers.get(code)
            }
        })
    })
}

/// Checks one present answer of a shown question: its type and bounds
/// ([`Question::parse_answer`]), that a read-only question keeps its default, that a
/// cascading list's options are offered, and the constraint.
pub fn check_answer(
    q: &Question,
    value: &Value,
    answers: &BTreeMap<String, Answer>,
) -> Result<Answer, FieldError> {
    let answer = q.parse_answer(value)?;
    let err = |code: &str| FieldError::new(path(&q.code), code);
    if q.read_only {
        let default = q.default.as_ref().and_then(|d| q.parse_answer(d).ok());
        if default.as_ref() != Some(&answer) {
            return Err(err("read_only_changed"));
        }
        return Ok(answer);
    }
    let chosen: &[String] = match &answer {
        Answer::Choice(s) => std::slice::from_ref(s),
        Answer::Choices(list) => list,
        _ => &[],
    };
    for value in chosen {
        let offered = q
            .options
            .iter()
            .find(|o| o.value == *value)
            .is_some_and(|o| option_offered(q, o, answers));
        if !offered {
            return Err(err("option_not_offered").with("value", shorten(value)));
        }
    }
    if !constraint_holds(q, &answer, answers) {
        return Err(with_message(
            err("constraint_failed"),
            &q.constraint_message,
        ));
    }
    Ok(answer)
}

/// Adds a question's own message (per language) to an error's parameters:
/// `message.vi`, `message.en`, ….
fn with_message(mut e: FieldError, message: &Text) -> FieldError {
    for (lang, text) in &message.0 {
        if !text.trim().is_empty() {
            e = e.with(&format!("message.{lang}"), text.clone());
        }
    }
    e
}

/// The default a read-only question stores when shown.
fn read_only_default(q: &Question) -> Option<Answer> {
    if !q.read_only {
        return None;
    }
    q.default.as_ref().and_then(|d| q.parse_answer(d).ok())
}

/// Parses a whole response: every visible required question must be answered.
pub fn parse(def: &Definition, raw: &Map<String, Value>) -> Result<Answers, Vec<FieldError>> {
    parse_with(def, raw, |_| true)
}

/// Parses answers, requiring answers only for the questions `required_here`
/// selects (e.g. the questions of the section just submitted).
pub fn parse_with(
    def: &Definition,
    raw: &Map<String, Value>,
    required_here: impl Fn(&Question) -> bool,
) -> Result<Answers, Vec<FieldError>> {
    let mut errors = Vec::new();
    let known: HashSet<&str> = def.questions().map(|q| q.code.as_str()).collect();
    for code in raw.keys() {
        if !known.contains(code.as_str()) {
            errors.push(FieldError::new(path(code), "unknown_question").with("code", code.clone()));
        }
    }
    let mut answers = BTreeMap::new();
    for section in &def.sections {
        let section_shown = section_visible(section, &answers);
        for q in &section.questions {
            let visible = section_shown && is_visible(q, &answers);
            match raw.get(&q.code) {
                Some(_) if !visible => {
                    errors.push(FieldError::new(path(&q.code), "answer_to_hidden_question"));
                }
                Some(value) => match check_answer(q, value, &answers) {
                    Ok(answer) => {
                        answers.insert(q.code.clone(), answer);
                    }
                    Err(e) => errors.push(e),
                },
                None if visible && read_only_default(q).is_some() => {
                    if let Some(a) = read_only_default(q) {
                        answers.insert(q.code.clone(), a);
                    }
                }
                None if visible && is_required(q, &answers) && required_here(q) => {
                    errors.push(with_message(
                        FieldError::new(path(&q.code), "answer_required"),
                        &q.required_message,
                    ));
                }
                None => {}
            }
        }
    }
    if errors.is_empty() {
        Ok(Answers(answers))
    } else {
        Err(errors)
    }
}

/// Drops answers to unknown questions, to questions hidden by their own or
/// their section's condition, and choices a cascading list no longer offers
/// (e.g. after a respondent went back and changed an earlier answer).
pub fn prune_hidden(def: &Definition, raw: &mut Map<String, Value>) {
    let so_far = shown_answers(def, raw);
    raw.retain(|k, _| so_far.keep.contains(k));
}

/// What a walk over raw answers in questionnaire order finds.
pub struct Walk {
    /// The valid answers of shown questions (read-only defaults included).
    pub answers: BTreeMap<String, Answer>,
    /// The indices of the shown sections (their condition holds).
    pub sections: Vec<usize>,
    /// The codes of the shown questions.
    pub shown: HashSet<String>,
    /// The codes whose raw answers are kept: shown, and not an option a
    /// cascading list has stopped offering.
    keep: HashSet<String>,
}

/// Walks the raw answers in order: which questions are shown, and which
/// answers count for the conditions of later ones (invalid answers do not).
pub fn shown_answers(def: &Definition, raw: &Map<String, Value>) -> Walk {
    let mut answers = BTreeMap::new();
    let mut shown = HashSet::new();
    let mut keep = HashSet::new();
    let mut sections = Vec::new();
    for (si, section) in def.sections.iter().enumerate() {
        let section_shown = section_visible(section, &answers);
        if section_shown {
            sections.push(si);
        }
        for q in &section.questions {
            if !(section_shown && is_visible(q, &answers)) {
                continue;
            }
            shown.insert(q.code.clone());
            match raw.get(&q.code) {
                Some(v) => match check_answer(q, v, &answers) {
                    Ok(a) => {
                        keep.insert(q.code.clone());
                        answers.insert(q.code.clone(), a);
                    }
                    Err(e) if e.code == "option_not_offered" => {}
                    Err(_) => {
                        keep.insert(q.code.clone());
                    }
                },
                None => {
                    if let Some(a) = read_only_default(q) {
                        answers.insert(q.code.clone(), a);
                    }
                }
            }
        }
    }
    Walk {
        answers,
        sections,
        shown,
        keep,
    }
}

fn path(code: &str) -> String {
    format!("answers.{code}")
}

/// Builds raw answers from form fields named `a.<code>` (repeated for
/// multiple choice). Empty fields are no answer; numbers that do not parse are
/// kept as text so that [`parse`] reports them; `yes`/`no` become booleans.
pub fn from_form(def: &Definition, fields: &[(String, String)]) -> Map<String, Value> {
    let mut raw = Map::new();
    for q in def.questions() {
        let name = format!("a.{}", q.code);
        let values: Vec<&str> = fields
            .iter()
            .filter(|(k, v)| k == &name && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect();
        let Some(first) = values.first().copied() else {
            continue;
        };
        let value = match q.kind {
            QuestionType::Scale | QuestionType::Number => match first.trim().parse::<i64>() {
                Ok(n) => Value::Number(Number::from(n)),
                Err(_) => Value::String(first.to_owned()),
            },
            // "Don't know"/"not applicable" is a radio button beside the
            // checkboxes: alone it is that answer (as the kiosk script sends it).
            QuestionType::MultipleChoice => match values.as_slice() {
                [only] if *only == DONT_KNOW || *only == NOT_APPLICABLE => {
                    Value::String((*only).to_owned())
                }
                _ => Value::Array(
                    values
                        .iter()
                        .filter(|v| **v != DONT_KNOW && **v != NOT_APPLICABLE)
                        .map(|v| Value::String((*v).to_owned()))
                        .collect(),
                ),
            },
            QuestionType::YesNo => match first {
                "yes" => Value::Bool(true),
                "no" => Value::Bool(false),
                other => Value::String(other.to_owned()),
            },
            QuestionType::SingleChoice => Value::String(first.to_owned()),
            QuestionType::ShortText | QuestionType::LongText => {
                if first.trim().is_empty() {
                    continue;
                }
                Value::String(first.to_owned())
            }
        };
        raw.insert(q.code.clone(), value);
    }
    raw
}

/// The form fields that carry raw answers (the inverse of [`from_form`]).
pub fn to_form(raw: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (code, value) in raw {
        let name = format!("a.{code}");
        match value {
            Value::Array(items) => {
                for item in items {
                    if let Value::String(s) = item {
                        out.push((name.clone(), s.clone()));
                    }
                }
            }
            Value::Bool(true) => out.push((name, "yes".to_owned())),
            Value::Bool(false) => out.push((name, "no".to_owned())),
            Value::String(s) => out.push((name, s.clone())),
            Value::Number(n) => out.push((name, n.to_string())),
            Value::Null | Value::Object(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::domain::questionnaire::LONG_TEXT_MAX;
    use proptest::prelude::*;
    use serde_json::json;

    fn def() -> Definition {
        Definition::parse(include_str!("../../presets/sipas-2640.json")).unwrap()
    }

    fn health() -> Definition {
        Definition::parse(include_str!("../../presets/health-hospital.json")).unwrap()
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn codes(errors: &[FieldError]) -> Vec<(String, String)> {
        errors
            .iter()
            .map(|e| (e.field.clone(), e.code.clone()))
            .collect()
    }

    #[test]
    fn accepts_a_complete_valid_response() {
        let raw = obj(json!({
            "sex": "F", "age_group": "18-34", "e1_1": 4, "e1_2": "dk",
            "e5_gave": true, "e5_3": 5, "e5_4": "na", "comment": "Tốt"
        }));
        let a = parse(&def(), &raw).unwrap();
        assert_eq!(a.get("e1_1"), Some(&Answer::Int(4)));
        assert_eq!(a.get("e1_2"), Some(&Answer::DontKnow));
        assert_eq!(a.get("e5_4"), Some(&Answer::NotApplicable));
        let stored: Value = serde_json::from_str(&a.to_json_string()).unwrap();
        assert_eq!(stored["e5_gave"], json!(true));
    }

    #[test]
    fn required_answers_are_named() {
        let errors = parse(&def(), &obj(json!({"sex": "F"}))).unwrap_err();
        assert_eq!(
            codes(&errors),
            vec![("answers.age_group".to_owned(), "answer_required".to_owned())]
        );
    }

    #[test]
    fn wrong_types_are_refused() {
        let cases = [
            (json!({"e1_1": "4"}), "answers.e1_1", "expected_integer"),
            (json!({"e1_1": 4.5}), "answers.e1_1", "expected_integer"),
            (json!({"e1_1": 4.0}), "answers.e1_1", "expected_integer"),
            (json!({"e1_1": 6}), "answers.e1_1", "out_of_range"),
            (json!({"e1_1": 0}), "answers.e1_1", "out_of_range"),
            (
                json!({"e2_1": "dk"}),
                "answers.e2_1",
                "dont_know_not_offered",
            ),
            (
                json!({"e1_1": "na"}),
                "answers.e1_1",
                "not_applicable_not_offered",
            ),
            (json!({"e1_1": null}), "answers.e1_1", "expected_integer"),
            (
                json!({"e5_gave": "yes"}),
                "answers.e5_gave",
                "expected_boolean",
            ),
            (json!({"comment": ""}), "answers.comment", "empty_answer"),
            (json!({"comment": "  "}), "answers.comment", "empty_answer"),
            (json!({"comment": 3}), "answers.comment", "expected_text"),
            (json!({"nope": 3}), "answers.nope", "unknown_question"),
            (
                json!({"e5_3": 4}),
                "answers.e5_3",
                "answer_to_hidden_question",
            ),
        ];
        for (extra, field, code) in cases {
            let mut raw = obj(json!({"sex": "M", "age_group": "35-54"}));
            raw.extend(obj(extra.clone()));
            let errors = parse(&def(), &raw).unwrap_err();
            assert_eq!(
                codes(&errors),
                vec![(field.to_owned(), code.to_owned())],
                "{extra}"
            );
        }
        let mut raw = obj(json!({"age_group": "35-54"}));
        raw.insert("sex".into(), json!("X"));
        assert_eq!(parse(&def(), &raw).unwrap_err()[0].code, "unknown_option");
        raw.insert("sex".into(), json!(["F"]));
        assert_eq!(parse(&def(), &raw).unwrap_err()[0].code, "expected_option");
    }

    #[test]
    fn text_length_is_counted_in_characters() {
        let base = obj(json!({"sex": "M", "age_group": "35-54"}));
        let mut raw = base.clone();
        raw.insert("comment".into(), json!("ệ".repeat(LONG_TEXT_MAX)));
        assert!(parse(&def(), &raw).is_ok());
        raw.insert("comment".into(), json!("ệ".repeat(LONG_TEXT_MAX + 1)));
        assert_eq!(parse(&def(), &raw).unwrap_err()[0].code, "answer_too_long");
    }

    #[test]
    fn conditions_use_substantive_answers_only() {
        let base = obj(json!({"sex": "M", "age_group": "35-54"}));
        let mut raw = base.clone();
        raw.insert("e5_gave".into(), json!(false));
        raw.insert("e5_3".into(), json!(3));
        assert_eq!(
            parse(&def(), &raw).unwrap_err()[0].code,
            "answer_to_hidden_question"
        );
        prune_hidden(&def(), &mut raw);
        assert!(!raw.contains_key("e5_3"));
        assert!(parse(&def(), &raw).is_ok());
    }

    #[test]
    fn form_round_trip() {
        let raw = obj(json!({"sex": "F", "age_group": "18-34", "e1_1": 4, "e5_gave": false}));
        let fields = to_form(&raw);
        assert_eq!(from_form(&def(), &fields), raw);
        let junk = vec![("a.e1_1".to_owned(), "four".to_owned())];
        let raw = from_form(&def(), &junk);
        assert_eq!(raw["e1_1"], json!("four"));
    }

    /// Generates a valid answer set for a definition by walking it in order.
    fn valid_answers(def: &Definition, seeds: &[u64]) -> Map<String, Value> {
        let mut raw = Map::new();
        let mut so_far = BTreeMap::new();
        for (i, q) in def.questions().enumerate() {
            let seed = seeds[i % seeds.len()].wrapping_add(i as u64 * 7919);
            if !is_visible(q, &so_far) || (!q.required && seed.is_multiple_of(4)) {
                continue;
            }
            let value = if q.dont_know && seed % 11 == 1 {
                json!("dk")
            } else if q.not_applicable && seed % 13 == 2 {
                json!("na")
            } else {
                match q.kind {
                    QuestionType::Scale | QuestionType::Number => {
                        let min = q.min.unwrap_or(0);
                        let max = q.max.unwrap_or(min + 100);
                        json!(min + (seed % ((max - min + 1) as u64)) as i64)
                    }
                    QuestionType::SingleChoice => {
                        json!(q.options[seed as usize % q.options.len()].value)
                    }
                    QuestionType::MultipleChoice => json!([q.options[0].value]),
                    QuestionType::YesNo => json!(seed.is_multiple_of(2)),
                    QuestionType::ShortText | QuestionType::LongText => {
                        json!("x".repeat(1 + seed as usize % 50))
                    }
                }
            };
            so_far.insert(q.code.clone(), q.parse_answer(&value).unwrap());
            raw.insert(q.code.clone(), value);
        }
        raw
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or(Value::Null)),
            "[a-z0-9_. -]{0,8}".prop_map(Value::String),
            prop_oneof![Just("dk"), Just("na"), Just("F"), Just("18-34")]
                .prop_map(|s| Value::String(s.to_owned())),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z]{1,3}", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn generated_valid_answers_are_accepted(seeds in prop::collection::vec(any::<u64>(), 1..40)) {
            for d in [def(), health()] {
                let raw = valid_answers(&d, &seeds);
                let parsed = parse(&d, &raw);
                prop_assert!(parsed.is_ok(), "{:?} for {}", parsed, Value::Object(raw.clone()));
                let stored: Value = serde_json::from_str(&parsed.unwrap().to_json_string()).unwrap();
                prop_assert_eq!(stored, Value::Object(raw));
            }
        }

        #[test]
        fn the_validator_never_panics(
            entries in prop::collection::vec(
                (prop_oneof![
                    Just("sex".to_owned()), Just("e1_1".to_owned()), Just("e5_gave".to_owned()),
                    Just("e5_3".to_owned()), Just("comment".to_owned()), Just("a1".to_owned()),
                    "[a-z0-9_]{1,6}"
                ], arb_json()),
                0..12)
        ) {
            let raw: Map<String, Value> = entries.into_iter().collect();
            for d in [def(), health()] {
                match parse(&d, &raw) {
                    Ok(a) => prop_assert!(a.len() <= raw.len()),
                    Err(errors) => {
                        prop_assert!(!errors.is_empty());
                        for e in errors {
                            prop_assert!(e.field.starts_with("answers."));
                        }
                    }
                }
                let mut pruned = raw.clone();
                prune_hidden(&d, &mut pruned);
                let _ = from_form(&d, &to_form(&raw));
            }
        }
    }
}
