//! Importing an XLSForm (the spreadsheet format of ODK and KoboToolbox) into a
//! [`Definition`].
//!
//! Mapped: groups → sections; `select_one` → single choice (a `likert`
//! appearance over contiguous whole numbers → a scale), `select_multiple` →
//! multiple choice, `integer`/`decimal` → number, `text` → short text (long
//! text with a `multiline` appearance); `label::<language> (<code>)` and
//! `hint::…` columns; `required`; `relevant` of the forms `${q} = 'x'`,
//! `${q} != 'x'`, `${q} >= n`, `${q} <= n` (and `>`/`<` on whole numbers);
//! `constraint` of the form `. >= a and . <= b` as number bounds.
//! What cannot be mapped becomes a warning naming its row; an unknown type
//! is an error; a file without a `survey` sheet with `type` and `name`
//! columns is not an XLSForm.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};
use serde_json::Value;

use super::questionnaire::{
    Choice, Condition, ConditionOp, Definition, Question, QuestionType, ScalePoint, Section,
};
use super::text::Text;
use super::validation::FieldError;

/// A row that could not be mapped exactly; the import goes on without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub sheet: &'static str,
    /// Row number as the spreadsheet shows it (the header is row 1).
    pub row: usize,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} row {}: {}", self.sheet, self.row, self.message)
    }
}

/// Why an XLSForm could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum XlsFormError {
    #[error("not an XLSForm: {0}")]
    NotXlsForm(String),
    #[error(
        "the sheet \"{sheet}\" is too large: a form has at most {rows} rows and {columns} columns"
    )]
    TooLarge {
        sheet: String,
        rows: u32,
        columns: u32,
    },
    #[error("the form has problems: {0:?}")]
    Invalid(Vec<FieldError>),
}

/// A definition read from an XLSForm, and what could not be mapped.
#[derive(Debug)]
pub struct Imported {
    pub definition: Definition,
    pub warnings: Vec<Warning>,
}

/// Types that are valid XLSForm but have no equivalent here: skipped with a warning.
const UNMAPPED: [&str; 29] = [
    "start",
    "end",
    "today",
    "deviceid",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
    "calculate",
    "note",
    "date",
    "time",
    "datetime",
    "geopoint",
    "geotrace",
    "geoshape",
    "image",
    "audio",
    "video",
    "file",
    "barcode",
    "acknowledge",
    "range",
    "rank",
    "hidden",
    "select_one_from_file",
    "select_multiple_from_file",
];

struct Sheet {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Sheet {
    fn col(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    fn get<'a>(&self, row: &'a [String], name: &str) -> &'a str {
        self.col(name)
            .and_then(|i| row.get(i))
            .map(|s| s.trim())
            .unwrap_or("")
    }

    /// Texts of a column family (`label`, `hint`) by language.
    fn texts(&self, row: &[String], family: &str, default_lang: &str) -> Text {
        let mut map = BTreeMap::new();
        for (i, h) in self.headers.iter().enumerate() {
            let lang = if h == family {
                Some(default_lang.to_owned())
            } else {
                h.strip_prefix(family)
                    .and_then(|rest| rest.strip_prefix("::"))
                    .map(language_code)
            };
            if let (Some(lang), Some(value)) = (lang, row.get(i))
                && !value.trim().is_empty()
            {
                map.insert(lang, value.trim().to_owned());
            }
        }
        Text(map)
    }
}

