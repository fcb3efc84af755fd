//! The survey and choices sheets turned into a [`Definition`]: groups into
//! sections, rows into questions, lists into options, expressions into
//! conditions. Everything that cannot be kept exactly becomes a warning
//! naming the sheet, row, XLSForm name and column.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::super::questionnaire::{
    Choice, Definition, IndexDefinition, IndexMapping, Question, QuestionType, ScalePoint, Section,
};
use super::super::text::Text;
use super::super::validation::FieldError;
use super::conditions::{self, Context, Scope, Target};
use super::expr;
use super::languages::{Languages, split_header};
use super::names::{self, Taken};
use super::sheets::{Book, Sheet};
use super::types::{RowType, classify};
use super::{Imported, Refused, Warning, XlsFormError};

/// Column names as pyxform accepts them, by the name used here.
fn canonical(header: &str) -> String {
    let h = header.trim().to_lowercase();
    let h = [
        "bind::",
        "bind:",
        "body::",
        "body:",
        "control::",
        "control:",
    ]
    .iter()
    .find_map(|p| h.strip_prefix(p))
    .map(str::to_owned)
    .unwrap_or(h);
    match h.as_str() {
        "relevance" => "relevant".to_owned(),
        "readonly" | "read-only" => "read_only".to_owned(),
        "calculate" => "calculation".to_owned(),
        "jr:constraintmsg" | "constraining_message" => "constraint_message".to_owned(),
        "jr:requiredmsg" | "requiredmsg" => "required_message".to_owned(),
        "list name" => "list_name".to_owned(),
        _ => h,
    }
}

/// A sheet's columns by canonical name (several headers may share one:
/// `relevant` and `bind::relevant`).
struct Columns<'s> {
    sheet: &'s Sheet,
    by_name: HashMap<String, Vec<usize>>,
}

impl<'s> Columns<'s> {
    fn new(sheet: &'s Sheet) -> Self {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, h) in sheet.headers.iter().enumerate() {
            by_name.entry(canonical(h)).or_default().push(i);
        }
        Columns { sheet, by_name }
    }

    /// The first non-empty cell of the column `name` in `row`, with the
    /// header as written.
    fn field<'r>(&self, row: &'r [String], name: &str) -> Option<(&'r str, &'s str)> {
        self.by_name.get(name)?.iter().find_map(|&i| {
            let v = row.get(i).map(|s| s.trim()).unwrap_or("");
            (!v.is_empty()).then(|| (v, self.sheet.headers[i].as_str()))
        })
    }

    fn get<'r>(&self, row: &'r [String], name: &str) -> &'r str {
        self.field(row, name).map(|(v, _)| v).unwrap_or("")
    }
}

fn truthy(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "yes" | "true" | "true()" | "1" => Some(true),
        "no" | "false" | "false()" | "0" | "" => Some(false),
        _ => None,
    }
}

/// `. >= a and . <= b` (either half alone too) on whole numbers → (min, max).
pub(super) fn number_bounds(s: &str) -> Option<(Option<i64>, Option<i64>)> {
    let mut min = None;
    let mut max = None;
    for part in s.split(" and ") {
        let part = part.trim().strip_prefix('.')?.trim();
        if let Some(v) = part.strip_prefix(">=") {
            min = Some(v.trim().parse().ok()?);
        } else if let Some(v) = part.strip_prefix("<=") {
            max = Some(v.trim().parse().ok()?);
        } else {
            return None;
        }
    }
    Some((min, max))
}

/// One row of the choices sheet.
struct ChoiceRow {
    row: usize,
    name: String,
    label: Text,
    /// Other columns (cascading filters): column → value.
    extra: BTreeMap<String, String>,
}

/// A list's choices as options here.
struct Options {
    options: Vec<Choice>,
    /// The choice names as written, beside `options`.
    raw: Vec<String>,
    rows: Vec<usize>,
    extra: Vec<BTreeMap<String, String>>,
    dk: bool,
    na: bool,
    /// Choice name → code.
    names: HashMap<String, String>,
    renamed: Vec<String>,
}

fn options_of(list: &[ChoiceRow]) -> Options {
    let mut taken = Taken::default();
    let mut out = Options {
        options: vec![],
        raw: vec![],
        rows: vec![],
        extra: vec![],
        dk: false,
        na: false,
        names: HashMap::new(),
        renamed: vec![],
    };
    for (i, c) in list.iter().enumerate() {
        match c.name.as_str() {
            "dk" => {
                out.dk = true;
                out.names.insert(c.name.clone(), "dk".to_owned());
                continue;
            }
            "na" => {
                out.na = true;
                out.names.insert(c.name.clone(), "na".to_owned());
                continue;
            }
            _ => {}
        }
        let code = taken.unique(&names::clean(&c.name, &format!("option{}", i + 1)));
        if code != c.name {
            out.renamed.push(format!("\"{}\" → {code}", c.name));
        }
        out.names.insert(c.name.clone(), code.clone());
        out.options.push(Choice {
            filters: Default::default(),
            value: code,
            label: if c.label.is_empty() {
                let mut t = Text::default();
                t.0.insert("vi".to_owned(), c.name.clone());
                t
            } else {
                c.label.clone()
            },
        });
        out.rows.push(c.row);
        out.raw.push(c.name.clone());
        out.extra.push(c.extra.clone());
    }
    out
}

