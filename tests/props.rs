//! Property-based tests of the parsers that take hostile input: the
//! submission body (JSON API, kiosk) and survey form, and questionnaire
//! definition import (Hailong JSON and XLSForm).
//!
//! Properties, for each parser: it never panics, whatever the input; valid
//! generated inputs are accepted (and a definition survives export → import
//! unchanged, through JSON and through an XLSForm); a mutated, invalid input
//! gives a structured error that names the field (or the spreadsheet row).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use hailong::domain::answers::{self, from_form, to_form};
use hailong::domain::campaign::Layout;
use hailong::domain::flow::{self, Next, Step, Survey, parse_form_body};
use hailong::domain::questionnaire::{
    Aggregation, Choice, Condition, ConditionOp, Definition, IndexCriterion, IndexDefinition,
    IndexElement, IndexMapping, Question, QuestionType, ScalePoint, Section,
};
use hailong::domain::submission::{SubmissionError, parse_submission};
use hailong::domain::text::Text;
use hailong::domain::validation::FieldError;
use hailong::domain::xlsform::{self, XlsFormError};
use hailong::services::questionnaire_io::{Parsed, parse_file};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

/// A label: letters, digits and some punctuation (HTML-significant characters
/// included), never blank, no surrounding spaces (XLSForm cells are trimmed).
fn label() -> impl Strategy<Value = String> {
    "[\\p{L}\\p{N}]([\\p{L}\\p{N} ,.?!'<>&/-]{0,20}[\\p{L}\\p{N}])?"
}

fn text() -> impl Strategy<Value = Text> {
    (label(), proptest::option::weighted(0.7, label())).prop_map(|(vi, en)| {
        let mut map = BTreeMap::new();
        map.insert("vi".to_owned(), vi);
        if let Some(en) = en {
            map.insert("en".to_owned(), en);
        }
        Text(map)
    })
}

/// What a generated question is made of, before codes and conditions are
/// given (they depend on its place in the questionnaire).
#[derive(Debug, Clone)]
struct QSpec {
    kind: QuestionType,
    required: bool,
    label: Text,
    help: Option<Text>,
    scale_min: i64,
    scale_len: i64,
    option_labels: Vec<Text>,
    bounds: (Option<i64>, Option<i64>),
    dk: bool,
    na: bool,
    cond: Option<(Index, u8)>,
    in_index: Option<(bool, u8)>,
}

/// `xlsform`: only what an XLSForm can express (no yes/no, no "don't know",
/// no "answered" conditions, no index).
fn qspec(xlsform: bool) -> impl Strategy<Value = QSpec> {
    let kind = if xlsform {
        prop_oneof![
            Just(QuestionType::Scale),
            Just(QuestionType::SingleChoice),
            Just(QuestionType::MultipleChoice),
            Just(QuestionType::Number),
            Just(QuestionType::ShortText),
            Just(QuestionType::LongText),
        ]
        .boxed()
    } else {
        prop_oneof![
            Just(QuestionType::Scale),
            Just(QuestionType::SingleChoice),
            Just(QuestionType::MultipleChoice),
            Just(QuestionType::YesNo),
            Just(QuestionType::Number),
            Just(QuestionType::ShortText),
            Just(QuestionType::LongText),
        ]
        .boxed()
    };
    (
        kind,
        any::<bool>(),
        text(),
        proptest::option::of(text()),
        (-3i64..=3, 1i64..=10),
        prop::collection::vec(text(), 2..=5),
        (
            proptest::option::of(-1_000i64..1_000),
            proptest::option::of(0i64..1_000),
        ),
        (any::<bool>(), any::<bool>()),
        proptest::option::of((any::<Index>(), any::<u8>())),
        proptest::option::of((any::<bool>(), any::<u8>())),
    )
        .prop_map(
            move |(
                kind,
                required,
                label,
                help,
                (scale_min, scale_len),
                option_labels,
                (lo, span),
                (dk, na),
                cond,
                in_index,
            )| QSpec {
                kind,
                required,
                label,
                help,
                scale_min,
                scale_len,
                option_labels,
                bounds: (lo, span.map(|s| lo.unwrap_or(0) + s)),
                dk: dk && !xlsform,
                na: na && !xlsform,
                cond,
                in_index: in_index.filter(|_| !xlsform),
            },
        )
}

/// A valid questionnaire definition: 1–3 sections of 1–4 questions of every
/// type, with conditions on earlier questions and, maybe, an index over the
/// scale questions.
fn definition(xlsform: bool) -> impl Strategy<Value = Definition> {
    (
        "[a-z][a-z0-9_-]{0,12}",
        text(),
        proptest::option::of(text()).prop_map(move |d| d.filter(|_| !xlsform)),
        prop::collection::vec(
            (text(), prop::collection::vec(qspec(xlsform), 1..=4)),
            1..=3,
        ),
    )
        .prop_map(move |(code, title, description, sections)| {
            build_definition(code, title, description, sections, xlsform)
        })
}

