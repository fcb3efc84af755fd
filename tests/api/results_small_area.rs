//! Model-based commune estimates (Fay–Herriot, issue 19) as a reader of the demo sees them:
//! marked in the API, pages and downloads; synthetic only for communes under `min_n`; the
//! export's `sae_input.csv` without those communes and a `sae.py` that reproduces the
//! estimates; the auxiliary-data import; the maps.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::helpers::{TestApp, hailong_bin, spawn_app, spawn_app_with_demo};

fn hailong(app: &TestApp, args: &[&str], dir: &Path) -> Output {
    Command::new(hailong_bin())
        .args(args)
        .arg("--database-url")
        .arg(&app.db.url)
        .current_dir(dir)
        .env_remove("HAILONG_DATABASE_URL")
        .env("HAILONG_LOG", "warn")
        .output()
        .expect("run hailong")
}

async fn json(app: &TestApp, path: &str) -> Value {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

async fn text(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

async fn commune_rows(app: &TestApp, slug: &str, index: &str) -> Vec<Value> {
    json(
        app,
        &format!("/api/v1/campaigns/{slug}/results?level=commune&index={index}"),
    )
    .await
    .as_array()
    .unwrap()
    .clone()
}

fn export(app: &TestApp, slug: &str) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let o = hailong(
        app,
        &["export", "microdata", "--campaign", slug, "--out", "."],
        out.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[tokio::test]
async fn demo_communes_get_marked_model_based_estimates_beside_suppressed_direct_ones() {
    let app = spawn_app_with_demo().await;
    for slug in ["sipas-demo", "health-demo", "sipas-1001-demo"] {
        let fits = json(&app, &format!("/api/v1/campaigns/{slug}/small-area")).await;
        let fits = fits.as_array().unwrap();
        let published = fits.iter().filter(|f| f["published"] == true).count();
        let reasons: Vec<&Value> = fits
            .iter()
            .flat_map(|f| f["reasons"].as_array().unwrap())
            .collect();
        let main = &fits[0];
        eprintln!(
            "NOTE {slug}: {published}/{} models published, reasons {reasons:?}; {}: {} sampled, {} non-sampled, {} large residuals",
            fits.len(),
            main["index"],
            main["sampled"],
            main["non_sampled"],
            main["large_residuals"]
        );
    }
    let fits = json(&app, "/api/v1/campaigns/sipas-demo/small-area").await;
    let fits = fits.as_array().unwrap();
    // A model that fails publishes nothing and the pages say why in words.
    let failed = fits.iter().find(|f| f["published"] == false).unwrap();
    let key = failed["index"].as_str().unwrap();
    let failed_rows = commune_rows(&app, "sipas-demo", key).await;
    assert!(failed_rows.iter().all(|r| r.get("model_based").is_none()));
    let page = text(
        &app,
        &format!("/results/sipas-demo/localities?level=commune&index={key}&lang=en"),
    )
    .await;
    assert!(page.contains("No model-based estimates for this index: too few communes"));
    assert!(!page.contains("class=\"model-based\""));
    let main = fits.iter().find(|f| f["index"] == "SIPAS").unwrap();
    assert_eq!(main["published"], true, "{main}");
    assert_eq!(main["transform"], "arcsin");
    let rows = commune_rows(&app, "sipas-demo", "SIPAS").await;
    assert_eq!(rows.len(), 48);
    for r in &rows {
        let m = &r["model_based"];
        assert!(m.is_object(), "{r}");
        assert!(
            ["fay_herriot_eblup", "fay_herriot_synthetic"].contains(&m["method"].as_str().unwrap())
        );
        let (e, lo, hi) = (
            m["estimate"].as_f64().unwrap(),
            m["ci_low"].as_f64().unwrap(),
            m["ci_high"].as_f64().unwrap(),
        );
        assert!(
            lo <= e && e <= hi && (0.0..=1.0).contains(&lo) && hi <= 1.0,
            "{m}"
        );
        assert!(!m["note"].as_str().unwrap().is_empty());
        // The direct fields are unchanged: suppression still applies to them.
        assert_eq!(r["suppressed"], true);
        assert!(r["estimate"].is_null());
    }
    // Province and national rows have no model-based field.
    let provinces = json(&app, "/api/v1/campaigns/sipas-demo/results?level=province").await;
    assert!(
        provinces
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r.get("model_based").is_none())
    );

    // Benchmarking: population-weighted model-based estimates add up to the province's
    // direct estimate (weights: the communes' estimated populations, which the microdata give).
    let with_benchmark = rows
        .iter()
        .filter(|r| r["model_based"]["benchmarked"] == true)
        .count();
    assert_eq!(
        with_benchmark,
        rows.len(),
        "every demo province is published"
    );

    // The commune page, the table and the downloads show it, marked, in words.
    let code = rows[0]["locality"].as_str().unwrap();
    for lang in ["vi", "en"] {
        let page = text(
            &app,
            &format!("/results/sipas-demo/locality/{code}?lang={lang}"),
        )
        .await;
        assert!(page.contains("class=\"model-based\""), "{lang}");
        assert!(page.contains("◆"));
        let note = if lang == "vi" {
            "Ước lượng theo mô hình"
        } else {
            "Model-based estimate"
        };
        assert!(page.contains(note), "{lang}");
        let table = text(
            &app,
            &format!("/results/sipas-demo/localities?level=commune&index=SIPAS&lang={lang}"),
        )
        .await;
        assert_eq!(table.matches("class=\"model-based\"").count(), 48, "{lang}");
    }
    let csv = text(
        &app,
        "/results/sipas-demo/results.csv?level=commune&lang=en",
    )
    .await;
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} not in {header:?}"))
    };
    let first = reader.records().next().unwrap().unwrap();
    assert!(first[at("Model-based estimate (◆)")].starts_with('◆'));
    assert!(!first[at("Model-based: estimate")].is_empty());
    assert_eq!(first[at("Not published")], *"Yes");
}