/// A question being built, with where it came from and the fields the
/// condition spec adds (kept as JSON until the end).
struct Built {
    q: Question,
    row: usize,
    name: String,
    option_rows: Vec<usize>,
    extras: Vec<(String, Value, &'static str)>,
}

struct BuiltSection {
    section: Section,
    row: usize,
    name: String,
    questions: Vec<Built>,
    condition: Option<Value>,
    /// A note waiting for the next question of the section.
    note: Option<Text>,
}

/// An open group or repeat.
struct Frame {
    row: usize,
    name: String,
    /// Its condition, when it does not have a section of its own.
    condition: Option<Value>,
}

pub(super) struct Mapper<'b> {
    book: &'b Book,
    langs: Languages,
    scope: Scope,
    warnings: Vec<Warning>,
    errors: Vec<FieldError>,
    lists: HashMap<String, Vec<ChoiceRow>>,
    question_codes: Taken,
    section_codes: Taken,
    warned_lists: std::collections::HashSet<String>,
}

fn merge_all(parts: Vec<Value>) -> Option<Value> {
    let mut flat = Vec::new();
    for p in parts {
        match p {
            Value::Object(ref m) if m.len() == 1 && m.contains_key("all") => {
                if let Some(Value::Array(a)) = m.get("all") {
                    flat.extend(a.iter().cloned());
                }
            }
            other => flat.push(other),
        }
    }
    match flat.len() {
        0 => None,
        1 => flat.pop(),
        _ => Some(json!({ "all": flat })),
    }
}