fn build_definition(
    code: String,
    title: Text,
    description: Option<Text>,
    specs: Vec<(Text, Vec<QSpec>)>,
    xlsform: bool,
) -> Definition {
    let mut sections = Vec::new();
    let mut earlier: Vec<Question> = Vec::new();
    let mut criteria = Vec::new();
    for (si, (title, qspecs)) in specs.into_iter().enumerate() {
        let mut questions = Vec::new();
        for (qi, s) in qspecs.into_iter().enumerate() {
            let code = format!("s{si}q{qi}");
            let mut q = Question {
                code: code.clone(),
                kind: s.kind,
                required: s.required,
                label: s.label,
                help: s.help.unwrap_or_default(),
                min: None,
                max: None,
                points: vec![],
                options: vec![],
                dont_know: false,
                not_applicable: false,
                condition: None,
                index: None,
                ..Default::default()
            };
            match s.kind {
                QuestionType::Scale => {
                    let (min, max) = (s.scale_min, s.scale_min + s.scale_len);
                    q.min = Some(min);
                    q.max = Some(max);
                    q.points = (min..=max)
                        .zip(s.option_labels.iter().cycle())
                        .map(|(value, label)| ScalePoint {
                            value,
                            label: label.clone(),
                        })
                        .collect();
                    q.dont_know = s.dk;
                    q.not_applicable = s.na;
                    if let Some((reverse, at)) = s.in_index {
                        let criterion = format!("c{}", criteria.len());
                        criteria.push(IndexCriterion {
                            code: criterion.clone(),
                            name: q.label.clone(),
                            weight: 0.5 + f64::from(at % 4),
                        });
                        q.index = Some(IndexMapping {
                            index: None,
                            element: "e1".to_owned(),
                            criterion,
                            weight: 1.0,
                            reverse,
                            satisfied_min: min + i64::from(at) % (max - min + 1),
                            options: Vec::new(),
                            cap: None,
                        });
                    }
                }
                QuestionType::SingleChoice | QuestionType::MultipleChoice => {
                    q.options = s
                        .option_labels
                        .iter()
                        .enumerate()
                        .map(|(i, label)| Choice {
                            value: format!("o{i}"),
                            label: label.clone(),
                            filters: Default::default(),
                        })
                        .collect();
                    q.dont_know = s.dk;
                    q.not_applicable = s.na;
                }
                QuestionType::Number => {
                    q.min = s.bounds.0;
                    q.max = s.bounds.1;
                    q.dont_know = s.dk;
                }
                QuestionType::YesNo => q.not_applicable = s.na,
                QuestionType::ShortText | QuestionType::LongText => {}
            }
            if let Some((at, pick)) = s.cond
                && !earlier.is_empty()
            {
                let on = at.get(&earlier);
                q.condition = condition_on(on, pick, xlsform);
                // Hailong JSON: now and then a compound condition over two
                // earlier questions, all/any/not nested.
                if !xlsform && pick % 3 == 0 && earlier.len() >= 2 {
                    let other = &earlier[usize::from(pick) % (earlier.len() - 1)];
                    if let (Some(a), Some(b)) =
                        (q.condition.clone(), condition_on(other, pick / 3, xlsform))
                    {
                        let b = if pick % 2 == 0 {
                            Condition::Not { not: Box::new(b) }
                        } else {
                            b
                        };
                        q.condition = Some(if pick % 4 == 0 {
                            Condition::All {
                                all: vec![a, Condition::Any { any: vec![b] }],
                            }
                        } else {
                            Condition::Any { any: vec![a, b] }
                        });
                    }
                }
            }
            earlier.push(q.clone());
            questions.push(q);
        }
        // Hailong JSON: every other later section gated on an earlier answer.
        let condition = match earlier.first() {
            Some(first) if !xlsform && si % 2 == 1 && first.code != questions[0].code => {
                condition_on(first, si as u8, xlsform)
            }
            _ => None,
        };
        sections.push(Section {
            code: format!("sec{si}"),
            title,
            description: Text::default(),
            lead_in: Text::default(),
            questions,
            condition,
        });
    }
    let indices = if criteria.is_empty() {
        vec![]
    } else {
        vec![IndexDefinition {
            code: "idx".to_owned(),
            name: title.clone(),
            aggregation: Aggregation::MeanOfCriteria,
            family: None,
            basis: None,
            range: None,
            elements: vec![IndexElement {
                code: "e1".to_owned(),
                name: title.clone(),
                weight: 1.0,
                criteria,
            }],
        }]
    };
    Definition {
        code,
        title,
        description: description.unwrap_or_default(),
        sections,
        indices,
        source: None,
    }
}

/// A condition on an earlier question, of a form its type allows.
fn condition_on(on: &Question, pick: u8, xlsform: bool) -> Option<Condition> {
    let cond = |op, value| Some(Condition::leaf(&on.code, op, value));
    match on.kind {
        QuestionType::Scale | QuestionType::Number => {
            let v = on.min.or(on.max).unwrap_or(0);
            match pick % 4 {
                0 => cond(ConditionOp::Gte, Some(json!(v))),
                1 => cond(ConditionOp::Lte, Some(json!(v + 1))),
                2 => cond(ConditionOp::Eq, Some(json!(v))),
                _ if xlsform => cond(ConditionOp::Ne, Some(json!(v))),
                _ => cond(ConditionOp::Answered, None),
            }
        }
        QuestionType::SingleChoice | QuestionType::MultipleChoice => {
            let value = json!(on.options[pick as usize % on.options.len()].value);
            match pick % 3 {
                0 => cond(ConditionOp::Eq, Some(value)),
                1 => cond(ConditionOp::Ne, Some(value)),
                _ if xlsform => None,
                _ => cond(ConditionOp::Answered, None),
            }
        }
        QuestionType::YesNo => cond(ConditionOp::Eq, Some(json!(pick.is_multiple_of(2)))),
        QuestionType::ShortText | QuestionType::LongText if !xlsform => {
            cond(ConditionOp::Answered, None)
        }
        QuestionType::ShortText | QuestionType::LongText => None,
    }
}

/// A valid answer set for `def`: questions walked in order, each visible one
/// answered when required (and otherwise now and then), with values drawn
/// from `seeds` and `texts`.
fn valid_answers(def: &Definition, seeds: &[u64], texts: &[String]) -> Map<String, Value> {
    let mut raw = Map::new();
    let mut so_far = BTreeMap::new();
    let in_order = def
        .sections
        .iter()
        .flat_map(|s| s.questions.iter().map(move |q| (s, q)));
    for (i, (section, q)) in in_order.enumerate() {
        let seed = seeds[i % seeds.len()]
            .wrapping_mul(31)
            .wrapping_add(i as u64);
        if !answers::is_shown(section, q, &so_far) || (!q.required && seed.is_multiple_of(3)) {
            continue;
        }
        let value = if q.dont_know && seed % 7 == 1 {
            json!("dk")
        } else if q.not_applicable && seed % 7 == 2 {
            json!("na")
        } else {
            match q.kind {
                QuestionType::Scale | QuestionType::Number => {
                    let min = q.min.unwrap_or(-50);
                    let max = q.max.unwrap_or(min.max(0) + 50);
                    json!(min + (seed % ((max - min + 1) as u64)) as i64)
                }
                QuestionType::SingleChoice => {
                    json!(q.options[seed as usize % q.options.len()].value)
                }
                QuestionType::MultipleChoice => {
                    let chosen: Vec<&str> = q
                        .options
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| (seed >> k) & 1 == 1)
                        .map(|(_, o)| o.value.as_str())
                        .collect();
                    if chosen.is_empty() {
                        json!([q.options[0].value])
                    } else {
                        json!(chosen)
                    }
                }
                QuestionType::YesNo => json!(seed.is_multiple_of(2)),
                QuestionType::ShortText | QuestionType::LongText => {
                    json!(texts[seed as usize % texts.len()])
                }
            }
        };
        so_far.insert(q.code.clone(), q.parse_answer(&value).unwrap());
        raw.insert(q.code.clone(), value);
    }
    raw
}

