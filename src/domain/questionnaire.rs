//! The questionnaire definition: sections, questions, conditions and the index
//! tree they feed. Stored as JSON in a questionnaire version; parsed and checked
//! here so that code past this point can rely on it.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use validator::Validate;

use super::answer::{Answer, DONT_KNOW, NOT_APPLICABLE, shorten};
pub use super::condition::{
    ChoiceFilter, Comparison, Condition, ConditionFn, ConditionOp, FilterOp,
};
pub use super::question_type::QuestionType;
use super::text::{Text, is_code};
use super::validation::FieldError;

/// A whole questionnaire definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Stable code of the questionnaire, e.g. `sipas-2640`.
    #[validate(length(min = 1, max = 64))]
    pub code: String,
    pub title: Text,
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub description: Text,
    pub sections: Vec<Section>,
    /// Composite indices computed from the questions' index mappings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indices: Vec<IndexDefinition>,
    /// Official instruments: the decision and where its text was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Box<super::instrument::Source>>,
}

/// A group of questions shown together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub code: String,
    pub title: Text,
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub description: Text,
    /// The words that lead into each statement of the section when a question is a
    /// statement to rate ("Ông/Bà đánh giá thế nào về: …"), shown above its questions.
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub lead_in: Text,
    pub questions: Vec<Question>,
    /// Show the whole section only when this holds (a group's `relevant`);
    /// a question in it needs both conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
}

/// An option of a choice question.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// The value an answer carries, a code such as `female`.
    pub value: String,
    pub label: Text,
    /// Cascading lists: the choices sheet's extra columns (column -> value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub filters: BTreeMap<String, String>,
}

/// A labelled point of a scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalePoint {
    pub value: i64,
    pub label: Text,
}

/// How a question feeds an index: the criterion and element it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexMapping {
    /// Code of the index this question feeds (defaults to the first index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    pub element: String,
    pub criterion: String,
    #[serde(default = "one")]
    pub weight: f64,
    /// Reverse-coded: a low answer means satisfied (value is mirrored on the scale).
    #[serde(default)]
    pub reverse: bool,
    /// Answers at or above this count as "satisfied" (after reversing).
    #[serde(default = "four")]
    pub satisfied_min: i64,
    /// Choice questions: the options that count as 1 (the indicator "chose one of these");
    /// any other option counts as 0. Required on a choice question, empty elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Number questions: answers above this count as this (e.g. "% of expectations met"
    /// capped at 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<f64>,
}

fn one() -> f64 {
    1.0
}
fn four() -> i64 {
    4
}

/// One question.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable code; answers are keyed by it.
    pub code: String,
    #[serde(rename = "type")]
    pub kind: QuestionType,
    #[serde(default)]
    pub required: bool,
    pub label: Text,
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub help: Text,
    /// Scale and number questions: inclusive bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Scale questions: a label for every point from `min` to `max`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<ScalePoint>,
    /// Choice questions: the options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// Offer "don't know" (answer `"dk"`), not counted as an answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dont_know: bool,
    /// Offer "not applicable" (answer `"na"`), not counted as an answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_applicable: bool,
    /// Show the question only when this holds (XLSForm `relevant`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    /// An answer is accepted only when this holds (usually on `"."`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<Condition>,
    /// The message shown when the constraint fails.
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub constraint_message: Text,
    /// Required when this holds (`required: true` is the constant form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_if: Option<Condition>,
    /// The message shown when a required answer is missing.
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub required_message: Text,
    /// Pre-filled answer (the stored answer of a read-only question).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// Shown, not editable: the answer is the default, and the server
    /// refuses any other.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Cascading list: the options offered depend on an earlier answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice_filter: Option<ChoiceFilter>,
    /// Where the question sits in an index: a scale (its answer; "satisfied" from the
    /// mapping's threshold), a yes/no (1 for yes, for no when `reverse`), a choice (1 for one
    /// of the mapping's `options`) or a number (its answer, capped at `cap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexMapping>,
}