/// `Tiếng Việt (vi)` → `vi`; `English` → `en`; otherwise the lowercased name.
fn language_code(name: &str) -> String {
    let name = name.trim();
    if let (Some(open), Some(close)) = (name.rfind('('), name.rfind(')'))
        && open < close
    {
        return name[open + 1..close].trim().to_lowercase();
    }
    match name.to_lowercase().as_str() {
        "english" => "en".to_owned(),
        "vietnamese" | "tiếng việt" => "vi".to_owned(),
        other => other.to_owned(),
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

/// Most rows and columns a sheet of an XLSForm may use. Real forms use a
/// few hundred rows and a few dozen columns; the bound keeps a hostile file
/// (one cell at A1, one at XFD1048576) from making the reader allocate the
/// whole rectangle between them.
pub const MAX_SHEET_ROWS: u32 = 20_000;
pub const MAX_SHEET_COLUMNS: u32 = 512;

/// The three sheets an XLSForm is made of, read into plain text.
struct Book {
    survey: Sheet,
    choices: Option<Sheet>,
    settings: Option<Sheet>,
}

thread_local! {
    static READING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is inside the third-party spreadsheet reader. A panic
/// there is caught and answered as an unreadable file; the fuzz targets use
/// this to tell such a panic from one in this crate's own code.
pub fn reading_spreadsheet() -> bool {
    READING.with(std::cell::Cell::get)
}

/// Reads the sheets with calamine. The reader has panicked on malformed
/// files before (arithmetic overflow, slice bounds in the XLS/CFB parsers);
/// such a panic must not take the request (or the process) down, so it is
/// caught here and becomes an error like any other unreadable file.
fn read_book(bytes: &[u8]) -> Result<Book, XlsFormError> {
    READING.with(|r| r.set(true));
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_book_unguarded(bytes)));
    READING.with(|r| r.set(false));
    match result {
        Ok(book) => book,
        Err(_) => {
            tracing::warn!("the spreadsheet reader panicked on an uploaded file");
            Err(XlsFormError::NotXlsForm(
                "the file is damaged: the spreadsheet could not be read".to_owned(),
            ))
        }
    }
}

fn read_book_unguarded(bytes: &[u8]) -> Result<Book, XlsFormError> {
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| XlsFormError::NotXlsForm(format!("not a readable spreadsheet ({e})")))?;
    let names = book.sheet_names();
    let find = |wanted: &str| {
        names
            .iter()
            .find(|n| n.trim().eq_ignore_ascii_case(wanted))
            .cloned()
    };
    let survey_name = find("survey")
        .ok_or_else(|| XlsFormError::NotXlsForm("there is no \"survey\" sheet".to_owned()))?;
    let survey = read_named_sheet(&mut book, &survey_name)?;
    // A damaged optional sheet is treated as absent, as before; one that
    // is too large is an error all the same.
    let mut optional = |name: Option<String>| -> Result<Option<Sheet>, XlsFormError> {
        match name.map(|n| read_named_sheet(&mut book, &n)) {
            None => Ok(None),
            Some(Ok(sheet)) => Ok(Some(sheet)),
            Some(Err(e @ XlsFormError::TooLarge { .. })) => Err(e),
            Some(Err(_)) => Ok(None),
        }
    };
    let choices = optional(find("choices"))?;
    let settings = optional(find("settings"))?;
    Ok(Book {
        survey,
        choices,
        settings,
    })
}

/// One sheet as rows of text. An .xlsx sheet is read cell by cell, so the
/// size bound holds before anything is allocated; the other formats only
/// give the whole range, which is checked once read.
fn read_named_sheet(
    book: &mut calamine::Sheets<Cursor<&[u8]>>,
    name: &str,
) -> Result<Sheet, XlsFormError> {
    let too_large = || XlsFormError::TooLarge {
        sheet: name.to_owned(),
        rows: MAX_SHEET_ROWS,
        columns: MAX_SHEET_COLUMNS,
    };
    let within = |(r, c): (u32, u32)| r < MAX_SHEET_ROWS && c < MAX_SHEET_COLUMNS;
    if let calamine::Sheets::Xlsx(xlsx) = book {
        let mut reader = xlsx
            .worksheet_cells_reader(name)
            .map_err(|e| XlsFormError::NotXlsForm(e.to_string()))?;
        let mut cells: BTreeMap<(u32, u32), String> = BTreeMap::new();
        while let Some(cell) = reader
            .next_cell()
            .map_err(|e| XlsFormError::NotXlsForm(e.to_string()))?
        {
            let text = cell_text(&Data::from(cell.get_value().clone()));
            if text.is_empty() {
                continue;
            }
            if !within(cell.get_position()) {
                return Err(too_large());
            }
            cells.insert(cell.get_position(), text);
        }
        return Ok(sheet_from_cells(cells));
    }
    let range = book
        .worksheet_range(name)
        .map_err(|e| XlsFormError::NotXlsForm(e.to_string()))?;
    if range.end().is_some_and(|end| !within(end)) {
        return Err(too_large());
    }
    Ok(read_sheet(&range))
}

