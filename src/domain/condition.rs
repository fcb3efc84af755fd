//! The condition language: skip logic, constraints, required expressions and
//! cascading lists, stored as a tree in a questionnaire definition.
//!
//! A leaf compares one question's answer with a literal:
//! `{"question": "a12", "op": "eq", "value": "1"}`, optionally through a
//! function (`"fn": "count_selected"` or `"string_length"`); inner nodes are
//! `{"all": [..]}`, `{"any": [..]}` and `{"not": ..}`. Literals are compared by
//! the target question's type: choice answers as strings with the option's
//! value (a number literal is compared as its decimal text, so `1` and `"1"`
//! both match the option `"1"`), scale and number answers numerically, yes/no
//! answers with booleans, text answers as strings.
//!
//! Missing answers: a leaf on a question that has no answer (unanswered,
//! hidden) is false whatever its operator, and so is a leaf on a "don't know"
//! or "not applicable" answer — except `eq`/`selected` with the literal `"dk"`
//! or `"na"`, which hold for that answer, and `ne` with such a literal, which
//! holds for any other answer. So `ne` means "answered, and differently";
//! ODK's `${q} != 'x'` (true for an empty answer) is `{"not": {eq}}`.
//!
//! The same rules are implemented by `templates/static/conditions.js` for the
//! kiosk; `tests/fixtures/conditions/vectors.json` pins both.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::answer::{Answer, DONT_KNOW, NOT_APPLICABLE};
use super::question_type::QuestionType;
use super::validation::FieldError;

/// A condition: a comparison, or all / any / none of other conditions.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Condition {
    /// Holds when every part holds.
    All {
        #[schema(no_recursion)]
        all: Vec<Condition>,
    },
    /// Holds when some part holds.
    Any {
        #[schema(no_recursion)]
        any: Vec<Condition>,
    },
    /// Holds when its part does not.
    Not {
        #[schema(no_recursion)]
        not: Box<Condition>,
    },
    /// One question's answer compared with a literal.
    Leaf(Comparison),
}

/// A comparison of one question's answer (`"."`: the answer being checked,
/// in a constraint) with a literal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// Code of an earlier question, or `"."` inside a constraint.
    pub question: String,
    pub op: ConditionOp,
    /// The literal: a number, a string (option value, text, regex) or a boolean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// A function applied to the answer before comparing.
    #[serde(rename = "fn", default, skip_serializing_if = "Option::is_none")]
    pub func: Option<ConditionFn>,
}

/// The comparison a leaf applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionOp {
    /// The question has any real answer (not "don't know"/"not applicable").
    Answered,
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    /// A multiple-choice answer contains the value, or a single-choice answer is it.
    Selected,
    /// The answer matches the regular expression (searched, not anchored).
    Matches,
}

impl ConditionOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionOp::Answered => "answered",
            ConditionOp::Eq => "eq",
            ConditionOp::Ne => "ne",
            ConditionOp::Gt => "gt",
            ConditionOp::Gte => "gte",
            ConditionOp::Lt => "lt",
            ConditionOp::Lte => "lte",
            ConditionOp::Selected => "selected",
            ConditionOp::Matches => "matches",
        }
    }

    fn is_ordering(self) -> bool {
        matches!(
            self,
            ConditionOp::Gt | ConditionOp::Gte | ConditionOp::Lt | ConditionOp::Lte
        )
    }
}

/// A function applied to an answer before comparing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionFn {
    /// Number of options chosen.
    CountSelected,
    /// Characters of a text answer (of a number's decimal text).
    StringLength,
}

impl ConditionFn {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionFn::CountSelected => "count_selected",
            ConditionFn::StringLength => "string_length",
        }
    }
}

/// A cascading list: an option is offered when its `filters[column]` equals
/// (`eq`) or is selected in (`selected`) the answer to `question`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceFilter {
    /// The options' filter column, e.g. `province`.
    pub column: String,
    /// Code of an earlier question.
    pub question: String,
    #[serde(default)]
    pub op: FilterOp,
}