/// Back to the share scale as the engine does: E[sin²X], X ~ N(θ, s²).
fn sin2(theta: f64, s2: f64) -> f64 {
    0.5 - 0.5 * (-2.0 * s2).exp() * (2.0 * theta).cos()
}

#[tokio::test]
async fn a_commune_under_min_n_gets_the_synthetic_part_only_and_is_not_in_sae_input() {
    let app = spawn_app_with_demo().await;
    let slug = "health-demo";
    let rows = commune_rows(&app, slug, "HEALTH").await;
    let small: Vec<&Value> = rows
        .iter()
        .filter(|r| r["reason"] == "too_few_respondents")
        .collect();
    assert!(
        !small.is_empty(),
        "the health demo has communes under min_n"
    );
    let dir = export(&app, slug);
    synthetic_only(&app, slug, dir.path(), &small).await;
    // sae_input.csv: only communes with at least min_n respondents.
    let (header, input) = read_csv(&dir.path().join("sae_input.csv"));
    assert_eq!(
        &header[..6],
        ["index", "code", "direct", "psi", "n", "transform"]
    );
    let small_codes: Vec<&str> = small
        .iter()
        .map(|r| r["locality"].as_str().unwrap())
        .collect();
    let main: Vec<&Vec<String>> = input.iter().filter(|r| r[0] == "HEALTH").collect();
    assert!(!main.is_empty());
    for r in &main {
        assert!(
            !small_codes.contains(&r[1].as_str()),
            "{} is under min_n",
            r[1]
        );
        assert!(r[4].parse::<u64>().unwrap() >= 30, "{r:?}");
    }
    for r in &input {
        assert!(r[4].parse::<u64>().unwrap() >= 30, "{r:?}");
    }
    assert!(dir.path().join("sae.py").exists());
}

