//! Results as CSV and XLSX downloads, for people and for analysts: headers in the request's
//! language (Vietnamese by default), names beside codes, the numbers rounded as the pages show
//! them and, after them, the exact estimates for analysis. A suppressed row has no number at
//! all, its reason in words. Every text cell is neutralised against formula injection.

use crate::domain::cells::{self, Text};
use crate::error::AppError;
use crate::i18n::{Arg, Lang, t};
use crate::services::results::{CampaignResults, Level, ResultRow};

use super::{csv_err, num};

/// The columns of a results download, in order; the header of column `c` is the message
/// `export-col-{c}` in the download's language.
pub const RESULT_COLUMNS: [&str; 26] = [
    "level",
    "locality",
    "name",
    "index",
    "index-name",
    "unit",
    "shown",
    "shown-low",
    "shown-high",
    "n",
    "suppressed",
    "reason",
    "estimate",
    "se",
    "ci-low",
    "ci-high",
    "df",
    "deff",
    // The model-based (small-area) estimate of a commune, marked, beside the direct one.
    "model",
    "model-shown",
    "model-shown-low",
    "model-shown-high",
    "model-estimate",
    "model-rmse",
    "model-ci-low",
    "model-ci-high",
];

/// The headers of a download in `lang`.
pub fn result_headers(lang: Lang) -> Vec<String> {
    RESULT_COLUMNS
        .iter()
        .map(|c| t(lang, &format!("export-col-{c}"), &[]))
        .collect()
}

/// One cell of a results download.
#[derive(Debug, Clone, PartialEq)]
enum Cell<'a> {
    /// Text, written through [`cells::text`].
    Text(Text<'a>),
    Owned(String),
    /// A number as the pages show it (`87.1`): its text in CSV, a number in XLSX.
    Shown(Option<String>),
    /// An exact number: every digit in CSV, a number in XLSX.
    Exact(Option<f64>),
    Count(i64),
}

/// A number as the pages show it (the templates' `est` filter): a share or score ×100 with
/// one decimal, a value on its own scale with two.
fn shown(x: Option<f64>, value: bool) -> Cell<'static> {
    Cell::Shown(x.filter(|v| v.is_finite()).map(|v| {
        if value {
            format!("{v:.2}")
        } else {
            format!("{:.1}", v * 100.0)
        }
    }))
}

/// The cells of one row, in the order of [`RESULT_COLUMNS`].
fn line<'a>(r: &'a ResultRow, results: &'a CampaignResults, lang: Lang) -> Vec<Cell<'a>> {
    // Belt and braces: a suppressed row never carries a number into a file.
    let number = |v: Option<f64>| if r.suppressed { None } else { v };
    let node = results.node(&r.index);
    let score = node.is_some_and(|n| n.score);
    let value = node.and_then(|n| n.range);
    let mut cells = vec![
        Cell::Owned(t(lang, &format!("results-level-{}", r.level.as_str()), &[])),
        Cell::Text(Text(&r.locality)),
        Cell::Owned(
            results
                .locality(&r.locality)
                .map(|l| l.name(lang))
                .unwrap_or_else(|| r.locality.clone()),
        ),
        Cell::Text(Text(&r.index)),
        Cell::Owned(node.map(|n| n.name(lang).to_owned()).unwrap_or_default()),
        Cell::Owned(match value {
            Some([lo, hi]) => t(
                lang,
                "export-unit-value",
                &[("low", Arg::from(lo)), ("high", Arg::from(hi))],
            ),
            None if score => t(lang, "export-unit-points", &[]),
            None => t(lang, "export-unit-percent", &[]),
        }),
        shown(number(r.estimate), value.is_some()),
        shown(number(r.ci_low), value.is_some()),
        shown(number(r.ci_high), value.is_some()),
        Cell::Count(i64::try_from(r.n).unwrap_or(i64::MAX)),
        Cell::Owned(t(
            lang,
            if r.suppressed {
                "export-yes"
            } else {
                "export-no"
            },
            &[],
        )),
        Cell::Owned(
            r.reason
                .map(|reason| reason.words(results, lang))
                .unwrap_or_default(),
        ),
        Cell::Exact(number(r.estimate)),
        Cell::Exact(number(r.se)),
        Cell::Exact(number(r.ci_low)),
        Cell::Exact(number(r.ci_high)),
        Cell::Count(r.df),
        Cell::Exact(number(r.deff)),
    ];
    let model = results.small_area.row(&r.locality, &r.index);
    cells.push(Cell::Owned(model.map_or_else(String::new, |m| {
        format!(
            "{} {}",
            t(lang, "sae-mark", &[]),
            t(lang, m.note_key(), &[])
        )
    })));
    cells.push(shown(model.map(|m| m.estimate), value.is_some()));
    cells.push(shown(model.map(|m| m.ci_low), value.is_some()));
    cells.push(shown(model.map(|m| m.ci_high), value.is_some()));
    cells.push(Cell::Exact(model.map(|m| m.estimate)));
    cells.push(Cell::Exact(model.map(|m| m.rmse)));
    cells.push(Cell::Exact(model.map(|m| m.ci_low)));
    cells.push(Cell::Exact(model.map(|m| m.ci_high)));
    cells
}

