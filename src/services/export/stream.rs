//! Writing exports while the rows are read: where the files go ([`ExportSink`]: a directory,
//! a zip archive), and the microdata's answer cells, put aside while the responses are read
//! in id order ([`AnswerTail`]) until the weights are known.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::domain::cells;
use crate::domain::questionnaire::Question;
use crate::error::AppError;
use crate::services::results::{DesignColumns, ResponseRow, RowSink};

fn io_err(what: &str) -> impl Fn(std::io::Error) -> AppError + '_ {
    move |e| AppError::Internal(anyhow::anyhow!("{what}: {e}"))
}

/// Where the files of an export go, one after another: each file is written whole through
/// the writer [`ExportSink::file`] returns, before the next one starts.
pub trait ExportSink: Send {
    /// Starts the file `name`.
    fn file(&mut self, name: &str) -> Result<&mut (dyn Write + Send), AppError>;
    /// Ends the last file.
    fn finish(&mut self) -> Result<(), AppError>;
}

/// Files in a directory (created if missing).
pub struct DirSink {
    dir: PathBuf,
    current: Option<(PathBuf, BufWriter<File>)>,
}

impl DirSink {
    /// Files in `dir`, created with the first file.
    pub fn new(dir: &Path) -> DirSink {
        DirSink {
            dir: dir.to_owned(),
            current: None,
        }
    }

    fn close(&mut self) -> Result<(), AppError> {
        if let Some((path, mut w)) = self.current.take() {
            w.flush()
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{}: {e}", path.display())))?;
        }
        Ok(())
    }
}

impl ExportSink for DirSink {
    fn file(&mut self, name: &str) -> Result<&mut (dyn Write + Send), AppError> {
        self.close()?;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{}: {e}", self.dir.display())))?;
        let path = self.dir.join(name);
        let f = File::create(&path)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{}: {e}", path.display())))?;
        let (_, w) = self
            .current
            .insert((path, BufWriter::with_capacity(1 << 16, f)));
        Ok(w)
    }

    fn finish(&mut self) -> Result<(), AppError> {
        self.close()
    }
}

/// Entries of a zip archive, with the options of [`super::zip`] (deflated, dated
/// 1980-01-01), written as they come.
pub struct ZipSink<W: Write + Seek + Send> {
    archive: Option<zip::ZipWriter<W>>,
}

impl<W: Write + Seek + Send> ZipSink<W> {
    pub fn new(inner: W) -> ZipSink<W> {
        ZipSink {
            archive: Some(zip::ZipWriter::new(inner)),
        }
    }

    /// The archive, finished.
    pub fn into_inner(mut self) -> Result<W, AppError> {
        let archive = self
            .archive
            .take()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("zip: already finished")))?;
        archive
            .finish()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("zip: {e}")))
    }
}

impl<W: Write + Seek + Send> ExportSink for ZipSink<W> {
    fn file(&mut self, name: &str) -> Result<&mut (dyn Write + Send), AppError> {
        let archive = self
            .archive
            .as_mut()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("zip: already finished")))?;
        archive
            .start_file(name, super::archive::options())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("zip: {e}")))?;
        Ok(archive)
    }

    fn finish(&mut self) -> Result<(), AppError> {
        Ok(())
    }
}

/// CSV cells escaped by `csv_core` (the `csv` crate's writer) as the `csv` writer escapes them
/// inside a record (quoted when they hold a comma, a quote or a line break), for rows put
/// together from pieces escaped at different times: each cell goes into a buffer as `,cell`.
pub struct CsvCells {
    w: csv_core::Writer,
}

impl Default for CsvCells {
    fn default() -> CsvCells {
        CsvCells {
            w: csv_core::Writer::new(),
        }
    }
}

impl CsvCells {
    /// Appends `,cell` to `out`, the cell through [`cells::text`] and escaped.
    pub fn cell(&mut self, out: &mut Vec<u8>, cell: &str) {
        let text = cells::text(cell);
        let mut input = text.as_bytes();
        out.push(b',');
        // The field, then a delimiter that ends it (writing its closing quote, if any) and is
        // taken off again.
        let mut field_done = false;
        loop {
            let start = out.len();
            // Room for the worst case: every byte a doubled quote, two quotes, a delimiter.
            out.resize(start + 2 * input.len() + 3, 0);
            let (result, written) = if field_done {
                self.w.delimiter(&mut out[start..])
            } else {
                let (result, read, written) = self.w.field(input, &mut out[start..]);
                input = &input[read..];
                (result, written)
            };
            out.truncate(start + written);
            match (result, field_done) {
                (csv_core::WriteResult::InputEmpty, false) => field_done = true,
                (csv_core::WriteResult::InputEmpty, true) => break,
                (csv_core::WriteResult::OutputFull, _) => {}
            }
        }
        out.pop();
    }