#[tokio::test]
async fn communes_without_respondents_get_a_synthetic_estimate_a_page_and_a_tile() {
    let app = spawn_app_with_demo().await;
    // The health demo surveys every demo commune of two provinces; with the national list
    // of 2025, those provinces hold many more communes, with no respondent at all.
    let slug = "health-demo";
    let before = commune_rows(&app, slug, "HEALTH").await;
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["localities", "import", "--national"][..],
        &["results", "publish", "--campaign", slug][..],
    ] {
        let o = hailong(&app, args, dir.path());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // A running server serves the new publication within seconds.
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = commune_rows(&app, slug, "HEALTH").await;
        if rows.len() > before.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let empty: Vec<&Value> = rows.iter().filter(|r| r["n"] == 0).collect();
    assert_eq!(
        rows.len() - empty.len(),
        before.len(),
        "the surveyed communes, and the others with n = 0"
    );
    assert!(empty.len() > 100, "{}", empty.len());
    for r in &empty {
        assert_eq!(r["suppressed"], true, "{r}");
        assert_eq!(r["reason"], "too_few_respondents");
        assert!(r["estimate"].is_null());
        let m = &r["model_based"];
        assert_eq!(m["method"], "fay_herriot_synthetic", "{r}");
        let (e, lo, hi) = (
            m["estimate"].as_f64().unwrap(),
            m["ci_low"].as_f64().unwrap(),
            m["ci_high"].as_f64().unwrap(),
        );
        assert!(lo < e && e < hi && lo >= 0.0 && hi <= 1.0, "{m}");
    }
    // The export's covariates hold them (sae.py predicts them), sae_input.csv does not.
    let dir = export(&app, slug);
    let (_, covariates) = read_csv(&dir.path().join("sae_covariates.csv"));
    let (_, input) = read_csv(&dir.path().join("sae_input.csv"));
    for r in &empty {
        let code = r["locality"].as_str().unwrap();
        assert!(covariates.iter().any(|c| c[0] == code), "{code}");
        assert!(input.iter().all(|i| i[1] != code), "{code}");
    }
    // Its page shows the model-based estimate and no direct one; its province's map has a
    // model-based tile for it.
    let code = empty[0]["locality"].as_str().unwrap();
    let page = text(&app, &format!("/results/{slug}/locality/{code}?lang=en")).await;
    assert!(page.contains("class=\"model-based\""), "{page}");
    assert!(page.contains("◆"));
    let localities = json(
        &app,
        &format!("/api/v1/campaigns/{slug}/results?level=province"),
    )
    .await;
    let province = localities
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["locality"].as_str().unwrap().to_owned())
        .find(|p| code.len() == 5 && page.contains(&format!("/locality/{p}?")))
        .expect("the commune page links to its province");
    let province_page = text(
        &app,
        &format!("/results/{slug}/locality/{province}?index=HEALTH&lang=en"),
    )
    .await;
    let at = province_page
        .find("id=\"map-communes\"")
        .expect("commune map");
    let grid = &province_page[at..];
    let tile = grid
        .split("<g class=\"tile")
        .find(|t| t.contains(&format!("data-code=\"{code}\"")))
        .expect("a tile for the commune without respondents");
    assert!(
        tile.starts_with(" tile-") && tile.contains("tile-model"),
        "{tile}"
    );
    // Nothing but the model: x'β̂ from the export's covariates.
    synthetic_only(&app, slug, dir.path(), &empty).await;
}

/// Checks that each of `rows` (HEALTH commune rows) is synthetic: its estimate before
/// benchmarking is x'β̂ back on the share scale, from the published fit and the export's
/// `sae_covariates.csv` in `dir`.
async fn synthetic_only(app: &TestApp, slug: &str, dir: &Path, rows: &[&Value]) {
    let fits = json(app, &format!("/api/v1/campaigns/{slug}/small-area")).await;
    let fit = fits
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["index"] == "HEALTH")
        .unwrap()
        .clone();
    assert_eq!(fit["published"], true, "{fit}");
    let beta: Vec<f64> = fit["beta"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_f64().unwrap())
        .collect();
    let sigma2 = fit["sigma2"].as_f64().unwrap();
    let names: Vec<String> = fit["covariates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();

    let (cov_header, cov_rows) = read_csv(&dir.join("sae_covariates.csv"));
    let covariates: HashMap<String, Vec<f64>> = cov_rows
        .iter()
        .map(|r| {
            let values = names
                .iter()
                .map(|n| {
                    let k = cov_header.iter().position(|h| h == n).unwrap();
                    r[k].parse::<f64>().unwrap()
                })
                .collect();
            (r[0].clone(), values)
        })
        .collect();
    for r in rows {
        let code = r["locality"].as_str().unwrap();
        let m = &r["model_based"];
        assert_eq!(m["method"], "fay_herriot_synthetic", "{r}");
        // The estimate before benchmarking is x'β̂ back on the share scale, nothing of the
        // commune's own answers.
        let x = &covariates[code];
        let xb = beta[0] + x.iter().zip(&beta[1..]).map(|(a, b)| a * b).sum::<f64>();
        let want = sin2(xb, sigma2);
        let got = m["before_benchmark"].as_f64().unwrap();
        assert!(
            (got - want).abs() < 1e-12,
            "{code}: {got} vs synthetic {want}"
        );
    }
}