/// How an index aggregates its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// SIPAS: share satisfied per criterion, mean of criteria per element,
    /// mean of elements for the index.
    MeanOfCriteria,
    /// Weighted mean of the criteria's satisfied shares with their weights.
    WeightedMean,
    /// Share of respondents satisfied, pooled over all questions.
    ShareSatisfied,
    /// The questions' mean scores rescaled to 0–1 and combined as a weighted mean, shown as
    /// points out of 100 (kept for questionnaires made before `sum`).
    DimensionScore,
    /// The Ministry of Health's comprehensive index: the share of respondents satisfied with
    /// every question of the node they answered ("not used" is no answer); respondents who
    /// answered none of them are left out. Scale questions only.
    AllSatisfied,
    /// Means on the questions' own scale (a 1–5 mean, a yes share, the mean of a number):
    /// criterion = weighted mean of its questions' means, element = weighted mean of its
    /// criteria, index = weighted mean of its elements.
    Mean,
    /// PAPI: each question's mean rescaled to 0–1 (a scale or number by its bounds, a yes/no or
    /// choice indicator as its share), a criterion (sub-dimension) is its weighted mean
    /// placed in its part of the element's `range`, an element (dimension) is the **sum** of
    /// its criteria (so it lies in `range`), the index the sum of its elements.
    Sum,
}

/// Which family of indicators an index belongs to (SIPAS since 2021 reports three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Nhận định: how people judge the service (what happened).
    Perception,
    /// Hài lòng: how satisfied they are.
    Satisfaction,
    /// Mong đợi: what they expect to be improved.
    Expectation,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Perception => "perception",
            Family::Satisfaction => "satisfaction",
            Family::Expectation => "expectation",
        }
    }
}

/// An index tree: index → elements → criteria (→ questions, by mapping).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexDefinition {
    pub code: String,
    pub name: Text,
    pub aggregation: Aggregation,
    /// The family of indicators (perception, satisfaction, expectation), when the
    /// instrument reports several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    /// Another index whose elements, criteria and question mappings this one reuses with its
    /// own aggregation (e.g. the MoH's comprehensive index over the satisfaction rate's
    /// questions); its own `elements` are then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    /// `sum`: the range `[low, high]` of each element (PAPI: a dimension on 1–10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<IndexElement>,
}

impl IndexDefinition {
    /// The code of the index whose tree and mappings this one uses (its own or its basis).
    pub fn tree_code(&self) -> &str {
        self.basis.as_deref().unwrap_or(&self.code)
    }
}

/// An element (yếu tố / dimension) of an index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexElement {
    pub code: String,
    pub name: Text,
    #[serde(default = "one")]
    pub weight: f64,
    pub criteria: Vec<IndexCriterion>,
}

/// A criterion (tiêu chí) of an element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexCriterion {
    pub code: String,
    pub name: Text,
    #[serde(default = "one")]
    pub weight: f64,
}

/// Longest short-text answer, in characters.
pub const SHORT_TEXT_MAX: usize = 500;
/// Longest long-text answer, in characters.
pub const LONG_TEXT_MAX: usize = 5_000;

impl Definition {
    /// Parses a definition from JSON and checks every rule; all problems are
    /// returned together, each with its field path.
    pub fn parse(json: &str) -> Result<Definition, Vec<FieldError>> {
        let def: Definition = serde_json::from_str(json)
            .map_err(|e| vec![FieldError::new("", "invalid_json").with("detail", e.to_string())])?;
        def.check()?;
        Ok(def)
    }

