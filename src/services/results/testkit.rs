//! Small hand-made questionnaires, campaigns and data sets for the unit tests of this package.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::domain::campaign::{DesignSettings, Layout};
use crate::domain::questionnaire::Definition;
use crate::services::campaigns::OpenCampaign;

use super::dataset::{Dataset, Interner};
use super::design::Hierarchy;

/// A 1–5 scale question mapped to `element`/`criterion` of the first index.
pub fn scale(code: &str, element: &str, criterion: &str) -> Value {
    json!({
        "code": code, "type": "scale", "label": {"vi": code}, "min": 1, "max": 5,
        "index": {"element": element, "criterion": criterion}
    })
}

/// The elements of an index: `(code, weight, [(criterion, weight)])`.
pub type Tree<'a> = [(&'a str, f64, &'a [(&'a str, f64)])];

/// An index with these elements.
pub fn index(code: &str, aggregation: &str, elements: &Tree) -> Value {
    json!({
        "code": code,
        "name": {"vi": format!("Chỉ số {code}"), "en": format!("Index {code}")},
        "aggregation": aggregation,
        "elements": elements.iter().map(|(e, w, crits)| json!({
            "code": e, "name": {"vi": format!("Yếu tố {e}")}, "weight": w,
            "criteria": crits.iter().map(|(c, cw)| json!({
                "code": c, "name": {"vi": format!("Tiêu chí {c}")}, "weight": cw
            })).collect::<Vec<_>>()
        })).collect::<Vec<_>>()
    })
}

/// A one-section questionnaire (read as stored, without the designer's checks).
pub fn definition(indices: Vec<Value>, questions: Vec<Value>) -> Definition {
    serde_json::from_value(json!({
        "code": "test",
        "title": {"vi": "Thử"},
        "sections": [{"code": "s1", "title": {"vi": "Phần 1"}, "questions": questions}],
        "indices": indices
    }))
    .expect("a test definition")
}

/// The SIPAS-like questionnaire used across the tests: index `I` (mean of criteria) with
/// element `E1` (criteria `C1`: q1, q2; `C2`: q3) and `E2` (`C1`: q4).
pub fn sipas() -> Definition {
    definition(
        vec![index(
            "I",
            "mean_of_criteria",
            &[
                ("E1", 1.0, &[("C1", 1.0), ("C2", 1.0)]),
                ("E2", 1.0, &[("C1", 1.0)]),
            ],
        )],
        vec![
            scale("q1", "E1", "C1"),
            scale("q2", "E1", "C1"),
            scale("q3", "E1", "C2"),
            scale("q4", "E2", "C1"),
        ],
    )
}

/// A campaign of `definition` with `design`, opening on 1 January 2025.
pub fn campaign(definition: Definition, design: DesignSettings) -> OpenCampaign {
    let day = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let now = chrono::Utc::now();
    OpenCampaign {
        campaign: entity::campaign::Model {
            id: 1,
            slug: "test".to_owned(),
            name_vi: "Thử".to_owned(),
            name_en: String::new(),
            questionnaire_version_id: 1,
            service_id: 1,
            opens_on: day,
            closes_on: day,
            is_public: false,
            layout: "per_section".to_owned(),
            design: "{}".to_owned(),
            sort_order: 0,
            created_at: now,
        },
        service: entity::service::Model {
            id: 1,
            code: "test".to_owned(),
            name_vi: "Thử".to_owned(),
            name_en: String::new(),
        },
        version: entity::questionnaire_version::Model {
            id: 1,
            questionnaire_id: 1,
            version: 1,
            status: "published".to_owned(),
            definition: "{}".to_owned(),
            checksum: None,
            created_at: now,
            published_at: None,
        },
        definition,
        design,
        layout: Layout::PerSection,
        localities: Vec::new(),
    }
}

/// One response of a hand-made data set.
pub struct Row<'a> {
    pub locality: &'a str,
    pub stratum: &'a str,
    pub cluster: &'a str,
    pub weight: f64,
    /// One value per item (NaN = missing).
    pub values: &'a [f64],
}

/// A data set of `rows` with `items` value columns and no calibration cells.
pub fn dataset(items: usize, rows: &[Row]) -> Dataset {
    let mut d = Dataset {
        values: vec![Vec::new(); items],
        ..Dataset::default()
    };
    for r in rows {
        d.n += 1;
        d.locality.push(d.localities.code(r.locality));
        d.stratum.push(d.strata.code(r.stratum));
        d.cluster.push(d.clusters.code(r.cluster));
        d.weight.push(r.weight);
        for (col, v) in d.values.iter_mut().zip(r.values) {
            col.push(*v);
        }
    }
    d
}

/// A locality of the reference tables.
pub fn unit(code: &str, level: &str, parent: Option<&str>) -> entity::locality::Model {
    entity::locality::Model {
        id: 0,
        code: code.to_owned(),
        level: level.to_owned(),
        parent_code: parent.map(str::to_owned),
        name_vi: format!("Tên {code}"),
        name_en: String::new(),
        full_name_vi: None,
        full_name_en: None,
        unit_type_vi: None,
        unit_type_en: None,
        valid_from: chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
        valid_to: None,
    }
}

/// The hierarchy of a data set whose localities are all communes, given as
/// `(commune, province)`.
pub fn communes_of(data: &Dataset, provinces: &[(&str, &str)]) -> Hierarchy {
    let mut units = HashMap::new();
    for (c, p) in provinces {
        units.insert((*c).to_owned(), unit(c, "commune", Some(p)));
        units.insert((*p).to_owned(), unit(p, "province", None));
    }
    Hierarchy::place(&data.localities.labels, units)
}

/// Interned labels, for comparing with expected codes.
pub fn labels(i: &Interner) -> Vec<&str> {
    i.labels.iter().map(String::as_str).collect()
}
