//! Reading the survey CSV (and the margins file) into a design, its domains, items and
//! indices, with every error naming the file, line and column.

use rustc_hash::FxHashMap;
use std::fs::File;
use std::path::Path;

use crate::calibration::{Calibration, Margin};
use crate::compact::{RAW_MISSING, answer, raw_code};
use crate::design::{Design, DesignSpec, Stage};
use crate::error::StatsError;
use crate::estimate::{Domains, IndexKind, IndexSpec, Item};
use crate::factor::Factor;

use super::{EstimateArgs, StatsCliError};

mod parallel;

/// A survey loaded from CSV: the design, the domains of `--by`, items, indices, and the file
/// line of every row (to report errors by line).
#[derive(Debug, Clone)]
pub struct Survey {
    /// The (calibrated, if `--calibrate`) design.
    pub design: Design,
    /// Domains of `--by`, or `ALL`.
    pub domains: Domains,
    /// Item columns.
    pub items: Vec<Item>,
    /// Composite indices.
    pub indices: Vec<IndexSpec>,
    /// File line of each row.
    pub lines: Vec<u64>,
    /// The answers of `items` as bytes, row after row, when all are integers 0–63 (for the
    /// estimator's fast path; dropped when derived items change `items`). Until
    /// [`Survey::answer_values`], the items' `values` may be empty ([`load_codes`]).
    pub(super) answer_codes: Option<(Vec<u8>, u8)>,
}

impl Survey {
    pub(super) fn stats_error(&self, e: StatsError) -> StatsCliError {
        stats_error(e, &self.lines)
    }
}

fn stats_error(e: StatsError, lines: &[u64]) -> StatsCliError {
    match e {
        StatsError::Value {
            row,
            column,
            message,
        } => StatsCliError::Value {
            line: lines.get(row).copied().unwrap_or(row as u64 + 2),
            column,
            message,
        },
        other => StatsCliError::Stats(other),
    }
}

/// Codes of the values of a categorical column: values of up to 15 bytes (stratum, cluster
/// and area codes) keyed by one integer (no string comparison), longer ones by their bytes.
#[derive(Default, Clone)]
struct Codes {
    short: FxHashMap<u128, u32>,
    long: FxHashMap<Vec<u8>, u32>,
}

impl Codes {
    /// The bytes and the length of a value of up to 15 bytes as one integer.
    #[inline]
    fn short_key(value: &[u8]) -> Option<u128> {
        if value.len() > 15 {
            return None;
        }
        let mut bytes = [0u8; 16];
        bytes[..value.len()].copy_from_slice(value);
        bytes[15] = value.len() as u8;
        Some(u128::from_le_bytes(bytes))
    }

    /// The code of `value`, whose [`Codes::short_key`] is `key`.
    #[inline]
    fn get(&self, value: &[u8], key: Option<u128>) -> Option<&u32> {
        match key {
            Some(key) => self.short.get(&key),
            None => self.long.get(value),
        }
    }

    fn insert(&mut self, value: &[u8], code: u32) {
        match Codes::short_key(value) {
            Some(key) => self.short.insert(key, code),
            None => self.long.insert(value.to_vec(), code),
        };
    }
}

/// Marks the codes of values an interner reading a piece of the file saw first (see
/// [`Interner::absorb`]).
const LOCAL: u32 = 1 << 31;

/// A copy of the codes of the categorical columns read so far (for the pieces read while the
/// rows read before are being appended).
struct KnownCopy {
    strata: Option<Codes>,
    psu: Vec<Codes>,
    by: Option<Codes>,
    cal: Vec<Codes>,
}

impl KnownCopy {
    fn known(&self) -> Known<'_> {
        Known {
            strata: self.strata.as_ref(),
            psu: self.psu.iter().collect(),
            by: self.by.as_ref(),
            cal: self.cal.iter().collect(),
        }
    }
}

/// The codes of the categorical columns read so far, for the pieces read next.
#[derive(Default)]
struct Known<'a> {
    strata: Option<&'a Codes>,
    psu: Vec<&'a Codes>,
    by: Option<&'a Codes>,
    cal: Vec<&'a Codes>,
}

