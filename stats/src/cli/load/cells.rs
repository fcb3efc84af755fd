//! The cells of the survey CSV: numbers, and the codes of the categorical columns.

use rustc_hash::FxHashMap;

use crate::error::StatsError;
use crate::factor::Factor;

/// Codes of the values of a categorical column: values of up to 15 bytes (stratum, cluster
/// and area codes) keyed by one integer (no string comparison), longer ones by their bytes.
#[derive(Default, Clone)]
pub(super) struct Codes {
    pub(super) short: FxHashMap<u128, u32>,
    pub(super) long: FxHashMap<Vec<u8>, u32>,
}

impl Codes {
    /// The bytes and the length of a value of up to 15 bytes as one integer.
    #[inline]
    pub(super) fn short_key(value: &[u8]) -> Option<u128> {
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
    pub(super) fn get(&self, value: &[u8], key: Option<u128>) -> Option<&u32> {
        match key {
            Some(key) => self.short.get(&key),
            None => self.long.get(value),
        }
    }

    pub(super) fn insert(&mut self, value: &[u8], code: u32) {
        match Codes::short_key(value) {
            Some(key) => self.short.insert(key, code),
            None => self.long.insert(value.to_vec(), code),
        };
    }
}

/// Marks the codes of values an interner reading a piece of the file saw first (see
/// [`Interner::absorb`]).
pub(super) const LOCAL: u32 = 1 << 31;

/// A copy of the codes of the categorical columns read so far (for the pieces read while the
/// rows read before are being appended).
pub(super) struct KnownCopy {
    pub(super) strata: Option<Codes>,
    pub(super) psu: Vec<Codes>,
    pub(super) by: Option<Codes>,
    pub(super) cal: Vec<Codes>,
}

impl KnownCopy {
    pub(super) fn known(&self) -> Known<'_> {
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
pub(super) struct Known<'a> {
    pub(super) strata: Option<&'a Codes>,
    pub(super) psu: Vec<&'a Codes>,
    pub(super) by: Option<&'a Codes>,
    pub(super) cal: Vec<&'a Codes>,
}

/// Categorical column being read: text → code, with a one-entry cache for sorted data (values
/// of up to 15 bytes, compared as one integer).
pub(super) struct Interner {
    pub(super) map: Codes,
    /// The text of every code, as read.
    pub(super) keys: Vec<Vec<u8>>,
    pub(super) codes: Vec<u32>,
    pub(super) last: Option<(u128, u32)>,
}

impl Interner {
    pub(super) fn new(capacity: usize) -> Interner {
        Interner {
            map: Codes::default(),
            keys: Vec::new(),
            codes: Vec::with_capacity(capacity),
            last: None,
        }
    }

    /// The code of a value, numbered in order of first appearance.
    pub(super) fn code_of(&mut self, value: &[u8]) -> u32 {
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
    pub(super) fn push(&mut self, value: &[u8], known: Option<&Codes>) {
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
    pub(super) fn absorb(&mut self, other: Interner) {
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

    pub(super) fn into_factor(self) -> Result<Factor, StatsError> {
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
pub(super) fn parse_number(bytes: &[u8]) -> Result<Option<f64>, ()> {
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

/// A decimal `DIGITS[.DIGITS]` (up to 40 characters) without the general parser. Up to 15
/// digits: its digits as an integer `m` (below 10¹⁵ < 2⁵³, so exact as a double) divided by
/// `10^f` for `f` decimals (exact as a double up to 10²²); one correctly rounded division of
/// two exact numbers gives the double nearest the decimal, as the general parser does
/// (Clinger's fast path). More digits (weights written with all 17 significant digits):
/// `lexical-core`, which also rounds correctly, on bytes (no text validation, no trimming).
/// `None` for anything else (signs, exponents, spaces), which the general parser reads.
#[inline]
pub(super) fn plain_decimal(bytes: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    if bytes.is_empty() || bytes.len() > 40 {
        return None;
    }
    let (mut m, mut digits, mut point) = (0u64, 0usize, None);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                m = m.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
                digits += 1;
            }
            b'.' if point.is_none() && i > 0 && i + 1 < bytes.len() => point = Some(i),
            _ => return None,
        }
    }
    if digits > 15 {
        return lexical_core::parse::<f64>(bytes).ok();
    }
    let decimals = point.map_or(0, |p| bytes.len() - p - 1);
    Some(m as f64 / POW10[decimals])
}

pub(super) fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{parse_number, plain_decimal};
    use rand::{RngExt, SeedableRng};

    /// The fast decimal reader gives the general parser's double, bit for bit, and leaves
    /// to it whatever is not a plain decimal.
    #[test]
    fn plain_decimals_read_as_the_general_parser_reads_them() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
        let mut cases: Vec<String> = [
            "26.61784871108177",
            "307.4096438647248",
            "12.474258359958345",
            "0.30000000000000004",
            "9007199254740993.5",
            "123456789012345678901234567890.123456789",
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
        // Weights as a program writes them: 17 significant digits.
        for _ in 0..100_000 {
            let x = rng.random_range(0.0..1000.0f64);
            cases.push(format!("{x}"));
            cases.push(format!("{:.17}", x / 7.0));
        }
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
        // More than 15 digits: read all the same (not left to the general parser).
        assert_eq!(plain_decimal(b"1234567890123456"), Some(1234567890123456.0));
        assert_eq!(plain_decimal(b"26.61784871108177"), Some(26.61784871108177));
        assert_eq!(plain_decimal(b"1e3"), None);
        assert_eq!(plain_decimal(b"-1"), None);
    }
}