fn python_with_samplics() -> Option<String> {
    for python in ["/tmp/sae-venv/bin/python", "python3"] {
        let ok = Command::new(python)
            .args(["-c", "import samplics"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(python.to_owned());
        }
    }
    None
}

#[tokio::test]
async fn exported_sae_py_reproduces_the_published_model_based_estimates() {
    let Some(python) = python_with_samplics() else {
        eprintln!("NOTE: skipped, Python samplics is not installed");
        return;
    };
    let app = spawn_app_with_demo().await;
    for slug in ["sipas-demo", "health-demo"] {
        let checked = sae_py_matches(&app, slug, &python).await;
        assert!(checked > 20, "{slug}: {checked}");
        eprintln!("NOTE {slug}: {checked} EBLUPs match samplics to 1e-6");
    }
}

/// Runs the export's `sae.py` with `python` and checks every estimate it prints against the
/// API's `before_benchmark` to 1e-6; returns how many were checked.
async fn sae_py_matches(app: &TestApp, slug: &str, python: &str) -> usize {
    let dir = export(app, slug);
    let out = Command::new(python)
        .arg("sae.py")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let mut checked = 0;
    let mut by_index: HashMap<String, HashMap<String, f64>> = HashMap::new();
    for line in printed.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        by_index
            .entry(f[0].to_owned())
            .or_default()
            .insert(f[1].to_owned(), f[2].parse().unwrap());
    }
    for (index, areas) in &by_index {
        let rows = commune_rows(app, slug, index).await;
        for r in rows {
            let code = r["locality"].as_str().unwrap();
            if let Some(want) = areas.get(code) {
                let got = r["model_based"]["before_benchmark"].as_f64().unwrap();
                assert!(
                    (got - want).abs() < 1e-6,
                    "{slug} {index} {code}: {got} vs samplics {want}"
                );
                checked += 1;
            }
        }
    }
    checked
}