/// Categorical column being read: text → code, with a one-entry cache for sorted data (values
/// of up to 15 bytes, compared as one integer).
struct Interner {
    map: Codes,
    /// The text of every code, as read.
    keys: Vec<Vec<u8>>,
    codes: Vec<u32>,
    last: Option<(u128, u32)>,
}

impl Interner {
    fn new(capacity: usize) -> Interner {
        Interner {
            map: Codes::default(),
            keys: Vec::new(),
            codes: Vec::with_capacity(capacity),
            last: None,
        }
    }

    /// The code of a value, numbered in order of first appearance.
    fn code_of(&mut self, value: &[u8]) -> u32 {
        match self.map.get(value, Codes::short_key(value)) {
            Some(&c) => c,
            None => {
                let c = self.keys.len() as u32;
                self.map.insert(value, c);
                self.keys.push(value.to_vec());
                c
            }
        }
    }

    #[inline]
    fn push(&mut self, value: &[u8], known: Option<&Codes>) {
        let key = Codes::short_key(value);
        if let (Some(key), Some((last, code))) = (key, self.last)
            && key == last
        {
            self.codes.push(code);
            return;
        }
        let code = match known.and_then(|k| k.get(value, key)) {
            Some(&c) => c,
            None if known.is_some() => LOCAL | self.code_of(value),
            None => self.code_of(value),
        };
        self.last = key.map(|key| (key, code));
        self.codes.push(code);
    }

    /// Appends the rows of an interner that read the rows after these (codes in order of
    /// first appearance over both, as if one interner had read them all). Its codes are this
    /// interner's codes for the values it was given as known, and its own marked [`LOCAL`].
    fn absorb(&mut self, other: Interner) {
        let map: Vec<u32> = other.keys.iter().map(|k| self.code_of(k)).collect();
        self.codes.extend(other.codes.iter().map(|&c| {
            if c & LOCAL != 0 {
                map[(c & !LOCAL) as usize]
            } else {
                c
            }
        }));
        self.last = None;
    }

    fn into_factor(self) -> Result<Factor, StatsError> {
        let labels = self
            .keys
            .iter()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect();
        Factor::from_codes(self.codes, labels)
    }
}

/// Parses a number cell; `Ok(None)` for an empty cell.
#[inline]
fn parse_number(bytes: &[u8]) -> Result<Option<f64>, ()> {
    match bytes {
        [] => Ok(None),
        [d @ b'0'..=b'9'] => Ok(Some(f64::from(d - b'0'))),
        _ => {
            if let Some(x) = plain_decimal(bytes) {
                return Ok(Some(x));
            }
            let text = std::str::from_utf8(bytes).map_err(|_| ())?.trim();
            if text.is_empty() {
                return Ok(None);
            }
            let x: f64 = text.parse().map_err(|_| ())?;
            if x.is_finite() { Ok(Some(x)) } else { Err(()) }
        }
    }
}

/// A decimal `DIGITS[.DIGITS]` of at most 15 digits, without the general parser: its digits
/// as an integer `m` (below 10¹⁵ < 2⁵³, so exact as a double) divided by `10^f` for `f`
/// decimals (exact as a double up to 10²²). One correctly rounded division of two exact
/// numbers gives the double nearest the decimal, as the general parser does (Clinger's fast
/// path). `None` for anything else (signs, exponents, spaces, more digits), which the general
/// parser reads.
#[inline]
fn plain_decimal(bytes: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let (mut m, mut digits, mut point) = (0u64, 0usize, None);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                m = m * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b'.' if point.is_none() && i > 0 && i + 1 < bytes.len() => point = Some(i),
            _ => return None,
        }
    }
    if digits > 15 {
        return None;
    }
    let decimals = point.map_or(0, |p| bytes.len() - p - 1);
    Some(m as f64 / POW10[decimals])
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(super) fn open_csv(path: &Path) -> Result<csv::Reader<File>, StatsCliError> {
    let file = File::open(path).map_err(|source| StatsCliError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .buffer_capacity(1 << 20)
        .from_reader(file))
}

pub(super) fn csv_error(path: &Path, e: csv::Error) -> StatsCliError {
    let line = e.position().map_or(0, csv::Position::line);
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(source) => StatsCliError::Io {
            path: path.to_owned(),
            source,
        },
        _ => StatsCliError::Csv {
            path: path.to_owned(),
            line,
            message,
        },
    }
}

