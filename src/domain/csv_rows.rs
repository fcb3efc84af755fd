//! The rows of an imported CSV file (a list of localities, a sampling frame,
//! a census table, a crosswalk): `#` comment lines skipped, fields trimmed,
//! columns found by their header name. A file whose header cannot be read or
//! lacks a required column is refused at once; an unreadable row becomes a
//! [`LineProblem`] on its line and the rows after it are still read, so
//! every problem of a file is reported together.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

/// A problem with one line (and field) of an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    /// 1-based line of the file (the header is line 1); 0 for the file itself.
    pub line: u64,
    pub field: String,
    pub message: String,
}

impl LineProblem {
    pub fn new(line: u64, field: &str, message: impl Into<String>) -> LineProblem {
        LineProblem {
            line,
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.field, self.message)
        } else {
            write!(f, "line {}, {}: {}", self.line, self.field, self.message)
        }
    }
}

/// Problems of a file, in line order, printed on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<LineProblem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.0.iter().take(50).map(ToString::to_string).collect();
        write!(f, "{}", shown.join("; "))?;
        if self.0.len() > 50 {
            write!(f, "; and {} more problems", self.0.len() - 50)?;
        }
        Ok(())
    }
}

/// The rows of a CSV file, read one at a time.
pub struct CsvRows<R> {
    reader: csv::Reader<R>,
    cols: HashMap<String, usize>,
    record: csv::StringRecord,
}

/// One readable row: its line and its fields by column name.
pub struct Row<'a> {
    /// 1-based line of the file (the header is line 1).
    pub line: u64,
    record: &'a csv::StringRecord,
    cols: &'a HashMap<String, usize>,
}

impl<R: Read> CsvRows<R> {
    /// Reads the header of `input`, which must name every `required` column
    /// (a leading byte-order mark is ignored).
    pub fn open(input: R, required: &[&str]) -> Result<CsvRows<R>, Problems> {
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(input);
        let headers = reader
            .headers()
            .map_err(|e| Problems(vec![LineProblem::new(1, "header", e.to_string())]))?;
        let cols: HashMap<String, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim_start_matches('\u{feff}').to_owned(), i))
            .collect();
        let missing: Vec<LineProblem> = required
            .iter()
            .filter(|c| !cols.contains_key(**c))
            .map(|c| LineProblem::new(1, c, "column missing from the header"))
            .collect();
        if !missing.is_empty() {
            return Err(Problems(missing));
        }
        Ok(CsvRows {
            reader,
            cols,
            record: csv::StringRecord::new(),
        })
    }

    /// The next readable row; an unreadable one is added to `problems` (field
    /// `row`, with its line) and skipped. `None` at the end of the file.
    pub fn next_row(&mut self, problems: &mut Vec<LineProblem>) -> Option<Row<'_>> {
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(true) => break,
                Ok(false) => return None,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    problems.push(LineProblem::new(line, "row", e.to_string()));
                    // An I/O error would repeat forever; a bad row does not.
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        return None;
                    }
                }
            }
        }
        Some(Row {
            line: self.record.position().map_or(0, |p| p.line()),
            record: &self.record,
            cols: &self.cols,
        })
    }
}

impl Row<'_> {
    /// The non-empty value of column `name`.
    pub fn field(&self, name: &str) -> Option<String> {
        self.cols
            .get(name)
            .and_then(|i| self.record.get(*i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rows_come_with_their_lines_and_bad_rows_become_problems() {
        let input = b"# a comment\n\xef\xbb\xbfcode,size\n01 , 5\n02,\xff\n03,7\n";
        let mut rows = CsvRows::open(&input[..], &["code"]).unwrap();
        let mut problems = Vec::new();
        let mut seen = Vec::new();
        while let Some(row) = rows.next_row(&mut problems) {
            seen.push((row.line, row.field("code"), row.field("size")));
        }
        assert_eq!(
            seen,
            vec![
                (3, Some("01".into()), Some("5".into())),
                (5, Some("03".into()), Some("7".into())),
            ]
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!((problems[0].line, problems[0].field.as_str()), (4, "row"));
    }

    #[test]
    fn a_missing_column_refuses_the_file() {
        let Err(p) = CsvRows::open(&b"code\n01\n"[..], &["code", "size"]) else {
            panic!("accepted");
        };
        assert_eq!(
            p.to_string(),
            "line 1, size: column missing from the header"
        );
    }
}
