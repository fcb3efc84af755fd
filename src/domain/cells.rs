//! Spreadsheet cells that cannot run: formula injection is neutralised in
//! every CSV and XLSX cell Hailong writes.
//!
//! A spreadsheet program reads a text cell beginning with `=`, `+`, `-` or
//! `@` as a formula (`=HYPERLINK(…)`, `@SUM(…)`, DDE), and a leading tab
//! or carriage return can hide such a character from a naive check. Such a
//! cell gets a leading `'` (OWASP's advice), which spreadsheets show as
//! text. A plain numeral (`-0.25`, `+3`, `1e-5`) is left alone so numbers
//! keep their sign; numbers in XLSX are written as numeric cells and never
//! pass through here.

use std::borrow::Cow;

/// Whether `s` is a plain decimal numeral: optional sign, digits with at
/// most one point, optional exponent. Such a cell cannot be a formula.
pub fn is_numeral(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut digits = 0;
    let mut point = false;
    while i < b.len() {
        match b[i] {
            b'0'..=b'9' => digits += 1,
            b'.' if !point => point = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == b.len()
}

/// A text cell as it may be written: with a leading `'` when it begins
/// with `=`, `+`, `-`, `@`, tab or carriage return and is not a numeral.
pub fn text(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') if !is_numeral(cell) => {
            Cow::Owned(format!("'{cell}"))
        }
        _ => Cow::Borrowed(cell),
    }
}

/// A text cell that serializes (to CSV or XLSX) through [`text`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Text<'a>(pub &'a str);

impl serde::Serialize for Text<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&text(self.0))
    }
}

/// A CSV record with every cell passed through [`text`].
pub fn record<S: AsRef<str>>(cells: &[S]) -> Vec<String> {
    cells
        .iter()
        .map(|c| text(c.as_ref()).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        for bad in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "@SUM(1)",
            "+1+1",
            "-2+3",
            "\t=1",
            "\r=1",
            "-",
            "=",
            "-cmd|' /C calc'!A0",
        ] {
            assert_eq!(text(bad), format!("'{bad}"), "{bad:?}");
        }
        for ok in [
            "-0.25",
            "+3",
            "1e-5",
            "-2.5E+10",
            "12",
            "Hà Nội",
            "",
            "a=b",
            "'=x",
        ] {
            assert_eq!(text(ok), ok, "{ok:?}");
        }
        assert!(!is_numeral("1e"));
        assert!(!is_numeral("."));
        assert!(!is_numeral("-inf"));
        assert!(!is_numeral("1.2.3"));
    }
}
