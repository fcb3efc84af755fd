//! The columns of the rows read from the survey CSV.

use crate::compact::{RAW_MISSING, answer, raw_code};

use super::super::StatsCliError;
use super::cells::{Interner, Known, KnownCopy, parse_number, show};

/// The fields of one record.
pub(super) trait Fields {
    /// Field `i`, empty when the record has fewer.
    fn field(&self, i: usize) -> &[u8];
}

impl Fields for csv::ByteRecord {
    #[inline]
    fn field(&self, i: usize) -> &[u8] {
        self.get(i).unwrap_or_default()
    }
}

/// Where the columns of the estimate are in the header.
pub(super) struct Cols {
    pub(super) items: Vec<usize>,
    pub(super) weight: Option<usize>,
    pub(super) strata: Option<usize>,
    pub(super) psu: Vec<usize>,
    pub(super) fpc: Vec<usize>,
    pub(super) by: Option<usize>,
    pub(super) cal: Vec<usize>,
}

/// The columns of the rows read so far.
pub(super) struct Rows {
    pub(super) items: Vec<Vec<f64>>,
    pub(super) weights: Vec<f64>,
    pub(super) strata: Option<Interner>,
    pub(super) psu: Vec<Interner>,
    pub(super) fpc: Vec<Vec<f64>>,
    pub(super) by: Option<Interner>,
    pub(super) cal: Vec<Interner>,
    pub(super) lines: Vec<u64>,
    /// Bytes of text the rows were read from (to size the columns of a whole file).
    pub(super) text_len: usize,
    /// The answers as bytes, row after row, while every answer is an integer 0–63
    /// ([`crate::compact::RAW_MISSING`] for a missing one); `small` false and empty after.
    pub(super) codes: Vec<u8>,
    pub(super) small: bool,
    /// The largest answer in `codes`.
    pub(super) max_code: u8,
}

impl Rows {
    pub(super) fn new(cols: &Cols, capacity: usize) -> Rows {
        Rows {
            items: cols.items.iter().map(|_| Vec::new()).collect(),
            weights: Vec::with_capacity(capacity),
            strata: cols.strata.map(|_| Interner::new(capacity)),
            psu: cols.psu.iter().map(|_| Interner::new(capacity)).collect(),
            fpc: cols
                .fpc
                .iter()
                .map(|_| Vec::with_capacity(capacity))
                .collect(),
            by: cols.by.map(|_| Interner::new(capacity)),
            cal: cols.cal.iter().map(|_| Interner::new(capacity)).collect(),
            lines: Vec::with_capacity(capacity),
            text_len: 0,
            codes: Vec::with_capacity(capacity * cols.items.len()),
            small: true,
            max_code: 0,
        }
    }

    /// Reads one record (file line `line`).
    pub(super) fn push<R: Fields>(
        &mut self,
        rec: &R,
        line: u64,
        cols: &Cols,
        header: &[String],
        known: Option<&Known<'_>>,
    ) -> Result<(), StatsCliError> {
        self.lines.push(line);
        let field = |i: usize| rec.field(i);
        let bad = |col: usize, message: String| StatsCliError::Value {
            line,
            column: header[col].clone(),
            message,
        };
        if self.small {
            // Answers as bytes while they are integers 0–63; at the first other answer every
            // answer so far becomes a number and the row is read again as numbers.
            let start = self.codes.len();
            for &col in &cols.items {
                let raw = field(col);
                // The common answers: one digit, or none.
                match raw {
                    [] => {
                        self.codes.push(RAW_MISSING);
                        continue;
                    }
                    [d @ b'0'..=b'9'] => {
                        let c = d - b'0';
                        self.codes.push(c);
                        self.max_code = self.max_code.max(c);
                        continue;
                    }
                    _ => {}
                }
                match parse_number(raw) {
                    Ok(Some(x)) => match raw_code(x) {
                        Some(c) => {
                            self.codes.push(c);
                            self.max_code = self.max_code.max(c);
                        }
                        None => {
                            self.codes.truncate(start);
                            self.answers_as_numbers();
                            break;
                        }
                    },
                    Ok(None) => self.codes.push(RAW_MISSING),
                    Err(()) => {
                        return Err(bad(
                            col,
                            format!("answer \"{}\" is not a number", show(raw)),
                        ));
                    }
                }
            }
        }
        if !self.small {
            for (values, &col) in self.items.iter_mut().zip(&cols.items) {
                let raw = field(col);
                match parse_number(raw) {
                    Ok(Some(x)) => values.push(x),
                    Ok(None) => values.push(f64::NAN),
                    Err(()) => {
                        return Err(bad(
                            col,
                            format!("answer \"{}\" is not a number", show(raw)),
                        ));
                    }
                }
            }
        }
        match cols.weight {
            Some(col) => {
                let raw = field(col);
                match parse_number(raw) {
                    Ok(Some(w)) if w >= 0.0 => self.weights.push(w),
                    Ok(Some(w)) => return Err(bad(col, format!("negative weight {w}"))),
                    Ok(None) => return Err(bad(col, "missing weight".into())),
                    Err(()) => {
                        return Err(bad(
                            col,
                            format!("weight \"{}\" is not a number", show(raw)),
                        ));
                    }
                }
            }
            None => self.weights.push(1.0),
        }
        if let (Some(int), Some(col)) = (self.strata.as_mut(), cols.strata) {
            let raw = field(col);
            if raw.is_empty() {
                return Err(bad(col, "empty stratum".into()));
            }
            int.push(raw, known.and_then(|k| k.strata));
        }
        for (s, (int, &col)) in self.psu.iter_mut().zip(&cols.psu).enumerate() {
            let raw = field(col);
            if raw.is_empty() {
                return Err(bad(col, "empty cluster id".into()));
            }
            int.push(raw, known.and_then(|k| k.psu.get(s).copied()));
        }
        for (values, &col) in self.fpc.iter_mut().zip(&cols.fpc) {
            let raw = field(col);
            match parse_number(raw) {
                Ok(Some(x)) => values.push(x),
                Ok(None) => return Err(bad(col, "missing fpc".into())),
                Err(()) => {
                    let text = show(raw);
                    if text.trim().eq_ignore_ascii_case("inf") {
                        values.push(f64::INFINITY);
                    } else {
                        return Err(bad(col, format!("fpc \"{text}\" is not a number")));
                    }
                }
            }
        }
        if let (Some(int), Some(col)) = (self.by.as_mut(), cols.by) {
            let raw = field(col);
            if raw.is_empty() {
                return Err(bad(col, "empty value in the --by column".into()));
            }
            int.push(raw, known.and_then(|k| k.by));
        }
        for (c, (int, &col)) in self.cal.iter_mut().zip(&cols.cal).enumerate() {
            int.push(field(col), known.and_then(|k| k.cal.get(c).copied()));
        }
        Ok(())
    }

