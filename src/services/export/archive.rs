//! Zip archives of export files.

use crate::error::AppError;

/// The options of every entry: deflated, dated 1980-01-01 (so the same files always make the
/// same bytes).
pub(super) fn options() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::DEFAULT)
}

/// A zip archive of named files: deflated, UTF-8 names, every entry dated 1980-01-01 (so the
/// same files always make the same bytes).
pub fn zip(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, AppError> {
    use std::io::Write;
    use zip::write::ZipWriter;
    let fail = |e: &dyn std::fmt::Display| AppError::Internal(anyhow::anyhow!("zip: {e}"));
    let options = options();
    let mut archive = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        archive
            .start_file(name.as_str(), options)
            .map_err(|e| fail(&e))?;
        archive.write_all(bytes).map_err(|e| fail(&e))?;
    }
    Ok(archive.finish().map_err(|e| fail(&e))?.into_inner())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Reads the archive back with the `zip` crate's reader, checking each entry is deflated.
    fn unzip(z: &[u8]) -> Vec<(String, Vec<u8>)> {
        use std::io::Read;
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(z)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).unwrap();
                assert_eq!(file.compression(), zip::CompressionMethod::Deflated);
                let mut data = Vec::new();
                file.read_to_end(&mut data).unwrap();
                (file.name().unwrap().into_owned(), data)
            })
            .collect()
    }

    #[test]
    fn zip_archives_read_back_with_names_and_contents() {
        let files = vec![
            (
                "microdata.csv".to_owned(),
                "a,b\n1,2\n".repeat(500).into_bytes(),
            ),
            ("tỉnh.txt".to_owned(), "Hà Nội\n".as_bytes().to_vec()),
            ("empty".to_owned(), Vec::new()),
        ];
        let z = zip(&files).unwrap();
        assert!(z.len() < 2000, "deflated: {}", z.len());
        assert_eq!(unzip(&z), files);
        assert_eq!(zip(&files).unwrap(), z, "the same files, the same bytes");
    }
}
