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

use super::questionnaire::Definition;
use super::text::Text;
use super::validation::FieldError;

pub use sheets::{MAX_SHEET_COLUMNS, MAX_SHEET_ROWS, reading_spreadsheet};

/// Something in the form that could not be kept exactly; the import goes
/// on. It names the sheet, the row, the XLSForm name and the column.
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
    pub message: String,
}

impl std::fmt::Display for Warning {
    /// `survey row 45 (a12), column relevant: …`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.sheet)?;
        if self.row > 0 {
            write!(f, " row {}", self.row)?;
        }
        if !self.name.is_empty() {
            write!(f, " ({})", self.name)?;
        }
        if !self.column.is_empty() {
            write!(f, ", column {}", self.column)?;
        }
        write!(f, ": {}", self.message)
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