pub(super) fn headers<R: std::io::Read>(
    path: &Path,
    reader: &mut csv::Reader<R>,
) -> Result<Vec<String>, StatsCliError> {
    let h = reader.headers().map_err(|e| csv_error(path, e))?;
    Ok(h.iter()
        .enumerate()
        .map(|(i, s)| {
            if i == 0 {
                s.trim_start_matches('\u{feff}').to_owned()
            } else {
                s.to_owned()
            }
        })
        .collect())
}

pub(super) fn column(path: &Path, header: &[String], name: &str) -> Result<usize, StatsCliError> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| StatsCliError::MissingColumn {
            path: path.to_owned(),
            column: name.to_owned(),
            available: header.join(","),
        })
}

/// The margins of one variable: its name and `(category, total)` pairs.
type VariableMargins = (String, Vec<(String, f64)>);

/// Reads `variable,category,total`; variables in order of first appearance.
fn read_margins(path: &Path) -> Result<Vec<VariableMargins>, StatsCliError> {
    let mut reader = open_csv(path)?;
    let header = headers(path, &mut reader)?;
    let cv = column(path, &header, "variable")?;
    let cc = column(path, &header, "category")?;
    let ct = column(path, &header, "total")?;
    let mut out: Vec<VariableMargins> = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let line = rec.position().map_or(0, csv::Position::line);
        let get = |i: usize| rec.get(i).unwrap_or_default();
        let total_text = get(ct).trim();
        let total: f64 = total_text.parse().map_err(|_| StatsCliError::Margins {
            path: path.to_owned(),
            line,
            message: format!("total \"{total_text}\" is not a number"),
        })?;
        let variable = get(cv).to_owned();
        if variable.is_empty() {
            return Err(StatsCliError::Margins {
                path: path.to_owned(),
                line,
                message: "empty variable name".into(),
            });
        }
        let entry = (get(cc).to_owned(), total);
        match out.iter_mut().find(|(v, _)| *v == variable) {
            Some((_, list)) => list.push(entry),
            None => out.push((variable, vec![entry])),
        }
    }
    if out.is_empty() {
        return Err(StatsCliError::Margins {
            path: path.to_owned(),
            line: 1,
            message: "no margins".into(),
        });
    }
    Ok(out)
}

