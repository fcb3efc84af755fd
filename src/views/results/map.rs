//! Maps of results with their uncertainty, drawn on the server as SVG (no tiles, no
//! JavaScript): a tile-grid cartogram of the 34 provinces of 2025 on the overview and a grid
//! of its communes on a province's page.
//!
//! # Classes that respect the intervals
//!
//! The shown estimates (direct where published, otherwise model-based) are split into three
//! classes at the thirds of their range, rounded to a whole point. An area is coloured by
//! its class only when its whole interval lies inside that class; otherwise it is hatched
//! and called *uncertain* (its number is still in its title). Suppressed areas (no number)
//! are cross-hatched; model-based areas carry the ◆ mark and a purple outline.
//!
//! # Tile positions
//!
//! [`PROVINCE_TILES`]: one square per province-level unit of the 2025 list (Resolution
//! 202/2025/QH15; codes of Decision 19/2025/QĐ-TTg, `reference/localities/vn-2025.csv`), laid
//! out by hand from the approximate latitude and longitude of each unit's seat — north at the
//! top, the coast on the right — in the manner of the tile-grid maps of newspapers. It is a
//! diagram, not a boundary map: no boundary data set is used.

use serde::Serialize;

use crate::i18n::{Arg, Lang, t};
use crate::services::results::{CampaignResults, Level};

/// (code, column, row) of each province's tile.
pub const PROVINCE_TILES: [(&str, u8, u8); 34] = [
    ("12", 1, 0),  // Lai Châu
    ("15", 2, 0),  // Lào Cai
    ("08", 3, 0),  // Tuyên Quang
    ("04", 4, 0),  // Cao Bằng
    ("11", 0, 1),  // Điện Biên
    ("14", 1, 1),  // Sơn La
    ("25", 2, 1),  // Phú Thọ
    ("19", 3, 1),  // Thái Nguyên
    ("20", 4, 1),  // Lạng Sơn
    ("01", 2, 2),  // Hà Nội
    ("24", 3, 2),  // Bắc Ninh
    ("22", 4, 2),  // Quảng Ninh
    ("37", 2, 3),  // Ninh Bình
    ("33", 3, 3),  // Hưng Yên
    ("31", 4, 3),  // Hải Phòng
    ("38", 2, 4),  // Thanh Hoá
    ("40", 2, 5),  // Nghệ An
    ("42", 3, 6),  // Hà Tĩnh
    ("44", 3, 7),  // Quảng Trị
    ("46", 4, 8),  // Huế
    ("48", 4, 9),  // Đà Nẵng
    ("51", 4, 10), // Quảng Ngãi
    ("52", 4, 11), // Gia Lai
    ("66", 3, 12), // Đắk Lắk
    ("56", 4, 12), // Khánh Hoà
    ("75", 2, 13), // Đồng Nai
    ("68", 3, 13), // Lâm Đồng
    ("80", 1, 14), // Tây Ninh
    ("79", 2, 14), // Hồ Chí Minh
    ("91", 0, 15), // An Giang
    ("82", 1, 15), // Đồng Tháp
    ("86", 2, 15), // Vĩnh Long
    ("96", 0, 16), // Cà Mau
    ("92", 1, 16), // Cần Thơ
];

/// Side of a tile in SVG units, and the gap between tiles.
const TILE: f64 = 40.0;
const GAP: f64 = 3.0;

