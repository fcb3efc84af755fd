//! Importing an XLSForm (the spreadsheet format of ODK and KoboToolbox) into a
//! [`Definition`], and writing one back out.
//!
//! The parts, each small enough to read in one go:
//! - [`sheets`]: the workbook's `survey`, `choices` and `settings` sheets as text;
//! - [`types`]: pyxform's question types, old spellings included, and what
//!   each becomes here;
//! - [`languages`]: language columns (`label::English (en)`, `label:Français`,
//!   a plain `label`) and the main language;
//! - [`names`]: XLSForm names turned into codes;
//! - [`expr`]: the XPath subset conditions are written in;
//! - [`conditions`]: those expressions as Hailong's condition tree;
//! - [`mapping`]: rows into sections and questions, with a warning for
//!   everything that cannot be kept exactly;
//! - [`export`]: a definition as an XLSForm that pyxform accepts and that
//!   reads back to the same definition.

pub mod conditions;
pub mod export;
pub mod expr;
pub mod languages;
pub mod mapping;
pub mod names;
pub mod sheets;
pub mod types;

use std::collections::BTreeMap;

use super::questionnaire::Definition;
use super::text::Text;
use super::validation::FieldError;

pub use sheets::{MAX_SHEET_COLUMNS, MAX_SHEET_ROWS, reading_spreadsheet};

/// Declares the codes of the importer's messages: one constant each, and
/// [`code::ALL`] listing them (a test checks that every one has its
/// `xlsform-<code>` text in every locale).
macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal,)*) => {
        $($(#[$doc])* pub const $name: &str = $code;)*
        /// Every code above.
        pub const ALL: &[&str] = &[$($code),*];
    };
}

/// The stable codes of warnings and of their reasons; the text of each is
/// `xlsform-<code>` in `locales/` (see `crate::error::warning_line`).
pub mod code {
    codes! {
        // Languages (the settings sheet).
        LANGUAGE_UNKNOWN = "language_unknown",
        DEFAULT_LANGUAGE_UNKNOWN = "default_language_unknown",
        PLAIN_LABEL_ENGLISH = "plain_label_english",
        // Groups, repeats, texts.
        REPEAT_ASKED_ONCE = "repeat_asked_once",
        GROUP_IN_GROUP = "group_in_group",
        END_WITHOUT_BEGIN = "end_without_begin",
        GROUP_WITHOUT_END = "group_without_end",
        GROUP_EMPTY = "group_empty",
        NOTHING_TO_IMPORT = "nothing_to_import",
        TEXT_REFERENCE = "text_reference",
        NO_LABEL = "no_label",
        NO_VIETNAMESE = "no_vietnamese",
        HAILONG_NOT_READ = "hailong_not_read",
        INDEX_NOT_READ = "index_not_read",
        // Rows left out.
        METADATA_LEFT_OUT = "metadata_left_out",
        CALCULATE_LEFT_OUT = "calculate_left_out",
        CALCULATE_WITH_FORMULA_LEFT_OUT = "calculate_with_formula_left_out",
        TYPE_LEFT_OUT = "type_left_out",
        NOTE = "note",
        NOTE_CONDITION_DROPPED = "note_condition_dropped",
        // Names.
        RENAMED_NAME_USED = "renamed_name_used",
        RENAMED_NOT_A_CODE = "renamed_not_a_code",
        CHOICES_RENAMED = "choices_renamed",
        // Types asked differently.
        ONE_CHOICE_YES_NO = "one_choice_yes_no",
        RANK = "rank",
        DECIMAL = "decimal",
        RANGE = "range",
        RANGE_STEP = "range_step",
        DATE_TIME = "date_time",
        ACKNOWLEDGE = "acknowledge",
        OR_OTHER = "or_other",
        // Columns.
        CONDITION_NOT_KEPT = "condition_not_kept",
        DEFAULT_NOT_KEPT = "default_not_kept",
        READ_ONLY_EXPRESSION = "read_only_expression",
        CALCULATION_NOT_SUPPORTED = "calculation_not_supported",
        APPEARANCE_UNUSED = "appearance_unused",
        MEDIA = "media",
        FILTER_NO_COLUMN = "filter_no_column",
        FILTER_WITHOUT_CHOICES = "filter_without_choices",
        FILTER_NOT_KEPT = "filter_not_kept",
        FIELD_NOT_STORED = "field_not_stored",
        GROUP_CONDITION_NOT_STORED = "group_condition_not_stored",
        // What happens instead of a condition (`then`).
        THEN_GROUP_SHOWN = "then_group_shown",
        THEN_QUESTION_SHOWN = "then_question_shown",
        THEN_OPTIONAL = "then_optional",
        THEN_ANY_ANSWER = "then_any_answer",
        // Why a default cannot be kept.
        DEFAULT_NOT_A_CHOICE = "default_not_a_choice",
        DEFAULT_NAME_NOT_A_CHOICE = "default_name_not_a_choice",
        DEFAULT_NOT_WHOLE = "default_not_whole",
        DEFAULT_NOT_YES_NO = "default_not_yes_no",
        DEFAULT_EXPRESSION = "default_expression",
        // Why a row cannot be referred to (it is not asked).
        NOT_ASKED_METADATA = "not_asked_metadata",
        NOT_ASKED_CALCULATION = "not_asked_calculation",
        NOT_ASKED_TYPE = "not_asked_type",
        NOT_ASKED_NOTE = "not_asked_note",
        // What in an expression is outside the subset (`expr`).
        EXPR_TOO_LONG = "expr_too_long",
        EXPR_UNCLOSED_REFERENCE = "expr_unclosed_reference",
        EXPR_UNCLOSED_QUOTE = "expr_unclosed_quote",
        EXPR_PATH = "expr_path",
        EXPR_NUMBER = "expr_number",
        EXPR_SIGN = "expr_sign",
        EXPR_MISSING_PARENTHESIS = "expr_missing_parenthesis",
        EXPR_CHAINED = "expr_chained",
        EXPR_TOO_DEEP = "expr_too_deep",
        EXPR_WORD = "expr_word",
        EXPR_ARGUMENTS = "expr_arguments",
        EXPR_FUNCTION = "expr_function",
        EXPR_NO_LEFT_SIDE = "expr_no_left_side",
        EXPR_INCOMPLETE = "expr_incomplete",
        EXPR_EMPTY = "expr_empty",
        EXPR_TRAILING = "expr_trailing",
        // What in an expression Hailong cannot evaluate (`conditions`).
        COND_NOT_ASKED = "cond_not_asked",
        COND_NOT_EARLIER = "cond_not_earlier",
        COND_DOT_OUTSIDE = "cond_dot_outside",
        COND_TWO_COMPUTED = "cond_two_computed",
        COND_WITH_COMPUTED = "cond_with_computed",
        COND_NOT_A_CHOICE = "cond_not_a_choice",
        COND_NOT_A_NUMBER = "cond_not_a_number",
        COND_NOT_AN_ANSWER = "cond_not_an_answer",
        COND_REGEX_PATTERN = "cond_regex_pattern",
        COND_TWO_ANSWERS = "cond_two_answers",
        COND_ORDER_EMPTY = "cond_order_empty",
        COND_OF_COMPUTED = "cond_of_computed",
        COND_VALUE = "cond_value",
        COND_FUNCTION = "cond_function",
        COND_FILTER_FORM = "cond_filter_form",
    }

    /// The words of a place in the form (`survey row 45 (a12), column
    /// relevant`): keys `xlsform-<word>` too, not codes of a message.
    pub const PLACE_WORDS: &[&str] = &["sheet", "sheet_row", "of", "column"];

    /// The value of a [`super::NESTED`] parameter that is a place, not a message.
    pub const PLACE: &str = "place";
}

/// Parameters whose value is not text from the form but a part that is
/// translated too: `why` (a reason) and `then` (what happens instead) hold
/// the code of another message, whose own parameters are under `why.` /
/// `then.` (as deep as needed: `why.why`); `first` holds [`code::PLACE`], a
/// place in the form given by `first.sheet`, `first.row`, `first.name`,
/// `first.of` (a choices row: the name is its question's) and `first.field`.
pub const NESTED: &[&str] = &["why", "then", "first"];

/// Values for a message: text from the form verbatim, or a nested part
/// (see [`NESTED`]) flattened under its name.
fn add_nested(params: &mut BTreeMap<String, String>, key: &str, reason: Reason) {
    params.insert(key.to_owned(), reason.code.to_owned());
    for (k, v) in reason.params {
        params.insert(format!("{key}.{k}"), v);
    }
}

/// Why something cannot be kept (an expression outside the subset, a default
/// that is not a choice…): a code and its values, put into a [`Warning`] as
/// its `why`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: &'static str,
    pub params: BTreeMap<String, String>,
}