impl Cell<'_> {
    fn csv(&self) -> String {
        match self {
            Cell::Text(s) => cells::text(s.0).into_owned(),
            Cell::Owned(s) => cells::text(s).into_owned(),
            Cell::Shown(s) => s.clone().unwrap_or_default(),
            Cell::Exact(x) => num(*x),
            Cell::Count(n) => n.to_string(),
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
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cells::record(&result_headers(lang)))
        .map_err(csv_err)?;
    for r in selected(results, level, index) {
        let record: Vec<String> = line(r, results, lang).iter().map(Cell::csv).collect();
        w.write_record(&record).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(csv_err)?;
    Ok(format!(
        "\u{feff}{}",
        String::from_utf8(bytes).map_err(csv_err)?
    ))
}

/// Results as an XLSX workbook: numbers as numbers (the rounded ones with one decimal
/// shown), text as text.
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
    sheet.set_name(t(lang, "export-sheet", &[])).map_err(x)?;
    let bold = Format::new().set_bold().set_text_wrap();
    let one_decimal = Format::new().set_num_format("0.0");
    for (c, h) in result_headers(lang).iter().enumerate() {
        sheet
            .write_string_with_format(0, col(c)?, cells::text(h), &bold)
            .map_err(x)?;
    }
    for (i, r) in selected(results, level, index).into_iter().enumerate() {
        let row = u32::try_from(i + 1)
            .map_err(|_| AppError::Internal(anyhow::anyhow!("XLSX: too many rows")))?;
        for (c, cell) in line(r, results, lang).iter().enumerate() {
            let c = col(c)?;
            match cell {
                Cell::Text(s) => sheet.write_string(row, c, cells::text(s.0)),
                Cell::Owned(s) => sheet.write_string(row, c, cells::text(s)),
                Cell::Shown(Some(s)) => match s.parse::<f64>() {
                    Ok(v) => sheet.write_number_with_format(row, c, v, &one_decimal),
                    Err(_) => sheet.write_string(row, c, cells::text(s)),
                },
                Cell::Exact(Some(v)) => sheet.write_number(row, c, *v),
                Cell::Count(n) => sheet.write_number(row, c, *n as f64),
                Cell::Shown(None) | Cell::Exact(None) => continue,
            }
            .map_err(x)?;
        }
    }
    sheet.set_column_width(2, 24).map_err(x)?;
    sheet.set_column_width(4, 36).map_err(x)?;
    sheet.set_column_width(11, 32).map_err(x)?;
    sheet.set_freeze_panes(1, 0).map_err(x)?;
    wb.save_to_buffer().map_err(x)
}