/// The rows between the first and last used ones, each as wide as the used
/// columns, as a dense range would give them.
fn sheet_from_cells(cells: BTreeMap<(u32, u32), String>) -> Sheet {
    let Some((&(first_row, _), _)) = cells.first_key_value() else {
        return sheet_from_rows(std::iter::empty());
    };
    let last_row = cells.keys().map(|&(r, _)| r).max().unwrap_or(first_row);
    let first_col = cells.keys().map(|&(_, c)| c).min().unwrap_or(0);
    let last_col = cells.keys().map(|&(_, c)| c).max().unwrap_or(first_col);
    let width = (last_col - first_col + 1) as usize;
    let mut grid = vec![vec![String::new(); width]; (last_row - first_row + 1) as usize];
    for ((r, c), text) in cells {
        grid[(r - first_row) as usize][(c - first_col) as usize] = text;
    }
    sheet_from_rows(grid.into_iter())
}

fn read_sheet(range: &calamine::Range<Data>) -> Sheet {
    sheet_from_rows(range.rows().map(|r| r.iter().map(cell_text).collect()))
}

/// The first row is the header (column kinds lowercased), the rest are data.
fn sheet_from_rows(mut rows: impl Iterator<Item = Vec<String>>) -> Sheet {
    let headers = rows
        .next()
        .unwrap_or_default()
        .iter()
        .map(|h| h.trim().to_lowercase_header())
        .collect();
    Sheet {
        headers,
        rows: rows.collect(),
    }
}

trait HeaderCase {
    fn to_lowercase_header(&self) -> String;
}

impl HeaderCase for str {
    /// Lowercases the column kind but keeps the language name's case:
    /// `Label::Tiếng Việt (vi)` → `label::Tiếng Việt (vi)`.
    fn to_lowercase_header(&self) -> String {
        match self.split_once("::") {
            Some((kind, lang)) => format!("{}::{}", kind.trim().to_lowercase(), lang.trim()),
            None => self.trim().to_lowercase(),
        }
    }
}

fn truthy(s: &str) -> bool {
    matches!(s.to_lowercase().as_str(), "yes" | "true" | "1" | "true()")
}