/// The fields of one record.
trait Fields {
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
struct Cols {
    items: Vec<usize>,
    weight: Option<usize>,
    strata: Option<usize>,
    psu: Vec<usize>,
    fpc: Vec<usize>,
    by: Option<usize>,
    cal: Vec<usize>,
}

/// The columns of the rows read so far.
struct Rows {
    items: Vec<Vec<f64>>,
    weights: Vec<f64>,
    strata: Option<Interner>,
    psu: Vec<Interner>,
    fpc: Vec<Vec<f64>>,
    by: Option<Interner>,
    cal: Vec<Interner>,
    lines: Vec<u64>,
    /// Bytes of text the rows were read from (to size the columns of a whole file).
    text_len: usize,
    /// The answers as bytes, row after row, while every answer is an integer 0–63
    /// ([`crate::compact::RAW_MISSING`] for a missing one); `small` false and empty after.
    codes: Vec<u8>,
    small: bool,
    /// The largest answer in `codes`.
    max_code: u8,
}

impl Rows {
    fn new(cols: &Cols, capacity: usize) -> Rows {
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
    fn push<R: Fields>(
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
    fn answers_as_numbers(&mut self) {
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
    fn answer_columns(&mut self) -> Vec<Vec<f64>> {
        if !self.small {
            return std::mem::take(&mut self.items);
        }
        columns_of_codes(&self.codes, self.items.len(), self.weights.len())
    }

    /// A copy of the codes of the categorical columns so far.
    fn known_copy(&self) -> KnownCopy {
        KnownCopy {
            strata: self.strata.as_ref().map(|i| i.map.clone()),
            psu: self.psu.iter().map(|i| i.map.clone()).collect(),
            by: self.by.as_ref().map(|i| i.map.clone()),
            cal: self.cal.iter().map(|i| i.map.clone()).collect(),
        }
    }

    /// Room for `more` rows.
    fn reserve(&mut self, more: usize) {
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
    fn append(&mut self, mut other: Rows, line_offset: u64) {
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
fn columns_of_codes(codes: &[u8], k: usize, n: usize) -> Vec<Vec<f64>> {
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

impl Survey {
    /// Gives every item its answers as numbers, when they were read as bytes only
    /// ([`load_codes`]).
    pub(super) fn answer_values(&mut self) {
        let n = self.design.n_rows();
        if let Some((codes, _)) = &self.answer_codes
            && self.items.iter().any(|i| i.values.len() != n)
        {
            let columns = columns_of_codes(codes, self.items.len(), n);
            for (item, values) in self.items.iter_mut().zip(columns) {
                item.values = values;
            }
        }
    }
}

/// Reads the CSV and builds the design, domains, items and indices described by `args`.
pub fn load(args: &EstimateArgs) -> Result<Survey, StatsCliError> {
    let mut survey = load_codes(args)?;
    survey.answer_values();
    Ok(survey)
}

/// [`load`], except that answers that are all integers 0–63 are kept as bytes only
/// (`answer_codes`), the items' `values` left empty until [`Survey::answer_values`]: the
/// estimator's fast path reads the bytes, and a million rows of twenty items as numbers would
/// be 160 MB written for nothing.
pub(super) fn load_codes(args: &EstimateArgs) -> Result<Survey, StatsCliError> {
    if args.items.is_empty() {
        return Err(StatsCliError::Argument("--items names no column".into()));
    }
    let stages = args.psu.len().max(1);
    if args.fpc.len() > stages {
        return Err(StatsCliError::Argument(format!(
            "--fpc gives {} columns but the design has {stages} stage(s) (--psu)",
            args.fpc.len()
        )));
    }
    if !args.satisfied_min.is_finite() {
        return Err(StatsCliError::Argument(
            "--satisfied-min must be a number".into(),
        ));
    }
    let margins = match &args.calibrate {
        Some(p) => Some((p, read_margins(p)?)),
        None => None,
    };

    let path = args.input.as_path();
    let mut reader = open_csv(path)?;
    let header = headers(path, &mut reader)?;
    let item_cols: Vec<usize> = args
        .items
        .iter()
        .map(|c| column(path, &header, c))
        .collect::<Result<_, _>>()?;
    let weight_col = args
        .weight
        .as_deref()
        .map(|c| column(path, &header, c))
        .transpose()?;
    let strata_col = args
        .strata
        .as_deref()
        .map(|c| column(path, &header, c))
        .transpose()?;
    let psu_cols: Vec<usize> = args
        .psu
        .iter()
        .map(|c| column(path, &header, c))
        .collect::<Result<_, _>>()?;
    let fpc_cols: Vec<usize> = args
        .fpc
        .iter()
        .map(|c| column(path, &header, c))
        .collect::<Result<_, _>>()?;
    let by_col = args
        .by
        .as_deref()
        .map(|c| column(path, &header, c))
        .transpose()?;
    let cal_cols: Vec<usize> = match &margins {
        Some((_, m)) => m
            .iter()
            .map(|(v, _)| column(path, &header, v))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };

    let cols = Cols {
        items: item_cols,
        weight: weight_col,
        strata: strata_col,
        psu: psu_cols,
        fpc: fpc_cols,
        by: by_col,
        cal: cal_cols,
    };
    let rows = match parallel::read(path, &header, &cols) {
        Some(rows) => rows,
        None => {
            let mut rows = Rows::new(&cols, 1024);
            let mut rec = csv::ByteRecord::new();
            loop {
                match reader.read_byte_record(&mut rec) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => return Err(csv_error(path, e)),
                }
                let line = rec.position().map_or(0, csv::Position::line);
                rows.push(&rec, line, &cols, &header, None)?;
            }
            rows
        }
    };
    let mut rows = rows;
    let items = if rows.small {
        vec![Vec::new(); cols.items.len()]
    } else {
        rows.answer_columns()
    };
    let Rows {
        items: _,
        weights,
        strata,
        psu,
        fpc,
        by,
        cal,
        lines,
        text_len: _,
        codes,
        small,
        max_code,
    } = rows;
    let n = weights.len();
    if n == 0 {
        return Err(StatsCliError::Argument(format!(
            "{} has no data rows",
            path.display()
        )));
    }
    let lines_ref = &lines;
    let se = |e: StatsError| stats_error(e, lines_ref);

    let strata = strata.map(Interner::into_factor).transpose().map_err(se)?;
    let mut stage_list: Vec<Stage> = Vec::new();
    let mut fpc_iter = fpc.into_iter();
    if psu.is_empty() {
        stage_list.push(Stage {
            clusters: None,
            fpc: fpc_iter.next(),
        });
    } else {
        for int in psu {
            stage_list.push(Stage {
                clusters: Some(int.into_factor().map_err(se)?),
                fpc: fpc_iter.next(),
            });
        }
    }
    // Name the fpc columns in errors.
    let fpc_names: Vec<String> = args.fpc.clone();
    let rename = |e: StatsError| match e {
        StatsError::Value {
            row,
            column,
            message,
        } => {
            let column = column
                .strip_prefix("fpc stage ")
                .and_then(|s| s.parse::<usize>().ok())
                .and_then(|s| fpc_names.get(s - 1).cloned())
                .unwrap_or(column);
            se(StatsError::Value {
                row,
                column,
                message,
            })
        }
        other => se(other),
    };
    let mut design = Design::new(DesignSpec {
        weights,
        strata,
        stages: stage_list,
        lonely_psu: args.lonely_psu,
    })
    .map_err(rename)?;

    if let Some((_, m)) = margins {
        let mut list = Vec::with_capacity(m.len());
        for ((variable, totals), int) in m.into_iter().zip(cal) {
            list.push(Margin {
                variable,
                values: int.into_factor().map_err(se)?,
                totals,
            });
        }
        design = design.calibrate(&Calibration::new(list)).map_err(se)?;
    }

    let domains = match by {
        Some(int) => Domains::from_factor(int.into_factor().map_err(se)?),
        None => Domains::all(n),
    };
    let items = args
        .items
        .iter()
        .zip(items)
        .map(|(name, values)| {
            let item = Item::new(name.clone(), values).with_satisfied_min(args.satisfied_min);
            match args.scale.as_slice() {
                [lo, hi] => item.with_scale(*lo, *hi),
                _ => item,
            }
        })
        .collect();
    let indices = args
        .index
        .iter()
        .cloned()
        .chain(
            args.pooled
                .iter()
                .map(|i| i.clone().with_kind(IndexKind::PooledShare)),
        )
        .chain(
            args.score
                .iter()
                .map(|i| i.clone().with_kind(IndexKind::Score)),
        )
        .collect();
    Ok(Survey {
        design,
        domains,
        items,
        indices,
        lines,
        answer_codes: small.then_some((codes, max_code)),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{parse_number, plain_decimal};
    use crate::cli::{EstimateArgs, run, write_json};
    use crate::estimate::{EstimateOptions, Estimator};
    use clap::Parser;
    use rand::{RngExt, SeedableRng};

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        args: EstimateArgs,
    }

    /// `hailong estimate` with the answers kept as bytes gives what the estimator gives with
    /// the answers as numbers: on the fast path (few domains), and when the domains are too
    /// many for its tables and the bytes are made numbers first (64 items with answers 0–31 and
    /// 2,000 domains: 4.2 million slots).
    #[test]
    fn answers_kept_as_bytes_give_the_estimates_of_answers_as_numbers() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(64);
        let items: Vec<String> = (0..64).map(|k| format!("q{k}")).collect();
        let mut text = format!("many,few,stratum,psu,w,{}\n", items.join(","));
        for r in 0..2_000 {
            let answers: Vec<String> = (0..64)
                .map(|_| match rng.random_range(0..40u32) {
                    a @ 0..32 => a.to_string(),
                    _ => String::new(),
                })
                .collect();
            let weight = 1.0 + f64::from(rng.random_range(0..1000u32)) / 100.0;
            text.push_str(&format!(
                "d{r},f{},s{},p{},{weight},{}\n",
                r % 3,
                r % 4,
                r / 10,
                answers.join(",")
            ));
        }
        let dir = std::env::temp_dir().join(format!("hailong-bytes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("survey.csv");
        std::fs::write(&path, text).unwrap();
        for by in ["few", "many"] {
            let args = Command::parse_from([
                "estimate",
                "--input",
                path.to_str().unwrap(),
                "--items",
                &items.join(","),
                "--weight",
                "w",
                "--strata",
                "stratum",
                "--psu",
                "psu",
                "--by",
                by,
                "--satisfied-min",
                "16",
            ])
            .args;
            let mut bytes = Vec::new();
            run(&args, &mut bytes, &mut Vec::new()).unwrap();
            let survey = super::load(&args).unwrap();
            let options = EstimateOptions {
                ci: args.ci,
                level: args.level,
            };
            let estimates = Estimator::new(&survey.design, &survey.items, &survey.indices, options)
                .unwrap()
                .estimate(&survey.domains)
                .unwrap();
            let mut numbers = Vec::new();
            write_json(&estimates, &mut numbers).unwrap();
            let parse = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).unwrap();
            let (a, b) = (parse(&bytes), parse(&numbers));
            let n_dom = if by == "few" { 3 } else { 2_000 };
            assert_eq!(a.as_array().unwrap().len(), n_dom * 128);
            let (_, max) = survey.answer_codes.as_ref().unwrap();
            assert_eq!(
                Estimator::answer_codes_fit(&survey.design, 64, *max, n_dom),
                by == "few"
            );
            same_json(&a, &b, by);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Equal JSON values, numbers to 1e-12 relative.
    fn same_json(a: &serde_json::Value, b: &serde_json::Value, what: &str) {
        use serde_json::Value;
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                assert!(
                    (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                    "{what}: {x} vs {y}"
                );
            }
            (Value::Array(x), Value::Array(y)) => {
                assert_eq!(x.len(), y.len(), "{what}");
                x.iter().zip(y).for_each(|(x, y)| same_json(x, y, what));
            }
            (Value::Object(x), Value::Object(y)) => {
                assert_eq!(x.len(), y.len(), "{what}");
                for (k, v) in x {
                    same_json(v, &y[k], what);
                }
            }
            _ => assert_eq!(a, b, "{what}"),
        }
    }

    /// The fast decimal reader gives the general parser's double, bit for bit, and leaves
    /// to it whatever is not a plain decimal.
    #[test]
    fn plain_decimals_read_as_the_general_parser_reads_them() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
        let mut cases: Vec<String> = [
            "0",
            "00",
            "0.0",
            "1.5",
            "96.015549",
            "123456789012345",
            "0.000000000000001",
            "99999999999999.9",
            "9007199254740993",
            "1234567890123456",
            "0.1",
            "0.3",
            "2.675",
            "1.",
            ".5",
            "-1.5",
            "1e3",
            " 4",
            "4 ",
            "1..2",
            "1.2.3",
            "",
            "+1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..200_000 {
            let int_digits: u32 = rng.random_range(1..=9);
            let int: u64 = rng.random_range(0..10u64.pow(int_digits));
            let frac_digits = rng.random_range(0..=9usize);
            let frac: u64 = rng.random_range(0..10u64.pow(frac_digits as u32));
            cases.push(if frac_digits == 0 {
                int.to_string()
            } else {
                format!("{int}.{frac:0frac_digits$}")
            });
        }
        for text in &cases {
            let general = text.trim().parse::<f64>().ok();
            if let Some(fast) = plain_decimal(text.as_bytes()) {
                assert_eq!(Some(fast.to_bits()), general.map(f64::to_bits), "{text}");
            }
            let read = parse_number(text.as_bytes());
            match general {
                Some(x) if !text.trim().is_empty() => {
                    assert_eq!(read.unwrap().map(f64::to_bits), Some(x.to_bits()), "{text}");
                }
                _ => assert!(read.is_err() || read == Ok(None), "{text}"),
            }
        }
        assert_eq!(plain_decimal(b"96.015549"), Some(96.015549));
        assert_eq!(plain_decimal(b"1234567890123456"), None);
        assert_eq!(plain_decimal(b"-1"), None);
    }
}