    /// One cell escaped: `,cell`.
    pub fn one(&mut self, cell: &str) -> Vec<u8> {
        let mut out = Vec::new();
        self.cell(&mut out, cell);
        out
    }
}

/// One id range of the microdata export as it is read: the design columns of its rows, kept
/// (a few numbers per row), and their answer cells, already escaped as the CSV's tail of
/// the row (`,a,b,…`, see [`CsvCells`]), written to an anonymous temporary file (deleted
/// when closed) until the weights are known: per row its length (u32, little endian) and
/// its bytes.
pub struct AnswerTail {
    design: DesignColumns,
    file: BufWriter<File>,
    questions: Arc<Questions>,
    /// Scratch space for one row's answers, by slot.
    answers: Vec<Option<serde_json::Value>>,
    csv: CsvCells,
    /// Scratch space for one row's escaped answer cells.
    tail: Vec<u8>,
}

/// The questions whose answers the microdata exports, in column order.
pub struct Questions {
    pub questions: Vec<Question>,
    /// The slot of each question code, in order of the codes (stored answers are objects
    /// with their keys in that order, so each key is looked for where the last one was
    /// found first).
    pub slot_of_code: Vec<(String, usize)>,
    /// The slot of each question.
    pub slots: Vec<usize>,
}

impl Questions {
    /// The questions, the same code twice sharing one slot.
    pub fn new(questions: Vec<Question>) -> Questions {
        let mut slot_of: HashMap<&str, usize> = HashMap::new();
        for q in &questions {
            let next = slot_of.len();
            slot_of.entry(q.code.as_str()).or_insert(next);
        }
        let slots = questions
            .iter()
            .map(|q| slot_of.get(q.code.as_str()).copied().unwrap_or_default())
            .collect();
        let mut slot_of_code: Vec<(String, usize)> = slot_of
            .into_iter()
            .map(|(c, s)| (c.to_owned(), s))
            .collect();
        slot_of_code.sort();
        Questions {
            questions,
            slot_of_code,
            slots,
        }
    }

    /// The slot of `code`, looked for at `*next` first; `*next` is left after it.
    fn slot(&self, code: &str, next: &mut usize) -> Option<usize> {
        let at = match self.slot_of_code.get(*next) {
            Some((c, _)) if c == code => *next,
            _ => self
                .slot_of_code
                .binary_search_by(|(c, _)| c.as_str().cmp(code))
                .ok()?,
        };
        *next = at + 1;
        self.slot_of_code.get(at).map(|(_, s)| *s)
    }
}

impl AnswerTail {
    pub fn new(design: DesignColumns, questions: Arc<Questions>) -> Result<AnswerTail, AppError> {
        let file = tempfile::tempfile().map_err(io_err("a temporary file for the export"))?;
        Ok(AnswerTail {
            design,
            file: BufWriter::with_capacity(1 << 16, file),
            answers: vec![None; questions.slot_of_code.len()],
            questions,
            csv: CsvCells::default(),
            tail: Vec::new(),
        })
    }

    /// The design columns and a reader of the rows' answer cells, from the first row.
    pub fn into_parts(self) -> Result<(DesignColumns, TailReader), AppError> {
        let mut file = self
            .file
            .into_inner()
            .map_err(|e| io_err("writing the export's temporary file")(e.into_error()))?;
        file.rewind()
            .map_err(io_err("reading the export's temporary file"))?;
        Ok((
            self.design,
            TailReader {
                file: BufReader::with_capacity(1 << 16, file),
                len: [0; 4],
            },
        ))
    }
}