/// Any JSON value, nested a little, with the strings a submission cares about.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        "\\PC{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("dk"),
            Just("na"),
            Just("o0"),
            Just("o1"),
            Just("F"),
            Just(""),
            Just("\u{0}"),
            Just("6f1c1f7e-3f5b-4b53-9d1e-6a1c8f0b2a11"),
            Just("00004"),
            Just("kiosk"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z0-9_]{1,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn preset(name: &str) -> Definition {
    let path = format!("{}/presets/{name}.json", env!("CARGO_MANIFEST_DIR"));
    Definition::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn presets() -> Vec<Definition> {
    [
        "sipas-2640",
        "health-hospital",
        "papi-governance",
        "education-school-parents",
        "sipas-1001",
        "moh-56-inpatient",
        "moh-56-outpatient",
    ]
    .iter()
    .map(|n| preset(n))
    .collect()
}

fn envelope(answers: Value) -> Value {
    json!({
        "submission_id": "6f1c1f7e-3f5b-4b53-9d1e-6a1c8f0b2a11",
        "locality": "00004",
        "answers": answers,
        "channel": "kiosk",
    })
}

fn names(errors: &[FieldError]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| (e.field.clone(), e.code.clone()))
        .collect()
}

/// How to make one valid answer invalid, and the error code to expect.
fn spoil(q: &Question, how: u8) -> (Value, &'static str) {
    match q.kind {
        QuestionType::Scale => match how % 3 {
            0 => (json!(q.max.unwrap() + 1), "out_of_range"),
            1 => (json!(format!("{}", q.min.unwrap())), "expected_integer"),
            _ => (json!(1.5), "expected_integer"),
        },
        QuestionType::Number => match (how % 2, q.max) {
            (0, Some(max)) => (json!(max + 1), "out_of_range"),
            _ => (json!(u64::MAX), "expected_integer"),
        },
        QuestionType::SingleChoice => match how % 2 {
            0 => (json!("zz-not-an-option"), "unknown_option"),
            _ => (json!(["o0"]), "expected_option"),
        },
        QuestionType::MultipleChoice => match how % 3 {
            0 => (json!(["o0", "o0"]), "duplicate_option"),
            1 => (json!([]), "empty_answer"),
            _ => (json!("o0"), "expected_options"),
        },
        QuestionType::YesNo => (json!("yes"), "expected_boolean"),
        QuestionType::ShortText => match how % 3 {
            0 => (json!(" \t"), "empty_answer"),
            1 => (json!("a\u{0}b"), "invalid_text"),
            _ => (json!("ệ".repeat(501)), "answer_too_long"),
        },
        QuestionType::LongText => match how % 2 {
            0 => (json!(7), "expected_text"),
            _ => (json!("ệ".repeat(5_001)), "answer_too_long"),
        },
    }
}

// ---------------------------------------------------------------------------
// XLSForm writing (the format ODK and KoboToolbox produce)
// ---------------------------------------------------------------------------

/// Where each question landed in the written survey sheet (row as shown).
struct Written {
    bytes: Vec<u8>,
    rows: BTreeMap<String, usize>,
}

fn relevant_of(c: &Condition) -> String {
    let c = c.as_leaf().expect("the XLSForm writer takes leaves");
    let value = match &c.value {
        Some(Value::String(s)) => format!("'{s}'"),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    let op = match c.op {
        ConditionOp::Eq => "=",
        // Hailong's `ne` needs an answer: as the XLSForm export writes it.
        ConditionOp::Ne => {
            let q = &c.question;
            return format!("${{{q}}} != '' and ${{{q}}} != {value}");
        }
        ConditionOp::Gte => ">=",
        ConditionOp::Lte => "<=",
        ConditionOp::Answered => "?",
        other => panic!("no XLSForm operator for {other:?}"),
    };
    format!("${{{}}} {op} {value}", c.question)
}

/// Writes `def` as an XLSForm; `type_of` may replace a question's type cell.
fn write_xlsform(def: &Definition, type_of: impl Fn(&Question, String) -> String) -> Written {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let langs = [("vi", "Tiếng Việt (vi)"), ("en", "English (en)")];
    let survey = wb.add_worksheet().set_name("survey").unwrap();
    let mut headers = vec!["type".to_owned(), "name".to_owned()];
    for family in ["label", "hint"] {
        for (_, name) in langs {
            headers.push(format!("{family}::{name}"));
        }
    }
    headers.extend(["required", "relevant", "constraint", "appearance"].map(str::to_owned));
    let col = |h: &str| headers.iter().position(|x| x == h).unwrap() as u16;
    for (c, h) in headers.iter().enumerate() {
        survey.write_string(0, c as u16, h).unwrap();
    }
    let mut row = 1u32;
    let mut rows = BTreeMap::new();
    let mut choices: Vec<(String, String, Text)> = Vec::new();
    let put_text = |ws: &mut rust_xlsxwriter::Worksheet, row: u32, family: &str, t: &Text| {
        for (code, name) in langs {
            if let Some(v) = t.0.get(code) {
                ws.write_string(row, col(&format!("{family}::{name}")), v)
                    .unwrap();
            }
        }
    };
    for s in &def.sections {
        survey
            .write_string(row, col("type"), "begin group")
            .unwrap();
        survey.write_string(row, col("name"), &s.code).unwrap();
        put_text(survey, row, "label", &s.title);
        row += 1;
        for q in &s.questions {
            let list = format!("list{}", rows.len());
            let (kind, appearance) = match q.kind {
                QuestionType::Scale => {
                    for p in &q.points {
                        choices.push((list.clone(), p.value.to_string(), p.label.clone()));
                    }
                    (format!("select_one {list}"), "likert")
                }
                QuestionType::SingleChoice | QuestionType::MultipleChoice => {
                    for o in &q.options {
                        choices.push((list.clone(), o.value.clone(), o.label.clone()));
                    }
                    let word = if q.kind == QuestionType::SingleChoice {
                        "select_one"
                    } else {
                        "select_multiple"
                    };
                    (format!("{word} {list}"), "")
                }
                QuestionType::Number => ("integer".to_owned(), ""),
                QuestionType::ShortText => ("text".to_owned(), ""),
                QuestionType::LongText => ("text".to_owned(), "multiline"),
                QuestionType::YesNo => unreachable!("no yes/no in XLSForm"),
            };
            survey
                .write_string(row, col("type"), type_of(q, kind))
                .unwrap();
            survey.write_string(row, col("name"), &q.code).unwrap();
            put_text(survey, row, "label", &q.label);
            put_text(survey, row, "hint", &q.help);
            if q.required {
                survey.write_string(row, col("required"), "yes").unwrap();
            }
            if !appearance.is_empty() {
                survey
                    .write_string(row, col("appearance"), appearance)
                    .unwrap();
            }
            if let Some(c) = &q.condition {
                survey
                    .write_string(row, col("relevant"), relevant_of(c))
                    .unwrap();
            }
            if q.kind == QuestionType::Number {
                let constraint = match (q.min, q.max) {
                    (Some(a), Some(b)) => format!(". >= {a} and . <= {b}"),
                    (Some(a), None) => format!(". >= {a}"),
                    (None, Some(b)) => format!(". <= {b}"),
                    (None, None) => String::new(),
                };
                if !constraint.is_empty() {
                    survey
                        .write_string(row, col("constraint"), constraint)
                        .unwrap();
                }
            }
            rows.insert(q.code.clone(), row as usize + 1);
            row += 1;
        }
        survey.write_string(row, col("type"), "end group").unwrap();
        row += 1;
    }
    let sheet = wb.add_worksheet().set_name("choices").unwrap();
    for (c, h) in [
        "list_name",
        "name",
        "label::Tiếng Việt (vi)",
        "label::English (en)",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (i, (list, name, label)) in choices.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, list).unwrap();
        // Numeric choice names as numbers, as spreadsheet programs store them.
        match name.parse::<i64>() {
            Ok(n) => sheet.write_number(r, 1, n as f64).unwrap(),
            Err(_) => sheet.write_string(r, 1, name).unwrap(),
        };
        if let Some(v) = label.0.get("vi") {
            sheet.write_string(r, 2, v).unwrap();
        }
        if let Some(v) = label.0.get("en") {
            sheet.write_string(r, 3, v).unwrap();
        }
    }
    let settings = wb.add_worksheet().set_name("settings").unwrap();
    for (c, h) in [
        "form_id",
        "form_title::Tiếng Việt (vi)",
        "form_title::English (en)",
    ]
    .iter()
    .enumerate()
    {
        settings.write_string(0, c as u16, *h).unwrap();
    }
    settings.write_string(1, 0, &def.code).unwrap();
    if let Some(v) = def.title.0.get("vi") {
        settings.write_string(1, 1, v).unwrap();
    }
    if let Some(v) = def.title.0.get("en") {
        settings.write_string(1, 2, v).unwrap();
    }
    Written {
        bytes: wb.save_to_buffer().unwrap(),
        rows,
    }
}

/// A survey sheet of arbitrary rows, with the forms the importer parses
/// (conditions, constraints, numeric choice lists) at arbitrary numbers.
fn hostile_xlsform(
    rows: &[(String, String, String, String)],
    list: &[(String, String)],
) -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let survey = wb.add_worksheet().set_name("survey").unwrap();
    for (c, h) in [
        "type",
        "name",
        "label",
        "relevant",
        "constraint",
        "appearance",
    ]
    .iter()
    .enumerate()
    {
        survey.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (kind, name, relevant, constraint)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        survey.write_string(r, 0, kind).unwrap();
        survey.write_string(r, 1, name).unwrap();
        survey.write_string(r, 2, name).unwrap();
        survey.write_string(r, 3, relevant).unwrap();
        survey.write_string(r, 4, constraint).unwrap();
        survey.write_string(r, 5, "likert").unwrap();
    }
    let choices = wb.add_worksheet().set_name("choices").unwrap();
    for (c, h) in ["list_name", "name", "label"].iter().enumerate() {
        choices.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (l, name)) in list.iter().enumerate() {
        let r = r as u32 + 1;
        choices.write_string(r, 0, l).unwrap();
        choices.write_string(r, 1, name).unwrap();
        choices.write_string(r, 2, name).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        Just(i64::MAX.to_string()),
        Just(i64::MIN.to_string()),
        Just((i64::MAX - 1).to_string()),
        Just("99999999999999999999".to_owned()),
        (-3i64..3).prop_map(|n| n.to_string()),
    ]
}

