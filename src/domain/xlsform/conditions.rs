//! XLSForm expressions (see [`super::expr`]) turned into Hailong's condition
//! tree, written as the JSON of the shared condition spec: leaves
//! `{question, op, value?, fn?}`, inner nodes `{all}`, `{any}`, `{not}`.
//! Literals are typed by the question they are compared with: choice
//! names are strings equal to the option's code, scale and number values
//! are numbers, yes/no values booleans.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::super::questionnaire::QuestionType;
use super::expr::{CmpOp, Expr, Func};
use super::{Reason, code};

/// What a `${name}` can be compared with: a question asked here.
#[derive(Debug, Clone)]
pub struct Target {
    pub code: String,
    pub kind: QuestionType,
    /// Choice name as written in the form → option code here (`dk`/`na` included).
    pub choices: HashMap<String, String>,
    /// Yes/no questions made from a list: the choice name that means "yes".
    pub yes: Option<String>,
}

/// The questions a condition may refer to, by XLSForm name; names of rows
/// that are not asked (calculations, notes, metadata) say why.
#[derive(Default)]
pub struct Scope {
    pub targets: HashMap<String, Target>,
    pub not_asked: HashMap<String, Reason>,
}

/// Where an expression stands: `.` is allowed only in a constraint, on
/// the question itself.
pub struct Context<'a> {
    pub scope: &'a Scope,
    /// The question being checked (a constraint's `.`).
    pub this: Option<&'a Target>,
    /// Its XLSForm name: `${name}` in its own constraint is `.`.
    pub this_name: Option<&'a str>,
}

impl Context<'_> {
    fn target(&self, e: &Expr) -> Result<(String, &Target), Reason> {
        match e {
            Expr::Ref(name) if self.this_name == Some(name.as_str()) && self.this.is_some() => {
                self.target(&Expr::Dot)
            }
            Expr::Ref(name) => match self.scope.targets.get(name) {
                Some(t) => Ok((t.code.clone(), t)),
                None => Err(match self.scope.not_asked.get(name) {
                    Some(why) => Reason::new(code::COND_NOT_ASKED)
                        .with("name", name.clone())
                        .with_part("why", why.clone()),
                    None => Reason::new(code::COND_NOT_EARLIER).with("name", name.clone()),
                }),
            },
            Expr::Dot => match self.this {
                Some(t) => Ok((".".to_owned(), t)),
                None => Err(Reason::new(code::COND_DOT_OUTSIDE)),
            },
            _ => Err(Reason::new(code::COND_TWO_COMPUTED)),
        }
    }
}

fn literal_text(e: &Expr) -> Option<String> {
    match e {
        Expr::Str(s) | Expr::Num(s) => Some(s.clone()),
        _ => None,
    }
}

fn number(text: &str) -> Option<Value> {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(Value::from(i));
    }
    t.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
}

/// A literal as the target question's answers are written.
fn typed(t: &Target, lit: &Expr) -> Result<Value, Reason> {
    let text = literal_text(lit).ok_or_else(|| Reason::new(code::COND_WITH_COMPUTED))?;
    if text == "dk" || text == "na" {
        return Ok(Value::from(text));
    }
    match t.kind {
        QuestionType::SingleChoice | QuestionType::MultipleChoice => match t.choices.get(&text) {
            Some(code) => Ok(Value::from(code.clone())),
            None => Err(Reason::new(code::COND_NOT_A_CHOICE)
                .with("value", text)
                .with("question", t.code.clone())),
        },
        QuestionType::Scale | QuestionType::Number => {
            number(&text).ok_or_else(|| not_a_number(&text))
        }
        QuestionType::YesNo => {
            let yes = t.yes.as_deref().unwrap_or("yes");
            let l = text.to_lowercase();
            if text == yes || matches!(l.as_str(), "yes" | "true" | "1" | "ok") {
                Ok(Value::Bool(true))
            } else if matches!(l.as_str(), "no" | "false" | "0") {
                Ok(Value::Bool(false))
            } else {
                Err(Reason::new(code::COND_NOT_AN_ANSWER)
                    .with("value", text)
                    .with("question", t.code.clone()))
            }
        }
        QuestionType::ShortText | QuestionType::LongText => Ok(Value::from(text)),
    }
}

