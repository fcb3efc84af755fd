//! The design scripts of the microdata export: `design.R` (R's `survey`) and `design.do`
//! (Stata's `svyset`), which declare the published design over `microdata.csv` and
//! reproduce the published estimates.

use std::collections::HashMap;

use serde::Serialize;

use crate::services::results;
use crate::templates::{self, RenderError};

fn r_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// What `templates/export/design.R.j2` shows.
#[derive(Serialize)]
struct DesignR<'a> {
    slug: &'a str,
    main: &'a str,
    /// R string literals.
    lonely: String,
    calibration: Vec<String>,
}

/// The R script: declares the design with `survey`, rakes to the margins and writes the
/// province estimates of every index and element to `r_estimates.csv`, computed the way
/// Hailong does (the linearisation of `svycontrast(svyratio(…, covmat = TRUE))`, its variance
/// by `svytotal` on the raked design; interval est ± qt(0.975, degf) · se).
pub(super) fn design_r(
    slug: &str,
    lonely: &str,
    cal_vars: &[String],
    main: &str,
) -> Result<String, RenderError> {
    templates::render(
        "export/design.R.j2",
        &DesignR {
            slug,
            main,
            lonely: r_string(lonely),
            calibration: cal_vars
                .iter()
                .map(|v| r_string(&format!("cal_{v}")))
                .collect(),
        },
    )
}

/// What `templates/export/design.do.j2` shows.
#[derive(Serialize)]
struct DesignDo<'a> {
    slug: &'a str,
    main: &'a str,
    /// Stata's `singleunit()` for the campaign's lonely-PSU rule.
    single: &'static str,
    /// The main index, when the plan has it.
    index: Option<StataIndex>,
}

#[derive(Serialize)]
struct StataIndex {
    /// A mean of shares (the only kind the script declares).
    shares: bool,
    items: Vec<StataItem>,
}

#[derive(Serialize)]
struct StataItem {
    /// Position in the index (items the plan lacks keep their number).
    k: usize,
    /// The column as `import delimited` names it.
    var: String,
    reverse: bool,
    min: i64,
    max: i64,
    satisfied_min: i64,
    /// The item's weight over the index's total, in Rust's shortest form.
    share: String,
}

/// The Stata script: `svyset` of the design on the calibrated weights and the main index by
/// province as a ratio contrast. Stata cannot rake within `svyset`, so its standard errors
/// treat the calibrated weights as fixed (slightly larger than Hailong's and R's).
pub(super) fn design_do(
    slug: &str,
    lonely: &str,
    plan: &results::Plan,
    main: &str,
) -> Result<String, RenderError> {
    let single = match lonely {
        "adjust" => "centered",
        "certainty" => "certainty",
        "average" | "remove" => "scaled",
        _ => "missing",
    };
    let items: HashMap<&str, &results::ItemPlan> =
        plan.items.iter().map(|i| (i.code.as_str(), i)).collect();
    let index = plan.indices.iter().find(|i| i.name == main).map(|spec| {
        let total: f64 = spec.items.iter().map(|(_, w)| w).sum();
        StataIndex {
            shares: spec.kind == hailong_stats::IndexKind::Shares,
            items: spec
                .items
                .iter()
                .enumerate()
                .filter_map(|(k, (code, w))| {
                    items.get(code.as_str()).map(|p| StataItem {
                        k,
                        var: stata_name(code),
                        reverse: p.reverse,
                        min: p.min,
                        max: p.max,
                        satisfied_min: p.satisfied_min,
                        share: (w / total).to_string(),
                    })
                })
                .collect(),
        }
    });
    templates::render(
        "export/design.do.j2",
        &DesignDo {
            slug,
            main,
            single,
            index,
        },
    )
}

/// A question code as Stata's `import delimited` names its column.
fn stata_name(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hailong_stats::{IndexKind, IndexSpec};

    fn item(code: &str, reverse: bool) -> results::ItemPlan {
        results::ItemPlan {
            code: code.to_owned(),
            min: 1,
            max: 5,
            reverse,
            satisfied_min: 4,
            source: results::ItemSource::Scale,
        }
    }

    /// Two indices over four questions, one reversed, one with a code Stata
    /// renames, and an index item the plan does not know.
    fn plan() -> results::Plan {
        results::Plan {
            items: vec![item("Q1", false), item("q2.wait", true), item("Q3", false)],
            indices: vec![
                IndexSpec {
                    name: "SAT".to_owned(),
                    items: vec![
                        ("Q1".to_owned(), 2.0),
                        ("q2.wait".to_owned(), 1.0),
                        ("gone".to_owned(), 1.0),
                        ("Q3".to_owned(), 1.0),
                    ],
                    kind: IndexKind::Shares,
                    offset: 0.0,
                },
                IndexSpec {
                    name: "SCORE".to_owned(),
                    items: vec![("Q1".to_owned(), 1.0)],
                    kind: IndexKind::Score,
                    offset: 0.0,
                },
            ],
            nodes: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// The scripts as the `writeln!` version wrote them, byte for byte.
    #[test]
    fn scripts_are_written_as_before() {
        let cal = vec!["age_sex".to_owned(), "area \"x\"".to_owned()];
        let cases = [
            (
                "design-calibrated.R",
                design_r("health-2026", "adjust", &cal, "SAT").unwrap(),
            ),
            (
                "design-plain.R",
                design_r("a\"b\\c", "re\"move", &[], "").unwrap(),
            ),
            (
                "design-shares.do",
                design_do("health-2026", "adjust", &plan(), "SAT").unwrap(),
            ),
            (
                "design-score.do",
                design_do("x", "certainty", &plan(), "SCORE").unwrap(),
            ),
            (
                "design-average.do",
                design_do("x", "average", &plan(), "NONE").unwrap(),
            ),
            (
                "design-fail.do",
                design_do("x", "fail", &plan(), "SAT").unwrap(),
            ),
        ];
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/export-scripts");
        for (name, got) in cases {
            // HAILONG_UPDATE_FIXTURES=1 rewrites them after a deliberate change (review the diff).
            if std::env::var_os("HAILONG_UPDATE_FIXTURES").is_some() {
                std::fs::write(dir.join(name), &got).unwrap();
            }
            let want = std::fs::read_to_string(dir.join(name)).unwrap();
            assert_eq!(got, want, "{name}");
        }
    }
}
