//! What a simulated respondent answers: read from the public campaign list
//! (`GET /api/v1/campaigns`), so the generator works for any open campaign,
//! not only the demo one.

use rand::RngExt;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// A campaign as `GET /api/v1/campaigns` describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Campaign {
    pub slug: String,
    pub localities: Vec<Locality>,
    pub questionnaire: Questionnaire,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Locality {
    pub code: String,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Questionnaire {
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Section {
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    pub code: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    #[serde(default)]
    pub options: Vec<Choice>,
    #[serde(default)]
    pub dont_know: bool,
    #[serde(default)]
    pub condition: Option<Condition>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Choice {
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Condition {
    pub question: String,
    pub op: String,
    #[serde(default)]
    pub value: Option<Value>,
}

/// Comments people leave, Vietnamese with diacritics (so the UTF-8 path is exercised).
const COMMENTS: &[&str] = &[
    "Cán bộ nhiệt tình, hướng dẫn rõ ràng.",
    "Thời gian chờ hơi lâu.",
    "Thủ tục đơn giản hơn trước.",
    "Nên có thêm ghế ngồi chờ.",
    "Rất hài lòng.",
];

impl Campaign {
    /// Localities a respondent may pick: communes when there are any, else all.
    pub fn answerable_localities(&self) -> Vec<String> {
        let communes: Vec<String> = self
            .localities
            .iter()
            .filter(|l| l.level == "commune")
            .map(|l| l.code.clone())
            .collect();
        if communes.is_empty() {
            self.localities.iter().map(|l| l.code.clone()).collect()
        } else {
            communes
        }
    }

    /// A random, valid set of answers: every visible question is answered
    /// (required or not), hidden ones are left out, as a careful respondent would.
    pub fn random_answers(&self) -> Map<String, Value> {
        let mut rng = rand::rng();
        let mut answers = Map::new();
        for q in self
            .questionnaire
            .sections
            .iter()
            .flat_map(|s| &s.questions)
        {
            if let Some(c) = &q.condition
                && !holds(c, &answers)
            {
                continue;
            }
            let value = match q.kind.as_str() {
                "scale" => {
                    let (lo, hi) = (q.min.unwrap_or(1), q.max.unwrap_or(5));
                    if q.dont_know && rng.random_range(0..20) == 0 {
                        json!("dk")
                    } else {
                        // Skewed towards satisfied, as real SIPAS answers are.
                        let v = hi - (rng.random_range(0..=(hi - lo)) * rng.random_range(0..=1));
                        json!(v.clamp(lo, hi))
                    }
                }
                "number" => {
                    let (lo, hi) = (q.min.unwrap_or(0), q.max.unwrap_or(100));
                    json!(rng.random_range(lo..=hi.max(lo)))
                }
                "yes_no" => json!(rng.random_range(0..4) > 0),
                "single_choice" if !q.options.is_empty() => {
                    json!(q.options[rng.random_range(0..q.options.len())].value)
                }
                "multiple_choice" if !q.options.is_empty() => {
                    let first = rng.random_range(0..q.options.len());
                    json!([q.options[first].value])
                }
                "short_text" | "long_text" => json!(COMMENTS[rng.random_range(0..COMMENTS.len())]),
                _ => continue,
            };
            answers.insert(q.code.clone(), value);
        }
        answers
    }
}

/// The server's rule (`domain::answers::condition_holds`), on JSON answers.
fn holds(c: &Condition, answers: &Map<String, Value>) -> bool {
    let Some(answer) = answers.get(&c.question) else {
        return false;
    };
    if answer.as_str().is_some_and(|s| s == "dk" || s == "na") {
        return false;
    }
    let equal = || match (answer, c.value.as_ref()) {
        (Value::Array(list), Some(v)) => list.contains(v),
        (a, Some(v)) => a == v,
        _ => false,
    };
    let number = || {
        answer
            .as_i64()
            .zip(c.value.as_ref().and_then(Value::as_i64))
    };
    match c.op.as_str() {
        "answered" => true,
        "eq" => equal(),
        "ne" => !equal(),
        "gte" => number().is_some_and(|(a, v)| a >= v),
        "lte" => number().is_some_and(|(a, v)| a <= v),
        _ => false,
    }
}

/// Answers as the no-JavaScript survey form posts them (`a.<code>` fields,
/// plus a `seen` field for every question the respondent was shown).
pub fn form_fields(answers: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (code, v) in answers {
        out.push(("seen".to_owned(), code.clone()));
        let name = format!("a.{code}");
        match v {
            Value::Array(items) => {
                for i in items {
                    out.push((name.clone(), scalar(i)));
                }
            }
            v => out.push((name, scalar(v))),
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn campaign() -> Campaign {
        serde_json::from_value(json!({
            "slug": "x", "layout": "one_page",
            "localities": [{"code": "01", "level": "province"}, {"code": "00004", "level": "commune"}],
            "questionnaire": {"sections": [{"questions": [
                {"code": "gave", "type": "yes_no"},
                {"code": "score", "type": "scale", "min": 1, "max": 5, "dont_know": true,
                 "condition": {"question": "gave", "op": "eq", "value": true}},
                {"code": "why", "type": "short_text",
                 "condition": {"question": "gave", "op": "eq", "value": false}}
            ]}]}
        }))
        .unwrap()
    }

    #[test]
    fn hidden_questions_are_never_answered() {
        let c = campaign();
        for _ in 0..200 {
            let a = c.random_answers();
            let gave = a["gave"].as_bool().unwrap();
            assert_eq!(a.contains_key("score"), gave);
            assert_eq!(a.contains_key("why"), !gave);
        }
    }

    #[test]
    fn communes_are_preferred_as_localities() {
        assert_eq!(campaign().answerable_localities(), vec!["00004".to_owned()]);
    }
}