/// How a cascading list compares an option's column with the answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    /// `column = ${question}`.
    #[default]
    Eq,
    /// `selected(${question}, column)`.
    Selected,
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Condition, D::Error> {
        let value = Value::deserialize(d)?;
        Condition::from_value(value).map_err(serde::de::Error::custom)
    }
}

impl Condition {
    /// A leaf comparison without a function.
    pub fn leaf(question: &str, op: ConditionOp, value: Option<Value>) -> Condition {
        Condition::Leaf(Comparison {
            question: question.to_owned(),
            op,
            value,
            func: None,
        })
    }

    /// The comparison, when this condition is a single leaf.
    pub fn as_leaf(&self) -> Option<&Comparison> {
        match self {
            Condition::Leaf(c) => Some(c),
            _ => None,
        }
    }

    /// Every leaf of the tree, left to right.
    pub fn leaves(&self) -> Vec<&Comparison> {
        let mut out = Vec::new();
        self.collect_leaves(&mut out);
        out
    }

    fn collect_leaves<'a>(&'a self, out: &mut Vec<&'a Comparison>) {
        match self {
            Condition::Leaf(c) => out.push(c),
            Condition::All { all: parts } | Condition::Any { any: parts } => {
                for p in parts {
                    p.collect_leaves(out);
                }
            }
            Condition::Not { not } => not.collect_leaves(out),
        }
    }

    fn from_value(value: Value) -> Result<Condition, String> {
        let Value::Object(mut map) = value else {
            return Err("a condition must be an object".to_owned());
        };
        let inner = ["all", "any", "not"]
            .into_iter()
            .find(|k| map.contains_key(*k));
        let Some(key) = inner else {
            return serde_json::from_value(Value::Object(map))
                .map(Condition::Leaf)
                .map_err(|e| e.to_string());
        };
        if map.len() != 1 {
            return Err(format!(
                "a condition with \"{key}\" must have no other field"
            ));
        }
        let body = map.remove(key).unwrap_or(Value::Null);
        if key == "not" {
            return Ok(Condition::Not {
                not: Box::new(Condition::from_value(body)?),
            });
        }
        let Value::Array(items) = body else {
            return Err(format!("\"{key}\" must be a list of conditions"));
        };
        let parts = items
            .into_iter()
            .map(Condition::from_value)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(if key == "all" {
            Condition::All { all: parts }
        } else {
            Condition::Any { any: parts }
        })
    }

    /// Whether the condition holds. `answer` looks up the checked answer to a
    /// question code (`"."` included, inside a constraint); `None` is no answer.
    pub fn holds<'a>(&self, answer: &impl Fn(&str) -> Option<&'a Answer>) -> bool {
        match self {
            Condition::All { all } => all.iter().all(|c| c.holds(answer)),
            Condition::Any { any } => any.iter().any(|c| c.holds(answer)),
            Condition::Not { not } => !not.holds(answer),
            Condition::Leaf(c) => c.holds(answer(&c.question)),
        }
    }

    /// Checks the tree against the definition: questions exist and come
    /// earlier (`earlier`), `"."` only where `this` is given (a constraint),
    /// operators, functions and literals fit the target's type. Paths are
    /// `path` + `.all[1].question` etc.
    pub fn check(
        &self,
        path: &str,
        earlier: &HashMap<&str, QuestionType>,
        this: Option<QuestionType>,
        own_code: Option<&str>,
        errors: &mut Vec<FieldError>,
    ) {
        match self {
            Condition::All { all: parts } | Condition::Any { any: parts } => {
                let key = if matches!(self, Condition::All { .. }) {
                    "all"
                } else {
                    "any"
                };
                if parts.is_empty() {
                    errors.push(FieldError::new(format!("{path}.{key}"), "condition_empty"));
                }
                for (i, p) in parts.iter().enumerate() {
                    p.check(
                        &format!("{path}.{key}[{i}]"),
                        earlier,
                        this,
                        own_code,
                        errors,
                    );
                }
            }
            Condition::Not { not } => {
                not.check(&format!("{path}.not"), earlier, this, own_code, errors)
            }
            Condition::Leaf(c) => c.check(path, earlier, this, own_code, errors),
        }
    }
}

