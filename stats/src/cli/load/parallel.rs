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

use super::{Cols, Rows, headers};

/// Bytes read at a time.
const BLOCK: usize = 8 << 20;
/// Bytes per piece parsed on its own.
const PIECE: usize = 512 << 10;

/// The rows of the file after its header, or `None` when the file must be read with one
/// reader (for its error messages).
pub(super) fn read(path: &Path, header: &[String], cols: &Cols) -> Option<Rows> {
    let mut file = File::open(path).ok()?;
    let size = file.metadata().ok()?.len() as usize;
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK.min(size + 1) + PIECE);
    let mut eof = fill(&mut file, &mut buf, BLOCK)?;
    // The header: the first record, checked against the one the caller read.
    let header_end = next_boundary(&buf, 0, &quotes(&buf))? + 1;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&buf[..header_end]);
    if headers(path, &mut reader).ok()?.as_slice() != header {
        return None;
    }
    let mut line_offset = newlines(&buf[..header_end]);
    buf.drain(..header_end);
    let mut rows: Option<Rows> = None;
    loop {
        let qs = quotes(&buf);
        let end = if eof {
            buf.len()
        } else {
            match last_boundary(&buf, &qs) {
                Some(b) => b + 1,
                None => {
                    // One record longer than the block: read more.
                    let more = buf.len() + BLOCK;
                    eof = fill(&mut file, &mut buf, more)?;
                    continue;
                }
            }
        };
        let mut cuts = vec![0];
        let mut at = PIECE;
        while at < end {
            match next_boundary(&buf[..end], at, &qs) {
                Some(b) => {
                    cuts.push(b + 1);
                    at = b + 1 + PIECE;
                }
                None => break,
            }
        }
        if *cuts.last().unwrap_or(&0) != end {
            cuts.push(end);
        }
        let parts: Vec<(Rows, u64)> = cuts
            .par_windows(2)
            .map(|w| parse(&buf[w[0]..w[1]], header, cols))
            .collect::<Option<_>>()?;
        for (part, lines) in parts {
            match rows.as_mut() {
                Some(all) => all.append(part, line_offset),
                None => {
                    // Room for the whole file, estimated from the first piece.
                    let (text, n) = (part.text_len.max(1), part.weights.len());
                    let estimate = (size as f64 / text as f64 * n as f64 * 1.02) as usize + 1024;
                    let mut all = Rows::new(cols, estimate);
                    all.append(part, line_offset);
                    rows = Some(all);
                }
            }
            line_offset += lines;
        }
        if eof {
            break;
        }
        buf.drain(..end);
        eof = fill(&mut file, &mut buf, BLOCK)?;
    }
    rows
}

/// Reads until `buf` holds `target` bytes or the file ends; `Some(true)` at the end.
fn fill(file: &mut File, buf: &mut Vec<u8>, target: usize) -> Option<bool> {
    while buf.len() < target {
        let old = buf.len();
        buf.resize(target, 0);
        match file.read(&mut buf[old..]) {
            Ok(0) => {
                buf.truncate(old);
                return Some(true);
            }
            Ok(n) => buf.truncate(old + n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(old),
            Err(_) => return None,
        }
    }
    Some(false)
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

fn newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Parses a piece of whole records; its line numbers count from 1 at its start, and the number
/// of newlines it holds comes with it.
fn parse(bytes: &[u8], header: &[String], cols: &Cols) -> Option<(Rows, u64)> {
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
        rows.push(&rec, line, cols, header).ok()?;
    }
    Some((rows, newlines(bytes)))
}