fn hostile_row() -> impl Strategy<Value = (String, String, String, String)> {
    (
        prop_oneof![
            Just("select_one nums".to_owned()),
            Just("select_multiple nums".to_owned()),
            Just("integer".to_owned()),
            Just("decimal".to_owned()),
            Just("text".to_owned()),
            Just("begin group".to_owned()),
            Just("end group".to_owned()),
            Just("begin repeat".to_owned()),
            Just("select_one nowhere".to_owned()),
            Just("select_one nums or_other".to_owned()),
            "\\PC{0,16}",
        ],
        prop_oneof!["[a-z][a-z0-9_]{0,6}", "\\PC{0,10}"],
        prop_oneof![
            (
                number_text(),
                prop_oneof![
                    Just(">"),
                    Just("<"),
                    Just(">="),
                    Just("<="),
                    Just("="),
                    Just("!=")
                ]
            )
                .prop_map(|(n, op)| format!("${{a}} {op} {n}")),
            "\\PC{0,16}",
        ],
        prop_oneof![
            (number_text(), number_text()).prop_map(|(a, b)| format!(". >= {a} and . <= {b}")),
            number_text().prop_map(|a| format!(". <= {a}")),
            "\\PC{0,16}",
        ],
    )
}

// ---------------------------------------------------------------------------
// Submissions
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bytes as a submission body: a result or a structured error.
    #[test]
    fn submission_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        for def in presets() {
            match parse_submission(&def, &bytes) {
                Ok((_, answers)) => prop_assert!(answers.len() <= def.questions().count()),
                Err(SubmissionError::Fields(errors)) => prop_assert!(!errors.is_empty()),
                Err(SubmissionError::Json(_)) => {}
            }
        }
    }

    /// Any JSON in the envelope and the answers: every error names a field of
    /// the envelope or an answer.
    #[test]
    fn submission_parser_names_the_field_of_every_problem(
        top in prop::collection::btree_map(
            prop_oneof![Just("submission_id".to_owned()), Just("locality".to_owned()),
                Just("channel".to_owned()), "[a-z_]{1,8}"],
            arb_json(), 0..4),
        answers in prop::collection::btree_map(
            prop_oneof![Just("sex".to_owned()), Just("e1_1".to_owned()), Just("e5_gave".to_owned()),
                Just("e5_3".to_owned()), Just("comment".to_owned()), Just("a1".to_owned()), "[a-z0-9_]{1,6}"],
            arb_json(), 0..10),
    ) {
        let mut body = envelope(Value::Object(answers.into_iter().collect()));
        for (k, v) in top {
            body[k] = v;
        }
        let bytes = serde_json::to_vec(&body).unwrap();
        for def in presets() {
            if let Err(e) = parse_submission(&def, &bytes) {
                let SubmissionError::Fields(errors) = e else {
                    return Err(TestCaseError::fail(format!("not a field error: {e}")));
                };
                for e in errors {
                    let field = e.field.as_str();
                    prop_assert!(
                        ["submission_id", "locality", "answers", "channel"].contains(&field)
                            || field.starts_with("answers.")
                            || body.get(field).is_some(),
                        "{:?}", e
                    );
                }
            }
        }
    }

    /// Valid answers to a generated questionnaire are accepted and stored as sent.
    #[test]
    fn generated_valid_submissions_are_accepted_and_stored_as_sent(
        def in definition(false),
        seeds in prop::collection::vec(any::<u64>(), 1..16),
        texts in prop::collection::vec("\\PC{1,40}".prop_filter("not blank", |s| !s.trim().is_empty()), 1..4),
    ) {
        prop_assert_eq!(def.check(), Ok(()));
        let raw = valid_answers(&def, &seeds, &texts);
        let body = serde_json::to_vec(&envelope(Value::Object(raw.clone()))).unwrap();
        let (submission, parsed) = parse_submission(&def, &body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&submission.answers, &raw);
        let stored: Value = serde_json::from_str(&parsed.to_json_string()).unwrap();
        prop_assert_eq!(stored, Value::Object(raw));
    }

    /// An answer to a question hidden by its own or its section's condition
    /// is refused, and once pruned (as the phone flow does) never stored.
    #[test]
    fn hidden_questions_never_reach_storage(
        def in definition(false),
        seeds in prop::collection::vec(any::<u64>(), 1..16),
    ) {
        let raw = valid_answers(&def, &seeds, &["ok".to_owned()]);
        let walk = answers::shown_answers(&def, &raw);
        let Some(hidden) = def.questions().find(|q| !walk.shown.contains(&q.code)) else {
            return Ok(());
        };
        let mut with_hidden = raw.clone();
        let value = match hidden.kind {
            QuestionType::Scale | QuestionType::Number => json!(hidden.min.unwrap_or(0)),
            QuestionType::SingleChoice => json!(hidden.options[0].value),
            QuestionType::MultipleChoice => json!([hidden.options[0].value]),
            QuestionType::YesNo => json!(true),
            QuestionType::ShortText | QuestionType::LongText => json!("x"),
        };
        with_hidden.insert(hidden.code.clone(), value);
        let errors = answers::parse(&def, &with_hidden).unwrap_err();
        let expected = (format!("answers.{}", hidden.code), "answer_to_hidden_question".to_owned());
        prop_assert!(names(&errors).contains(&expected), "{:?}", errors);
        answers::prune_hidden(&def, &mut with_hidden);
        prop_assert_eq!(&with_hidden, &raw);
        let stored = answers::parse(&def, &with_hidden).unwrap();
        for code in stored.0.keys() {
            prop_assert!(walk.shown.contains(code), "{} stored but hidden", code);
        }
    }

    /// One answer spoiled: the error names that answer.
    #[test]
    fn a_spoiled_answer_is_named_in_the_error(
        def in definition(false),
        seeds in prop::collection::vec(any::<u64>(), 1..16),
        pick in any::<Index>(),
        how in any::<u8>(),
    ) {
        let mut raw = valid_answers(&def, &seeds, &["ok".to_owned()]);
        let questions: Vec<&Question> = def.questions().filter(|q| raw.contains_key(&q.code)).collect();
        prop_assume!(!questions.is_empty());
        let q = pick.get(&questions);
        let (bad, code) = spoil(q, how);
        raw.insert(q.code.clone(), bad);
        let body = serde_json::to_vec(&envelope(Value::Object(raw))).unwrap();
        let Err(SubmissionError::Fields(errors)) = parse_submission(&def, &body) else {
            return Err(TestCaseError::fail("a spoiled answer was accepted"));
        };
        let expected = (format!("answers.{}", q.code), code.to_owned());
        prop_assert!(names(&errors).contains(&expected), "{:?} not in {:?}", expected, errors);
    }

    /// A missing required answer or a bad envelope field is named.
    #[test]
    fn a_missing_answer_or_bad_envelope_is_named(
        def in definition(false),
        seeds in prop::collection::vec(any::<u64>(), 1..16),
        which in 0u8..4,
    ) {
        let raw = valid_answers(&def, &seeds, &["ok".to_owned()]);
        let mut body = envelope(Value::Object(raw.clone()));
        let expected = match which {
            0 => {
                let Some(q) = def.questions().find(|q| q.required && raw.contains_key(&q.code)) else {
                    return Ok(());
                };
                body["answers"].as_object_mut().unwrap().remove(&q.code);
                (format!("answers.{}", q.code), "answer_required")
            }
            1 => {
                body["submission_id"] = json!("6f1c1f7e3f5b4b539d1e6a1c8f0b2a11");
                ("submission_id".to_owned(), "invalid_submission_id")
            }
            2 => {
                body["channel"] = json!("fax");
                ("channel".to_owned(), "invalid_channel")
            }
            _ => {
                body["answers"]["zz_unknown"] = json!(1);
                ("answers.zz_unknown".to_owned(), "unknown_question")
            }
        };
        let Err(SubmissionError::Fields(errors)) = parse_submission(&def, &serde_json::to_vec(&body).unwrap()) else {
            return Err(TestCaseError::fail("accepted"));
        };
        let expected = (expected.0, expected.1.to_owned());
        prop_assert!(names(&errors).contains(&expected), "{:?} not in {:?}", expected, errors);
    }

    /// Any bytes as a survey form body: fields or a 400, and the fields never
    /// make the form's answer parsing panic.
    #[test]
    fn form_parser_never_panics(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            prop::collection::vec(
                ("a\\.(sex|e1_1|e5_gave|e5_3|comment|[a-z0-9_]{1,4})|sid|nav|step|l|seen", "[%+&=a-zA-Z0-9]{0,12}|\\PC{0,8}"),
                0..12,
            ).prop_map(|fields| fields.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&").into_bytes()),
        ]
    ) {
        let Ok(fields) = parse_form_body(&bytes) else { return Ok(()) };
        for def in presets() {
            let mut raw = from_form(&def, &fields);
            answers::prune_hidden(&def, &mut raw);
            let _ = answers::parse_with(&def, &raw, |_| true);
            let _ = to_form(&raw);
        }
    }

    /// Valid answers sent as a survey form come back as the same answers.
    #[test]
    fn valid_answers_survive_the_form_round_trip(
        def in definition(false),
        seeds in prop::collection::vec(any::<u64>(), 1..16),
        texts in prop::collection::vec("\\PC{1,40}".prop_filter("not blank", |s| !s.trim().is_empty()), 1..4),
    ) {
        let raw = valid_answers(&def, &seeds, &texts);
        let body = serde_urlencoded::to_string(to_form(&raw)).unwrap();
        let fields = parse_form_body(body.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = from_form(&def, &fields);
        prop_assert_eq!(&back, &raw);
        prop_assert!(answers::parse(&def, &back).is_ok());
    }
}

