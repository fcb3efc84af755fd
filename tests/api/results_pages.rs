//! Results pages: public, bilingual, suppression shown as text, downloads.

use crate::helpers::spawn_app_with_demo;

async fn page(app: &crate::helpers::TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    res.text().await.unwrap()
}

#[tokio::test]
async fn overview_shows_the_national_index_with_its_interval_in_both_languages() {
    let app = spawn_app_with_demo().await;
    let api: Vec<serde_json::Value> = app
        .get("/api/v1/campaigns/sipas-demo/results?level=national")
        .await
        .json()
        .await
        .unwrap();
    let pct = |k: &str| format!("{:.1}", api[0][k].as_f64().unwrap() * 100.0);
    let vi = page(&app, "/results/sipas-demo").await;
    assert!(vi.contains("Toàn quốc"));
    assert!(
        vi.contains(&format!("{}%", pct("estimate"))),
        "national estimate shown"
    );
    assert!(vi.contains(&format!("{}–{}%", pct("ci_low"), pct("ci_high"))));
    assert!(vi.contains("Tiến độ thu thập"));
    let en = page(&app, "/results/sipas-demo?lang=en").await;
    assert!(en.contains("National"));
    assert!(en.contains("Fieldwork progress"));
}

#[tokio::test]
async fn commune_table_shows_suppressed_estimates_as_text_with_the_reason() {
    let app = spawn_app_with_demo().await;
    let html = page(&app, "/results/sipas-demo/localities?level=commune&lang=en").await;
    assert!(html.contains("Not published"));
    // Every commune is suppressed: the reason is said once, in plain words.
    assert!(html.contains("No number yet for each commune on its own"));
    assert!(html.contains("too few of the places chosen for the survey"));
    // A province with some suppressed criteria gives the reason row by row.
    let html = page(
        &app,
        "/results/sipas-demo/localities?level=province&lang=en",
    )
    .await;
    assert!(!html.contains("No number yet for each"));
}

#[tokio::test]
async fn province_table_sorts_by_the_query_parameter() {
    let app = spawn_app_with_demo().await;
    let api: Vec<serde_json::Value> = app
        .get("/api/v1/campaigns/sipas-demo/results?level=province")
        .await
        .json()
        .await
        .unwrap();
    let mut by_est: Vec<(f64, String)> = api
        .iter()
        .map(|r| {
            (
                r["estimate"].as_f64().unwrap(),
                r["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    by_est.sort_by(|a, b| b.0.total_cmp(&a.0));
    let html = page(
        &app,
        "/results/sipas-demo/localities?level=province&sort=-estimate",
    )
    .await;
    let pos: Vec<usize> = by_est
        .iter()
        .map(|(_, n)| html.find(n.as_str()).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "descending order");
    let html = page(
        &app,
        "/results/sipas-demo/localities?level=province&sort=estimate",
    )
    .await;
    let pos: Vec<usize> = by_est
        .iter()
        .map(|(_, n)| html.find(n.as_str()).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] > w[1]), "ascending order");
}

#[tokio::test]
async fn forest_plot_is_server_drawn_svg_with_a_national_line() {
    let app = spawn_app_with_demo().await;
    let html = page(&app, "/results/sipas-demo/forest?level=province").await;
    assert!(html.matches("<svg class=\"fbar\"").count() >= 5);
    assert!(html.contains("class=\"nat\""));
    assert!(html.contains("class=\"ci\""));
    assert!(!html.contains("<script"));
}

#[tokio::test]
async fn locality_page_breaks_the_index_down_into_elements_and_criteria() {
    let app = spawn_app_with_demo().await;
    let html = page(&app, "/results/health-demo/locality/01?lang=en").await;
    for name in [
        "Access",
        "Facilities for patients",
        "Toilets are clean and work well",
    ] {
        assert!(html.contains(name), "{name}");
    }
    let res = app.get("/results/health-demo/locality/99999").await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn rank_bands_are_shown_instead_of_a_strict_ranking() {
    let app = spawn_app_with_demo().await;
    let html = page(&app, "/results/sipas-demo/ranks?level=province&lang=en").await;
    assert!(html.contains("Rank band"));
    assert!(html.contains("class=\"band\""));
}

#[tokio::test]
async fn results_download_as_csv_and_xlsx_keeps_vietnamese_text() {
    let app = spawn_app_with_demo().await;
    let res = app
        .get("/results/sipas-demo/results.csv?level=province&index=SIPAS")
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = res.text().await.unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Cấp,Mã địa bàn,Tên địa bàn,Mã chỉ số,\"Chỉ số, yếu tố hoặc tiêu chí\",Đơn vị,\
         Kết quả (làm tròn như trên trang),Cận dưới KTC 95% (làm tròn),\
         Cận trên KTC 95% (làm tròn),Số người trả lời (n),Không công bố,Lý do không công bố,\
         \"Ước lượng (thang 0–1, chính xác)\",Sai số chuẩn,Cận dưới KTC 95% (chính xác),\
         Cận trên KTC 95% (chính xác),Bậc tự do,Hệ số thiết kế (deff),\
         Ước lượng theo mô hình (◆),Theo mô hình (làm tròn),Theo mô hình: cận dưới (làm tròn),\
         Theo mô hình: cận trên (làm tròn),Theo mô hình: ước lượng,\
         Theo mô hình: căn sai số bình phương trung bình,Theo mô hình: cận dưới,\
         Theo mô hình: cận trên"
    );
    assert_eq!(lines.clone().count(), 4);
    assert!(text.contains("Hà Nội"));
    let res = app.get("/results/sipas-demo/results.xlsx").await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "an XLSX file is a zip archive");
}