    /// All questions in order.
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.sections.iter().flat_map(|s| s.questions.iter())
    }

    /// Finds a question by code.
    pub fn question(&self, code: &str) -> Option<&Question> {
        self.questions().find(|q| q.code == code)
    }

    /// The index with this code, or the first one.
    pub fn index(&self, code: Option<&str>) -> Option<&IndexDefinition> {
        match code {
            Some(c) => self.indices.iter().find(|i| i.code == c),
            None => self.indices.first(),
        }
    }

    /// Checks every rule and lists every problem.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Err(e) = self.validate() {
            for (field, errs) in e.field_errors() {
                for err in errs {
                    errors.push(
                        FieldError::new(field.as_ref(), "invalid_length")
                            .with("detail", err.code.to_string()),
                    );
                }
            }
        }
        if !is_code(&self.code) {
            errors.push(FieldError::new("code", "invalid_code"));
        }
        self.title.check("title", &mut errors);
        if self.sections.is_empty() {
            errors.push(FieldError::new("sections", "no_sections"));
        }
        let mut section_codes = HashSet::new();
        // Earlier questions by code, with the kind of answer each takes.
        let mut seen: HashMap<&str, QuestionType> = HashMap::new();
        for (si, section) in self.sections.iter().enumerate() {
            let path = format!("sections[{si}]");
            if !is_code(&section.code) {
                errors.push(FieldError::new(format!("{path}.code"), "invalid_code"));
            } else if !section_codes.insert(section.code.as_str()) {
                errors.push(
                    FieldError::new(format!("{path}.code"), "duplicate_code")
                        .with("code", section.code.clone()),
                );
            }
            section.title.check(&format!("{path}.title"), &mut errors);
            if let Some(cond) = &section.condition {
                cond.check(&format!("{path}.condition"), &seen, None, None, &mut errors);
            }
            if section.questions.is_empty() {
                errors.push(FieldError::new(format!("{path}.questions"), "no_questions"));
            }
            for (qi, q) in section.questions.iter().enumerate() {
                let qpath = format!("{path}.questions[{qi}]");
                q.check(&qpath, &seen, &mut errors);
                if seen.contains_key(q.code.as_str()) {
                    errors.push(
                        FieldError::new(format!("{qpath}.code"), "duplicate_code")
                            .with("code", q.code.clone()),
                    );
                } else {
                    seen.insert(q.code.as_str(), q.kind);
                }
            }
        }
        self.check_indices(&mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn check_indices(&self, errors: &mut Vec<FieldError>) {
        let mut index_codes = HashSet::new();
        for (ii, index) in self.indices.iter().enumerate() {
            let path = format!("indices[{ii}]");
            if !is_code(&index.code) {
                errors.push(FieldError::new(format!("{path}.code"), "invalid_code"));
            } else if !index_codes.insert(index.code.as_str()) {
                errors.push(
                    FieldError::new(format!("{path}.code"), "duplicate_code")
                        .with("code", index.code.clone()),
                );
            }
            index.name.check(&format!("{path}.name"), errors);
            self.check_index_kind(index, &path, errors);
            if index.basis.is_some() {
                // Its tree is its basis's, checked there.
                continue;
            }
            if index.elements.is_empty() {
                errors.push(FieldError::new(format!("{path}.elements"), "no_elements"));
            }
            let mut codes = HashSet::new();
            for (ei, el) in index.elements.iter().enumerate() {
                let epath = format!("{path}.elements[{ei}]");
                if !codes.insert(el.code.as_str()) {
                    errors.push(
                        FieldError::new(format!("{epath}.code"), "duplicate_code")
                            .with("code", el.code.clone()),
                    );
                }
                el.name.check(&format!("{epath}.name"), errors);
                check_weight(el.weight, &format!("{epath}.weight"), errors);
                if el.criteria.is_empty() {
                    errors.push(FieldError::new(format!("{epath}.criteria"), "no_criteria"));
                }
                for (ci, cr) in el.criteria.iter().enumerate() {
                    let cpath = format!("{epath}.criteria[{ci}]");
                    if !codes.insert(cr.code.as_str()) {
                        errors.push(
                            FieldError::new(format!("{cpath}.code"), "duplicate_code")
                                .with("code", cr.code.clone()),
                        );
                    }
                    cr.name.check(&format!("{cpath}.name"), errors);
                    check_weight(cr.weight, &format!("{cpath}.weight"), errors);
                    let fed = self.questions().any(|q| {
                        q.index.as_ref().is_some_and(|m| {
                            m.criterion == cr.code
                                && m.element == el.code
                                && m.index.as_deref().unwrap_or(&self.indices[0].code) == index.code
                        })
                    });
                    if !fed {
                        errors.push(
                            FieldError::new(cpath.clone(), "criterion_without_questions")
                                .with("code", cr.code.clone()),
                        );
                    }
                }
            }
        }
        for (si, section) in self.sections.iter().enumerate() {
            for (qi, q) in section.questions.iter().enumerate() {
                let Some(m) = &q.index else { continue };
                let path = format!("sections[{si}].questions[{qi}].index");
                let index = self.index(m.index.as_deref());
                let found = index.is_some_and(|ix| {
                    ix.elements.iter().any(|e| {
                        e.code == m.element && e.criteria.iter().any(|c| c.code == m.criterion)
                    })
                });
                if !found {
                    errors.push(
                        FieldError::new(path, "unknown_criterion")
                            .with("code", format!("{}/{}", m.element, m.criterion)),
                    );
                }
            }
        }
    }
}

