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
use super::{Imported, Reason, Refused, Warning, XlsFormError, code};

mod finish;
mod question;

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
            m.warn(note.at("settings", 0, "", ""));
        }
        m.read_choices();
        m
    }

    /// The texts of a column family in a row, by language code.
    pub(super) fn texts(&self, sheet: &Sheet, row: &[String], family: &str) -> Text {
        self.langs.texts(sheet, row, family)
    }

    fn warn(&mut self, warning: Warning) {
        self.warnings.push(warning);
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
    /// (the code of what happens instead) when it cannot be kept.
    fn condition(
        &mut self,
        row: usize,
        name: &str,
        (text, column): (&str, &str),
        this: Option<&Target>,
        then: &'static str,
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
                    Warning::new("survey", row, name, column, code::CONDITION_NOT_KEPT)
                        .with("text", text)
                        .with_part("why", why)
                        .with_part("then", Reason::new(then)),
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
                        self.warn(Warning::new(
                            "survey",
                            line,
                            &name,
                            "type",
                            code::REPEAT_ASKED_ONCE,
                        ));
                    }
                    let cond = relevant
                        .and_then(|r| self.condition(line, &name, r, None, code::THEN_GROUP_SHOWN));
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
                                lead_in: group_lead_in(cols.field(row, "hailong")),
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
                        self.warn(Warning::new(
                            "survey",
                            line,
                            &name,
                            "type",
                            code::GROUP_IN_GROUP,
                        ));
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
                        self.warn(Warning::new(
                            "survey",
                            line,
                            &name,
                            "type",
                            code::END_WITHOUT_BEGIN,
                        ));
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
                            lead_in: Text::default(),
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
                self.warn(Warning::new(
                    "survey",
                    f.row,
                    &f.name,
                    "type",
                    code::GROUP_WITHOUT_END,
                ));
            }
        }
        for s in &mut sections {
            flush_note(s);
        }
        self.finish(code, title, sections)
    }

    /// `${x}` inside a text is shown as written: say so.
    fn check_label_refs(&mut self, line: usize, name: &str, text: &Text) {
        if text.0.values().any(|t| t.contains("${")) {
            self.warn(Warning::new(
                "survey",
                line,
                name,
                "label",
                code::TEXT_REFERENCE,
            ));
        }
    }
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
fn default_value(t: &Target, d: &str) -> Result<Value, Reason> {
    match t.kind {
        QuestionType::SingleChoice => t
            .choices
            .get(d)
            .cloned()
            .map(Value::from)
            .ok_or_else(|| Reason::new(code::DEFAULT_NOT_A_CHOICE)),
        QuestionType::MultipleChoice => d
            .split_whitespace()
            .map(|n| {
                t.choices
                    .get(n)
                    .cloned()
                    .map(Value::from)
                    .ok_or_else(|| Reason::new(code::DEFAULT_NAME_NOT_A_CHOICE).with("name", n))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        QuestionType::Scale | QuestionType::Number => d
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| Reason::new(code::DEFAULT_NOT_WHOLE)),
        QuestionType::YesNo => truthy(d)
            .map(Value::Bool)
            .ok_or_else(|| Reason::new(code::DEFAULT_NOT_YES_NO)),
        QuestionType::ShortText | QuestionType::LongText => {
            if d.contains("${") || d.contains('(') {
                Err(Reason::new(code::DEFAULT_EXPRESSION))
            } else {
                Ok(Value::from(d))
            }
        }
    }
}

/// Where an internal path is in the form: a sheet row, its XLSForm name
/// (for a choices row, the name of its question: `of`) and the rest of
/// the path; or the path alone when it is not in a row.
#[derive(Debug, PartialEq)]
struct Place {
    sheet: &'static str,
    row: usize,
    name: String,
    of: bool,
    field: String,
}

impl Place {
    fn unlocated(field: &str) -> Place {
        Place {
            sheet: "",
            row: 0,
            name: String::new(),
            of: false,
            field: field.to_owned(),
        }
    }

    /// As a warning's nested part (`first`, see [`super::NESTED`]).
    fn part(&self) -> Reason {
        let mut r = Reason::new(code::PLACE).with("field", self.field.as_str());
        if !self.sheet.is_empty() {
            r = r
                .with("sheet", self.sheet)
                .with("row", self.row.to_string())
                .with(if self.of { "of" } else { "name" }, self.name.as_str());
        }
        r
    }
}

impl std::fmt::Display for Place {
    /// `survey row 14 (a12), label.vi`, `choices row 10 (of a12), value`:
    /// the field of a problem ([`FieldError`] paths are not translated).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.sheet.is_empty() {
            return write!(f, "{}", self.field);
        }
        let of = if self.of { "of " } else { "" };
        write!(f, "{} row {} ({of}{})", self.sheet, self.row, self.name)?;
        if !self.field.is_empty() {
            write!(f, ", {}", self.field)?;
        }
        Ok(())
    }
}

/// `sections[1].questions[2].label.vi` → `survey row 14 (a12), label.vi`;
/// `…options[3]…` → the choices row.
fn place(field: &str, rows: &[SectionRows]) -> Place {
    let index = |s: &str, key: &str| -> Option<(usize, usize)> {
        let start = s.find(key)? + key.len();
        let end = s[start..].find(']')? + start;
        Some((s[start..end].parse().ok()?, end + 1))
    };
    let Some((si, after_s)) = index(field, "sections[") else {
        return Place::unlocated(field);
    };
    let Some(SectionRows {
        row: srow,
        name: sname,
        questions: qs,
    }) = rows.get(si)
    else {
        return Place::unlocated(field);
    };
    let at = |sheet, row: usize, name: &str, of, what: &str| Place {
        sheet,
        row,
        name: name.to_owned(),
        of,
        field: what.trim_start_matches('.').to_owned(),
    };
    let rest = &field[after_s..];
    let Some((qi, after_q)) = index(rest, ".questions[") else {
        return at("survey", *srow, sname, false, rest);
    };
    let Some(QuestionRows {
        row: qrow,
        name: qname,
        options: orows,
    }) = qs.get(qi)
    else {
        return Place::unlocated(field);
    };
    let rest = &rest[after_q..];
    if let Some((oi, after_o)) = index(rest, ".options[")
        && let Some(orow) = orows.get(oi)
    {
        return at("choices", *orow, qname, true, &rest[after_o..]);
    }
    at("survey", *qrow, qname, false, rest)
}

/// [`place`] as a problem's field.
fn locate(field: &str, rows: &[SectionRows]) -> String {
    place(field, rows).to_string()
}

/// A group row's lead-in from Hailong's own column (written by an export:
/// `{"lead_in": {"vi": …, "en": …}}`); empty when absent or unreadable.
fn group_lead_in(cell: Option<(&str, &str)>) -> Text {
    #[derive(serde::Deserialize)]
    struct Extra {
        #[serde(default)]
        lead_in: Text,
    }
    cell.and_then(|(text, _)| serde_json::from_str::<Extra>(text).ok())
        .map(|e| e.lead_in)
        .unwrap_or_default()
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
        assert_eq!(locate("sections[0]", &rows), "survey row 3 (g)");
        assert_eq!(locate("code", &rows), "code");
        assert_eq!(
            place("sections[0].questions[0].options[1].value", &rows).part(),
            Reason::new(code::PLACE)
                .with("sheet", "choices")
                .with("row", "10")
                .with("of", "a12")
                .with("field", "value")
        );
        assert_eq!(
            place("title.vi", &rows).part(),
            Reason::new(code::PLACE).with("field", "title.vi")
        );
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