// ---------------------------------------------------------------------------
// Questionnaire definitions: JSON
// ---------------------------------------------------------------------------

/// One way to break a valid definition, and the (field, code) it must give.
fn break_definition(def: &mut Definition, pick: Index, how: u8) -> Option<(String, &'static str)> {
    let places: Vec<(usize, usize)> = def
        .sections
        .iter()
        .enumerate()
        .flat_map(|(si, s)| (0..s.questions.len()).map(move |qi| (si, qi)))
        .collect();
    let &(si, qi) = pick.get(&places);
    let path = format!("sections[{si}].questions[{qi}]");
    let first = def.sections[0].questions[0].code.clone();
    let q = &mut def.sections[si].questions[qi];
    match how % 6 {
        0 => {
            q.code = "bad code".to_owned();
            Some((format!("{path}.code"), "invalid_code"))
        }
        1 => {
            q.label.0.remove("vi");
            Some((format!("{path}.label.vi"), "missing_vietnamese"))
        }
        2 if (si, qi) != (0, 0) => {
            q.code = first;
            Some((format!("{path}.code"), "duplicate_code"))
        }
        3 if q.kind == QuestionType::Scale => {
            q.max = q.min.map(|m| m - 1);
            Some((format!("{path}.max"), "invalid_bounds"))
        }
        4 => {
            q.condition = Some(Condition::leaf("zz_later", ConditionOp::Answered, None));
            Some((
                format!("{path}.condition.question"),
                "condition_not_earlier",
            ))
        }
        5 => {
            q.label.0.insert("Vietnamese".to_owned(), "x".to_owned());
            Some((format!("{path}.label.Vietnamese"), "invalid_language"))
        }
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Export (as the API and `questionnaire export` write it) then import
    /// gives the same definition.
    #[test]
    fn definitions_survive_export_and_import(def in definition(false)) {
        prop_assert_eq!(def.check(), Ok(()));
        let exported = serde_json::to_string_pretty(&def).unwrap();
        prop_assert_eq!(Definition::parse(&exported), Ok(def.clone()));
        match parse_file("exported.json", exported.as_bytes()) {
            Parsed::Ok { definition, warnings } => {
                prop_assert_eq!(definition, def);
                prop_assert!(warnings.is_empty());
            }
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        }
    }

    /// A broken definition is refused with an error naming the broken field.
    #[test]
    fn a_broken_definition_names_the_field(def in definition(false), pick in any::<Index>(), how in any::<u8>()) {
        let mut def = def;
        let Some((field, code)) = break_definition(&mut def, pick, how) else { return Ok(()) };
        let json = serde_json::to_string(&def).unwrap();
        let errors = Definition::parse(&json).unwrap_err();
        let expected = (field, code.to_owned());
        prop_assert!(names(&errors).contains(&expected), "{:?} not in {:?}", expected, errors);
    }

    /// Malformed JSON (a stray field, a cut) is refused with its line.
    #[test]
    fn malformed_definition_json_names_its_line(def in definition(false), cut in any::<Index>(), stray in any::<bool>()) {
        let exported = serde_json::to_string_pretty(&def).unwrap();
        let broken = if stray {
            exported.replacen("\"code\"", "\"colour\": 1, \"code\"", 1)
        } else {
            let at = cut.index(exported.len());
            let at = (0..=at).rev().find(|i| exported.is_char_boundary(*i)).unwrap_or(0);
            exported[..at].to_owned()
        };
        let errors = Definition::parse(&broken).unwrap_err();
        prop_assert_eq!(errors.len(), 1);
        prop_assert_eq!(&errors[0].code, "invalid_json");
        let detail = &errors[0].params["detail"];
        prop_assert!(detail.contains("line"), "{}", detail);
        if stray {
            prop_assert!(detail.contains("colour"), "{}", detail);
        }
    }

    /// Any bytes, any JSON, and bounds at the ends of i64: never a panic.
    #[test]
    fn definition_import_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        value in arb_json(),
        (min, max) in prop_oneof![
            (any::<i64>(), any::<i64>()),
            Just((i64::MIN, i64::MAX)),
            Just((i64::MIN, 0)),
            Just((-1, i64::MAX)),
            Just((i64::MAX - 1, i64::MAX)),
        ],
        threshold in any::<i64>(),
    ) {
        let _ = parse_file("any.json", &bytes);
        let _ = Definition::parse(&value.to_string());
        let mut def = preset("sipas-2640");
        for q in def.sections.iter_mut().flat_map(|s| s.questions.iter_mut()) {
            if q.kind == QuestionType::Scale || q.kind == QuestionType::Number {
                q.min = Some(min);
                q.max = Some(max);
                if let Some(m) = &mut q.index {
                    m.satisfied_min = threshold;
                }
            }
        }
        let _ = Definition::parse(&serde_json::to_string(&def).unwrap());
    }
}