fn not_a_number(text: &str) -> Reason {
    Reason::new(code::COND_NOT_A_NUMBER).with("value", text)
}

fn leaf(question: &str, op: &str, value: Option<Value>, func: Option<&str>) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("question".into(), Value::from(question));
    m.insert("op".into(), Value::from(op));
    if let Some(v) = value {
        m.insert("value".into(), v);
    }
    if let Some(f) = func {
        m.insert("fn".into(), Value::from(f));
    }
    Value::Object(m)
}

/// `${q} != '' and ${q} != 'x'`: answered, and differently — Hailong's
/// `ne` (what the export writes for it).
fn answered_and_differently(parts: &[Expr], cx: &Context) -> Option<Result<Value, Reason>> {
    let [Expr::Cmp(a, CmpOp::Ne, empty), Expr::Cmp(b, CmpOp::Ne, lit)] = parts else {
        return None;
    };
    if a != b
        || !matches!(empty.as_ref(), Expr::Str(s) if s.is_empty())
        || literal_text(lit).is_none()
    {
        return None;
    }
    if matches!(lit.as_ref(), Expr::Str(s) if s.is_empty()) {
        return None;
    }
    Some(
        cx.target(a)
            .and_then(|(code, t)| Ok(leaf(&code, "ne", Some(typed(t, lit)?), None))),
    )
}

/// The condition an expression means, or what in it is outside what
/// Hailong can evaluate.
pub fn convert(e: &Expr, cx: &Context) -> Result<Value, Reason> {
    match e {
        Expr::And(parts) => {
            if let Some(ne) = answered_and_differently(parts, cx) {
                return ne;
            }
            Ok(json!({"all": parts.iter().map(|p| convert(p, cx)).collect::<Result<Vec<_>, _>>()?}))
        }
        Expr::Or(parts) => {
            Ok(json!({"any": parts.iter().map(|p| convert(p, cx)).collect::<Result<Vec<_>, _>>()?}))
        }
        Expr::Not(inner) => Ok(json!({"not": convert(inner, cx)?})),
        Expr::Ref(_) => {
            let (code, _) = cx.target(e)?;
            Ok(leaf(&code, "answered", None, None))
        }
        Expr::Call(Func::Selected, args) => {
            let (code, t) = cx.target(&args[0])?;
            let value = typed(t, &args[1])?;
            Ok(leaf(&code, "selected", Some(value), None))
        }
        Expr::Call(Func::Regex, args) => {
            let (code, _) = cx.target(&args[0])?;
            let Expr::Str(pattern) = &args[1] else {
                return Err(Reason::new(code::COND_REGEX_PATTERN));
            };
            Ok(leaf(
                &code,
                "matches",
                Some(Value::from(pattern.clone())),
                None,
            ))
        }
        Expr::Cmp(a, op, b) => {
            let (subject, op, lit) = if literal_text(b).is_some() {
                (a.as_ref(), *op, b.as_ref())
            } else if literal_text(a).is_some() {
                (b.as_ref(), op.flipped(), a.as_ref())
            } else {
                return Err(Reason::new(code::COND_TWO_ANSWERS));
            };
            match subject {
                Expr::Call(f @ (Func::CountSelected | Func::StringLength), args) => {
                    let (code, _) = cx.target(&args[0])?;
                    let text = literal_text(lit).unwrap_or_default();
                    let n = number(&text).ok_or_else(|| not_a_number(&text))?;
                    let func = if *f == Func::CountSelected {
                        "count_selected"
                    } else {
                        "string_length"
                    };
                    Ok(leaf(&code, op.as_str(), Some(n), Some(func)))
                }
                Expr::Ref(_) | Expr::Dot => {
                    let (code, t) = cx.target(subject)?;
                    // `${q} = ''`: not answered; `${q} != ''`: answered.
                    if matches!(lit, Expr::Str(s) if s.is_empty()) {
                        return match op {
                            CmpOp::Eq => Ok(json!({"not": leaf(&code, "answered", None, None)})),
                            CmpOp::Ne => Ok(leaf(&code, "answered", None, None)),
                            _ => Err(Reason::new(code::COND_ORDER_EMPTY)),
                        };
                    }
                    let value = typed(t, lit)?;
                    // ODK's `!=` holds for an empty answer; Hailong's `ne`
                    // needs an answer, so `!=` is "not equal".
                    if op == CmpOp::Ne {
                        return Ok(json!({"not": leaf(&code, "eq", Some(value), None)}));
                    }
                    Ok(leaf(&code, op.as_str(), Some(value), None))
                }
                _ => Err(Reason::new(code::COND_OF_COMPUTED)),
            }
        }
        Expr::Bool(_) | Expr::Dot | Expr::Str(_) | Expr::Num(_) => {
            Err(Reason::new(code::COND_VALUE))
        }
        Expr::Call(f, _) => {
            Err(Reason::new(code::COND_FUNCTION).with("function", format!("{f:?}")))
        }
    }
}

