//! A question's logic in words for the designer: conditions, constraints, `required_if`,
//! cascading filters and defaults (compound ones are shown read-only and kept on save).

use super::*;

/// A condition in words, e.g. `a12 = 1 and (b > 3 or c selected x)`.
pub fn describe(c: &Condition, lang: Lang) -> String {
    describe_in(c, lang, false)
}

fn describe_in(c: &Condition, lang: Lang, nested: bool) -> String {
    let word = |key: &str| i18n::t(lang, key, &[]);
    match c {
        Condition::All { all: parts } | Condition::Any { any: parts } => {
            let joiner = if matches!(c, Condition::All { .. }) {
                word("cond-and")
            } else {
                word("cond-or")
            };
            let text = parts
                .iter()
                .map(|p| describe_in(p, lang, true))
                .collect::<Vec<_>>()
                .join(&format!(" {joiner} "));
            if nested && parts.len() > 1 {
                format!("({text})")
            } else {
                text
            }
        }
        Condition::Not { not } => {
            format!("{} ({})", word("cond-not"), describe_in(not, lang, false))
        }
        Condition::Leaf(l) => {
            let subject = if l.question == "." {
                word("cond-this-answer")
            } else {
                l.question.clone()
            };
            let subject = match l.func {
                Some(ConditionFn::CountSelected) => format!("{} {subject}", word("cond-count")),
                Some(ConditionFn::StringLength) => format!("{} {subject}", word("cond-length")),
                None => subject,
            };
            let value = match &l.value {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            };
            let op = match l.op {
                ConditionOp::Answered => return format!("{subject} {}", word("cond-answered")),
                ConditionOp::Eq => "=".to_owned(),
                ConditionOp::Ne => "≠".to_owned(),
                ConditionOp::Gt => ">".to_owned(),
                ConditionOp::Gte => "≥".to_owned(),
                ConditionOp::Lt => "<".to_owned(),
                ConditionOp::Lte => "≤".to_owned(),
                ConditionOp::Selected => word("cond-selected"),
                ConditionOp::Matches => word("cond-matches"),
            };
            format!("{subject} {op} {value}")
        }
    }
}

/// The rest of a question's logic in words, one line each.
pub(super) fn logic_words(q: &Question, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    let line = |key: &str, args: &[(&str, String)]| {
        let args: Vec<(&str, i18n::Arg)> = args
            .iter()
            .map(|(k, v)| (*k, i18n::Arg::from(v.clone())))
            .collect();
        i18n::t(lang, key, &args)
    };
    if let Some(c) = &q.constraint {
        out.push(line(
            "designer-constraint",
            &[("condition", describe(c, lang))],
        ));
    }
    if let Some(c) = &q.required_if {
        out.push(line(
            "designer-required-when",
            &[("condition", describe(c, lang))],
        ));
    }
    if let Some(f) = &q.choice_filter {
        out.push(line(
            "designer-choice-filter",
            &[
                ("column", f.column.clone()),
                ("question", f.question.clone()),
            ],
        ));
    }
    if let Some(d) = &q.default {
        let value = match d {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let key = if q.read_only {
            "designer-read-only"
        } else {
            "designer-default"
        };
        out.push(line(key, &[("value", value)]));
    }
    out
}