impl Comparison {
    fn check(
        &self,
        path: &str,
        earlier: &HashMap<&str, QuestionType>,
        this: Option<QuestionType>,
        own_code: Option<&str>,
        errors: &mut Vec<FieldError>,
    ) {
        let qpath = format!("{path}.question");
        let target = if self.question == "." {
            match this {
                Some(kind) => kind,
                None => {
                    errors.push(FieldError::new(qpath, "condition_dot_outside_constraint"));
                    return;
                }
            }
        } else if own_code == Some(self.question.as_str()) {
            errors.push(FieldError::new(qpath, "condition_on_itself"));
            return;
        } else {
            match earlier.get(self.question.as_str()) {
                Some(kind) => *kind,
                None => {
                    errors.push(
                        FieldError::new(qpath, "condition_not_earlier")
                            .with("code", self.question.clone()),
                    );
                    return;
                }
            }
        };
        let kind = target;
        let op_error = || {
            FieldError::new(format!("{path}.op"), "condition_op_not_for_type")
                .with("op", self.op.as_str())
                .with("type", kind.as_str())
        };
        let vpath = format!("{path}.value");
        let value_error = |expected: &str| {
            FieldError::new(vpath.clone(), "condition_value_type").with("expected", expected)
        };
        if self.op == ConditionOp::Answered {
            if self.func.is_some() {
                errors.push(op_error());
            }
            return;
        }
        let Some(value) = &self.value else {
            errors.push(FieldError::new(vpath, "condition_needs_value"));
            return;
        };
        let is_number = |v: &Value| match v {
            Value::Number(_) => true,
            Value::String(s) => s.trim().parse::<f64>().is_ok_and(f64::is_finite),
            _ => false,
        };
        if let Some(func) = self.func {
            let fits = match func {
                ConditionFn::CountSelected => matches!(
                    kind,
                    QuestionType::MultipleChoice | QuestionType::SingleChoice
                ),
                ConditionFn::StringLength => matches!(
                    kind,
                    QuestionType::ShortText
                        | QuestionType::LongText
                        | QuestionType::Number
                        | QuestionType::Scale
                ),
            };
            if !fits {
                errors.push(
                    FieldError::new(format!("{path}.fn"), "condition_fn_not_for_type")
                        .with("fn", func.as_str())
                        .with("type", kind.as_str()),
                );
            } else if !(self.op.is_ordering()
                || matches!(self.op, ConditionOp::Eq | ConditionOp::Ne))
            {
                errors.push(op_error());
            } else if !is_number(value) {
                errors.push(value_error("number"));
            }
            return;
        }
        let choice = matches!(
            kind,
            QuestionType::SingleChoice | QuestionType::MultipleChoice
        );
        let numeric = matches!(kind, QuestionType::Scale | QuestionType::Number);
        let text = matches!(kind, QuestionType::ShortText | QuestionType::LongText);
        match self.op {
            ConditionOp::Answered => {}
            ConditionOp::Eq | ConditionOp::Ne => {
                let ok = if choice || text {
                    matches!(value, Value::String(_) | Value::Number(_))
                } else if numeric {
                    is_number(value)
                        || value
                            .as_str()
                            .is_some_and(|s| s == DONT_KNOW || s == NOT_APPLICABLE)
                } else {
                    value.is_boolean()
                        || value
                            .as_str()
                            .is_some_and(|s| s == DONT_KNOW || s == NOT_APPLICABLE)
                };
                if !ok {
                    errors.push(value_error(if numeric {
                        "number"
                    } else if kind == QuestionType::YesNo {
                        "boolean"
                    } else {
                        "text"
                    }));
                }
            }
            ConditionOp::Gt | ConditionOp::Gte | ConditionOp::Lt | ConditionOp::Lte => {
                if !(numeric || kind == QuestionType::SingleChoice) {
                    errors.push(op_error());
                } else if !is_number(value) {
                    errors.push(value_error("number"));
                }
            }
            ConditionOp::Selected => {
                if !choice {
                    errors.push(op_error());
                } else if !matches!(value, Value::String(_) | Value::Number(_)) {
                    errors.push(value_error("text"));
                }
            }
            ConditionOp::Matches => {
                if !(text || numeric) {
                    errors.push(op_error());
                } else if let Some(pattern) = value.as_str() {
                    if let Err(e) = regex::Regex::new(pattern) {
                        errors.push(
                            FieldError::new(vpath, "condition_invalid_regex")
                                .with("detail", e.to_string()),
                        );
                    }
                } else {
                    errors.push(value_error("text"));
                }
            }
        }
    }