impl Reason {
    pub fn new(code: &'static str) -> Reason {
        Reason {
            code,
            params: BTreeMap::new(),
        }
    }

    /// Adds a value for the message.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Reason {
        self.params.insert(key.to_owned(), value.into());
        self
    }

    /// Adds a nested part (`why`, see [`NESTED`]).
    pub fn with_part(mut self, key: &str, part: Reason) -> Reason {
        add_nested(&mut self.params, key, part);
        self
    }

    /// This reason as a warning of its own at a place in the form.
    pub fn at(self, sheet: &'static str, row: usize, name: &str, column: &str) -> Warning {
        Warning {
            params: self.params,
            ..Warning::new(sheet, row, name, column, self.code)
        }
    }
}

/// Something in the form that could not be kept exactly; the import goes
/// on. It names the sheet, the row, the XLSForm name and the column; what
/// happened is a stable [`code`] with its values, translated where it is
/// shown (`crate::error::warning_line`: `survey row 45 (a12), column
/// relevant: …`, `trang survey, dòng 45 (a12), cột relevant: …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub sheet: &'static str,
    /// Row number as the spreadsheet shows it (the header is row 1); 0 for
    /// the form as a whole.
    pub row: usize,
    /// The row's XLSForm name (may be empty).
    pub name: String,
    /// The column concerned, as written in the header (may be empty).
    pub column: String,
    /// One of [`code::ALL`]; the message is `t("xlsform-" + code)`.
    pub code: &'static str,
    /// Values to put into the message: names, expressions, types as
    /// written in the form, and nested parts (see [`NESTED`]).
    pub params: BTreeMap<String, String>,
}