impl Definition {
    /// The questions whose mapping places them in the tree of index `code`.
    pub fn mapped_questions<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a Question> {
        let first = self.indices.first().map(|i| i.code.as_str());
        self.questions().filter(move |q| {
            q.index
                .as_ref()
                .is_some_and(|m| m.index.as_deref().or(first) == Some(code))
        })
    }

    /// A basis names another index that has its own tree and no elements here; `sum` has a
    /// range; the aggregation accepts the kinds of questions in the tree.
    fn check_index_kind(&self, index: &IndexDefinition, path: &str, errors: &mut Vec<FieldError>) {
        if let Some(basis) = &index.basis {
            let ok = basis != &index.code
                && self
                    .indices
                    .iter()
                    .any(|i| &i.code == basis && i.basis.is_none());
            if !ok {
                errors.push(
                    FieldError::new(format!("{path}.basis"), "unknown_basis")
                        .with("code", basis.clone()),
                );
            }
            if !index.elements.is_empty() {
                errors.push(FieldError::new(
                    format!("{path}.elements"),
                    "basis_with_elements",
                ));
            }
        }
        match (index.aggregation, index.range) {
            (Aggregation::Sum, None) => {
                errors.push(FieldError::new(format!("{path}.range"), "sum_needs_range"));
            }
            (Aggregation::Sum, Some([lo, hi]))
                if !(lo.is_finite() && hi.is_finite() && lo < hi) =>
            {
                errors.push(FieldError::new(format!("{path}.range"), "invalid_bounds"));
            }
            (Aggregation::Sum, Some(_)) => {}
            (_, Some(_)) => {
                errors.push(FieldError::new(format!("{path}.range"), "range_needs_sum"));
            }
            (_, None) => {}
        }
        for q in self.mapped_questions(index.tree_code()) {
            let problem = match (index.aggregation, q.kind) {
                (Aggregation::AllSatisfied, k) if k != QuestionType::Scale => {
                    Some("all_satisfied_needs_scale")
                }
                (
                    Aggregation::MeanOfCriteria
                    | Aggregation::WeightedMean
                    | Aggregation::ShareSatisfied,
                    QuestionType::Number,
                ) => Some("number_needs_mean"),
                (Aggregation::Sum | Aggregation::DimensionScore, QuestionType::Number) if !matches!((q.min, q.max), (Some(lo), Some(hi)) if lo < hi) => {
                    Some("number_needs_bounds")
                }
                _ => None,
            };
            if let Some(code) = problem {
                errors.push(
                    FieldError::new(format!("{path}.aggregation"), code)
                        .with("code", q.code.clone()),
                );
            }
        }
    }
}