    /// Whether the comparison holds for this answer (see the module docs for
    /// missing, "don't know" and "not applicable" answers).
    pub fn holds(&self, answer: Option<&Answer>) -> bool {
        let Some(answer) = answer else {
            return false;
        };
        let literal = self.value.as_ref();
        if !answer.is_real() {
            let own = if *answer == Answer::DontKnow {
                DONT_KNOW
            } else {
                NOT_APPLICABLE
            };
            let named = literal
                .and_then(Value::as_str)
                .filter(|s| *s == DONT_KNOW || *s == NOT_APPLICABLE);
            return match (self.op, named, self.func) {
                (ConditionOp::Eq | ConditionOp::Selected, Some(s), None) => s == own,
                (ConditionOp::Ne, Some(s), None) => s != own,
                _ => false,
            };
        }
        if let Some(func) = self.func {
            let n = match (func, answer) {
                (ConditionFn::CountSelected, Answer::Choices(list)) => list.len() as f64,
                (ConditionFn::CountSelected, Answer::Choice(_)) => 1.0,
                (ConditionFn::StringLength, Answer::Text(s)) => s.chars().count() as f64,
                (ConditionFn::StringLength, Answer::Int(n)) => n.to_string().chars().count() as f64,
                _ => return false,
            };
            return compare_numbers(self.op, Some(n), literal.and_then(number_of));
        }
        match self.op {
            ConditionOp::Answered => true,
            ConditionOp::Eq => equal(answer, literal),
            ConditionOp::Ne => !equal(answer, literal),
            ConditionOp::Gt | ConditionOp::Gte | ConditionOp::Lt | ConditionOp::Lte => {
                let a = match answer {
                    Answer::Int(n) => Some(*n as f64),
                    Answer::Choice(s) => s.trim().parse::<f64>().ok(),
                    _ => None,
                };
                compare_numbers(self.op, a, literal.and_then(number_of))
            }
            ConditionOp::Selected => {
                let Some(v) = literal.and_then(string_of) else {
                    return false;
                };
                match answer {
                    Answer::Choices(list) => list.contains(&v),
                    Answer::Choice(s) => *s == v,
                    _ => false,
                }
            }
            ConditionOp::Matches => {
                let subject = match answer {
                    Answer::Text(s) => s.clone(),
                    Answer::Int(n) => n.to_string(),
                    _ => return false,
                };
                literal
                    .and_then(Value::as_str)
                    .is_some_and(|p| regex_matches(p, &subject))
            }
        }
    }
}

thread_local! {
    /// Compiled patterns of `matches` leaves, per thread (a questionnaire
    /// has few; the cache is emptied when it grows past 256).
    static PATTERNS: std::cell::RefCell<HashMap<String, Option<regex::Regex>>> =
        std::cell::RefCell::new(HashMap::new());
}

/// Whether `subject` contains a match of `pattern` (an invalid pattern
/// matches nothing; definitions with one are refused by the checks).
fn regex_matches(pattern: &str, subject: &str) -> bool {
    PATTERNS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(pattern) {
            if cache.len() >= 256 {
                cache.clear();
            }
            cache.insert(pattern.to_owned(), regex::Regex::new(pattern).ok());
        }
        cache
            .get(pattern)
            .and_then(Option::as_ref)
            .is_some_and(|re| re.is_match(subject))
    })
}

