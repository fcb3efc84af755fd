//! Reading the survey CSV on several threads: the file is read in blocks, each block is cut
//! at record boundaries into pieces that are parsed in parallel (each with its own CSV reader
//! and its own categorical codes), and the pieces are appended in file order, so the columns,
//! codes and line numbers are exactly those of one reader going through the file.
//!
//! A record boundary is a newline outside quotes: quotes are counted from the start of the
//! block, which starts a record. Anything unusual — a malformed record, a bad value, a header
//! that does not come out the same — gives up (`None`), and the caller reads the file again
//! with one reader, which reports the error with its line and column as before.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use rayon::prelude::*;

use super::{Cols, Fields, Known, Rows, headers};

/// Bytes read at a time.
const BLOCK: usize = 8 << 20;
/// Bytes per piece parsed on its own.
const PIECE: usize = 512 << 10;

/// The rows of the file after its header, or `None` when the file must be read with one
/// reader (for its error messages).
pub(super) fn read(path: &Path, header: &[String], cols: &Cols) -> Option<Rows> {
    read_sized(path, header, cols, BLOCK, PIECE)
}

/// [`read`] with blocks of `block` and pieces of `piece` bytes.
fn read_sized(
    path: &Path,
    header: &[String],
    cols: &Cols,
    block: usize,
    piece: usize,
) -> Option<Rows> {
    let mut file = File::open(path).ok()?;
    let size = file.metadata().ok()?.len() as usize;
    let mut buf: Vec<u8> = Vec::with_capacity(block.min(size + 1) + piece);
    let mut eof = fill(&mut file, &mut buf, block)?;
    // The header: the first record, checked against the one the caller read.
    let header_end = next_boundary(&buf, 0, &quotes(&buf))? + 1;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&buf[..header_end]);
    if headers(path, &mut reader).ok()?.as_slice() != header {
        return None;
    }
    let mut line_offset = newlines(&buf[..header_end]);
    let mut pending = unread_newlines(&buf, header_end, 0);
    buf.drain(..header_end);
    let mut all = Rows::new(cols, 0);
    // The pieces parsed and not yet appended: rows, newlines, newlines not yet counted.
    let mut parsed: Vec<(Rows, u64, u64)> = Vec::new();
    loop {
        let qs = quotes(&buf);
        let end = if eof {
            buf.len()
        } else {
            match last_boundary(&buf, &qs) {
                Some(b) => b + 1,
                None => {
                    // One record longer than the block: read more.
                    let more = buf.len() + block;
                    eof = fill(&mut file, &mut buf, more)?;
                    continue;
                }
            }
        };
        let mut cuts = vec![0];
        let mut at = piece;
        while at < end {
            match next_boundary(&buf[..end], at, &qs) {
                Some(b) => {
                    cuts.push(b + 1);
                    at = b + 1 + piece;
                }
                None => break,
            }
        }
        if *cuts.last().unwrap_or(&0) != end {
            cuts.push(end);
        }
        // The pieces of this block are parsed while the rows of the previous one are
        // appended (with the codes known before it: a value first seen there is coded as new
        // in these pieces, and [`Interner::absorb`] gives it the code it got there).
        let known = all.known_copy();
        let known = known.known();
        let (parts, ()) = rayon::join(
            || {
                cuts.par_windows(2)
                    .map(|w| parse(&buf[w[0]..w[1]], header, cols, &known))
                    .collect::<Option<Vec<_>>>()
            },
            || {
                append(
                    &mut all,
                    std::mem::take(&mut parsed),
                    &mut line_offset,
                    size,
                )
            },
        );
        parsed = parts?
            .into_iter()
            .zip(&cuts)
            .map(|((part, lines), &start)| (part, lines, unread_newlines(&buf, start, pending)))
            .collect();
        if eof {
            append(&mut all, parsed, &mut line_offset, size);
            break;
        }
        pending = unread_newlines(&buf, end, pending);
        buf.drain(..end);
        eof = fill(&mut file, &mut buf, block)?;
    }
    (!all.weights.is_empty()).then_some(all)
}

