//! Results as CSV and XLSX downloads.

use serde::Serialize;

use crate::domain::cells::Text;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::services::results::{CampaignResults, Level, ResultJson, ResultRow};

use super::{csv_err, num};

/// The columns of a results download.
pub const RESULT_COLUMNS: [&str; 13] = [
    "level",
    "locality",
    "name",
    "index",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "n",
    "deff",
    "suppressed",
    "reason",
];

/// One row of a results download, its fields named and ordered as [`RESULT_COLUMNS`]: text
/// neutralised against formula injection, numbers `N` (`Option<f64>` for XLSX's numeric
/// cells, their [`num`] text for CSV).
#[derive(Debug, Default, Serialize)]
struct ResultLine<'a, N> {
    level: Text<'a>,
    locality: Text<'a>,
    name: Text<'a>,
    index: Text<'a>,
    estimate: N,
    se: N,
    ci_low: N,
    ci_high: N,
    df: i64,
    n: u64,
    deff: N,
    suppressed: bool,
    reason: Text<'a>,
}

impl<'a, N> ResultLine<'a, N> {
    fn new(r: &'a ResultRow, j: &'a ResultJson, number: impl Fn(Option<f64>) -> N) -> Self {
        ResultLine {
            level: Text(r.level.as_str()),
            locality: Text(&j.locality),
            name: Text(&j.name),
            index: Text(&j.index),
            estimate: number(j.estimate),
            se: number(j.se),
            ci_low: number(j.ci_low),
            ci_high: number(j.ci_high),
            df: j.df,
            n: j.n,
            deff: number(j.deff),
            suppressed: j.suppressed,
            reason: Text(j.reason.unwrap_or_default()),
        }
    }
}

fn selected<'a>(
    results: &'a CampaignResults,
    level: Option<Level>,
    index: Option<&str>,
) -> Vec<&'a ResultRow> {
    results
        .rows
        .iter()
        .filter(|r| level.is_none_or(|l| r.level == l) && index.is_none_or(|i| r.index == i))
        .collect()
}

/// Results as CSV (UTF-8 with a byte-order mark so that spreadsheet programs keep the
/// Vietnamese text intact).
pub fn results_csv(
    results: &CampaignResults,
    level: Option<Level>,
    index: Option<&str>,
    lang: Lang,
) -> Result<String, AppError> {
    // The header is written even when no row is (serialize writes it with the first row).
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(RESULT_COLUMNS).map_err(csv_err)?;
    for r in selected(results, level, index) {
        let j = ResultJson::new(r, results, lang);
        w.serialize(ResultLine::new(r, &j, num)).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(csv_err)?;
    Ok(format!(
        "\u{feff}{}",
        String::from_utf8(bytes).map_err(csv_err)?
    ))
}

/// Results as an XLSX workbook: numbers as numbers, text as text.
pub fn results_xlsx(
    results: &CampaignResults,
    level: Option<Level>,
    index: Option<&str>,
    lang: Lang,
) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| AppError::Internal(anyhow::anyhow!("XLSX: {e}"));
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("results").map_err(x)?;
    let header = ResultLine::<Option<f64>>::default();
    sheet
        .serialize_headers_with_format(0, 0, &header, &Format::new().set_bold())
        .map_err(x)?;
    for r in selected(results, level, index) {
        let j = ResultJson::new(r, results, lang);
        sheet.serialize(&ResultLine::new(r, &j, |v| v)).map_err(x)?;
    }
    sheet.set_column_width(2, 28).map_err(x)?;
    wb.save_to_buffer().map_err(x)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn result_lines_have_the_result_columns() {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(ResultLine::<String>::default()).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            RESULT_COLUMNS.join(","),
            "field names and order"
        );
    }
}
