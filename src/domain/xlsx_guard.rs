//! Sizes of an uploaded spreadsheet's zip parts, checked before any reader
//! sees the file, so that no upload can make the reader allocate more than
//! about 100 MB.
//!
//! An XLSX (or ODS) file is a zip archive of XML parts. A reader inflates
//! each part it needs and, for some, trusts the counts written inside: a
//! 1.5 MB zip bomb inflates to gigabytes, and a `sharedStrings.xml` of a
//! few bytes declaring `uniqueCount="4294967295"` made the reader reserve
//! room for four billion strings (103 GB). [`check`] refuses, without
//! keeping any inflated data in memory:
//! - more than [`MAX_PARTS`] parts;
//! - a part whose declared or actual inflated size exceeds [`MAX_PART`], or
//!   parts totalling more than [`MAX_TOTAL`] (the actual size is counted by
//!   inflating into a small buffer, stopping one byte past the limit, since
//!   a declared size can lie);
//! - a part larger than [`RATIO_FLOOR`] that inflates more than
//!   [`MAX_RATIO`] times its compressed size;
//! - a shared-strings part declaring more strings (`uniqueCount`, which
//!   sizes the reader's table) than its size could hold (each entry takes at least
//!   [`MIN_SHARED_STRING_BYTES`] bytes of XML).
//!
//! A file that is not a zip archive passes: the reader then refuses it as
//! it does any unknown file.

use std::io::{Cursor, Read};

/// Most parts an archive may have.
pub const MAX_PARTS: usize = 1_000;
/// Largest inflated size of one part.
pub const MAX_PART: u64 = 32 * 1024 * 1024;
/// Largest inflated size of all parts together.
pub const MAX_TOTAL: u64 = 64 * 1024 * 1024;
/// Largest inflated / compressed ratio of a part above [`RATIO_FLOOR`].
pub const MAX_RATIO: u64 = 200;
/// Parts up to this inflated size are not held to [`MAX_RATIO`] (small
/// repetitive XML compresses very well).
pub const RATIO_FLOOR: u64 = 1024 * 1024;
/// The shortest shared-string entry, `<si/>`. (Real writers also declare a
/// `uniqueCount` a few percent above the entries they write: four forms of
/// the XLSForm corpus declare more strings than 13-byte `<si><t/></si>`
/// entries could hold, so only the shortest possible entry is a safe bound.)
pub const MIN_SHARED_STRING_BYTES: u64 = 5;

/// Why an archive was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("the file has too many parts ({0}; at most {MAX_PARTS})")]
    TooManyParts(usize),
    #[error("the part {part} is too large once uncompressed (more than {limit} bytes)")]
    PartTooLarge { part: String, limit: u64 },
    #[error("the file is too large once uncompressed (more than {MAX_TOTAL} bytes)")]
    TotalTooLarge,
    #[error("the part {0} is compressed suspiciously well (a zip bomb?)")]
    Ratio(String),
    #[error("the part {part} declares {declared} strings but can hold at most {possible}")]
    SharedStrings {
        part: String,
        declared: u64,
        possible: u64,
    },
    #[error("the file is damaged: {0}")]
    Damaged(String),
}

/// Checks every part of the zip archive in `bytes` (see the module doc).
pub fn check(bytes: &[u8]) -> Result<(), GuardError> {
    if !bytes.starts_with(b"PK") {
        return Ok(());
    }
    let damaged = |e: zip::result::ZipError| GuardError::Damaged(e.to_string());
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
    if archive.len() > MAX_PARTS {
        return Err(GuardError::TooManyParts(archive.len()));
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).map_err(damaged)?;
        let name = part.name().map_err(damaged)?.into_owned();
        if part.size() > MAX_PART {
            return Err(GuardError::PartTooLarge {
                part: name,
                limit: MAX_PART,
            });
        }
        let compressed = part.compressed_size();
        let shared = name.to_ascii_lowercase().ends_with("sharedstrings.xml");
        // Inflate into a small buffer, counting; keep the start of a
        // shared-strings part to read its declared counts.
        let mut head = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        let mut size: u64 = 0;
        loop {
            let n = match part.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(GuardError::Damaged(format!("{name}: {e}"))),
            };
            if shared && head.len() < 4096 {
                head.extend_from_slice(&buf[..n.min(4096 - head.len())]);
            }
            size += n as u64;
            if size > MAX_PART {
                return Err(GuardError::PartTooLarge {
                    part: name,
                    limit: MAX_PART,
                });
            }
            if total + size > MAX_TOTAL {
                return Err(GuardError::TotalTooLarge);
            }
        }
        if size > RATIO_FLOOR && size > compressed.max(1).saturating_mul(MAX_RATIO) {
            return Err(GuardError::Ratio(name));
        }
        total += size;
        if shared {
            let possible = size / MIN_SHARED_STRING_BYTES;
            // Only `uniqueCount` sizes the reader's table; `count` is the number
            // of cells that use a shared string, which may be far larger.
            if let Some(declared) = declared_count(&head, "uniqueCount")
                && declared > possible
            {
                return Err(GuardError::SharedStrings {
                    part: name,
                    declared,
                    possible,
                });
            }
        }
    }
    Ok(())
}