// ---------------------------------------------------------------------------
// Questionnaire definitions: XLSForm
// ---------------------------------------------------------------------------

proptest! {
    // Each case writes and reads a workbook: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A definition written as an XLSForm imports as the same definition.
    #[test]
    fn definitions_survive_an_xlsform_round_trip(def in definition(true)) {
        prop_assert_eq!(def.check(), Ok(()));
        let written = write_xlsform(&def, |_, kind| kind);
        let imported = xlsform::from_bytes(&written.bytes, "fallback")
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(imported.definition, def);
        prop_assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
        match parse_file("form.xlsx", &written.bytes) {
            Parsed::Ok { .. } => {}
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        }
    }

    /// A question of an unknown type (or from an unknown choice list) is
    /// refused with its row; an invalid name with its field.
    #[test]
    fn a_broken_xlsform_names_the_row(def in definition(true), pick in any::<Index>(), how in 0u8..3) {
        let codes: Vec<String> = def.questions().map(|q| q.code.clone()).collect();
        let target = pick.get(&codes).clone();
        let mut def = def;
        if how == 2 {
            for s in &mut def.sections {
                for q in &mut s.questions {
                    if q.code == target {
                        q.code = "bad name".to_owned();
                    }
                    if q
                        .condition
                        .as_ref()
                        .is_some_and(|c| c.leaves().iter().any(|l| l.question == target))
                    {
                        q.condition = None;
                    }
                }
            }
        }
        let written = write_xlsform(&def, |q, kind| match how {
            0 if q.code == target => "hologram".to_owned(),
            1 if q.code == target => "select_one no_such_list".to_owned(),
            _ => kind,
        });
        let Err(XlsFormError::Invalid(errors)) = xlsform::from_bytes(&written.bytes, "fallback") else {
            return Err(TestCaseError::fail("a broken XLSForm was accepted"));
        };
        // Problems name the row and the XLSForm name.
        let expected = match how {
            0 => (format!("survey row {} ({target})", written.rows[&target]), "xlsform_unknown_type".to_owned()),
            1 => (format!("survey row {} ({target})", written.rows[&target]), "xlsform_unknown_list".to_owned()),
            _ => (format!("survey row {} (bad name), code", written.rows["bad name"]), "invalid_code".to_owned()),
        };
        prop_assert!(names(&errors).contains(&expected), "{:?} not in {:?}", expected, errors);
    }

    /// Arbitrary rows, conditions and constraints at the ends of i64, numeric
    /// choice lists: an import or an error, never a panic.
    #[test]
    fn xlsform_import_never_panics(
        rows in prop::collection::vec(hostile_row(), 0..12),
        list in prop::collection::vec(
            (prop_oneof![Just("nums".to_owned()), "\\PC{0,4}"], number_text()), 0..6),
        bytes in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let _ = xlsform::from_bytes(&hostile_xlsform(&rows, &list), "x");
        let _ = xlsform::from_bytes(&bytes, "x");
        let _ = parse_file("x.xlsx", &bytes);
        let _ = parse_file("x.ods", &bytes);
    }
}