/// `. >= a and . <= b` (either half alone too) → (min, max).
fn parse_constraint(s: &str) -> Option<(Option<i64>, Option<i64>)> {
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

/// `${q} = 'x'`, `${q} >= 3`, … → a condition.
fn parse_relevant(s: &str) -> Option<Condition> {
    let rest = s.trim().strip_prefix("${")?;
    let (question, rest) = rest.split_once('}')?;
    let rest = rest.trim();
    let (op, value) = [">=", "<=", "!=", "=", ">", "<"]
        .iter()
        .find_map(|op| rest.strip_prefix(op).map(|v| (*op, v.trim())))?;
    let value: Value = if let Some(q) = value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
    {
        Value::from(q)
    } else {
        Value::from(value.parse::<i64>().ok()?)
    };
    let (op, value) = match op {
        "=" => (ConditionOp::Eq, value),
        "!=" => (ConditionOp::Ne, value),
        ">=" => (ConditionOp::Gte, value),
        "<=" => (ConditionOp::Lte, value),
        ">" => (
            ConditionOp::Gte,
            Value::from(value.as_i64()?.checked_add(1)?),
        ),
        "<" => (
            ConditionOp::Lte,
            Value::from(value.as_i64()?.checked_sub(1)?),
        ),
        _ => return None,
    };
    Some(Condition::leaf(question.trim(), op, Some(value)))
}

/// Reads an XLSForm from the bytes of an .xlsx (or .xls / .ods) file.
pub fn from_bytes(bytes: &[u8], fallback_code: &str) -> Result<Imported, XlsFormError> {
    super::xlsx_guard::check(bytes).map_err(|e| XlsFormError::NotXlsForm(e.to_string()))?;
    let Book {
        survey,
        choices,
        settings,
    } = read_book(bytes)?;
    if survey.col("type").is_none() || survey.col("name").is_none() {
        return Err(XlsFormError::NotXlsForm(
            "the \"survey\" sheet has no \"type\" and \"name\" columns".to_owned(),
        ));
    }
    let setting = |key: &str| -> String {
        settings
            .as_ref()
            .and_then(|s| s.rows.first().map(|row| s.get(row, key).to_owned()))
            .unwrap_or_default()
    };
    let default_lang = {
        let l = setting("default_language");
        if l.is_empty() {
            "vi".to_owned()
        } else {
            language_code(&l)
        }
    };
    let mut warnings = Vec::new();
    let mut errors = Vec::new();

    // Choice lists.
    let mut lists: HashMap<String, Vec<(usize, Choice)>> = HashMap::new();
    if let Some(ch) = &choices {
        let list_col = if ch.col("list_name").is_some() {
            "list_name"
        } else {
            "list name"
        };
        for (i, row) in ch.rows.iter().enumerate() {
            let list = ch.get(row, list_col);
            let name = ch.get(row, "name");
            if list.is_empty() && name.is_empty() {
                continue;
            }
            lists.entry(list.to_owned()).or_default().push((
                i + 2,
                Choice {
                    value: name.to_owned(),
                    label: ch.texts(row, "label", &default_lang),
                    filters: Default::default(),
                },
            ));
        }
    }

    let form_title = settings
        .as_ref()
        .and_then(|s| {
            s.rows
                .first()
                .map(|row| s.texts(row, "form_title", &default_lang))
        })
        .filter(|t| !t.is_empty());
    let code = Some(setting("form_id"))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| fallback_code.to_owned());
    let title = form_title.unwrap_or_else(|| Text::vi_en(&code, ""));

    let mut sections: Vec<Section> = Vec::new();
    let mut current: Option<Section> = None;
    let mut depth = 0usize;
    let main = |title: &Text| Section {
        code: "main".to_owned(),
        title: title.clone(),
        description: Text::default(),
        questions: vec![],
        condition: None,
    };
    for (i, row) in survey.rows.iter().enumerate() {
        let line = i + 2;
        let raw_type = survey.get(row, "type");
        if raw_type.is_empty() {
            continue;
        }
        let mut words = raw_type.split_whitespace();
        let kind = words.next().unwrap_or("").to_lowercase();
        let arg = words.next().unwrap_or("");
        if words.next().is_some() || arg == "or_other" {
            warnings.push(Warning {
                sheet: "survey",
                row: line,
                message: "\"or_other\" is not supported; the option was left out".to_owned(),
            });
        }
        let name = survey.get(row, "name").to_owned();
        match kind.as_str() {
            "begin_group" | "begin" if kind == "begin_group" || arg == "group" => {
                depth += 1;
                if depth > 1 {
                    warnings.push(Warning {
                        sheet: "survey",
                        row: line,
                        message: "nested group flattened into its parent section".to_owned(),
                    });
                    continue;
                }
                if let Some(s) = current.take().filter(|s| !s.questions.is_empty()) {
                    sections.push(s);
                }
                let label = survey.texts(row, "label", &default_lang);
                current = Some(Section {
                    code: name.clone(),
                    title: if label.is_empty() {
                        Text::vi_en(&name, "")
                    } else {
                        label
                    },
                    description: survey.texts(row, "hint", &default_lang),
                    questions: vec![],
                    condition: None,
                });
                continue;
            }
            "end_group" | "end" if kind == "end_group" || arg == "group" => {
                depth = depth.saturating_sub(1);
                if depth == 0
                    && let Some(s) = current.take().filter(|s| !s.questions.is_empty())
                {
                    sections.push(s);
                }
                continue;
            }
            "begin_repeat" | "end_repeat" => {
                warnings.push(Warning {
                    sheet: "survey",
                    row: line,
                    message: "repeats are not supported; their questions are asked once".to_owned(),
                });
                continue;
            }
            "begin" | "end" if arg == "repeat" => {
                warnings.push(Warning {
                    sheet: "survey",
                    row: line,
                    message: "repeats are not supported; their questions are asked once".to_owned(),
                });
                continue;
            }
            _ => {}
        }
        if UNMAPPED.contains(&kind.as_str()) {
            warnings.push(Warning {
                sheet: "survey",
                row: line,
                message: format!("type \"{kind}\" ({name}) cannot be mapped and was left out"),
            });
            continue;
        }
        let appearance = survey.get(row, "appearance").to_lowercase();
        let mut q = Question {
            code: name.clone(),
            kind: QuestionType::ShortText,
            required: truthy(survey.get(row, "required")),
            label: survey.texts(row, "label", &default_lang),
            help: survey.texts(row, "hint", &default_lang),
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
        match kind.as_str() {
            "select_one" | "select_multiple" => {
                let Some(options) = lists.get(arg) else {
                    errors.push(
                        FieldError::new(format!("survey row {line}"), "xlsform_unknown_list")
                            .with("list", arg.to_owned()),
                    );
                    continue;
                };
                let numbers: Option<Vec<i64>> =
                    options.iter().map(|(_, c)| c.value.parse().ok()).collect();
                let contiguous = numbers.as_ref().is_some_and(|n| {
                    let mut s = n.clone();
                    s.sort_unstable();
                    s.len() >= 2 && s.windows(2).all(|w| w[0].checked_add(1) == Some(w[1]))
                });
                if kind == "select_one" && appearance.contains("likert") && contiguous {
                    let values = numbers.unwrap_or_default();
                    q.kind = QuestionType::Scale;
                    q.min = values.iter().min().copied();
                    q.max = values.iter().max().copied();
                    q.points = options
                        .iter()
                        .zip(values)
                        .map(|((_, c), v)| ScalePoint {
                            value: v,
                            label: c.label.clone(),
                        })
                        .collect();
                } else {
                    q.kind = if kind == "select_one" {
                        QuestionType::SingleChoice
                    } else {
                        QuestionType::MultipleChoice
                    };
                    q.options = options.iter().map(|(_, c)| c.clone()).collect();
                }
            }
            "integer" | "decimal" => {
                q.kind = QuestionType::Number;
                if kind == "decimal" {
                    warnings.push(Warning {
                        sheet: "survey",
                        row: line,
                        message: format!(
                            "\"{name}\" is decimal; answers are taken as whole numbers"
                        ),
                    });
                }
                let constraint = survey.get(row, "constraint");
                if !constraint.is_empty() {
                    match parse_constraint(constraint) {
                        Some((min, max)) => {
                            q.min = min;
                            q.max = max;
                        }
                        None => warnings.push(Warning {
                            sheet: "survey",
                            row: line,
                            message: format!(
                                "constraint \"{constraint}\" cannot be mapped and was left out"
                            ),
                        }),
                    }
                }
            }
            "text" => {
                q.kind = if appearance.contains("multiline") {
                    QuestionType::LongText
                } else {
                    QuestionType::ShortText
                };
            }
            other => {
                errors.push(
                    FieldError::new(format!("survey row {line}"), "xlsform_unknown_type")
                        .with("type", other.to_owned()),
                );
                continue;
            }
        }
        let relevant = survey.get(row, "relevant");
        if !relevant.is_empty() {
            match parse_relevant(relevant) {
                Some(c) => q.condition = Some(c),
                None => warnings.push(Warning {
                    sheet: "survey",
                    row: line,
                    message: format!(
                        "condition \"{relevant}\" cannot be mapped; the question is always shown"
                    ),
                }),
            }
        }
        current
            .get_or_insert_with(|| main(&title))
            .questions
            .push(q);
    }
    if let Some(s) = current.take().filter(|s| !s.questions.is_empty()) {
        sections.push(s);
    }
    let definition = Definition {
        code,
        title,
        description: Text::default(),
        sections,
        indices: vec![],
        source: None,
    };
    if let Err(list) = definition.check() {
        errors.extend(list);
    }
    if errors.is_empty() {
        Ok(Imported {
            definition,
            warnings,
        })
    } else {
        Err(XlsFormError::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn conditions_and_constraints_parse() {
        let c = parse_relevant("${visited} = 'yes'").unwrap();
        let c = c.as_leaf().unwrap().clone();
        assert_eq!(c.question, "visited");
        assert_eq!(c.op, ConditionOp::Eq);
        assert_eq!(c.value, Some(Value::from("yes")));
        let c = parse_relevant("${age}>17").unwrap();
        let c = c.as_leaf().unwrap().clone();
        assert_eq!((c.op, c.value), (ConditionOp::Gte, Some(Value::from(18))));
        assert!(parse_relevant("selected(${x}, 'a')").is_none());
        assert_eq!(
            parse_constraint(". >= 0 and . <= 120"),
            Some((Some(0), Some(120)))
        );
        assert_eq!(parse_constraint(". >= 1"), Some((Some(1), None)));
        assert_eq!(parse_constraint("regex(., '^a')"), None);
        assert_eq!(language_code("Tiếng Việt (vi)"), "vi");
        assert_eq!(language_code("English"), "en");
    }

    /// A minimal .xlsx whose one sheet, "survey", holds these cells
    /// (reference, inline text).
    fn xlsx(cells: &[(&str, &str)]) -> Vec<u8> {
        let part = |name: &str, body: String| (name.to_owned(), body.into_bytes());
        let cells: String = cells
            .iter()
            .map(|(r, t)| format!(r#"<c r="{r}" t="inlineStr"><is><t>{t}</t></is></c>"#))
            .collect();
        crate::services::export::zip(&[
            part(
                "[Content_Types].xml",
                r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_owned(),
            ),
            part(
                "_rels/.rels",
                r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned(),
            ),
            part(
                "xl/workbook.xml",
                r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="survey" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned(),
            ),
            part(
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_owned(),
            ),
            part(
                "xl/worksheets/sheet1.xml",
                format!(
                    r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row>{cells}</row></sheetData></worksheet>"#
                ),
            ),
        ])
        .unwrap()
    }

    #[test]
    fn a_hand_made_workbook_reads() {
        let err = from_bytes(&xlsx(&[("A1", "type"), ("B1", "name")]), "t").unwrap_err();
        // Read fine: no questions is a problem of the form, not of the file.
        assert!(matches!(err, XlsFormError::Invalid(_)), "{err}");
        let err = from_bytes(&xlsx(&[("A1", "kind")]), "t").unwrap_err();
        assert!(err.to_string().contains("\"type\" and \"name\""), "{err}");
    }

    #[test]
    fn cells_far_apart_are_refused_before_any_allocation() {
        let err = from_bytes(&xlsx(&[("A1", "type"), ("XFD1048576", "x")]), "t").unwrap_err();
        assert!(
            matches!(&err, XlsFormError::TooLarge { sheet, .. } if sheet == "survey"),
            "{err}"
        );
        assert!(err.to_string().contains("too large"), "{err}");
    }

    #[test]
    fn a_panic_in_the_spreadsheet_reader_is_an_error() {
        // Nine letters overflow calamine's u32 column arithmetic: a panic
        // under overflow checks (debug builds, and calamine in release per
        // the workspace profile), which must come back as an error.
        let err = from_bytes(&xlsx(&[("AAAAAAAAA1", "type")]), "t").unwrap_err();
        assert!(matches!(err, XlsFormError::NotXlsForm(_)), "{err}");
        assert!(!reading_spreadsheet());
    }
}
