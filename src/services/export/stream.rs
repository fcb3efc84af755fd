//! Writing exports while the rows are read: where the files go ([`ExportSink`]: a directory,
//! a zip archive), and the microdata's answer cells, put aside while the responses are read
//! in id order ([`AnswerTail`]) until the weights are known.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// One id range of the microdata export as it is read: the design columns of its rows, kept
/// (a few numbers per row), and their answer cells, written to an anonymous temporary file
/// (deleted when closed) until the weights are known. A cell is its length (u32, little
/// endian) and its bytes; every row has [`AnswerTail::columns`] cells.
pub struct AnswerTail {
    design: DesignColumns,
    file: BufWriter<File>,
    questions: Arc<Questions>,
    /// Scratch space for one row's answers, by slot.
    answers: Vec<Option<serde_json::Value>>,
}

/// The questions whose answers the microdata exports, in column order.
pub struct Questions {
    pub questions: Vec<Question>,
    /// The slot of each question code.
    pub slot_of_code: HashMap<String, usize>,
    /// The slot of each question.
    pub slots: Vec<usize>,
}

impl AnswerTail {
    pub fn new(design: DesignColumns, questions: Arc<Questions>) -> Result<AnswerTail, AppError> {
        let file = tempfile::tempfile().map_err(io_err("a temporary file for the export"))?;
        Ok(AnswerTail {
            design,
            file: BufWriter::with_capacity(1 << 16, file),
            answers: vec![None; questions.slot_of_code.len()],
            questions,
        })
    }

    /// The design columns and a reader of the answer cells, from the first row.
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
                index: &self.questions.slot_of_code,
                out: &mut self.answers,
            },
            &mut de,
        );
        // Answers that are not one JSON object count as no answer at all.
        if read.is_err() || de.end().is_err() {
            self.answers.iter_mut().for_each(|s| *s = None);
        }
        let file = &mut self.file;
        let mut failed = None;
        let shared = &*self.questions;
        for (q, &slot) in shared.questions.iter().zip(&shared.slots) {
            let a = self.answers.get(slot).and_then(Option::as_ref);
            super::answer_cells_into(q, a, &mut |cell: &str| {
                let written = u32::try_from(cell.len())
                    .map_err(|_| std::io::Error::other("an answer over 4 GB"))
                    .and_then(|len| file.write_all(&len.to_le_bytes()))
                    .and_then(|()| file.write_all(cell.as_bytes()));
                if let Err(e) = written {
                    failed = Some(e);
                }
            });
        }
        match failed {
            Some(e) => Err(io_err("writing the export's temporary file")(e)),
            None => Ok(()),
        }
    }
}

/// Reads back the answer cells an [`AnswerTail`] wrote, one cell at a time.
pub struct TailReader {
    file: BufReader<File>,
    len: [u8; 4],
}

impl TailReader {
    /// The next cell into `out` (cleared first).
    pub fn next_cell(&mut self, out: &mut Vec<u8>) -> Result<(), AppError> {
        let err = io_err("reading the export's temporary file");
        self.file.read_exact(&mut self.len).map_err(&err)?;
        let n = u32::from_le_bytes(self.len) as usize;
        out.clear();
        out.resize(n, 0);
        self.file.read_exact(out).map_err(&err)
    }

    /// Whether every cell was read.
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
    index: &'a HashMap<String, usize>,
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
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match self.index.get(key.as_ref()) {
                Some(&k) => {
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
