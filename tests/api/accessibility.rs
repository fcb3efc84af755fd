//! axe-core in headless Chromium on every page a citizen, a kiosk or staff can reach: the
//! public pages, a survey walked through, the results of a commune, the error pages, and
//! every staff page found by following links from the dashboard. No violation of WCAG 2
//! A/AA rules is allowed. Runs when `CHROMEDRIVER` is set and `AXE_CORE` names axe-core's
//! `axe.min.js` (`.ci/run` installs it from the npm registry).

use std::collections::{BTreeSet, VecDeque};

use serde_json::Value;

use crate::browser::{Driver, Session};
use crate::helpers::{PASSWORD, TestApp, publish, spawn_app_with_demo};
use crate::responses::sipas_locality;

/// The violations axe finds on the page the session shows (rule: count and first node).
async fn violations(s: &Session, axe: &str) -> Vec<String> {
    s.script(&format!("{axe}\n;return true;")).await;
    let found = s
        .script_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
               .then(r => done(r.violations.map(v => v.id + ' (' + v.nodes.length + '): '
                 + v.nodes[0].target.join(' ') + ' – ' + v.help)))
               .catch(e => done(['axe failed: ' + e]));",
        )
        .await;
    match found {
        Value::Array(list) => list
            .into_iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect(),
        other => vec![format!("axe answered {other}")],
    }
}

/// Checks the page at `path`; problems go to `failures`.
async fn check(s: &Session, app: &TestApp, axe: &str, path: &str, failures: &mut Vec<String>) {
    s.go(&app.url(path)).await;
    for v in violations(s, axe).await {
        failures.push(format!("{path}: {v}"));
    }
}

/// The same-origin links under `/staff` on the page the session shows.
async fn staff_links(s: &Session) -> Vec<String> {
    let links = s
        .script(
            "return Array.from(document.querySelectorAll('a[href^=\"/staff\"]'))
               .map(a => a.getAttribute('href').split('#')[0])",
        )
        .await;
    links
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn no_page_has_an_accessibility_violation() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let Ok(axe_path) = std::env::var("AXE_CORE") else {
        eprintln!("AXE_CORE is not set: accessibility test skipped");
        return;
    };
    let axe = std::fs::read_to_string(&axe_path).expect("axe.min.js");
    let app = spawn_app_with_demo().await;
    publish(&app, "sipas-demo").await;
    let locality = sipas_locality(&app).await;
    let (kiosk, _) = crate::kiosk::register(&app).await;
    app.add_user("admin@example.vn", "admin").await;
    let s = driver.session(true).await;
    let mut failures = Vec::new();

    // Public pages, the results of a commune, error pages, a kiosk.
    for path in [
        "/".to_owned(),
        "/s/sipas-demo".to_owned(),
        "/results/sipas-demo".to_owned(),
        "/results/sipas-demo/localities".to_owned(),
        "/results/sipas-demo/forest".to_owned(),
        "/results/sipas-demo/ranks".to_owned(),
        format!("/results/sipas-demo/locality/{locality}"),
        // The three families side by side and the expectation–performance table.
        "/results/sipas-1001-demo/locality/01".to_owned(),
        "/results/sipas-1001-demo/forest?index=EXPECTATION".to_owned(),
        // Maps and model-based estimates: a province's page, communes in the table.
        "/results/sipas-demo/locality/01".to_owned(),
        "/results/sipas-demo/localities?level=commune".to_owned(),
        "/results/health-demo".to_owned(),
        "/no-such-page".to_owned(),
        "/s/no-such-survey".to_owned(),
        format!("/k/{kiosk}"),
        "/staff/login".to_owned(),
    ] {
        check(&s, &app, &axe, &path, &mut failures).await;
    }
    // A survey walked through: each section, a page with a problem, the thanks page.
    s.go(&app.url("/s/sipas-demo")).await;
    s.click(&format!("option[value='{locality}']")).await;
    s.submit("button[value=next]").await;
    s.submit("button[value=next]").await; // "about" without answers: problems shown
    for v in violations(&s, &axe).await {
        failures.push(format!("survey page with problems: {v}"));
    }
    s.click("label[for=q-sex-F]").await;
    s.click("label[for=q-age_group-18-34]").await;
    for _ in 0..12 {
        let url = s.url().await;
        if url.ends_with("/thanks") {
            break;
        }
        for v in violations(&s, &axe).await {
            failures.push(format!("{url}: {v}"));
        }
        let last = s.source().await.contains("value=\"submit\"");
        s.submit(if last {
            "button[value=submit]"
        } else {
            "button[value=next]"
        })
        .await;
    }
    for v in violations(&s, &axe).await {
        failures.push(format!("thanks page: {v}"));
    }

    // Every staff page reachable from the dashboard.
    s.go(&app.url("/staff/login")).await;
    s.type_text("input[name=email]", "admin@example.vn").await;
    s.type_text("input[name=password]", PASSWORD).await;
    s.submit("button[type=submit]").await;
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from(["/staff".to_owned()]);
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) || seen.len() > 80 {
            continue;
        }
        check(&s, &app, &axe, &path, &mut failures).await;
        for link in staff_links(&s).await {
            // Files (QR codes, downloads) are not pages.
            let file = [".svg", ".png", ".csv", ".xlsx", ".zip", ".json"]
                .iter()
                .any(|ext| link.split('?').next().unwrap_or_default().ends_with(ext));
            if !file && !seen.contains(&link) {
                queue.push_back(link);
            }
        }
    }
    assert!(seen.len() > 10, "the crawl found the staff pages: {seen:?}");
    // The designer's forms sit in closed <details>, which axe does not look into: each
    // questionnaire's page again with every form open (the index mapping of a scale, a
    // yes/no, a choice and a number question among them).
    s.go(&app.url("/staff/questionnaires")).await;
    let designer: BTreeSet<String> = staff_links(&s)
        .await
        .into_iter()
        .filter(|p| {
            p.strip_prefix("/staff/questionnaires/")
                .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    assert!(
        designer.len() >= 3,
        "the demo's questionnaires: {designer:?}"
    );
    for path in &designer {
        s.go(&app.url(path)).await;
        s.script("document.querySelectorAll('details').forEach(d => d.open = true); return true;")
            .await;
        for v in violations(&s, &axe).await {
            failures.push(format!("{path} (forms open): {v}"));
        }
    }
    s.close().await;
    assert!(
        failures.is_empty(),
        "{} violations on {} staff pages and the public ones:\n{}",
        failures.len(),
        seen.len(),
        failures.join("\n")
    );
}