impl RowSink for AnswerTail {
    fn push(&mut self, row: ResponseRow<'_>) -> Result<(), AppError> {
        self.design.push(
            row.locality,
            row.stratum,
            row.cluster,
            row.weight,
            row.cells,
        );
        self.answers.iter_mut().for_each(|s| *s = None);
        let mut de = serde_json::Deserializer::from_str(row.answers);
        let read = serde::de::DeserializeSeed::deserialize(
            QuestionAnswers {
                questions: &self.questions,
                out: &mut self.answers,
            },
            &mut de,
        );
        // Answers that are not one JSON object count as no answer at all.
        if read.is_err() || de.end().is_err() {
            self.answers.iter_mut().for_each(|s| *s = None);
        }
        let shared = &*self.questions;
        let (csv, tail) = (&mut self.csv, &mut self.tail);
        tail.clear();
        for (q, &slot) in shared.questions.iter().zip(&shared.slots) {
            let a = self.answers.get(slot).and_then(Option::as_ref);
            super::answer_cells_into(q, a, &mut |cell: &str| csv.cell(tail, cell));
        }
        u32::try_from(tail.len())
            .map_err(|_| std::io::Error::other("a row's answers over 4 GB"))
            .and_then(|len| self.file.write_all(&len.to_le_bytes()))
            .and_then(|()| self.file.write_all(&self.tail))
            .map_err(io_err("writing the export's temporary file"))
    }
}

/// Reads back the rows' answer cells an [`AnswerTail`] wrote, one row at a time.
pub struct TailReader {
    file: BufReader<File>,
    len: [u8; 4],
}

impl TailReader {
    /// Appends the next row's answer cells (`,a,b,…`) to `out`.
    pub fn next_row(&mut self, out: &mut Vec<u8>) -> Result<(), AppError> {
        let err = io_err("reading the export's temporary file");
        self.file.read_exact(&mut self.len).map_err(&err)?;
        let n = u32::from_le_bytes(self.len) as usize;
        let start = out.len();
        out.resize(start + n, 0);
        self.file.read_exact(&mut out[start..]).map_err(&err)
    }

    /// Whether every row was read.
    pub fn at_end(&mut self) -> Result<bool, AppError> {
        let mut byte = [0u8; 1];
        let n = self
            .file
            .read(&mut byte)
            .map_err(io_err("reading the export's temporary file"))?;
        Ok(n == 0)
    }
}

/// Reads the answers to the questionnaire's questions out of a response's JSON object into
/// their slots (a later duplicate key wins, as in a map), skipping every other key.
struct QuestionAnswers<'a> {
    questions: &'a Questions,
    out: &'a mut [Option<serde_json::Value>],
}

impl<'de> serde::de::DeserializeSeed<'de> for QuestionAnswers<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for QuestionAnswers<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object of answers")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut next = 0;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match self.questions.slot(&key, &mut next) {
                Some(k) => {
                    let v = map.next_value::<serde_json::Value>()?;
                    if let Some(slot) = self.out.get_mut(k) {
                        *slot = Some(v);
                    }
                }
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A record as the csv writer writes it whole, cells through [`cells::text`].
    fn whole(record: &[&str]) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(cells::record(record)).unwrap();
        w.into_inner().unwrap()
    }

    #[test]
    fn cells_escaped_apart_make_the_record_the_csv_writer_makes() {
        let tricky = [
            "",
            "a",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "cr\r",
            "=1+1",
            "-3",
            "-x",
            " ",
            "'",
            "@a",
            "\t=x",
            "ồ, ừ",
            "\"",
            "\"\"\"",
        ];
        let mut c = CsvCells::default();
        for n in 0..=3 {
            for start in 0..tricky.len() {
                let cells: Vec<&str> = tricky.iter().cycle().skip(start).take(n).copied().collect();
                let mut record = vec!["1"];
                record.extend(&cells);
                let mut ours = b"1".to_vec();
                for x in &cells {
                    c.cell(&mut ours, x);
                }
                ours.push(b'\n');
                assert_eq!(
                    String::from_utf8(ours).unwrap(),
                    String::from_utf8(whole(&record)).unwrap(),
                    "{cells:?}"
                );
            }
        }
        // An empty cell stays empty inside a longer record.
        assert_eq!(c.one(""), b",");
        assert_eq!(c.one("a\"b"), b",\"a\"\"b\"");
        assert_eq!(c.one(&"\"".repeat(100)).len(), 1 + 2 + 200);
    }
}