    /// Turns the answers kept as bytes into numbers (from now on every answer is kept as a
    /// number).
    pub(super) fn answers_as_numbers(&mut self) {
        if !self.small {
            return;
        }
        let k = self.items.len();
        if k > 0 {
            for (kk, values) in self.items.iter_mut().enumerate() {
                values.clear();
                values.extend(self.codes.iter().skip(kk).step_by(k).map(|&c| answer(c)));
            }
        }
        self.small = false;
        self.codes = Vec::new();
        self.max_code = 0;
    }

    /// The answer columns as numbers (built on several threads from the bytes when the
    /// answers were kept as bytes).
    #[cfg(test)]
    pub(super) fn answer_columns(&mut self) -> Vec<Vec<f64>> {
        if !self.small {
            return std::mem::take(&mut self.items);
        }
        columns_of_codes(&self.codes, self.items.len(), self.weights.len())
    }

    /// A copy of the codes of the categorical columns so far.
    pub(super) fn known_copy(&self) -> KnownCopy {
        KnownCopy {
            strata: self.strata.as_ref().map(|i| i.map.clone()),
            psu: self.psu.iter().map(|i| i.map.clone()).collect(),
            by: self.by.as_ref().map(|i| i.map.clone()),
            cal: self.cal.iter().map(|i| i.map.clone()).collect(),
        }
    }

    /// Room for `more` rows.
    pub(super) fn reserve(&mut self, more: usize) {
        let k = self.items.len();
        if !self.small {
            self.items.iter_mut().for_each(|v| v.reserve(more));
        }
        self.weights.reserve(more);
        let ints = self
            .strata
            .iter_mut()
            .chain(&mut self.psu)
            .chain(self.by.iter_mut())
            .chain(&mut self.cal);
        ints.for_each(|i| i.codes.reserve(more));
        self.fpc.iter_mut().for_each(|v| v.reserve(more));
        self.lines.reserve(more);
        if self.small {
            self.codes.reserve(more * k);
        }
    }

    /// Appends the rows read after these, their lines shifted by `line_offset`.
    pub(super) fn append(&mut self, mut other: Rows, line_offset: u64) {
        if self.small != other.small {
            self.answers_as_numbers();
            other.answers_as_numbers();
        }
        if self.small {
            self.codes.extend_from_slice(&other.codes);
            self.max_code = self.max_code.max(other.max_code);
        } else {
            for (a, b) in self.items.iter_mut().zip(&other.items) {
                a.extend_from_slice(b);
            }
        }
        self.weights.extend_from_slice(&other.weights);
        if let (Some(a), Some(b)) = (self.strata.as_mut(), other.strata) {
            a.absorb(b);
        }
        for (a, b) in self.psu.iter_mut().zip(other.psu) {
            a.absorb(b);
        }
        for (a, b) in self.fpc.iter_mut().zip(other.fpc) {
            a.extend_from_slice(&b);
        }
        if let (Some(a), Some(b)) = (self.by.as_mut(), other.by) {
            a.absorb(b);
        }
        for (a, b) in self.cal.iter_mut().zip(other.cal) {
            a.absorb(b);
        }
        self.lines
            .extend(other.lines.iter().map(|l| l + line_offset));
    }
}

/// The `k` answer columns of `n` rows kept as bytes, row after row, as numbers (built on
/// several threads).
pub(super) fn columns_of_codes(codes: &[u8], k: usize, n: usize) -> Vec<Vec<f64>> {
    use rayon::prelude::*;
    const BLOCK: usize = 1 << 14;
    // Zeroed allocations are fresh pages: the threads writing them share the page faults.
    let mut columns: Vec<Vec<f64>> = (0..k).map(|_| vec![0.0; n]).collect();
    let mut blocks: Vec<Vec<&mut [f64]>> = (0..n.div_ceil(BLOCK)).map(|_| Vec::new()).collect();
    for column in &mut columns {
        for (b, chunk) in column.chunks_mut(BLOCK).enumerate() {
            blocks[b].push(chunk);
        }
    }
    blocks
        .into_par_iter()
        .enumerate()
        .for_each(|(b, mut block)| {
            let rows = &codes[b * BLOCK * k..((b + 1) * BLOCK * k).min(codes.len())];
            for (r, row) in rows.chunks_exact(k).enumerate() {
                for (column, &c) in block.iter_mut().zip(row) {
                    column[r] = answer(c);
                }
            }
        });
    columns
}