/// Spreadsheet bytes with a few corrupted bytes: an import or an error.
#[test]
fn corrupted_xlsforms_never_panic() {
    let def = Definition {
        sections: preset("sipas-2640")
            .sections
            .into_iter()
            .map(|mut s| {
                s.questions
                    .retain(|q| q.kind != QuestionType::YesNo && q.condition.is_none());
                for q in &mut s.questions {
                    q.dont_know = false;
                    q.not_applicable = false;
                    q.index = None;
                }
                s
            })
            .filter(|s| !s.questions.is_empty())
            .collect(),
        indices: vec![],
        ..preset("sipas-2640")
    };
    let bytes = write_xlsform(&def, |_, k| k).bytes;
    assert!(xlsform::from_bytes(&bytes, "x").is_ok());
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    runner
        .run(
            &prop::collection::vec((any::<Index>(), any::<u8>()), 1..8),
            |flips| {
                let mut b = bytes.clone();
                for (at, v) in flips {
                    let i = at.index(b.len());
                    b[i] = v;
                }
                let _ = xlsform::from_bytes(&b, "x");
                Ok(())
            },
        )
        .unwrap();
}

/// Regression: bounds at the ends of i64 overflowed `max - min` (a panic in
/// debug builds; in release, a scale of 2^64 points to allocate).
#[test]
fn a_scale_spanning_all_of_i64_is_refused_with_its_field() {
    let mut def = preset("sipas-2640");
    let q = &mut def.sections[1].questions[0];
    assert_eq!(q.kind, QuestionType::Scale);
    (q.min, q.max) = (Some(i64::MIN), Some(i64::MAX));
    let errors = Definition::parse(&serde_json::to_string(&def).unwrap()).unwrap_err();
    assert!(
        names(&errors).contains(&(
            "sections[1].questions[0].max".to_owned(),
            "invalid_bounds".to_owned()
        )),
        "{errors:?}"
    );
}

/// Regression: `${q} > 9223372036854775807` overflowed (when `>` was
/// rewritten as `>=` n + 1); now `gt` is kept as written, without overflow.
#[test]
fn an_xlsform_condition_at_the_end_of_i64_is_kept_exactly() {
    let rows = vec![
        (
            "integer".to_owned(),
            "a".to_owned(),
            String::new(),
            String::new(),
        ),
        (
            "integer".to_owned(),
            "b".to_owned(),
            format!("${{a}} > {}", i64::MAX),
            String::new(),
        ),
    ];
    let mut imported = xlsform::from_bytes(&hostile_xlsform(&rows, &[]), "x").unwrap();
    // The survey's warnings (the plain `label` column's language is a
    // form-level one).
    imported.warnings.retain(|w| w.sheet == "survey");
    assert_eq!(imported.warnings, vec![]);
    assert_eq!(
        imported.definition.question("b").unwrap().condition,
        Some(Condition::leaf("a", ConditionOp::Gt, Some(json!(i64::MAX))))
    );
}

/// Regression: the survey form's "don't know" radio on a multiple-choice
/// question was read as an option named "dk" and refused.
#[test]
fn dont_know_on_a_multiple_choice_form_question_is_an_answer() {
    let def = Definition::parse(
        &json!({
            "code": "t", "title": {"vi": "T"},
            "sections": [{"code": "s", "title": {"vi": "S"}, "questions": [{
                "code": "why", "type": "multiple_choice", "required": true,
                "label": {"vi": "Vì sao?"}, "dont_know": true,
                "options": [{"value": "a", "label": {"vi": "A"}}, {"value": "b", "label": {"vi": "B"}}]
            }]}]
        })
        .to_string(),
    )
    .unwrap();
    let fields = parse_form_body(b"a.why=dk").unwrap();
    let raw = from_form(&def, &fields);
    assert_eq!(raw["why"], json!("dk"));
    assert!(answers::parse(&def, &raw).is_ok());
    let fields = parse_form_body(b"a.why=a&a.why=b").unwrap();
    assert_eq!(from_form(&def, &fields)["why"], json!(["a", "b"]));
}

// ---------------------------------------------------------------------------
// The survey flow: the pages a respondent walks through, without HTTP
// ---------------------------------------------------------------------------

/// What a browser posts from a page showing `step`, rendered from `shown`
/// (whose questions it marks `seen`), with `posted` as the answers in its
/// fields, and the button pressed.
fn page_fields(
    def: &Definition,
    step: Step,
    shown: &Map<String, Value>,
    posted: &Map<String, Value>,
    nav: &str,
) -> Vec<(String, String)> {
    let mut fields = to_form(posted);
    for (k, v) in [
        ("step", step.as_field()),
        ("sid", "6f1c7c2e-2f6b-4d8e-9a37-0d7a1b2c3d4e".to_owned()),
        ("l", "01".to_owned()),
        ("nav", nav.to_owned()),
    ] {
        fields.push((k.to_owned(), v));
    }
    let walk = answers::shown_answers(def, shown);
    for (i, section) in def.sections.iter().enumerate() {
        if step != Step::All && step != Step::Section(i) {
            continue;
        }
        for q in section
            .questions
            .iter()
            .filter(|q| walk.shown.contains(&q.code))
        {
            fields.push(("seen".to_owned(), q.code.clone()));
            if let Some(token) = flow::offered_token(q, &walk.answers) {
                fields.push(("seen".to_owned(), token));
            }
        }
    }
    fields
}

/// How a walk through the survey ended.
#[derive(Debug)]
enum Walked {
    Stored(Map<String, Value>),
    Problems(Vec<FieldError>),
}