impl Warning {
    pub fn new(
        sheet: &'static str,
        row: usize,
        name: &str,
        column: &str,
        code: &'static str,
    ) -> Warning {
        Warning {
            sheet,
            row,
            name: name.to_owned(),
            column: column.to_owned(),
            code,
            params: BTreeMap::new(),
        }
    }

    /// Adds a value for the message.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Warning {
        self.params.insert(key.to_owned(), value.into());
        self
    }

    /// Adds a nested part (`why`, `then`; see [`NESTED`]).
    pub fn with_part(mut self, key: &str, part: Reason) -> Warning {
        add_nested(&mut self.params, key, part);
        self
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

/// A refusal with the warnings found before it (shown too).
#[derive(Debug)]
pub struct Refused {
    pub error: XlsFormError,
    pub warnings: Vec<Warning>,
}

impl From<XlsFormError> for Refused {
    fn from(error: XlsFormError) -> Self {
        Refused {
            error,
            warnings: vec![],
        }
    }
}

/// A definition read from an XLSForm, and what could not be mapped.
#[derive(Debug)]
pub struct Imported {
    pub definition: Definition,
    pub warnings: Vec<Warning>,
    /// Some texts have no Vietnamese: a draft that needs translating
    /// before it can be published (the definition does not pass
    /// [`Definition::check`] until then, for that reason only).
    pub translation_needed: bool,
}

/// Reads an XLSForm from the bytes of an .xlsx (or .xls / .ods) file; a
/// refusal keeps its warnings.
pub fn read(bytes: &[u8], fallback_code: &str) -> Result<Imported, Refused> {
    // Declared and actual part sizes are checked before the reader allocates.
    super::xlsx_guard::check(bytes).map_err(|e| XlsFormError::NotXlsForm(e.to_string()))?;
    let book = sheets::read_book(bytes)?;
    if book.survey.col("type").is_none() || book.survey.col("name").is_none() {
        return Err(XlsFormError::NotXlsForm(
            "the \"survey\" sheet has no \"type\" and \"name\" columns".to_owned(),
        )
        .into());
    }
    let setting = |key: &str| -> String {
        book.settings
            .as_ref()
            .and_then(|s| s.rows.first().map(|row| s.get(row, key).to_owned()))
            .unwrap_or_default()
    };
    let default_language = setting("default_language");
    let mapper = mapping::Mapper::new(&book, &default_language);
    let form_title = book
        .settings
        .as_ref()
        .and_then(|s| s.rows.first().map(|row| mapper.texts(s, row, "form_title")))
        .filter(|t| !t.is_empty());
    let fallback = names::clean(fallback_code, "questionnaire");
    let code = Some(setting("form_id"))
        .filter(|c| !c.is_empty())
        .map(|c| names::clean(&c, &fallback))
        .unwrap_or(fallback);
    let title = form_title.unwrap_or_else(|| Text::vi_en(&code, ""));
    mapper.map(code, title)
}

/// [`read`] without the warnings of a refusal.
pub fn from_bytes(bytes: &[u8], fallback_code: &str) -> Result<Imported, XlsFormError> {
    read(bytes, fallback_code).map_err(|r| r.error)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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

    /// The `$variables` of each `xlsform-` message of a Fluent source.
    fn variables(source: &str) -> BTreeMap<String, std::collections::BTreeSet<String>> {
        source
            .lines()
            .filter_map(|l| l.strip_prefix("xlsform-")?.split_once(" = "))
            .map(|(key, text)| {
                let vars = text
                    .split('$')
                    .skip(1)
                    .map(|v| {
                        v.chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect()
                    })
                    .filter(|v: &String| !v.is_empty())
                    .collect();
                (key.trim().to_owned(), vars)
            })
            .collect()
    }

    #[test]
    fn every_code_has_its_text_with_the_same_values_in_every_locale() {
        let mut codes: Vec<&str> = code::ALL.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), code::ALL.len(), "a code is listed twice");
        let words: Vec<&str> = code::ALL.iter().chain(code::PLACE_WORDS).copied().collect();
        let mut by_lang = vec![];
        for (lang, source) in crate::i18n::SOURCES {
            let keys = crate::i18n::keys_of(source);
            for c in &words {
                assert!(
                    keys.contains(&format!("xlsform-{c}")),
                    "xlsform-{c} is missing in {}",
                    lang.code()
                );
            }
            for k in keys.iter().filter_map(|k| k.strip_prefix("xlsform-")) {
                assert!(
                    words.contains(&k),
                    "xlsform-{k} is no code ({})",
                    lang.code()
                );
            }
            by_lang.push(variables(source));
        }
        assert_eq!(by_lang[0].len(), words.len());
        assert_eq!(
            by_lang[0], by_lang[1],
            "vi and en messages take the same values"
        );
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