fn check_weight(w: f64, path: &str, errors: &mut Vec<FieldError>) {
    if !(w.is_finite() && w > 0.0) {
        errors.push(FieldError::new(path, "weight_not_positive"));
    }
}

impl Question {
    /// What a question's index mapping may say for its type: choice questions name the
    /// options that count (existing ones), only numbers have a cap, text feeds no index.
    fn check_mapping(&self, m: &IndexMapping, path: &str, errors: &mut Vec<FieldError>) {
        match self.kind {
            QuestionType::ShortText | QuestionType::LongText => {
                errors.push(FieldError::new(path, "index_needs_scale"));
                return;
            }
            QuestionType::SingleChoice | QuestionType::MultipleChoice => {
                if m.options.is_empty() {
                    errors.push(FieldError::new(
                        format!("{path}.options"),
                        "index_needs_options",
                    ));
                }
                for (oi, o) in m.options.iter().enumerate() {
                    if !self.options.iter().any(|c| &c.value == o) {
                        errors.push(
                            FieldError::new(
                                format!("{path}.options[{oi}]"),
                                "index_unknown_option",
                            )
                            .with("code", o.clone()),
                        );
                    }
                }
            }
            _ => {
                if !m.options.is_empty() {
                    errors.push(FieldError::new(
                        format!("{path}.options"),
                        "options_need_choice",
                    ));
                }
            }
        }
        if m.cap.is_some() && self.kind != QuestionType::Number {
            errors.push(FieldError::new(format!("{path}.cap"), "cap_needs_number"));
        }
        if m.cap.is_some_and(|c| !c.is_finite()) {
            errors.push(FieldError::new(format!("{path}.cap"), "invalid_bounds"));
        }
        if self.kind != QuestionType::Scale {
            check_weight(m.weight, &format!("{path}.weight"), errors);
        }
    }
}

impl Question {
    /// Checks one answer value against this question; problems are at
    /// `answers.<code>`.
    pub fn parse_answer(&self, value: &Value) -> Result<Answer, FieldError> {
        let q = self;
        let err = |code: &str| FieldError::new(format!("answers.{}", q.code), code);
        if let Value::String(s) = value {
            if s == DONT_KNOW {
                return if q.dont_know {
                    Ok(Answer::DontKnow)
                } else if matches!(q.kind, QuestionType::ShortText | QuestionType::LongText) {
                    Ok(Answer::Text(s.clone()))
                } else {
                    Err(err("dont_know_not_offered"))
                };
            }
            if s == NOT_APPLICABLE {
                return if q.not_applicable {
                    Ok(Answer::NotApplicable)
                } else if matches!(q.kind, QuestionType::ShortText | QuestionType::LongText) {
                    Ok(Answer::Text(s.clone()))
                } else {
                    Err(err("not_applicable_not_offered"))
                };
            }
        }
        match q.kind {
            QuestionType::Scale | QuestionType::Number => {
                let n = match value {
                    Value::Number(n) => n.as_i64().ok_or_else(|| err("expected_integer"))?,
                    _ => return Err(err("expected_integer")),
                };
                let below = q.min.is_some_and(|min| n < min);
                let above = q.max.is_some_and(|max| n > max);
                if below || above {
                    let mut e = err("out_of_range");
                    e = e.with("min", q.min.map_or("–".to_owned(), |m| m.to_string()));
                    e = e.with("max", q.max.map_or("–".to_owned(), |m| m.to_string()));
                    return Err(e);
                }
                Ok(Answer::Int(n))
            }
            QuestionType::SingleChoice => match value {
                Value::String(s) if q.options.iter().any(|o| &o.value == s) => {
                    Ok(Answer::Choice(s.clone()))
                }
                Value::String(s) => Err(err("unknown_option").with("value", shorten(s))),
                _ => Err(err("expected_option")),
            },
            QuestionType::MultipleChoice => {
                let Value::Array(items) = value else {
                    return Err(err("expected_options"));
                };
                if items.is_empty() {
                    return Err(err("empty_answer"));
                }
                let mut chosen = HashSet::new();
                for item in items {
                    let Value::String(s) = item else {
                        return Err(err("expected_options"));
                    };
                    if !q.options.iter().any(|o| &o.value == s) {
                        return Err(err("unknown_option").with("value", shorten(s)));
                    }
                    if !chosen.insert(s.as_str()) {
                        return Err(err("duplicate_option").with("value", shorten(s)));
                    }
                }
                Ok(Answer::Choices(
                    q.options
                        .iter()
                        .filter(|o| chosen.contains(o.value.as_str()))
                        .map(|o| o.value.clone())
                        .collect(),
                ))
            }
            QuestionType::YesNo => match value {
                Value::Bool(b) => Ok(Answer::Bool(*b)),
                _ => Err(err("expected_boolean")),
            },
            QuestionType::ShortText | QuestionType::LongText => {
                let Value::String(s) = value else {
                    return Err(err("expected_text"));
                };
                if s.trim().is_empty() {
                    return Err(err("empty_answer"));
                }
                if s.contains('\0') {
                    return Err(err("invalid_text"));
                }
                let max = if q.kind == QuestionType::ShortText {
                    SHORT_TEXT_MAX
                } else {
                    LONG_TEXT_MAX
                };
                if s.chars().count() > max {
                    return Err(err("answer_too_long").with("max", max.to_string()));
                }
                Ok(Answer::Text(s.clone()))
            }
        }
    }