/// Appends pieces parsed (rows, the newlines they hold, the newlines before them not yet
/// counted: see [`unread_newlines`]) to the rows of a file of `size` bytes, the first
/// time making room for the whole file, estimated from the first piece.
fn append(all: &mut Rows, pieces: Vec<(Rows, u64, u64)>, line_offset: &mut u64, size: usize) {
    for (part, lines, unread) in pieces {
        if all.weights.is_empty() {
            let (text, n) = (part.text_len.max(1), part.weights.len());
            all.reserve((size as f64 / text as f64 * n as f64 * 1.02) as usize + 1024);
        }
        let first = all.lines.len();
        all.append(part, *line_offset);
        if let Some(line) = all.lines.get_mut(first) {
            *line -= unread;
        }
        *line_offset += lines;
    }
}

/// Reads until `buf` holds `target` bytes or the file ends; `Some(true)` at the end.
fn fill(file: &mut File, buf: &mut Vec<u8>, target: usize) -> Option<bool> {
    let want = target.saturating_sub(buf.len());
    let got = file.take(want as u64).read_to_end(buf).ok()?;
    Some(got < want)
}

/// Positions of the quote characters.
fn quotes(bytes: &[u8]) -> Vec<usize> {
    memchr::memchr_iter(b'"', bytes).collect()
}

/// Whether position `at` is outside quotes (an even number of quotes before it).
fn outside(qs: &[usize], at: usize) -> bool {
    qs.partition_point(|&q| q < at) % 2 == 0
}

/// The first newline at or after `from` outside quotes.
fn next_boundary(bytes: &[u8], from: usize, qs: &[usize]) -> Option<usize> {
    let mut at = from;
    loop {
        let nl = at + memchr::memchr(b'\n', bytes.get(at..)?)?;
        if outside(qs, nl) {
            return Some(nl);
        }
        at = nl + 1;
    }
}

/// The last newline outside quotes.
fn last_boundary(bytes: &[u8], qs: &[usize]) -> Option<usize> {
    let mut end = bytes.len();
    loop {
        let nl = memchr::memrchr(b'\n', &bytes[..end])?;
        if outside(qs, nl) {
            return Some(nl);
        }
        end = nl;
    }
}

/// The newlines before `at` that one reader going through the file has not yet counted when
/// it starts the record at `at`: it counts the newline that ends a record when it reads that
/// record, but not the `\n` of a `\r\n` ending nor blank lines, which it counts while
/// reading the next record, whose line is therefore that of the last counted newline + 1.
/// `before` is that number at the start of `bytes`.
fn unread_newlines(bytes: &[u8], at: usize, before: u64) -> u64 {
    match bytes[..at].iter().rposition(|&b| b != b'\n' && b != b'\r') {
        Some(p) => newlines(bytes.get(p + 2..at).unwrap_or_default()),
        None => before + newlines(&bytes[..at]),
    }
}

fn newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// A record of a piece without quotes: its text and where its fields end.
struct Plain<'a> {
    text: &'a [u8],
    ends: &'a [usize],
}

impl Fields for Plain<'_> {
    #[inline]
    fn field(&self, i: usize) -> &[u8] {
        match self.ends.get(i) {
            Some(&end) => {
                let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
                &self.text[start..end]
            }
            None => &[],
        }
    }
}

/// Appends the positions of the commas of `text`. Fields are short (an answer is one digit),
/// so rather than a search per comma, eight bytes are looked at together: a byte of `x ^
/// ",,,,,,,,"` is zero at a comma, and `(v - 0x01…) & !v & 0x80…` sets the top bit of every
/// zero byte (a byte just above a zero byte may be marked too, through the borrow, so each mark
/// is checked).
fn commas(text: &[u8], out: &mut Vec<usize>) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const COMMAS: u64 = ONES * b',' as u64;
    let mut chunks = text.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word) ^ COMMAS;
        let mut marks = v.wrapping_sub(ONES) & !v & HIGHS;
        while marks != 0 {
            let j = (marks.trailing_zeros() / 8) as usize;
            if chunk[j] == b',' {
                out.push(base + j);
            }
            marks &= marks - 1;
        }
        base += 8;
    }
    for (j, &b) in chunks.remainder().iter().enumerate() {
        if b == b',' {
            out.push(base + j);
        }
    }
}