#[tokio::test]
async fn the_auxiliary_import_names_bad_lines_and_columns_and_stores_nothing() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let list = concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo/localities.csv");
    let imported = hailong(
        &app,
        &["localities", "import", "--valid-from", "2025-07-01", list],
        dir.path(),
    );
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    std::fs::write(
        dir.path().join("aux.csv"),
        "code,internet,poverty\n00004,0.8,0.1\n00103,high,0.2\n99999,0.5,0.3\n",
    )
    .unwrap();
    let bad = hailong(
        &app,
        &["localities", "auxiliary", "--input", "aux.csv"],
        dir.path(),
    );
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("line 3, internet: not a number"), "{err}");
    let count = |app: &TestApp| {
        let url = app.db.url.clone();
        async move {
            use sea_orm::{EntityTrait, PaginatorTrait};
            let db = sea_orm::Database::connect(&url).await.unwrap();
            entity::area_auxiliary::Entity::find()
                .count(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(count(&app).await, 0, "nothing stored");
    // Only the unknown locality left: still nothing stored.
    std::fs::write(
        dir.path().join("aux.csv"),
        "code,internet,poverty\n00004,0.8,0.1\n99999,0.5,0.3\n",
    )
    .unwrap();
    let bad = hailong(
        &app,
        &["localities", "auxiliary", "--input", "aux.csv"],
        dir.path(),
    );
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("line 3, code: unknown locality 99999"),
        "{err}"
    );
    assert_eq!(count(&app).await, 0, "nothing stored");
    std::fs::write(
        dir.path().join("aux.csv"),
        "code,internet,poverty\n00004,0.8,0.1\n00103,,0.2\n",
    )
    .unwrap();
    let good = hailong(
        &app,
        &["localities", "auxiliary", "--input", "aux.csv"],
        dir.path(),
    );
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert_eq!(count(&app).await, 3);
}

#[tokio::test]
async fn maps_of_provinces_and_communes_render_with_titles_and_uncertainty() {
    let app = spawn_app_with_demo().await;
    for lang in ["vi", "en"] {
        let page = text(&app, &format!("/results/sipas-demo?lang={lang}")).await;
        let svg_at = page.find("id=\"map-provinces\"").expect("province map");
        let map = &page[svg_at..page[svg_at..].find("</figure>").unwrap() + svg_at];
        assert!(map.contains("<svg") && map.contains("role=\"img\""));
        assert_eq!(
            map.matches("<g class=\"tile").count(),
            34,
            "one tile per province"
        );
        assert_eq!(
            map.matches("<title").count(),
            35,
            "a title for the map and each tile"
        );
        for code in ["01", "46", "48", "92"] {
            assert!(map.contains(&format!("data-code=\"{code}\"")));
        }
        // Every uncertain tile says so in its title.
        let word = if lang == "vi" {
            "chưa chắc chắn"
        } else {
            "uncertain"
        };
        for tile in map.split("<g class=\"tile").skip(1) {
            if tile.contains("data-class=\"uncertain\"") {
                let title = &tile[tile.find("<title>").unwrap()..tile.find("</title>").unwrap()];
                assert!(title.contains(word), "{title}");
            }
        }
        assert!(
            map.contains("localities?index="),
            "a link to the table: {map}"
        );
        let province = text(
            &app,
            &format!("/results/sipas-demo/locality/01?lang={lang}"),
        )
        .await;
        let at = province.find("id=\"map-communes\"").expect("commune map");
        let grid = &province[at..];
        assert!(grid.contains("tile-model"), "model-based communes marked");
    }
}

/// With `CHROMEDRIVER` set: the overview's map, a province's page and a commune's page at
/// phone (390×844) and desk (1280×900) size, saved as PNGs to `HAILONG_SCREENSHOTS` when
/// set (to be looked at), and the maps no wider than the screen.
#[tokio::test]
async fn maps_fit_phone_and_desk_screens() {
    let Some(driver) = crate::browser::Driver::start().await else {
        return;
    };
    let app = spawn_app_with_demo().await;
    let rows = commune_rows(&app, "sipas-demo", "SIPAS").await;
    let commune = rows[0]["locality"].as_str().unwrap().to_owned();
    for (w, h) in [(390, 844), (1280, 900)] {
        let s = driver.session_sized(false, w, h).await;
        for (name, path, css) in [
            (
                "overview",
                "/results/sipas-demo?lang=vi".to_owned(),
                "#map-provinces",
            ),
            (
                "province",
                "/results/sipas-demo/locality/01?lang=en".to_owned(),
                "#map-communes",
            ),
            (
                "commune",
                format!("/results/sipas-demo/locality/{commune}?lang=vi"),
                "table.breakdown",
            ),
        ] {
            s.go(&app.url(&path)).await;
            let width = s
                .script(&format!(
                    "const e = document.querySelector('{css}'); e.scrollIntoView(); \
                     return e.getBoundingClientRect().right;"
                ))
                .await
                .as_f64()
                .unwrap();
            if let Ok(dir) = std::env::var("HAILONG_SCREENSHOTS") {
                let png = s.client().screenshot().await.unwrap();
                std::fs::write(format!("{dir}/{name}-{w}.png"), png).unwrap();
            }
            let page = s
                .script("return document.documentElement.scrollWidth;")
                .await
                .as_f64()
                .unwrap();
            assert!(
                width <= page + 0.5,
                "{name} at {w}: map {width}, page {page}"
            );
            if css.starts_with("#map") {
                // The whole map fits on the screen: no scrolling through a map.
                let tall = s
                    .script(&format!(
                        "return document.querySelector('{css} > svg').getBoundingClientRect().height \
                         - window.innerHeight;"
                    ))
                    .await
                    .as_f64()
                    .unwrap();
                assert!(
                    tall <= 0.0,
                    "{name} at {w}: the map is {tall} px taller than the screen"
                );
            }
        }
        s.close().await;
    }
}
