//! Reading the sheets of a workbook into plain text rows.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};

use super::XlsFormError;

pub struct Sheet {
    /// Column kinds lowercased (`label::English (en)`).
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Sheet {
    pub fn col(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    pub fn get<'a>(&self, row: &'a [String], name: &str) -> &'a str {
        self.col(name)
            .and_then(|i| row.get(i))
            .map(|s| s.trim())
            .unwrap_or("")
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
pub struct Book {
    pub survey: Sheet,
    pub choices: Option<Sheet>,
    pub settings: Option<Sheet>,
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
pub fn read_book(bytes: &[u8]) -> Result<Book, XlsFormError> {
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
    // pyxform takes a lone sheet as the survey, whatever its name.
    let lone = (names.len() == 1).then(|| names[0].clone());
    let survey_name = find("survey")
        .or(lone)
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