    fn check(
        &self,
        path: &str,
        earlier: &HashMap<&str, QuestionType>,
        errors: &mut Vec<FieldError>,
    ) {
        if !is_code(&self.code) {
            errors.push(FieldError::new(format!("{path}.code"), "invalid_code"));
        }
        self.label.check(&format!("{path}.label"), errors);
        self.help.check_optional(&format!("{path}.help"), errors);
        match self.kind {
            QuestionType::Scale => {
                match (self.min, self.max) {
                    (Some(min), Some(max))
                        if min < max && max.checked_sub(min).is_some_and(|d| d <= 20) =>
                    {
                        let mut values: Vec<i64> = self.points.iter().map(|p| p.value).collect();
                        values.sort_unstable();
                        let expected: Vec<i64> = (min..=max).collect();
                        if self.points.is_empty() {
                            errors.push(FieldError::new(
                                format!("{path}.points"),
                                "scale_without_labels",
                            ));
                        } else if values != expected {
                            errors.push(
                                FieldError::new(format!("{path}.points"), "scale_points_mismatch")
                                    .with("min", min.to_string())
                                    .with("max", max.to_string()),
                            );
                        }
                    }
                    _ => errors.push(FieldError::new(format!("{path}.max"), "invalid_bounds")),
                }
                for (pi, p) in self.points.iter().enumerate() {
                    p.label.check(&format!("{path}.points[{pi}].label"), errors);
                }
                if let Some(m) = &self.index {
                    check_weight(m.weight, &format!("{path}.index.weight"), errors);
                    if let (Some(min), Some(max)) = (self.min, self.max)
                        && !(min..=max).contains(&m.satisfied_min)
                    {
                        errors.push(FieldError::new(
                            format!("{path}.index.satisfied_min"),
                            "threshold_out_of_range",
                        ));
                    }
                }
            }
            QuestionType::Number => match (self.min, self.max) {
                (Some(min), Some(max)) if min <= max => {}
                (None, None) => {}
                (Some(_), None) | (None, Some(_)) => {}
                _ => errors.push(FieldError::new(format!("{path}.max"), "invalid_bounds")),
            },
            QuestionType::SingleChoice | QuestionType::MultipleChoice => {
                if self.options.len() < 2 {
                    errors.push(FieldError::new(
                        format!("{path}.options"),
                        "too_few_options",
                    ));
                }
                let mut values = HashSet::new();
                for (oi, o) in self.options.iter().enumerate() {
                    if !is_code(&o.value) || o.value == "dk" || o.value == "na" {
                        errors.push(FieldError::new(
                            format!("{path}.options[{oi}].value"),
                            "invalid_code",
                        ));
                    } else if !values.insert(o.value.as_str()) {
                        errors.push(
                            FieldError::new(
                                format!("{path}.options[{oi}].value"),
                                "duplicate_code",
                            )
                            .with("code", o.value.clone()),
                        );
                    }
                    o.label
                        .check(&format!("{path}.options[{oi}].label"), errors);
                }
            }
            QuestionType::YesNo | QuestionType::ShortText | QuestionType::LongText => {}
        }
        if let Some(m) = &self.index {
            self.check_mapping(m, &format!("{path}.index"), errors);
        }
        if let Some(cond) = &self.condition {
            cond.check(
                &format!("{path}.condition"),
                earlier,
                None,
                Some(&self.code),
                errors,
            );
        }
        if let Some(cond) = &self.constraint {
            cond.check(
                &format!("{path}.constraint"),
                earlier,
                Some(self.kind),
                Some(&self.code),
                errors,
            );
        }
        if let Some(cond) = &self.required_if {
            cond.check(
                &format!("{path}.required_if"),
                earlier,
                None,
                Some(&self.code),
                errors,
            );
        }
        self.constraint_message
            .check_optional(&format!("{path}.constraint_message"), errors);
        self.required_message
            .check_optional(&format!("{path}.required_message"), errors);
        if let Some(default) = &self.default
            && let Err(e) = self.parse_answer(default)
        {
            errors.push(
                FieldError::new(format!("{path}.default"), "invalid_default")
                    .with("detail", e.code),
            );
        }
        self.check_choice_filter(path, earlier, errors);
    }

