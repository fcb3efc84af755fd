//! SIPAS as measured since 2021 (the sipas-1001-demo campaign): the index picker names each
//! index's family, a locality's page shows the perception, satisfaction and expectation
//! indices side by side, and the expectation–performance table places an element only when
//! both of its intervals clear the cut-offs (the mean of the elements).

use serde_json::Value;

use crate::helpers::{attrs, spawn_app_with_demo, texts};

#[tokio::test]
async fn a_province_page_shows_the_three_families_and_the_expectation_performance_table() {
    let app = spawn_app_with_demo().await;
    let overview = app
        .get("/results/sipas-1001-demo?lang=en")
        .await
        .text()
        .await
        .unwrap();
    let options: Vec<String> = texts(&overview, "select[name=index] option");
    assert_eq!(options.len(), 4, "{options:?}");
    for family in ["Satisfaction · ", "Expectation · ", "Perception · "] {
        assert!(options.iter().any(|o| o.starts_with(family)), "{options:?}");
    }
    let page = app
        .get("/results/sipas-1001-demo/locality/01?lang=en")
        .await
        .text()
        .await
        .unwrap();
    let families = texts(&page, "section[aria-labelledby=fam-h] tbody th");
    assert_eq!(families, ["Perception", "Satisfaction", "Expectation"]);
    // The table's placements follow the API's intervals and the mean of the elements.
    let rows = texts(&page, "table.quadrant tbody tr");
    assert!(rows.len() >= 2, "{rows:?}");
    let province = |index: &str| {
        let app = &app;
        let index = index.to_owned();
        async move {
            let list: Vec<Value> = app
                .get(&format!(
                    "/api/v1/campaigns/sipas-1001-demo/results?level=province&index={index}"
                ))
                .await
                .json()
                .await
                .unwrap();
            list.into_iter().find(|r| r["locality"] == "01").unwrap()
        }
    };
    let mut pairs = Vec::new();
    for code in ["I", "II", "III", "V"] {
        let e = province(&format!("EXPECTATION/{code}")).await;
        let s = province(&format!("ADMIN/{code}")).await;
        pairs.push((code, e, s));
    }
    let mean = |k: usize| {
        pairs
            .iter()
            .map(|p| [&p.1, &p.2][k]["estimate"].as_f64().unwrap())
            .sum::<f64>()
            / pairs.len() as f64
    };
    let (cut_e, cut_s) = (mean(0), mean(1));
    let side = |r: &Value, cut: f64| {
        if r["ci_low"].as_f64().unwrap() > cut {
            1
        } else if r["ci_high"].as_f64().unwrap() < cut {
            -1
        } else {
            0
        }
    };
    let classes = attrs(&page, "table.quadrant tbody tr", "class");
    for ((code, e, s), class) in pairs.iter().zip(&classes) {
        let want = match (side(e, cut_e), side(s, cut_s)) {
            (1, -1) => "q-improve",
            (1, 1) => "q-keep",
            (-1, -1) => "q-low",
            (-1, 1) => "q-surplus",
            _ => "q-unclear",
        };
        assert_eq!(class, want, "{code}");
    }
}