/// A literal as a number: JSON numbers, and strings holding one.
fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// A literal as an option value or text: strings, and numbers as their
/// decimal text (`1` → `"1"`).
fn string_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn equal(answer: &Answer, literal: Option<&Value>) -> bool {
    let Some(literal) = literal else {
        return false;
    };
    match answer {
        Answer::Int(n) => number_of(literal).is_some_and(|v| v == *n as f64),
        Answer::Choice(s) | Answer::Text(s) => string_of(literal).is_some_and(|v| *s == v),
        Answer::Choices(list) => string_of(literal).is_some_and(|v| list.contains(&v)),
        Answer::Bool(b) => literal.as_bool() == Some(*b),
        Answer::DontKnow | Answer::NotApplicable => false,
    }
}

fn compare_numbers(op: ConditionOp, a: Option<f64>, v: Option<f64>) -> bool {
    let (Some(a), Some(v)) = (a, v) else {
        return false;
    };
    match op {
        ConditionOp::Eq => a == v,
        ConditionOp::Ne => a != v,
        ConditionOp::Gt => a > v,
        ConditionOp::Gte => a >= v,
        ConditionOp::Lt => a < v,
        ConditionOp::Lte => a <= v,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn old_leaves_read_and_write_unchanged() {
        let text = r#"{"question":"a","op":"eq","value":"1"}"#;
        let c: Condition = serde_json::from_str(text).unwrap();
        assert_eq!(c, Condition::leaf("a", ConditionOp::Eq, Some(json!("1"))));
        assert_eq!(serde_json::to_string(&c).unwrap(), text);
        let text = r#"{"question":"a","op":"answered"}"#;
        let c: Condition = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), text);
    }

    #[test]
    fn trees_round_trip() {
        let v = json!({"all": [
            {"question": "a12", "op": "eq", "value": "1"},
            {"any": [
                {"question": "b", "op": "gt", "value": 3},
                {"not": {"question": "c", "op": "selected", "value": "x"}},
                {"question": "d", "op": "gte", "value": 2, "fn": "count_selected"}
            ]}
        ]});
        let c: Condition = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(c.leaves().len(), 4);
        assert_eq!(serde_json::to_value(&c).unwrap(), v);
    }

    #[test]
    fn malformed_nodes_are_refused() {
        for bad in [
            json!({"all": [], "question": "a"}),
            json!({"any": {"question": "a", "op": "answered"}}),
            json!({"question": "a", "op": "eq", "extra": 1}),
            json!({"question": "a", "op": "like"}),
            json!([]),
        ] {
            assert!(
                serde_json::from_value::<Condition>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    fn problems(extra: Value, section_condition: Option<Value>) -> Vec<(String, String)> {
        let mut def = json!({
            "code": "t", "title": {"vi": "T"},
            "sections": [
                {"code": "a", "title": {"vi": "A"}, "questions": [
                    {"code": "c", "type": "single_choice", "label": {"vi": "C"},
                     "options": [{"value": "1", "label": {"vi": "1"}}, {"value": "2", "label": {"vi": "2"}}]},
                    {"code": "t", "type": "short_text", "label": {"vi": "T"}},
                    {"code": "y", "type": "yes_no", "label": {"vi": "Y"}}
                ]},
                {"code": "b", "title": {"vi": "B"}, "questions": [extra]}
            ]
        });
        if let Some(c) = section_condition {
            def["sections"][1]["condition"] = c;
        }
        match super::super::questionnaire::Definition::parse(&def.to_string()) {
            Ok(_) => vec![],
            Err(errors) => errors.into_iter().map(|e| (e.field, e.code)).collect(),
        }
    }

    fn pair(f: &str, c: &str) -> (String, String) {
        (f.to_owned(), c.to_owned())
    }

    #[test]
    fn definition_checks_name_the_node_of_each_problem() {
        let q = |extra: Value| {
            let mut base = json!({"code": "n", "type": "number", "label": {"vi": "N"}});
            for (k, v) in extra.as_object().unwrap() {
                base[k] = v.clone();
            }
            base
        };
        let p = "sections[1].questions[0]";
        let cases = [
            (
                json!({"condition": {"all": [{"question": "c", "op": "eq", "value": "1"},
                                              {"any": [{"question": "later", "op": "answered"}]}]}}),
                pair(
                    &format!("{p}.condition.all[1].any[0].question"),
                    "condition_not_earlier",
                ),
            ),
            (
                json!({"condition": {"question": ".", "op": "gt", "value": 1}}),
                pair(
                    &format!("{p}.condition.question"),
                    "condition_dot_outside_constraint",
                ),
            ),
            (
                json!({"condition": {"not": {"question": "t", "op": "gt", "value": 1}}}),
                pair(
                    &format!("{p}.condition.not.op"),
                    "condition_op_not_for_type",
                ),
            ),
            (
                json!({"condition": {"question": "y", "op": "eq", "value": "yes"}}),
                pair(&format!("{p}.condition.value"), "condition_value_type"),
            ),
            (
                json!({"condition": {"question": "t", "op": "gt", "value": 3, "fn": "count_selected"}}),
                pair(&format!("{p}.condition.fn"), "condition_fn_not_for_type"),
            ),
            (
                json!({"condition": {"any": []}}),
                pair(&format!("{p}.condition.any"), "condition_empty"),
            ),
            (
                json!({"constraint": {"question": ".", "op": "matches", "value": "(unclosed"}}),
                pair(&format!("{p}.constraint.value"), "condition_invalid_regex"),
            ),
            (
                json!({"required_if": {"question": "n", "op": "answered"}}),
                pair(&format!("{p}.required_if.question"), "condition_on_itself"),
            ),
            (
                json!({"default": "many"}),
                pair(&format!("{p}.default"), "invalid_default"),
            ),
        ];
        for (extra, expected) in cases {
            assert_eq!(problems(q(extra.clone()), None), vec![expected], "{extra}");
        }
        // Fine: ODK-style numeric literal on choice names, a constraint on ".",
        // string_length on a number, a section condition on an earlier section.
        let ok = q(json!({
            "condition": {"all": [{"question": "c", "op": "eq", "value": 1},
                                  {"question": "t", "op": "gt", "value": 2, "fn": "string_length"}]},
            "constraint": {"all": [{"question": ".", "op": "gte", "value": 0},
                                   {"question": ".", "op": "matches", "value": "^[0-9]+$"}]},
            "required_if": {"question": "y", "op": "eq", "value": true},
            "default": 3
        }));
        assert_eq!(
            problems(
                ok.clone(),
                Some(json!({"question": "c", "op": "selected", "value": "2"}))
            ),
            vec![]
        );
        assert_eq!(
            problems(ok, Some(json!({"question": "n", "op": "answered"}))),
            vec![pair(
                "sections[1].condition.question",
                "condition_not_earlier"
            )]
        );
    }

    #[test]
    fn leaves_compare_by_the_answers_type() {
        let leaf = |op, v: Value| Comparison {
            question: "q".to_owned(),
            op,
            value: Some(v),
            func: None,
        };
        let choice = Answer::Choice("1".to_owned());
        assert!(leaf(ConditionOp::Eq, json!(1)).holds(Some(&choice)));
        assert!(leaf(ConditionOp::Eq, json!("1")).holds(Some(&choice)));
        assert!(!leaf(ConditionOp::Ne, json!("1")).holds(Some(&choice)));
        assert!(
            !leaf(ConditionOp::Ne, json!("2")).holds(None),
            "ne is false on a missing answer"
        );
        assert!(leaf(ConditionOp::Gt, json!(0)).holds(Some(&choice)));
        assert!(leaf(ConditionOp::Eq, json!("dk")).holds(Some(&Answer::DontKnow)));
        assert!(!leaf(ConditionOp::Eq, json!("1")).holds(Some(&Answer::DontKnow)));
        assert!(leaf(ConditionOp::Ne, json!("na")).holds(Some(&Answer::DontKnow)));
        assert!(
            leaf(ConditionOp::Matches, json!("^[0-9]{3}$"))
                .holds(Some(&Answer::Text("123".into())))
        );
        assert!(
            !leaf(ConditionOp::Matches, json!("^[0-9]{3}$"))
                .holds(Some(&Answer::Text("1234".into())))
        );
        assert!(leaf(ConditionOp::Gte, json!(3)).holds(Some(&Answer::Int(3))));
        assert!(!leaf(ConditionOp::Eq, json!(true)).holds(Some(&Answer::Bool(false))));
    }
}