    fn check_choice_filter(
        &self,
        path: &str,
        earlier: &HashMap<&str, QuestionType>,
        errors: &mut Vec<FieldError>,
    ) {
        for (oi, o) in self.options.iter().enumerate() {
            if o.filters.keys().any(|k| k.trim().is_empty()) {
                errors.push(FieldError::new(
                    format!("{path}.options[{oi}].filters"),
                    "invalid_filter_column",
                ));
            }
        }
        let Some(filter) = &self.choice_filter else {
            return;
        };
        let fpath = format!("{path}.choice_filter");
        if !matches!(
            self.kind,
            QuestionType::SingleChoice | QuestionType::MultipleChoice
        ) {
            errors.push(FieldError::new(fpath, "choice_filter_needs_choices"));
            return;
        }
        if !self
            .options
            .iter()
            .any(|o| o.filters.contains_key(&filter.column))
        {
            errors.push(
                FieldError::new(format!("{fpath}.column"), "choice_filter_unknown_column")
                    .with("code", filter.column.clone()),
            );
        }
        if filter.question == self.code {
            errors.push(FieldError::new(
                format!("{fpath}.question"),
                "condition_on_itself",
            ));
            return;
        }
        match earlier.get(filter.question.as_str()) {
            None => errors.push(
                FieldError::new(format!("{fpath}.question"), "condition_not_earlier")
                    .with("code", filter.question.clone()),
            ),
            Some(target)
                if filter.op == FilterOp::Selected
                    && !matches!(
                        target,
                        QuestionType::SingleChoice | QuestionType::MultipleChoice
                    ) =>
            {
                errors.push(
                    FieldError::new(format!("{fpath}.op"), "condition_op_not_for_type")
                        .with("op", "selected")
                        .with("type", target.as_str()),
                )
            }
            Some(_) => {}
        }
    }

    /// The text a question shows in a language, falling back to Vietnamese.
    pub fn label_in(&self, lang: &str) -> &str {
        self.label.get(lang)
    }
}