/// `state=${state}`, `${state} = state`, `selected(${q}, col)`: the
/// cascading filter of a choice list (choices column, question, op).
pub fn choice_filter(s: &str, scope: &Scope) -> Result<(String, String, &'static str), Reason> {
    let t = s.trim();
    let resolve = |name: &str| -> Result<String, Reason> {
        match scope.targets.get(name) {
            Some(t) => Ok(t.code.clone()),
            None => Err(Reason::new(code::COND_NOT_EARLIER).with("name", name)),
        }
    };
    let reference = |x: &str| -> Option<String> {
        let x = x.trim();
        x.strip_prefix("${")
            .and_then(|r| r.strip_suffix('}'))
            .map(|n| n.trim().to_owned())
    };
    let is_column = |x: &str| {
        let x = x.trim();
        !x.is_empty()
            && x.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
    };
    if let Some(inner) = t
        .strip_prefix("selected(")
        .and_then(|r| r.strip_suffix(')'))
        && let Some((a, b)) = inner.split_once(',')
        && let Some(q) = reference(a)
        && is_column(b)
    {
        return Ok((b.trim().to_owned(), resolve(&q)?, "selected"));
    }
    if let Some((a, b)) = t.split_once('=')
        && !a.ends_with(['!', '<', '>'])
        && !b.contains('=')
    {
        if let Some(q) = reference(b)
            && is_column(a)
        {
            return Ok((a.trim().to_owned(), resolve(&q)?, "eq"));
        }
        if let Some(q) = reference(a)
            && is_column(b)
        {
            return Ok((b.trim().to_owned(), resolve(&q)?, "eq"));
        }
    }
    Err(Reason::new(code::COND_FILTER_FORM))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::expr::parse;
    use super::*;

    fn scope() -> Scope {
        let mut s = Scope::default();
        let choice = |code: &str, kind, names: &[(&str, &str)]| Target {
            code: code.to_owned(),
            kind,
            choices: names
                .iter()
                .map(|(n, c)| ((*n).to_owned(), (*c).to_owned()))
                .collect(),
            yes: None,
        };
        s.targets.insert(
            "a12".into(),
            choice("a12", QuestionType::SingleChoice, &[("1", "1"), ("2", "2")]),
        );
        s.targets.insert(
            "city".into(),
            choice(
                "city",
                QuestionType::MultipleChoice,
                &[("Hà Nội", "Ha_Noi"), ("hue", "hue")],
            ),
        );
        s.targets
            .insert("age".into(), choice("age", QuestionType::Number, &[]));
        s.not_asked
            .insert("calc".into(), Reason::new(code::NOT_ASKED_CALCULATION));
        s
    }

    fn conv(src: &str) -> Result<Value, Reason> {
        let s = scope();
        convert(
            &parse(src).unwrap(),
            &Context {
                scope: &s,
                this: None,
                this_name: None,
            },
        )
    }

    #[test]
    fn a_number_literal_on_choice_names_is_the_choice_string() {
        assert_eq!(
            conv("${a12}=1").unwrap(),
            json!({"question": "a12", "op": "eq", "value": "1"})
        );
        // ODK's `!=` also holds when a12 is not answered: "not equal".
        assert_eq!(
            conv("${a12} != 2").unwrap(),
            json!({"not": {"question": "a12", "op": "eq", "value": "2"}})
        );
        // What the export writes for Hailong's `ne` (answered, and differently).
        assert_eq!(
            conv("${a12} != '' and ${a12} != '2'").unwrap(),
            json!({"question": "a12", "op": "ne", "value": "2"})
        );
        assert_eq!(
            conv("${a12}=7").unwrap_err(),
            Reason::new(code::COND_NOT_A_CHOICE)
                .with("value", "7")
                .with("question", "a12")
        );
    }

    #[test]
    fn compound_conditions_become_trees() {
        assert_eq!(
            conv("${a12} = '1' and (${age} > 17 or not(selected(${city}, 'Hà Nội')))").unwrap(),
            json!({"all": [
                {"question": "a12", "op": "eq", "value": "1"},
                {"any": [
                    {"question": "age", "op": "gt", "value": 17},
                    {"not": {"question": "city", "op": "selected", "value": "Ha_Noi"}}
                ]}
            ]})
        );
        assert_eq!(
            conv("count-selected(${city}) >= 2").unwrap(),
            json!({"question": "city", "op": "gte", "value": 2, "fn": "count_selected"})
        );
        assert_eq!(
            conv("18 <= ${age}").unwrap(),
            json!({"question": "age", "op": "gte", "value": 18})
        );
        assert_eq!(
            conv("${age} != ''").unwrap(),
            json!({"question": "age", "op": "answered"})
        );
    }

    #[test]
    fn references_to_what_is_not_asked_are_refused_with_the_reason() {
        assert_eq!(
            conv("${calc} > 3").unwrap_err(),
            Reason::new(code::COND_NOT_ASKED)
                .with("name", "calc")
                .with_part("why", Reason::new(code::NOT_ASKED_CALCULATION))
        );
        assert_eq!(
            conv("${nobody} = 1").unwrap_err(),
            Reason::new(code::COND_NOT_EARLIER).with("name", "nobody")
        );
        assert_eq!(conv(". > 3").unwrap_err().code, code::COND_DOT_OUTSIDE);
    }

    #[test]
    fn constraints_use_dot() {
        let s = scope();
        let this = s.targets["age"].clone();
        let cx = Context {
            scope: &s,
            this: Some(&this),
            this_name: Some("age"),
        };
        assert_eq!(
            convert(&parse("regex(., '^[0-9]+$')").unwrap(), &cx).unwrap(),
            json!({"question": ".", "op": "matches", "value": "^[0-9]+$"})
        );
        assert_eq!(
            convert(&parse("${age} < 120").unwrap(), &cx).unwrap(),
            json!({"question": ".", "op": "lt", "value": 120})
        );
        assert_eq!(
            convert(&parse("string-length(.) <= 10").unwrap(), &cx).unwrap(),
            json!({"question": ".", "op": "lte", "value": 10, "fn": "string_length"})
        );
    }

    #[test]
    fn cascading_filters_of_the_common_forms() {
        let s = scope();
        assert_eq!(
            choice_filter("state=${a12}", &s).unwrap(),
            ("state".into(), "a12".into(), "eq")
        );
        assert_eq!(
            choice_filter("${a12} = state", &s).unwrap(),
            ("state".into(), "a12".into(), "eq")
        );
        assert_eq!(
            choice_filter("selected(${city}, cities)", &s).unwrap(),
            ("cities".into(), "city".into(), "selected")
        );
        assert_eq!(
            choice_filter("state=${a12} and x=${age}", &s).unwrap_err(),
            Reason::new(code::COND_FILTER_FORM)
        );
        assert_eq!(
            choice_filter("state=${nobody}", &s).unwrap_err(),
            Reason::new(code::COND_NOT_EARLIER).with("name", "nobody")
        );
    }
}