/// A map as the template `results/_map.html` draws it.
#[derive(Debug, Clone, Serialize)]
pub struct MapView {
    /// Unique id prefix of its elements on the page.
    pub id: String,
    pub title: String,
    /// Text alternative.
    pub alt: String,
    pub width: f64,
    pub height: f64,
    pub tiles: Vec<Tile>,
    pub legend: Vec<LegendItem>,
    /// Where the same numbers are as a table.
    pub table_href: String,
    /// Where the positions come from (provinces only).
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tile {
    pub code: String,
    pub x: f64,
    pub y: f64,
    pub size: f64,
    /// `c0`, `c1`, `c2`, `uncertain`, `suppressed` or `none`.
    pub class: &'static str,
    pub model: bool,
    /// The short text in the tile (the value, rounded).
    pub label: String,
    /// Full name and value in words (the tile's `<title>`).
    pub title: String,
    pub href: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LegendItem {
    pub class: &'static str,
    pub text: String,
}

/// What one area shows: a number with an interval, model-based or not, or nothing.
#[derive(Debug, Clone, Copy)]
enum Value {
    Shown {
        estimate: f64,
        low: f64,
        high: f64,
        model: bool,
    },
    Suppressed,
    None,
}

fn value_of(results: &CampaignResults, code: &str, index: &str) -> Value {
    let Some(row) = results.row(code, index) else {
        return Value::None;
    };
    if let (false, Some(e), Some(l), Some(h)) =
        (row.suppressed, row.estimate, row.ci_low, row.ci_high)
    {
        return Value::Shown {
            estimate: e,
            low: l,
            high: h,
            model: false,
        };
    }
    match results.small_area.row(code, index) {
        Some(m) => Value::Shown {
            estimate: m.estimate,
            low: m.ci_low,
            high: m.ci_high,
            model: true,
        },
        None => Value::Suppressed,
    }
}

/// Breaks at the thirds of the range of the estimates, rounded to 0.01 (a point).
fn breaks(values: &[Value]) -> Option<[f64; 2]> {
    let est: Vec<f64> = values
        .iter()
        .filter_map(|v| match v {
            Value::Shown { estimate, .. } => Some(*estimate),
            _ => None,
        })
        .collect();
    let lo = est.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = est.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !(lo.is_finite() && hi.is_finite()) || hi - lo < 0.02 {
        return None;
    }
    let round = |x: f64| (x * 100.0).round() / 100.0;
    Some([
        round(lo + (hi - lo) / 3.0),
        round(lo + 2.0 * (hi - lo) / 3.0),
    ])
}

fn class_of(v: Value, breaks: Option<[f64; 2]>) -> &'static str {
    match v {
        Value::None => "none",
        Value::Suppressed => "suppressed",
        Value::Shown { low, high, .. } => {
            let Some([b1, b2]) = breaks else {
                return "c1";
            };
            if high < b1 {
                "c0"
            } else if low >= b1 && high < b2 {
                "c1"
            } else if low >= b2 {
                "c2"
            } else {
                "uncertain"
            }
        }
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

fn tile(
    lang: Lang,
    code: &str,
    name: &str,
    v: Value,
    b: Option<[f64; 2]>,
    (x, y): (f64, f64),
    href: Option<String>,
) -> Tile {
    let class = class_of(v, b);
    let named = |key: &str, value: String| {
        t(
            lang,
            key,
            &[
                ("name", Arg::from(name.to_owned())),
                ("value", Arg::from(value)),
            ],
        )
    };
    let (label, title, model) = match v {
        Value::Shown {
            estimate,
            low,
            high,
            model,
        } => {
            let mark = if model {
                t(lang, "sae-mark", &[])
            } else {
                String::new()
            };
            let value = format!(
                "{}{} [{}–{}]{}",
                pct(estimate),
                if model { " " } else { "" },
                pct(low),
                pct(high),
                if model {
                    format!(" ({})", t(lang, "sae-mark-label", &[]))
                } else {
                    String::new()
                }
            );
            let key = if class == "uncertain" {
                "map-area-uncertain"
            } else {
                "map-area-title"
            };
            (
                format!("{}{mark}", (estimate * 100.0).round()),
                named(key, value),
                model,
            )
        }
        Value::Suppressed => (
            "–".to_owned(),
            named("map-area-suppressed", String::new()),
            false,
        ),
        Value::None => (
            String::new(),
            named("map-area-no-data", String::new()),
            false,
        ),
    };
    Tile {
        code: code.to_owned(),
        x,
        y,
        size: TILE,
        class,
        model,
        label,
        title,
        href,
    }
}

fn legend(lang: Lang, b: Option<[f64; 2]>, any_model: bool) -> Vec<LegendItem> {
    let mut out = Vec::new();
    if let Some([b1, b2]) = b {
        let range = |lo: String, hi: String| {
            t(
                lang,
                "map-class",
                &[("low", Arg::from(lo)), ("high", Arg::from(hi))],
            )
        };
        out.push(LegendItem {
            class: "c0",
            text: range("0".to_owned(), pct(b1)),
        });
        out.push(LegendItem {
            class: "c1",
            text: range(pct(b1), pct(b2)),
        });
        out.push(LegendItem {
            class: "c2",
            text: range(pct(b2), "100".to_owned()),
        });
    }
    for (class, key) in [
        ("uncertain", "map-uncertain"),
        ("suppressed", "map-suppressed"),
        ("none", "map-no-data"),
    ] {
        out.push(LegendItem {
            class,
            text: t(lang, key, &[]),
        });
    }
    if any_model {
        out.push(LegendItem {
            class: "model",
            text: t(lang, "map-model-based", &[]),
        });
    }
    out
}

fn at(col: u8, row: u8) -> (f64, f64) {
    (
        f64::from(col) * (TILE + GAP) + GAP,
        f64::from(row) * (TILE + GAP) + GAP,
    )
}

/// The tile-grid map of the 34 provinces for one index.
pub fn provinces(lang: Lang, results: &CampaignResults, slug: &str, index: &str) -> MapView {
    let values: Vec<Value> = PROVINCE_TILES
        .iter()
        .map(|(code, _, _)| value_of(results, code, index))
        .collect();
    let b = breaks(&values);
    let tiles: Vec<Tile> = PROVINCE_TILES
        .iter()
        .zip(&values)
        .map(|((code, col, row), v)| {
            let loc = results.locality(code);
            // A province the results do not hold (not surveyed, or not this reader's to
            // see) is named by its code only.
            let name = loc.map_or_else(|| (*code).to_owned(), |l| l.name(lang));
            let href = loc.map(|_| {
                format!(
                    "/results/{slug}/locality/{code}?index={}",
                    crate::views::encode_path(index)
                )
            });
            tile(lang, code, &name, *v, b, at(*col, *row), href)
        })
        .collect();
    let any_model = tiles.iter().any(|t| t.model);
    MapView {
        id: "map-provinces".to_owned(),
        title: t(lang, "map-title", &[]),
        alt: t(lang, "map-alt", &[]),
        width: 5.0 * (TILE + GAP) + GAP,
        height: 17.0 * (TILE + GAP) + GAP,
        tiles,
        legend: legend(lang, b, any_model),
        table_href: format!(
            "/results/{slug}/localities?index={}&level=province",
            crate::views::encode_path(index)
        ),
        source: Some(t(lang, "map-source", &[])),
    }
}

/// The grid of one province's communes (those with responses), in code order.
pub fn communes(
    lang: Lang,
    results: &CampaignResults,
    slug: &str,
    index: &str,
    province: &str,
) -> Option<MapView> {
    let communes: Vec<_> = results
        .localities
        .iter()
        .filter(|l| l.level == Level::Commune && l.parent.as_deref() == Some(province))
        .collect();
    if communes.is_empty() {
        return None;
    }
    let cols = (communes.len() as f64).sqrt().ceil().max(1.0) as u8;
    let rows = communes.len().div_ceil(usize::from(cols)) as u8;
    let values: Vec<Value> = communes
        .iter()
        .map(|l| value_of(results, &l.code, index))
        .collect();
    let b = breaks(&values);
    let tiles: Vec<Tile> = communes
        .iter()
        .zip(&values)
        .enumerate()
        .map(|(i, (l, v))| {
            let href = Some(format!(
                "/results/{slug}/locality/{}?index={}",
                l.code,
                crate::views::encode_path(index)
            ));
            let (c, r) = ((i % usize::from(cols)) as u8, (i / usize::from(cols)) as u8);
            tile(lang, &l.code, &l.name(lang), *v, b, at(c, r), href)
        })
        .collect();
    let any_model = tiles.iter().any(|t| t.model);
    let name = results
        .locality(province)
        .map_or_else(|| province.to_owned(), |l| l.name(lang));
    Some(MapView {
        id: "map-communes".to_owned(),
        title: t(lang, "map-title-communes", &[("province", Arg::from(name))]),
        alt: t(lang, "map-alt-communes", &[]),
        width: f64::from(cols) * (TILE + GAP) + GAP,
        height: f64::from(rows) * (TILE + GAP) + GAP,
        tiles,
        legend: legend(lang, b, any_model),
        table_href: format!(
            "/results/{slug}/localities?index={}&level=commune",
            crate::views::encode_path(index)
        ),
        source: None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_province_of_2025_has_one_tile_at_its_own_place() {
        let list: Vec<&str> = crate::domain::locality::NATIONAL_2025
            .lines()
            .filter(|l| l.contains(",province,"))
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert_eq!(list.len(), 34);
        for code in &list {
            assert_eq!(
                PROVINCE_TILES.iter().filter(|(c, _, _)| c == code).count(),
                1,
                "{code}"
            );
        }
        let mut places: Vec<(u8, u8)> = PROVINCE_TILES.iter().map(|(_, c, r)| (*c, *r)).collect();
        places.sort();
        places.dedup();
        assert_eq!(places.len(), 34, "no two tiles overlap");
    }

    #[test]
    fn an_area_gets_a_class_only_when_its_interval_lies_inside_it() {
        let b = Some([0.6, 0.8]);
        let v = |estimate: f64, low: f64, high: f64| Value::Shown {
            estimate,
            low,
            high,
            model: false,
        };
        assert_eq!(class_of(v(0.5, 0.45, 0.55), b), "c0");
        assert_eq!(class_of(v(0.7, 0.65, 0.75), b), "c1");
        assert_eq!(class_of(v(0.9, 0.85, 0.95), b), "c2");
        assert_eq!(class_of(v(0.62, 0.55, 0.7), b), "uncertain");
        assert_eq!(class_of(Value::Suppressed, b), "suppressed");
        assert_eq!(class_of(Value::None, b), "none");
    }
}