/// [`parse`] for a piece without quotes or carriage returns, where the records are the
/// non-empty lines and the fields what the commas separate (what a CSV reader makes of it,
/// with the same line numbers: a record's line is the one after the previous record's end,
/// blank lines between them not counted).
fn split(bytes: &[u8], header: &[String], cols: &Cols, known: &Known<'_>) -> Option<Rows> {
    let mut rows = Rows::new(cols, bytes.len() / 96 + 16);
    rows.text_len = bytes.len();
    let mut ends: Vec<usize> = Vec::with_capacity(header.len());
    // Newlines so far, and up to the end of the last record.
    let (mut seen, mut counted) = (0u64, 0u64);
    let mut at = 0;
    while at < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |n| at + n);
        let text = &bytes[at..end];
        at = end + 1;
        seen += u64::from(end < bytes.len());
        if text.is_empty() {
            continue;
        }
        let line = 1 + counted;
        counted = seen;
        ends.clear();
        commas(text, &mut ends);
        ends.push(text.len());
        if ends.len() != header.len() {
            return None;
        }
        rows.push(
            &Plain { text, ends: &ends },
            line,
            cols,
            header,
            Some(known),
        )
        .ok()?;
    }
    Some(rows)
}

/// Parses a piece of whole records; its line numbers count from 1 at its start, and the number
/// of newlines it holds comes with it.
fn parse(bytes: &[u8], header: &[String], cols: &Cols, known: &Known<'_>) -> Option<(Rows, u64)> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        // A reader would take this byte-order mark for the start of a file.
        return None;
    }
    if memchr::memchr2(b'"', b'\r', bytes).is_none() {
        return Some((split(bytes, header, cols, known)?, newlines(bytes)));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Rows::new(cols, bytes.len() / 96 + 16);
    rows.text_len = bytes.len();
    let mut rec = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => return None,
        }
        if rec.len() != header.len() {
            return None;
        }
        let line = rec.position().map_or(0, csv::Position::line);
        rows.push(&rec, line, cols, header, Some(known)).ok()?;
    }
    Some((rows, newlines(bytes)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::super::{Cols, Interner, Rows, headers, open_csv};
    use super::read_sized;

    fn serial(path: &std::path::Path, cols: &Cols) -> (Vec<String>, Option<Rows>) {
        let mut reader = open_csv(path).unwrap();
        let header = headers(path, &mut reader).unwrap();
        let mut rows = Rows::new(cols, 16);
        let mut rec = csv::ByteRecord::new();
        loop {
            match reader.read_byte_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(_) => return (header, None),
            }
            let line = rec.position().map_or(0, csv::Position::line);
            if rows.push(&rec, line, cols, &header, None).is_err() {
                return (header, None);
            }
        }
        (header, Some(rows))
    }

    /// The eight-byte comma search finds what a byte-by-byte one finds, in any text.
    #[test]
    fn commas_are_found_eight_bytes_at_a_time() {
        let mut state = 7u64;
        for len in 0..200 {
            for _ in 0..50 {
                let text: Vec<u8> = (0..len)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        // Commas, bytes next to a comma's value, and any byte.
                        match (state >> 33) % 6 {
                            0 | 1 => b',',
                            2 => b'-',
                            3 => b'+',
                            4 => 0,
                            _ => (state >> 40) as u8,
                        }
                    })
                    .collect();
                let mut found = vec![];
                super::commas(&text, &mut found);
                let expected: Vec<usize> = (0..text.len()).filter(|&j| text[j] == b',').collect();
                assert_eq!(found, expected, "{text:?}");
            }
        }
    }

    fn same_interner(a: &Interner, b: &Interner) {
        assert_eq!(a.codes, b.codes);
        assert_eq!(a.keys, b.keys);
    }

    fn same(a: &Rows, b: &Rows) {
        assert_eq!(
            (a.small, &a.codes, a.max_code),
            (b.small, &b.codes, b.max_code)
        );
        assert_eq!(a.items.len(), b.items.len());
        for (x, y) in a.items.iter().zip(&b.items) {
            let bits = |v: &Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(x), bits(y));
        }
        assert_eq!(a.weights, b.weights);
        assert_eq!(a.lines, b.lines);
        same_interner(a.strata.as_ref().unwrap(), b.strata.as_ref().unwrap());
        same_interner(&a.psu[0], &b.psu[0]);
        same_interner(a.by.as_ref().unwrap(), b.by.as_ref().unwrap());
    }

    /// Quoted fields with commas and newlines, CRLF and LF endings, blank lines, a byte-order
    /// mark: every block and piece size gives the columns, codes and lines of one reader.
    #[test]
    fn pieces_read_as_one_reader_reads() {
        for seed in 1..8 {
            pieces_read_as_one_reader_reads_with(seed);
        }
    }

    fn pieces_read_as_one_reader_reads_with(seed: u64) {
        let mut text = String::from("\u{feff}id,stratum,psu,w,q1,q2,dom\n");
        let mut state = seed;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        for r in 0..300 {
            // Even seeds: no quotes or carriage returns (the pieces are split by hand).
            let plain = seed.is_multiple_of(2);
            let stratum = match next(4) + 2 * u64::from(plain) {
                0 => "\"s,1\nx\"".to_owned(),
                1 => "\"say \"\"hi\"\"\"".to_owned(),
                k => format!("h{k}"),
            };
            // Seeds 1 and 2: an answer other than an integer 0–63 (the answers become numbers).
            let q1 =
                ["", "1", "2", "3", "4", "5", " 4 ", "2.5"][next(7 + u64::from(seed < 3)) as usize];
            let q2 = ["", "1", "5"][next(3) as usize];
            let end = if plain {
                ["\n", "\n\n", "\n\n\n"][next(3) as usize]
            } else {
                ["\n", "\r\n", "\n\n", "\r", "\r\n\r\n"][next(5) as usize]
            };
            text.push_str(&format!(
                "{r},{stratum},{}{},{}.5,{q1},{q2},d{}{end}",
                // Cluster names of up to 15 bytes and longer ones.
                ["p", "cluster-with-a-long-name-"][next(2) as usize],
                next(9),
                1 + next(30),
                next(5)
            ));
        }
        let dir =
            std::env::temp_dir().join(format!("hailong-parallel-{}-{seed}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("survey.csv");
        let cols = Cols {
            items: vec![4, 5],
            weight: Some(3),
            strata: Some(1),
            psu: vec![2],
            fpc: vec![],
            by: Some(6),
            cal: vec![],
        };
        std::fs::write(&path, &text).unwrap();
        let (header, expected) = serial(&path, &cols);
        let mut expected = expected.unwrap();
        assert_eq!(expected.weights.len(), 300);
        assert_eq!(expected.small, seed >= 3);
        let mut columns = Rows::new(&cols, 0);
        columns.append(
            Rows {
                lines: expected.lines.clone(),
                ..serial(&path, &cols).1.unwrap()
            },
            0,
        );
        // The answers as numbers, however kept.
        let numbers = columns.answer_columns();
        expected.answers_as_numbers();
        let bits = |v: &[Vec<f64>]| -> Vec<Vec<u64>> {
            v.iter()
                .map(|c| c.iter().map(|x| x.to_bits()).collect())
                .collect()
        };
        assert_eq!(bits(&numbers), bits(&expected.items));
        let expected = serial(&path, &cols).1.unwrap();
        for (block, piece) in [
            (64, 1),
            (64, 7),
            (100, 30),
            (333, 50),
            (1000, 200),
            (1 << 20, 1 << 10),
        ] {
            let got = read_sized(&path, &header, &cols, block, piece).unwrap();
            same(&got, &expected);
        }
        // Without a newline at the end.
        std::fs::write(&path, text.trim_end()).unwrap();
        let (_, expected) = serial(&path, &cols);
        let got = read_sized(&path, &header, &cols, 100, 30).unwrap();
        same(&got, &expected.unwrap());
        // A bad answer or a short record: left to the single reader.
        for bad in ["999,h1,p1,2,x,1,d1\n", "999,h1,p1\n"] {
            std::fs::write(&path, format!("{text}{bad}")).unwrap();
            assert!(serial(&path, &cols).1.is_none());
            assert!(read_sized(&path, &header, &cols, 100, 30).is_none());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