/// Walks a survey as a respondent would: on each page, answers its questions
/// from `target` (with `extra` answers to questions that should stay hidden
/// posted too), presses "next" — or "back" where `backs` says so — until the
/// flow asks to store the response or shows problems.
fn walk_survey(
    def: &Definition,
    layout: Layout,
    target: &Map<String, Value>,
    extra: &Map<String, Value>,
    backs: &[bool],
) -> Result<Walked, TestCaseError> {
    let offers = |l: &str| l == "01";
    let survey = Survey {
        definition: def,
        layout,
        fixed_locality: None,
        offers_locality: &offers,
        languages: &["vi", "en"],
    };
    let mut step = survey.start(Some("01"));
    let mut shown = Map::new();
    let bound = 4 * (def.sections.len() + 2) + backs.len();
    for turn in 0..bound {
        let mut posted = shown.clone();
        for (i, section) in def.sections.iter().enumerate() {
            if step == Step::All || step == Step::Section(i) {
                for q in &section.questions {
                    if let Some(v) = target.get(&q.code) {
                        posted.insert(q.code.clone(), v.clone());
                    }
                }
            }
        }
        for (k, v) in extra {
            posted.insert(k.clone(), v.clone());
        }
        let back = backs.get(turn).copied().unwrap_or(false) && matches!(step, Step::Section(_));
        let fields = page_fields(
            def,
            step,
            &shown,
            &posted,
            if back { "back" } else { "next" },
        );
        let (progress, _, next) = survey.advance(&fields);
        // Whatever the button, the answers posted are kept (hidden ones dropped).
        let mut expected = answers::from_form(def, &fields);
        answers::prune_hidden(def, &mut expected);
        prop_assert_eq!(&progress.raw, &expected);
        match next {
            Next::Submit => return Ok(Walked::Stored(progress.raw)),
            Next::Show(page) if !page.errors.is_empty() => {
                return Ok(Walked::Problems(page.errors));
            }
            Next::Show(page) => {
                prop_assert!(page.switch_language.is_none());
                step = page.step;
                shown = progress.raw;
            }
        }
    }
    Err(TestCaseError::fail(format!("no end after {bound} pages")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Valid answers walked page by page (going back now and then) end in a
    /// stored response holding exactly those answers: going back loses
    /// nothing and answers to hidden questions never reach storage.
    #[test]
    fn a_survey_walk_with_valid_answers_stores_them_exactly(
        def in definition(false),
        per_section in any::<bool>(),
        seeds in prop::collection::vec(any::<u64>(), 1..16),
        other in prop::collection::vec(any::<u64>(), 1..16),
        texts in prop::collection::vec("\\PC{1,40}".prop_filter("not blank", |s| !s.trim().is_empty()), 1..4),
        backs in prop::collection::vec(any::<bool>(), 0..6),
    ) {
        let target = valid_answers(&def, &seeds, &texts);
        // Valid values for questions these answers hide: posted, never stored.
        let shown = answers::shown_answers(&def, &target).shown;
        let extra: Map<String, Value> = valid_answers(&def, &other, &texts)
            .into_iter()
            .filter(|(k, _)| !shown.contains(k))
            .collect();
        let layout = if per_section { Layout::PerSection } else { Layout::OnePage };
        match walk_survey(&def, layout, &target, &extra, &backs)? {
            Walked::Stored(raw) => {
                prop_assert_eq!(&raw, &target);
                prop_assert!(answers::parse(&def, &raw).is_ok());
            }
            Walked::Problems(errors) => {
                return Err(TestCaseError::fail(format!("valid answers refused: {errors:?}")));
            }
        }
    }

    /// A spoiled answer never reaches storage: the walk ends on a page that
    /// names it.
    #[test]
    fn a_survey_walk_with_a_spoiled_answer_ends_on_its_problem(
        def in definition(false),
        per_section in any::<bool>(),
        seeds in prop::collection::vec(any::<u64>(), 1..16),
        texts in prop::collection::vec("\\PC{1,40}".prop_filter("not blank", |s| !s.trim().is_empty()), 1..4),
        pick in any::<Index>(),
        how in any::<u8>(),
    ) {
        let mut target = valid_answers(&def, &seeds, &texts);
        prop_assume!(!target.is_empty());
        let code = target.keys().nth(pick.index(target.len())).cloned().unwrap();
        let q = def.questions().find(|q| q.code == code).unwrap();
        let (bad, _) = spoil(q, how);
        target.insert(code.clone(), bad);
        let layout = if per_section { Layout::PerSection } else { Layout::OnePage };
        match walk_survey(&def, layout, &target, &Map::new(), &[])? {
            Walked::Stored(raw) => {
                // A value the form cannot carry (e.g. a JSON number as text that
                // parses back) may still be valid; it must then pass the checks.
                prop_assert!(answers::parse(&def, &raw).is_ok(), "stored {:?}", raw);
            }
            Walked::Problems(errors) => {
                prop_assert!(errors.iter().all(|e| e.field.starts_with("answers.") || e.field == "locality"));
            }
        }
    }
}

#[test]
fn the_language_buttons_switch_and_keep_the_page() {
    let def = preset("sipas-2640");
    let offers = |l: &str| l == "01";
    let survey = Survey {
        definition: &def,
        layout: Layout::PerSection,
        fixed_locality: None,
        offers_locality: &offers,
        languages: &["vi", "en"],
    };
    let fields = page_fields(&def, Step::Section(0), &Map::new(), &Map::new(), "lang-en");
    let (_, _, next) = survey.advance(&fields);
    let Next::Show(page) = next else {
        panic!("a language switch shows a page")
    };
    assert_eq!(page.switch_language.as_deref(), Some("en"));
    assert_eq!(page.step, Step::Section(0));
    assert!(page.errors.is_empty());
    // An unknown language is an ordinary "next": the empty page has problems.
    let fields = page_fields(&def, Step::Section(0), &Map::new(), &Map::new(), "lang-fr");
    let (_, _, next) = survey.advance(&fields);
    let Next::Show(page) = next else {
        panic!("missing answers show a page")
    };
    assert!(page.switch_language.is_none());
    assert!(!page.errors.is_empty());
}

#[test]
fn a_kiosk_survey_starts_on_its_questions_and_cannot_go_back_to_the_locality() {
    let def = preset("sipas-2640");
    let offers = |l: &str| l == "01";
    let kiosk = Survey {
        definition: &def,
        layout: Layout::OnePage,
        fixed_locality: Some("01"),
        offers_locality: &offers,
        languages: &["vi", "en"],
    };
    assert_eq!(kiosk.start(None), Step::All);
    let web = Survey {
        fixed_locality: None,
        layout: Layout::PerSection,
        ..kiosk
    };
    assert_eq!(web.start(None), Step::Locality);
    assert_eq!(web.start(Some("99")), Step::Locality);
    assert_eq!(web.start(Some("01")), Step::Section(0));
    // "Back" from the first section returns to the locality list on the web.
    let fields = page_fields(&def, Step::Section(0), &Map::new(), &Map::new(), "back");
    let (_, _, next) = web.advance(&fields);
    assert_eq!(
        next,
        Next::Show(flow::Page {
            step: Step::Locality,
            errors: vec![],
            more_questions: false,
            new_question: None,
            province: None,
            switch_language: None
        })
    );
}