impl<'b> Mapper<'b> {
    pub(super) fn new(book: &'b Book, default_language: &str) -> Mapper<'b> {
        let mut sheets = vec![&book.survey];
        sheets.extend(book.choices.as_ref());
        sheets.extend(book.settings.as_ref());
        let langs = Languages::read(&sheets, default_language);
        let mut m = Mapper {
            book,
            langs,
            scope: Scope::default(),
            warnings: vec![],
            errors: vec![],
            lists: HashMap::new(),
            question_codes: Taken::default(),
            section_codes: Taken::default(),
            warned_lists: Default::default(),
        };
        for note in std::mem::take(&mut m.langs.notes) {
            m.warn("settings", 0, "", "", note);
        }
        m.read_choices();
        m
    }

    /// The texts of a column family in a row, by language code.
    pub(super) fn texts(&self, sheet: &Sheet, row: &[String], family: &str) -> Text {
        self.langs.texts(sheet, row, family)
    }

    fn warn(&mut self, sheet: &'static str, row: usize, name: &str, column: &str, message: String) {
        self.warnings.push(Warning {
            sheet,
            row,
            name: name.to_owned(),
            column: column.to_owned(),
            message,
        });
    }

    fn read_choices(&mut self) {
        let book = self.book;
        let Some(ch) = &book.choices else { return };
        let cols = Columns::new(ch);
        let known = |h: &str| {
            let (family, _) = split_header(h);
            let c = canonical(h);
            [
                "list_name",
                "name",
                "value",
                "label",
                "image",
                "audio",
                "video",
                "big-image",
                "media",
                "order",
                "hailong",
            ]
            .contains(&family.as_str())
                || c == "list_name"
                || family.starts_with("media")
        };
        for (i, row) in ch.rows.iter().enumerate() {
            let list = cols.get(row, "list_name");
            let mut name = cols.get(row, "name");
            if name.is_empty() {
                name = cols.get(row, "value");
            }
            if list.is_empty() && name.is_empty() {
                continue;
            }
            let mut extra = BTreeMap::new();
            for (ci, h) in ch.headers.iter().enumerate() {
                if !known(h)
                    && !h.is_empty()
                    && let Some(v) = row.get(ci).map(|v| v.trim()).filter(|v| !v.is_empty())
                {
                    extra.insert(h.clone(), v.to_owned());
                }
            }
            let label = self.langs.texts(ch, row, "label");
            self.lists
                .entry(list.to_owned())
                .or_default()
                .push(ChoiceRow {
                    row: i + 2,
                    name: name.to_owned(),
                    label,
                    extra,
                });
        }
    }

    /// Parses and converts an expression of a cell; a warning with `then`
    /// (what happens instead) when it cannot be kept.
    fn condition(
        &mut self,
        row: usize,
        name: &str,
        (text, column): (&str, &str),
        this: Option<&Target>,
        then: &str,
    ) -> Option<Value> {
        let result = expr::parse(text).and_then(|e| {
            conditions::convert(
                &e,
                &Context {
                    scope: &self.scope,
                    this,
                    this_name: this.map(|_| name),
                },
            )
        });
        match result {
            Ok(v) => Some(v),
            Err(why) => {
                self.warn(
                    "survey",
                    row,
                    name,
                    column,
                    format!("\"{text}\" cannot be kept ({why}): {then}"),
                );
                None
            }
        }
    }

    pub(super) fn map(mut self, code: String, title: Text) -> Result<Imported, Refused> {
        let book = self.book;
        let survey = &book.survey;
        let cols = Columns::new(survey);
        let mut sections: Vec<BuiltSection> = Vec::new();
        let mut current: Option<usize> = None;
        let mut loose: Option<usize> = None;
        let mut stack: Vec<Frame> = Vec::new();
        for (i, row) in survey.rows.iter().enumerate() {
            let line = i + 2;
            let type_cell = cols.get(row, "type");
            if type_cell.is_empty() {
                continue;
            }
            let name = cols.get(row, "name").to_owned();
            let rt = classify(type_cell);
            let relevant = cols.field(row, "relevant");
            match &rt {
                RowType::BeginGroup | RowType::BeginRepeat => {
                    if rt == RowType::BeginRepeat {
                        self.warn("survey", line, &name, "type", "repeats are asked once here: the questions of this repeat are asked once, not repeated".to_owned());
                    }
                    let cond = relevant.and_then(|r| {
                        self.condition(
                            line,
                            &name,
                            r,
                            None,
                            "the group's questions are always shown",
                        )
                    });
                    if stack.is_empty() {
                        let base = names::clean(&name, "section");
                        let scode = self.section_codes.unique(&base);
                        let label = self.langs.texts(survey, row, "label");
                        sections.push(BuiltSection {
                            section: Section {
                                code: scode.clone(),
                                title: if label.is_empty() {
                                    Text::vi_en(&scode, "")
                                } else {
                                    label
                                },
                                description: self.langs.texts(survey, row, "hint"),
                                questions: vec![],
                                condition: None,
                            },
                            row: line,
                            name: name.clone(),
                            questions: vec![],
                            condition: cond,
                            note: None,
                        });
                        current = Some(sections.len() - 1);
                        if let Some(l) = loose.take() {
                            flush_note(&mut sections[l]);
                        }
                        stack.push(Frame {
                            row: line,
                            name,
                            condition: None,
                        });
                    } else {
                        self.warn("survey", line, &name, "type", "a group inside a group: its questions join the enclosing section (its condition, if any, applies to each of them)".to_owned());
                        stack.push(Frame {
                            row: line,
                            name,
                            condition: cond,
                        });
                    }
                    continue;
                }
                RowType::EndGroup | RowType::EndRepeat => {
                    if stack.pop().is_none() {
                        self.warn(
                            "survey",
                            line,
                            &name,
                            "type",
                            "an end without a begin: ignored".to_owned(),
                        );
                    }
                    if stack.is_empty()
                        && let Some(s) = current.take()
                    {
                        flush_note(&mut sections[s]);
                    }
                    continue;
                }
                _ => {}
            }
            // Questions outside any group: a section of their own, until
            // the next group.
            let s = match (current, loose) {
                (Some(s), _) if !stack.is_empty() => s,
                (_, Some(s)) => s,
                _ => {
                    let scode = self.section_codes.unique("main");
                    sections.push(BuiltSection {
                        section: Section {
                            code: scode,
                            title: title.clone(),
                            description: Text::default(),
                            questions: vec![],
                            condition: None,
                        },
                        row: line,
                        name: String::new(),
                        questions: vec![],
                        condition: None,
                        note: None,
                    });
                    loose = Some(sections.len() - 1);
                    sections.len() - 1
                }
            };
            let outer: Vec<Value> = stack.iter().filter_map(|f| f.condition.clone()).collect();
            let built = self.question(
                line,
                row,
                &cols,
                &name,
                rt,
                relevant,
                outer,
                &mut sections[s],
            );
            sections[s].questions.extend(built);
        }
        for (i, f) in stack.iter().enumerate() {
            if i == 0 {
                self.warn(
                    "survey",
                    f.row,
                    &f.name,
                    "type",
                    "a group without an end: it runs to the last row".to_owned(),
                );
            }
        }
        for s in &mut sections {
            flush_note(s);
        }
        self.finish(code, title, sections)
    }

    /// The question(s) a row becomes: none (with a warning), one, or two
    /// (a choice with `or_other` and its follow-up).
    #[allow(clippy::too_many_arguments)]
    fn question(
        &mut self,
        line: usize,
        row: &[String],
        cols: &Columns,
        name: &str,
        rt: RowType,
        relevant: Option<(&str, &str)>,
        outer: Vec<Value>,
        section: &mut BuiltSection,
    ) -> Vec<Built> {
        let book = self.book;
        let survey = &book.survey;
        let left_out = |what: &str| format!("{what}; left out");
        match &rt {
            RowType::Metadata(t) => {
                self.warn("survey", line, name, "type", left_out(&format!("\"{t}\" is filled in by the device; such data is never stored here, so that answers stay anonymous")));
                self.scope
                    .not_asked
                    .insert(name.to_owned(), "device metadata, never stored".to_owned());
                return vec![];
            }
            RowType::Calculate(t) => {
                let what = if cols.get(row, "calculation").is_empty() {
                    String::new()
                } else {
                    format!(" ({})", cols.get(row, "calculation"))
                };
                self.warn(
                    "survey",
                    line,
                    name,
                    "calculation",
                    left_out(&format!("\"{t}\"{what}: calculations are not supported")),
                );
                self.scope
                    .not_asked
                    .insert(name.to_owned(), "a calculation".to_owned());
                return vec![];
            }
            RowType::Unsupported(t) => {
                self.warn(
                    "survey",
                    line,
                    name,
                    "type",
                    left_out(&format!("type \"{t}\" has no equivalent here")),
                );
                self.scope
                    .not_asked
                    .insert(name.to_owned(), format!("type {t}"));
                return vec![];
            }
            RowType::Unknown(t) => {
                self.errors.push(
                    FieldError::new(
                        format!("survey row {line} ({name})"),
                        "xlsform_unknown_type",
                    )
                    .with("type", t.clone()),
                );
                return vec![];
            }
            RowType::Note => {
                let text = self.langs.texts(survey, row, "label");
                self.scope
                    .not_asked
                    .insert(name.to_owned(), "a note".to_owned());
                let mut msg = "a note: its text is shown in the help of the next question (or the section's description)".to_owned();
                if relevant.is_some() {
                    msg.push_str("; its condition is dropped: the text is always shown");
                }
                self.warn("survey", line, name, "type", msg);
                self.check_label_refs(line, name, &text);
                if !text.is_empty() {
                    section.note = Some(match section.note.take() {
                        Some(prev) => join_texts(&prev, &text),
                        None => text,
                    });
                }
                return vec![];
            }
            _ => {}
        }
        // A name with spaces is refused by pyxform too: left as it is, so
        // that the problem names it; others (`_uuid`, accents) are cleaned.
        let base = if name.contains(char::is_whitespace) {
            name.to_owned()
        } else {
            names::clean(name, &format!("q{line}"))
        };
        let code = self.question_codes.unique(&base);
        if code != name {
            let why = if self.question_codes.contains(&base) && code != base {
                "the name is used before (a repeat or another group)"
            } else {
                "the name is not a valid code"
            };
            self.warn(
                "survey",
                line,
                name,
                "name",
                format!("renamed to {code}: {why}"),
            );
        }
        let appearance = cols.get(row, "appearance").to_lowercase();
        let mut label = self.langs.texts(survey, row, "label");
        if label.is_empty() {
            self.warn(
                "survey",
                line,
                name,
                "label",
                format!("no label: the name \"{name}\" is shown instead"),
            );
            label.0.insert(self.langs.default.clone(), name.to_owned());
        }
        self.check_label_refs(line, name, &label);
        let mut help = self.langs.texts(survey, row, "hint");
        self.check_label_refs(line, name, &help);
        if let Some(note) = section.note.take() {
            help = if help.is_empty() {
                note
            } else {
                join_texts(&note, &help)
            };
        }
        let mut q = Question {
            code: code.clone(),
            kind: QuestionType::ShortText,
            required: false,
            label,
            help,
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
        let mut b_extras: Vec<(String, Value, &'static str)> = vec![];
        let mut option_rows = vec![];
        let mut choices: HashMap<String, String> = HashMap::new();
        let mut yes = None;
        let mut filter_list: Option<(String, Options)> = None;
        let mut or_other_follow = false;
        match &rt {
            RowType::Select {
                multiple,
                list,
                or_other,
            } => {
                let Some(opts) = self.lists.get(list).map(|rows| options_of(rows)) else {
                    self.errors.push(
                        FieldError::new(
                            format!("survey row {line} ({name})"),
                            "xlsform_unknown_list",
                        )
                        .with("list", list.clone()),
                    );
                    return vec![];
                };
                q.dont_know = opts.dk;
                q.not_applicable = opts.na;
                choices = opts.names.clone();
                let numbers: Option<Vec<i64>> =
                    opts.raw.iter().map(|n| n.trim().parse().ok()).collect();
                let contiguous = numbers.as_ref().is_some_and(|n| {
                    let mut s = n.clone();
                    s.sort_unstable();
                    s.len() >= 2
                        && s.len() <= 21
                        && s.windows(2).all(|w| w[0].checked_add(1) == Some(w[1]))
                });
                if !multiple && appearance.contains("likert") && contiguous && !or_other {
                    let values = numbers.unwrap_or_default();
                    q.kind = QuestionType::Scale;
                    q.min = values.iter().min().copied();
                    q.max = values.iter().max().copied();
                    q.points = opts
                        .options
                        .iter()
                        .zip(values)
                        .map(|(c, v)| ScalePoint {
                            value: v,
                            label: c.label.clone(),
                        })
                        .collect();
                    option_rows = opts.rows.clone();
                } else if opts.options.len() == 1 && !or_other {
                    q.kind = QuestionType::YesNo;
                    let only = opts
                        .names
                        .iter()
                        .find(|(_, c)| **c == opts.options[0].value)
                        .map(|(n, _)| n.clone())
                        .unwrap_or_default();
                    yes = Some(only.clone());
                    self.warn("survey", line, name, "type", format!("a list with one choice (\"{only}\"): asked as yes/no, \"yes\" meaning that choice"));
                } else {
                    q.kind = if *multiple {
                        QuestionType::MultipleChoice
                    } else {
                        QuestionType::SingleChoice
                    };
                    if !opts.renamed.is_empty() && self.warned_lists.insert(list.clone()) {
                        let first_row = opts.rows.first().copied().unwrap_or(0);
                        self.warn(
                            "choices",
                            first_row,
                            list,
                            "name",
                            format!(
                                "choice names that are not codes are shown as written and stored as {}",
                                opts.renamed.join(", ")
                            ),
                        );
                    }
                    q.options = opts.options.clone();
                    option_rows = opts.rows.clone();
                    if *or_other && !opts.names.contains_key("other") {
                        let mut taken = Taken::default();
                        for o in &q.options {
                            taken.unique(&o.value);
                        }
                        let other = taken.unique("other");
                        q.options.push(Choice {
                            value: other.clone(),
                            label: Text::vi_en("Khác", "Other"),
                            filters: Default::default(),
                        });
                        choices.insert("other".to_owned(), other);
                    }
                    or_other_follow = *or_other;
                    filter_list = Some((list.clone(), opts));
                }
            }
            RowType::Rank(list) => {
                let Some(opts) = self.lists.get(list).map(|rows| options_of(rows)) else {
                    self.errors.push(
                        FieldError::new(
                            format!("survey row {line} ({name})"),
                            "xlsform_unknown_list",
                        )
                        .with("list", list.clone()),
                    );
                    return vec![];
                };
                self.warn(
                    "survey",
                    line,
                    name,
                    "type",
                    "rank: asked as a multiple choice; the order is not recorded".to_owned(),
                );
                q.kind = QuestionType::MultipleChoice;
                choices = opts.names.clone();
                q.options = opts.options;
                option_rows = opts.rows;
            }
            RowType::Text => {
                q.kind = if appearance.contains("multiline") {
                    QuestionType::LongText
                } else {
                    QuestionType::ShortText
                };
            }
            RowType::Integer => q.kind = QuestionType::Number,
            RowType::Decimal => {
                q.kind = QuestionType::Number;
                self.warn(
                    "survey",
                    line,
                    name,
                    "type",
                    "decimal: answers are taken as whole numbers".to_owned(),
                );
            }
            RowType::Range => {
                q.kind = QuestionType::Number;
                let params = cols.get(row, "parameters");
                let mut start = 1i64;
                let mut end = 10i64;
                for p in params.split(|c: char| c.is_whitespace() || c == ';' || c == ',') {
                    if let Some((k, v)) = p.split_once('=') {
                        match (k.trim(), v.trim().parse::<f64>()) {
                            ("start", Ok(x)) => start = x as i64,
                            ("end", Ok(x)) => end = x as i64,
                            ("step", Ok(x)) if x != 1.0 => self.warn("survey", line, name, "parameters", format!("range step {x}: any whole number between start and end is accepted")),
                            _ => {}
                        }
                    }
                }
                q.min = Some(start.min(end));
                q.max = Some(start.max(end));
                self.warn(
                    "survey",
                    line,
                    name,
                    "type",
                    "range: asked as a number between its start and end".to_owned(),
                );
            }
            RowType::DateTime(t) => {
                q.kind = QuestionType::ShortText;
                self.warn(
                    "survey",
                    line,
                    name,
                    "type",
                    format!("\"{t}\": asked as short text (no date/time type here)"),
                );
            }
            RowType::Acknowledge => {
                q.kind = QuestionType::YesNo;
                yes = Some("OK".to_owned());
                self.warn(
                    "survey",
                    line,
                    name,
                    "type",
                    "acknowledge/trigger: asked as yes/no".to_owned(),
                );
            }
            _ => {}
        }
        // Hailong's own column: what XLSForm cannot say (from an export).
        if let Some((extra, col)) = cols.field(row, "hailong") {
            match serde_json::from_str::<serde_json::Map<String, Value>>(extra) {
                Ok(m) => {
                    if m.get("type").and_then(Value::as_str) == Some("yes_no") {
                        q.kind = QuestionType::YesNo;
                        q.options.clear();
                        option_rows.clear();
                        yes = Some("yes".to_owned());
                    }
                    if let Some(ix) = m.get("index") {
                        match serde_json::from_value::<IndexMapping>(ix.clone()) {
                            Ok(ix) => q.index = Some(ix),
                            Err(e) => self.warn(
                                "survey",
                                line,
                                name,
                                col,
                                format!("index mapping not read ({e})"),
                            ),
                        }
                    }
                    if m.get("dont_know") == Some(&Value::Bool(true)) {
                        q.dont_know = true;
                    }
                    if m.get("not_applicable") == Some(&Value::Bool(true)) {
                        q.not_applicable = true;
                    }
                }
                Err(e) => self.warn("survey", line, name, col, format!("not read ({e})")),
            }
        }
        let target = Target {
            code: code.clone(),
            kind: q.kind,
            choices: choices.clone(),
            yes,
        };
        // Required: a constant or an expression.
        if let Some((req, col)) = cols.field(row, "required") {
            match truthy(req) {
                Some(b) => q.required = b,
                None => {
                    if let Some(c) =
                        self.condition(line, name, (req, col), None, "the question is optional")
                    {
                        b_extras.push(("required_if".to_owned(), c, "required"));
                    }
                }
            }
        }
        let msg = self.langs.texts(survey, row, "required_message");
        if !msg.is_empty() {
            b_extras.push((
                "required_message".to_owned(),
                serde_json::to_value(&msg).unwrap_or(Value::Null),
                "required_message",
            ));
        }
        // Constraint: whole-number bounds, else a condition on ".".
        if let Some((c, col)) = cols.field(row, "constraint") {
            match number_bounds(c) {
                Some((min, max)) if q.kind == QuestionType::Number => {
                    q.min = min.or(q.min);
                    q.max = max.or(q.max);
                }
                _ => {
                    if let Some(v) = self.condition(
                        line,
                        name,
                        (c, col),
                        Some(&target),
                        "any answer is accepted",
                    ) {
                        b_extras.push(("constraint".to_owned(), v, "constraint"));
                    }
                }
            }
        }
        let msg = self.langs.texts(survey, row, "constraint_message");
        if !msg.is_empty() {
            b_extras.push((
                "constraint_message".to_owned(),
                serde_json::to_value(&msg).unwrap_or(Value::Null),
                "constraint_message",
            ));
        }
        // Relevant: the question's own, with the enclosing nested groups'.
        let own = relevant
            .and_then(|r| self.condition(line, name, r, None, "the question is always shown"));
        let mut parts = outer;
        parts.extend(own);
        let cond = merge_all(parts);
        if let Some(c) = cond.clone() {
            b_extras.push(("condition".to_owned(), c, "relevant"));
        }
        if let Some((d, col)) = cols.field(row, "default") {
            match default_value(&target, d) {
                Ok(v) => b_extras.push(("default".to_owned(), v, "default")),
                Err(why) => self.warn(
                    "survey",
                    line,
                    name,
                    col,
                    format!("default \"{d}\" cannot be kept ({why}); no default"),
                ),
            }
        }
        if let Some((ro, col)) = cols.field(row, "read_only") {
            match truthy(ro) {
                Some(true) => {
                    b_extras.push(("read_only".to_owned(), Value::Bool(true), "read_only"))
                }
                Some(false) => {}
                None => self.warn(
                    "survey",
                    line,
                    name,
                    col,
                    format!("read_only \"{ro}\" is an expression; the question can be edited"),
                ),
            }
        }
        if let Some((calc, col)) = cols.field(row, "calculation") {
            self.warn(
                "survey",
                line,
                name,
                col,
                format!("calculation \"{calc}\" is not supported: the answer is not computed"),
            );
        }
        for a in appearance.split_whitespace() {
            if !matches!(a, "multiline" | "likert") {
                self.warn("survey", line, name, "appearance", format!("appearance \"{a}\" is not used here: the question looks as Hailong shows it"));
            }
        }
        for (i, h) in survey.headers.iter().enumerate() {
            let (family, _) = split_header(h);
            let media = matches!(family.as_str(), "image" | "audio" | "video" | "big-image")
                || family.starts_with("media");
            if media && row.get(i).is_some_and(|v| !v.trim().is_empty()) {
                self.warn(
                    "survey",
                    line,
                    name,
                    h,
                    "media files are not shown here".to_owned(),
                );
            }
        }
        // Cascading list.
        if let Some((cf, col)) = cols.field(row, "choice_filter") {
            match conditions::choice_filter(cf, &self.scope) {
                Ok((column, question, op)) => {
                    let has_column = filter_list.as_ref().is_some_and(|(_, opts)| {
                        opts.extra.iter().any(|e| e.contains_key(&column))
                    });
                    if filter_list.is_some() && !has_column {
                        self.warn("survey", line, name, col, format!("\"{cf}\": the choices sheet has no column {column} for this list: every choice is offered"));
                    } else if let Some((_, opts)) = &filter_list {
                        // The filter values are the parent's choice names: use its codes.
                        let parent = self
                            .scope
                            .targets
                            .values()
                            .find(|t| t.code == question)
                            .map(|t| t.choices.clone())
                            .unwrap_or_default();
                        let with_filters: Vec<Value> = q
                            .options
                            .iter()
                            .enumerate()
                            .map(|(i, o)| {
                                let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
                                if let Some(f) = opts.extra.get(i).and_then(|e| e.get(&column))
                                    && let Value::Object(m) = &mut v
                                {
                                    let f = parent.get(f).cloned().unwrap_or_else(|| f.clone());
                                    m.insert("filters".to_owned(), json!({ column.clone(): f }));
                                }
                                v
                            })
                            .collect();
                        b_extras.push((
                            "options".to_owned(),
                            Value::Array(with_filters),
                            "choice_filter",
                        ));
                        b_extras.push((
                            "choice_filter".to_owned(),
                            json!({"column": column, "question": question, "op": op}),
                            "choice_filter",
                        ));
                    } else {
                        self.warn(
                            "survey",
                            line,
                            name,
                            col,
                            "a filter on a question without choices: ignored".to_owned(),
                        );
                    }
                }
                Err(why) => self.warn(
                    "survey",
                    line,
                    name,
                    col,
                    format!("\"{cf}\" cannot be kept ({why}): every choice is offered"),
                ),
            }
        }
        self.scope.targets.insert(name.to_owned(), target);
        let mut out = vec![Built {
            q,
            row: line,
            name: name.to_owned(),
            option_rows,
            extras: b_extras,
        }];
        if or_other_follow {
            let other_code = self.question_codes.unique(&format!("{code}_other"));
            let op = if matches!(rt, RowType::Select { multiple: true, .. }) {
                "selected"
            } else {
                "eq"
            };
            let value = choices
                .get("other")
                .cloned()
                .unwrap_or_else(|| "other".to_owned());
            let mut parts: Vec<Value> = cond.into_iter().collect();
            parts.push(json!({"question": code, "op": op, "value": value}));
            self.warn("survey", line, name, "type", format!("or_other: an option \"other\" and a text question {other_code} asked when it is chosen"));
            out.push(Built {
                q: Question {
                    code: other_code.clone(),
                    kind: QuestionType::ShortText,
                    required: false,
                    label: Text::vi_en("Khác, xin ghi rõ", "Other, please specify"),
                    help: Text::default(),
                    min: None,
                    max: None,
                    points: vec![],
                    options: vec![],
                    dont_know: false,
                    not_applicable: false,
                    condition: None,
                    index: None,
                    ..Default::default()
                },
                row: line,
                name: format!("{name}_other"),
                option_rows: vec![],
                extras: merge_all(parts)
                    .map(|c| ("condition".to_owned(), c, "type"))
                    .into_iter()
                    .collect(),
            });
            self.scope.targets.insert(
                format!("{name}_other"),
                Target {
                    code: other_code,
                    kind: QuestionType::ShortText,
                    choices: HashMap::new(),
                    yes: None,
                },
            );
        }
        out
    }

    /// `${x}` inside a text is shown as written: say so.
    fn check_label_refs(&mut self, line: usize, name: &str, text: &Text) {
        if text.0.values().any(|t| t.contains("${")) {
            self.warn("survey", line, name, "label", "the text contains ${…}: answers are not inserted into texts here, it is shown as written".to_owned());
        }
    }

    fn finish(
        mut self,
        code: String,
        title: Text,
        sections: Vec<BuiltSection>,
    ) -> Result<Imported, Refused> {
        let mut out_sections = Vec::new();
        let mut rows: Vec<SectionRows> = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();
        let mut section_conditions = Vec::new();
        for s in sections {
            if s.questions.is_empty() {
                if !s.name.is_empty() {
                    self.warn(
                        "survey",
                        s.row,
                        &s.name,
                        "type",
                        "a group without a question that can be asked here: left out".to_owned(),
                    );
                }
                continue;
            }
            let si = out_sections.len();
            let mut section = s.section;
            let mut qrows = Vec::new();
            for (qi, b) in s.questions.into_iter().enumerate() {
                qrows.push(QuestionRows {
                    row: b.row,
                    name: b.name.clone(),
                    options: b.option_rows,
                });
                if !b.extras.is_empty() {
                    pending.push(Pending {
                        section: si,
                        question: qi,
                        extras: b.extras,
                        row: b.row,
                        name: b.name,
                    });
                }
                section.questions.push(b.q);
            }
            if let Some(c) = s.condition {
                section_conditions.push((si, c, s.row, s.name.clone()));
            }
            rows.push(SectionRows {
                row: s.row,
                name: s.name,
                questions: qrows,
            });
            out_sections.push(section);
        }
        if out_sections.is_empty() && !self.book.survey.rows.is_empty() {
            self.warn(
                "survey",
                0,
                "",
                "",
                "no row of this form can be asked here (each is left out above): there is nothing to import".to_owned(),
            );
        }
        let extras = self.settings_extras();
        let mut definition = Definition {
            code,
            title: extras.title.unwrap_or(title),
            description: extras.description,
            sections: out_sections,
            indices: extras.indices,
            source: extras.source,
        };
        // The spec's fields, one by one: what this version cannot store is said.
        for Pending {
            section: si,
            question: qi,
            extras,
            row,
            name,
        } in pending
        {
            for (key, value, column) in extras {
                let q = &mut definition.sections[si].questions[qi];
                if let Err(e) = set_field(q, &key, value) {
                    self.warn(
                        "survey",
                        row,
                        &name,
                        column,
                        format!("{key} cannot be stored ({e}): left out"),
                    );
                }
            }
        }
        for (si, c, row, name) in section_conditions {
            let s = &mut definition.sections[si];
            if let Err(e) = set_field(s, "condition", c) {
                self.warn("survey", row, &name, "relevant", format!("the group's condition cannot be stored ({e}): its questions are always shown"));
            }
        }
        let mut translation_needed = false;
        if let Err(list) = definition.check() {
            let (missing, other): (Vec<_>, Vec<_>) = list
                .into_iter()
                .partition(|e| e.code == "missing_vietnamese");
            if !missing.is_empty() {
                translation_needed = true;
                let first = locate(&missing[0].field, &rows);
                self.warn("settings", 0, "", "label", format!("{} text(s) have no Vietnamese (the first: {first}): the questionnaire is imported as a draft that needs translation before it can be published", missing.len()));
            }
            for mut e in other {
                e.field = locate(&e.field, &rows);
                self.errors.push(e);
            }
        }
        if self.errors.is_empty() {
            Ok(Imported {
                definition,
                warnings: self.warnings,
                translation_needed,
            })
        } else {
            Err(Refused {
                error: XlsFormError::Invalid(self.errors),
                warnings: self.warnings,
            })
        }
    }

    /// The settings sheet's `hailong` column (from an export): the
    /// description and the indices.
    fn settings_extras(&mut self) -> SettingsExtras {
        let book = self.book;
        let Some(settings) = &book.settings else {
            return SettingsExtras::default();
        };
        let cols = Columns::new(settings);
        let Some(row) = settings.rows.first() else {
            return SettingsExtras::default();
        };
        let Some((text, col)) = cols.field(row, "hailong") else {
            return SettingsExtras::default();
        };
        match serde_json::from_str::<SettingsExtras>(text) {
            Ok(e) => e,
            Err(e) => {
                self.warn("settings", 2, "", col, format!("not read ({e})"));
                SettingsExtras::default()
            }
        }
    }
}

/// What the settings sheet's `hailong` column holds.
#[derive(Default, serde::Deserialize)]
struct SettingsExtras {
    #[serde(default)]
    title: Option<Text>,
    #[serde(default)]
    description: Text,
    #[serde(default)]
    indices: Vec<IndexDefinition>,
    /// The official instrument a preset transcribes (see `domain::instrument`).
    #[serde(default)]
    source: Option<Box<crate::domain::instrument::Source>>,
}

/// Where a section and its questions are in the survey sheet.
struct SectionRows {
    row: usize,
    name: String,
    questions: Vec<QuestionRows>,
}

struct QuestionRows {
    row: usize,
    name: String,
    /// Choices-sheet rows of its options.
    options: Vec<usize>,
}

/// Fields of the condition spec waiting to be set on a question.
struct Pending {
    section: usize,
    question: usize,
    extras: Vec<(String, Value, &'static str)>,
    row: usize,
    name: String,
}

/// Sets a field of the condition spec on a question or section through its
/// JSON; an error when this version of the model does not know it.
fn set_field<T: serde::Serialize + serde::de::DeserializeOwned>(
    item: &mut T,
    key: &str,
    value: Value,
) -> Result<(), String> {
    let mut v = serde_json::to_value(&*item).map_err(|e| e.to_string())?;
    if let Value::Object(m) = &mut v {
        m.insert(key.to_owned(), value);
    }
    *item = serde_json::from_value(v).map_err(|e| e.to_string())?;
    Ok(())
}

fn join_texts(a: &Text, b: &Text) -> Text {
    let mut out = a.clone();
    for (lang, t) in &b.0 {
        out.0
            .entry(lang.clone())
            .and_modify(|x| {
                x.push_str("\n\n");
                x.push_str(t);
            })
            .or_insert_with(|| t.clone());
    }
    out
}

fn flush_note(s: &mut BuiltSection) {
    if let Some(note) = s.note.take() {
        s.section.description = if s.section.description.is_empty() {
            note
        } else {
            join_texts(&s.section.description, &note)
        };
    }
}

/// A default as the target question's answers are written.
fn default_value(t: &Target, d: &str) -> Result<Value, String> {
    match t.kind {
        QuestionType::SingleChoice => t
            .choices
            .get(d)
            .cloned()
            .map(Value::from)
            .ok_or_else(|| "not a choice".to_owned()),
        QuestionType::MultipleChoice => d
            .split_whitespace()
            .map(|n| {
                t.choices
                    .get(n)
                    .cloned()
                    .map(Value::from)
                    .ok_or_else(|| format!("{n} is not a choice"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        QuestionType::Scale | QuestionType::Number => d
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| "not a whole number".to_owned()),
        QuestionType::YesNo => truthy(d)
            .map(Value::Bool)
            .ok_or_else(|| "not yes or no".to_owned()),
        QuestionType::ShortText | QuestionType::LongText => {
            if d.contains("${") || d.contains('(') {
                Err("an expression".to_owned())
            } else {
                Ok(Value::from(d))
            }
        }
    }
}

/// `sections[1].questions[2].label.vi` → `survey row 14 (a12), label.vi`;
/// `…options[3]…` → the choices row.
fn locate(field: &str, rows: &[SectionRows]) -> String {
    let index = |s: &str, key: &str| -> Option<(usize, usize)> {
        let start = s.find(key)? + key.len();
        let end = s[start..].find(']')? + start;
        Some((s[start..end].parse().ok()?, end + 1))
    };
    let Some((si, after_s)) = index(field, "sections[") else {
        return field.to_owned();
    };
    let Some(SectionRows {
        row: srow,
        name: sname,
        questions: qs,
    }) = rows.get(si)
    else {
        return field.to_owned();
    };
    let rest = &field[after_s..];
    let Some((qi, after_q)) = index(rest, ".questions[") else {
        let what = rest.trim_start_matches('.');
        return format!(
            "survey row {srow} ({sname}){}{what}",
            if what.is_empty() { "" } else { ", " }
        );
    };
    let Some(QuestionRows {
        row: qrow,
        name: qname,
        options: orows,
    }) = qs.get(qi)
    else {
        return field.to_owned();
    };
    let rest = &rest[after_q..];
    if let Some((oi, after_o)) = index(rest, ".options[")
        && let Some(orow) = orows.get(oi)
    {
        let what = rest[after_o..].trim_start_matches('.');
        return format!(
            "choices row {orow} (of {qname}){}{what}",
            if what.is_empty() { "" } else { ", " }
        );
    }
    let what = rest.trim_start_matches('.');
    format!(
        "survey row {qrow} ({qname}){}{what}",
        if what.is_empty() { "" } else { ", " }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_columns_are_the_same_columns() {
        assert_eq!(canonical("bind::relevant"), "relevant");
        assert_eq!(canonical("bind:relevant"), "relevant");
        assert_eq!(canonical("bind::constraint"), "constraint");
        assert_eq!(canonical("bind::required"), "required");
        assert_eq!(canonical("readonly"), "read_only");
        assert_eq!(canonical("list name"), "list_name");
    }

    #[test]
    fn internal_paths_become_rows() {
        let rows = vec![SectionRows {
            row: 3,
            name: "g".to_owned(),
            questions: vec![QuestionRows {
                row: 4,
                name: "a12".to_owned(),
                options: vec![9, 10],
            }],
        }];
        assert_eq!(
            locate("sections[0].questions[0].label.vi", &rows),
            "survey row 4 (a12), label.vi"
        );
        assert_eq!(
            locate("sections[0].questions[0].options[1].value", &rows),
            "choices row 10 (of a12), value"
        );
        assert_eq!(locate("sections[0].code", &rows), "survey row 3 (g), code");
        assert_eq!(locate("code", &rows), "code");
    }

    #[test]
    fn number_bounds_read() {
        assert_eq!(
            number_bounds(". >= 0 and . <= 120"),
            Some((Some(0), Some(120)))
        );
        assert_eq!(number_bounds(". >= 1"), Some((Some(1), None)));
        assert_eq!(number_bounds("regex(., '^a')"), None);
    }
}