/// The value of `attr="…"` on the `<sst …>` element at the start of a
/// shared-strings part. A value too long for a `u64` counts as `u64::MAX`.
fn declared_count(head: &[u8], attr: &str) -> Option<u64> {
    let text = String::from_utf8_lossy(head);
    let sst = text.find("<sst").or_else(|| text.find(":sst"))?;
    let element = &text[sst..];
    let element = &element[..element.find('>').unwrap_or(element.len())];
    let mut rest = element;
    while let Some(at) = rest.find(attr) {
        let before = rest[..at].chars().last();
        let after = rest[at + attr.len()..].trim_start();
        rest = &rest[at + attr.len()..];
        if !matches!(before, Some(c) if c.is_whitespace()) {
            continue;
        }
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let quote = value.chars().next()?;
        let value = &value[quote.len_utf8()..];
        let value = &value[..value.find(quote)?];
        let digits = value.trim();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return Some(digits.parse().unwrap_or(u64::MAX));
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in parts {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn a_small_ordinary_archive_passes() {
        let z = zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            (
                "xl/sharedStrings.xml",
                br#"<?xml version="1.0"?><sst xmlns="x" count="2" uniqueCount="2"><si><t>type</t></si><si><t>name</t></si></sst>"#,
            ),
        ]);
        assert_eq!(check(&z), Ok(()));
        assert_eq!(check(b"not a zip"), Ok(()));
    }

    #[test]
    fn a_huge_declared_string_count_is_refused() {
        let z = zip_of(&[(
            "xl/sharedStrings.xml",
            br#"<?xml version="1.0"?><sst xmlns="x" count="1" uniqueCount="4294967295"><si><t>a</t></si></sst>"#,
        )]);
        assert!(
            matches!(
                check(&z),
                Err(GuardError::SharedStrings {
                    declared: 4294967295,
                    ..
                })
            ),
            "{:?}",
            check(&z)
        );
        let z = zip_of(&[(
            "xl/sharedStrings.xml",
            br#"<sst uniqueCount='99999999999999999999999'><si><t>a</t></si></sst>"#,
        )]);
        assert!(matches!(check(&z), Err(GuardError::SharedStrings { .. })));
    }

    #[test]
    fn many_cells_sharing_few_strings_pass_and_odd_quotes_do_not_panic() {
        // `count` (cells using a shared string) may far exceed the entries.
        let xml =
            b"<sst count=\"50000\" uniqueCount=\"2\"><si><t>yes</t></si><si><t>no</t></si></sst>";
        assert_eq!(check(&zip_of(&[("xl/sharedStrings.xml", xml)])), Ok(()));
        // A quote that is not one byte long is read without slicing inside it.
        let odd = "<sst uniqueCount=\u{e9}12\u{e9}><si/></sst>".as_bytes();
        let _ = check(&zip_of(&[("xl/sharedStrings.xml", odd)]));
    }

    #[test]
    fn a_zip_bomb_is_refused_without_inflating_it_all() {
        // 40 MB of zeros deflates to about 40 KB.
        let zeros = vec![0u8; 40 * 1024 * 1024];
        let z = zip_of(&[("xl/worksheets/sheet1.xml", &zeros)]);
        assert!(z.len() < 200_000, "{}", z.len());
        assert!(
            matches!(check(&z), Err(GuardError::PartTooLarge { .. })),
            "{:?}",
            check(&z)
        );
        // 4 MB of zeros: under the size limits, over the ratio bound.
        let z = zip_of(&[("xl/worksheets/sheet1.xml", &zeros[..4 * 1024 * 1024])]);
        assert!(
            matches!(check(&z), Err(GuardError::Ratio(_))),
            "{:?}",
            check(&z)
        );
    }

    #[test]
    fn parts_adding_up_past_the_total_are_refused() {
        // Incompressible-ish parts under the per-part limit whose sum is over.
        let mut data = vec![0u8; 20 * 1024 * 1024];
        let mut x: u32 = 1;
        for b in &mut data {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        let z = zip_of(&[
            ("a.xml", &data),
            ("b.xml", &data),
            ("c.xml", &data),
            ("d.xml", &data),
        ]);
        assert_eq!(check(&z), Err(GuardError::TotalTooLarge));
    }

    #[test]
    fn a_lying_declared_size_does_not_help() {
        // Patch the declared uncompressed size of the only entry to 10 bytes
        // in both headers: the actual inflated size is still counted.
        let zeros = vec![0u8; 40 * 1024 * 1024];
        let mut z = zip_of(&[("s.xml", &zeros)]);
        let real = (zeros.len() as u32).to_le_bytes();
        let fake = 10u32.to_le_bytes();
        let mut i = 0;
        while i + 4 <= z.len() {
            if z[i..i + 4] == real {
                z[i..i + 4].copy_from_slice(&fake);
            }
            i += 1;
        }
        assert!(check(&z).is_err(), "{:?}", check(&z));
    }
}