fn col(c: usize) -> Result<u16, AppError> {
    u16::try_from(c).map_err(|_| AppError::Internal(anyhow::anyhow!("XLSX: too many columns")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::services::results::{IndexNode, ResultLocality, Suppression};

    fn results() -> CampaignResults {
        let row = |locality: &str, level, estimate: Option<f64>| ResultRow {
            level,
            locality: locality.to_owned(),
            index: "SIPAS/E1".to_owned(),
            estimate,
            se: estimate.map(|_| 0.012_345_678_9),
            ci_low: estimate.map(|e| e - 0.05),
            ci_high: estimate.map(|e| e + 0.05),
            df: 40,
            n: 60,
            deff: estimate.map(|_| 1.5),
            own_df: 0,
            suppressed: estimate.is_none(),
            reason: estimate.is_none().then_some(Suppression::TooFewPsus),
        };
        let place = |code: &str, level, vi: &str, en: &str| ResultLocality {
            code: code.to_owned(),
            level,
            parent: None,
            name_vi: vi.to_owned(),
            name_en: en.to_owned(),
            responses: 60,
        };
        CampaignResults {
            rows: vec![
                row("01", Level::Province, Some(0.871_234_567_8)),
                row("00004", Level::Commune, None),
            ],
            localities: vec![
                place("01", Level::Province, "Hà Nội", "Hanoi"),
                place("00004", Level::Commune, "=Ba Đình", "Ba Dinh"),
            ],
            nodes: vec![IndexNode {
                key: "SIPAS/E1".to_owned(),
                depth: 1,
                code: "E1".to_owned(),
                name_vi: "Tiếp cận dịch vụ".to_owned(),
                name_en: "Access to the service".to_owned(),
                score: false,
                range: None,
                family: None,
            }],
            main_index: Some("SIPAS".to_owned()),
            responses: 120,
            df: 40,
            min_n: 30,
            min_df: 8,
            calibration: crate::services::results::CalibrationNote::None,
            skipped_indices: Vec::new(),
            small_area: Default::default(),
        }
    }

    fn read(csv: &str) -> Vec<Vec<String>> {
        csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn every_column_has_a_header_in_both_languages() {
        for lang in [Lang::Vi, Lang::En] {
            let headers = result_headers(lang);
            assert_eq!(headers.len(), RESULT_COLUMNS.len());
            for (h, c) in headers.iter().zip(RESULT_COLUMNS) {
                assert!(!h.starts_with("export-col-"), "{c} has no {lang:?} header");
            }
        }
        assert_eq!(result_headers(Lang::Vi)[1], "Mã địa bàn");
        assert_eq!(result_headers(Lang::En)[1], "Locality code");
    }

    #[test]
    fn rows_carry_names_rounded_and_exact_numbers_and_reasons_in_words() {
        let r = results();
        let csv = results_csv(&r, None, None, Lang::Vi).unwrap();
        let header = csv.trim_start_matches('\u{feff}').lines().next().unwrap();
        assert!(header.starts_with("Cấp,Mã địa bàn,Tên địa bàn,Mã chỉ số"));
        let rows = read(&csv);
        let at = |c: &str| RESULT_COLUMNS.iter().position(|k| *k == c).unwrap();
        let hanoi = &rows[0];
        assert_eq!(hanoi[at("level")], "Tỉnh");
        assert_eq!(hanoi[at("name")], "Hà Nội");
        assert_eq!(hanoi[at("index-name")], "Tiếp cận dịch vụ");
        assert_eq!(hanoi[at("shown")], "87.1");
        assert_eq!(hanoi[at("shown-low")], "82.1");
        assert_eq!(hanoi[at("estimate")], "0.8712345678");
        assert_eq!(hanoi[at("se")], "0.0123456789");
        assert_eq!(hanoi[at("suppressed")], "Không");
        assert_eq!(hanoi[at("reason")], "");
        let commune = &rows[1];
        assert_eq!(commune[at("name")], "'=Ba Đình", "formula neutralised");
        assert_eq!(commune[at("suppressed")], "Có");
        assert!(
            !commune[at("reason")].contains('_'),
            "{}",
            commune[at("reason")]
        );
        assert!(commune[at("reason")].contains("khảo sát"));
        for c in [
            "shown",
            "shown-low",
            "shown-high",
            "estimate",
            "se",
            "ci-low",
            "ci-high",
        ] {
            assert_eq!(commune[at(c)], "", "{c} of a suppressed row");
        }
        let en = read(&results_csv(&r, Some(Level::Commune), None, Lang::En).unwrap());
        assert_eq!(en.len(), 1);
        assert_eq!(en[0][at("level")], "Commune");
        assert_eq!(en[0][at("suppressed")], "Yes");
        assert!(
            results_xlsx(&r, None, None, Lang::En)
                .unwrap()
                .starts_with(b"PK")
        );
    }
}
