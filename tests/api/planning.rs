//! `/staff/plan`: the planner page over the demo's population frame.

use reqwest::{Client, StatusCode};

use crate::helpers::{TestApp, spawn_app_with_demo};

async fn signed_in(app: &TestApp, email: &str, role: &str) -> Client {
    app.add_user(email, role).await;
    app.login(email).await
}

#[tokio::test]
async fn the_plan_page_computes_sizes_per_province_for_every_reading_role() {
    let app = spawn_app_with_demo().await;
    let anonymous = app.get("/staff/plan").await;
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    for (email, role) in [
        ("d@example.org", "designer"),
        ("f@example.org", "field_manager"),
        ("a@example.org", "analyst"),
    ] {
        let c = signed_in(&app, email, role).await;
        let res = c.get(app.url("/staff/plan")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{role}");
    }
    let c = signed_in(&app, "x@example.org", "analyst").await;
    // ±3 points, p = 50 %, deff 1, full response: n0 = 1067.07, and with the
    // fpc for populations of 2.5–5.5 million 1066.6–1066.9 → 1067 each.
    let html = app.page(&c, "/staff/plan?level=province&moe=3&expected=50&deff=1&response_rate=100&confidence=95&on=2026-01-01&take=20").await;
    assert!(html.contains("<td>Hà Nội</td>"), "{html}");
    assert_eq!(html.matches("<td>1067</td>").count(), 4, "{html}");
    assert!(html.contains("<td>4268</td>"), "{html}");
    // 1067 / 20 interviews per commune → 54 communes each, 216 in all.
    assert_eq!(html.matches("<td>54</td>").count(), 4, "{html}");
    assert!(html.contains("<td>216</td>"), "{html}");
    // A budget below the minimums is explained, not a 500.
    let html = app
        .page(
            &c,
            "/staff/plan?budget=100&minimum=50&allocation=equal&on=2026-01-01",
        )
        .await;
    assert!(html.contains("(200)"), "{html}");
    let html = app.page(&c, "/staff/plan?moe=abc").await;
    assert!(html.contains("role=\"alert\""), "{html}");
}
