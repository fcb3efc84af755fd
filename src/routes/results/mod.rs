//! Results for analysts: public pages under `/results/{slug}` and the downloads.

pub mod staff;

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;

use crate::error::AppError;
use crate::i18n::Lang;
use crate::routes::audience;
use crate::routes::state::AppState;
use crate::services::campaigns::{self, OpenCampaign};
use crate::services::comparison::{comparable, comparison};
use crate::services::export;
use crate::services::results::{self, Audience, Level, Published};
use crate::templates;
use crate::views::results::{
    ComparePage, ForestPage, LocalityPage, OverviewPage, RanksPage, SortKey, TablePage, TargetView,
    WavePicker,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(overview)
        .service(table)
        .service(forest)
        .service(ranks)
        .service(locality)
        .service(compare)
        .service(download_csv)
        .service(download_xlsx);
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    level: Option<String>,
    index: Option<String>,
    sort: Option<String>,
}

/// A readable campaign with its results as the requester may see them.
struct Loaded {
    campaign: OpenCampaign,
    /// Every result (for evaluating targets).
    full: Published,
    /// Only the localities the requester may see.
    shown: Published,
    index: String,
    audience: Audience,
}

/// The campaign (if readable), its results restricted to the requester's localities and the
/// index asked for.
async fn load(
    state: &AppState,
    req: &HttpRequest,
    slug: &str,
    index: Option<&str>,
) -> Result<Loaded, AppError> {
    let campaign = campaigns::by_slug(&state.db, slug).await?;
    let audience = audience::of_request(req, &campaign).await?;
    let full = crate::services::publication::published(&state.db, &campaign).await?;
    let index = results::resolve_index(&full.results, index)?;
    let shown = audience.published(&full);
    Ok(Loaded {
        campaign,
        full,
        shown,
        index,
        audience,
    })
}

fn page_level(q: &PageQuery) -> Result<Level, AppError> {
    Ok(Level::from_query(q.level.as_deref())?.unwrap_or(Level::Province))
}

fn html<C: serde::Serialize>(name: &str, ctx: &C) -> Result<HttpResponse, AppError> {
    let body = templates::render(name, ctx)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

fn path_of(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_owned(),
        q => format!("{}?{q}", req.path()),
    }
}

/// The overview with the report-by-email form for signed-in staff.
#[derive(serde::Serialize)]
struct OverviewWithReport<'a> {
    #[serde(flatten)]
    page: &'a OverviewPage,
    report: Option<staff::ReportFormView>,
}

/// The wave picker of a results page: the earlier campaigns with this index that the
/// reader may see.
async fn waves_of(
    state: &AppState,
    req: &HttpRequest,
    campaign: &OpenCampaign,
    index: &str,
    lang: Lang,
) -> Result<WavePicker, AppError> {
    let waves = comparable(&state.db, campaign, index, async |c| {
        audience::of_request(req, c).await
    })
    .await?;
    Ok(WavePicker::new(&waves, None, lang))
}

#[get("/results/{slug}")]
async fn overview(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    q: web::Query<PageQuery>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let l = load(&state, &req, &slug, q.index.as_deref()).await?;
    let fieldwork =
        results::fieldwork(&state.db, &l.campaign, &l.full.results, &l.audience).await?;
    let mut page = OverviewPage::new(
        lang,
        &path_of(&req),
        &l.campaign,
        &l.shown,
        &l.index,
        &fieldwork,
    );
    let outcomes = crate::services::targets::outcomes_for(
        &state.db,
        l.campaign.campaign.id,
        &l.full.results,
        &l.audience,
    )
    .await?;
    page.targets = outcomes
        .iter()
        .map(|o| TargetView::new(o, &l.full.results, lang))
        .collect();
    page.waves = waves_of(&state, &req, &l.campaign, &l.index, lang).await?;
    // Signed-in staff who may read results can ask for the report by email here.
    let staff = <crate::routes::extract::StaffUser as actix_web::FromRequest>::from_request(
        &req,
        &mut actix_web::dev::Payload::None,
    )
    .await
    .ok()
    .filter(|u| {
        u.role
            .can(crate::auth::Area::Results, crate::auth::Access::Read)
    });
    let report = staff.map(|u| {
        staff::ReportFormView::new(&state, &u, &l.campaign, &l.full.results.nodes, &l.index)
    });
    html(
        "results/overview.html",
        &OverviewWithReport {
            page: &page,
            report,
        },
    )
}

#[get("/results/{slug}/localities")]
async fn table(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    q: web::Query<PageQuery>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let level = page_level(&q)?;
    let Loaded {
        campaign,
        shown: fresh,
        index,
        ..
    } = load(&state, &req, &slug, q.index.as_deref()).await?;
    let sort = SortKey::parse(q.sort.as_deref());
    let mut page = TablePage::new(lang, &path_of(&req), &campaign, &fresh, &index, level, sort);
    page.waves = waves_of(&state, &req, &campaign, &index, lang).await?;
    html("results/table.html", &page)
}

#[get("/results/{slug}/forest")]
async fn forest(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    q: web::Query<PageQuery>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let level = page_level(&q)?;
    let Loaded {
        campaign,
        shown: fresh,
        index,
        ..
    } = load(&state, &req, &slug, q.index.as_deref()).await?;
    let mut page = ForestPage::new(lang, &path_of(&req), &campaign, &fresh, &index, level);
    page.waves = waves_of(&state, &req, &campaign, &index, lang).await?;
    html("results/forest.html", &page)
}

#[get("/results/{slug}/ranks")]
async fn ranks(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    q: web::Query<PageQuery>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let level = page_level(&q)?;
    let Loaded {
        campaign,
        shown: fresh,
        index,
        ..
    } = load(&state, &req, &slug, q.index.as_deref()).await?;
    let mut page = RanksPage::new(lang, &path_of(&req), &campaign, &fresh, &index, level);
    page.waves = waves_of(&state, &req, &campaign, &index, lang).await?;
    html("results/ranks.html", &page)
}

#[get("/results/{slug}/locality/{code}")]
async fn locality(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<PageQuery>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let (slug, code) = path.into_inner();
    let Loaded {
        campaign,
        shown: fresh,
        index,
        ..
    } = load(&state, &req, &slug, q.index.as_deref()).await?;
    let mut page = LocalityPage::new(lang, &path_of(&req), &campaign, &fresh, &index, &code)
        .ok_or(AppError::NotFound("locality_not_found"))?;
    page.waves = waves_of(&state, &req, &campaign, &index, lang).await?;
    html("results/locality.html", &page)
}

#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    with: Option<String>,
    level: Option<String>,
    index: Option<String>,
}

#[get("/results/{slug}/compare")]
async fn compare(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    q: web::Query<CompareQuery>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let level = Level::from_query(q.level.as_deref())?.unwrap_or(Level::Province);
    let c = comparison(
        &state.db,
        &slug,
        q.with.as_deref(),
        q.index.as_deref(),
        async |c| audience::of_request(&req, c).await,
    )
    .await?;
    let other = &c.previous_campaign.campaign;
    let with_name = lang.pick(&other.name_vi, &other.name_en).to_owned();
    let mut page = ComparePage::new(
        lang,
        &path_of(&req),
        &c.campaign,
        &c.current,
        &c.previous.results,
        (&other.slug, with_name),
        &c.index,
        level,
    );
    page.reaggregated = c.reaggregated;
    let waves = comparable(&state.db, &c.campaign, &c.index, async |w| {
        audience::of_request(&req, w).await
    })
    .await?;
    page.waves = WavePicker::new(&waves, Some(&other.slug), lang);
    html("results/compare.html", &page)
}

/// The two download formats of the results table.
#[derive(Clone, Copy)]
enum Download {
    Csv,
    Xlsx,
}

async fn download(
    state: &AppState,
    req: &HttpRequest,
    slug: &str,
    q: &PageQuery,
    lang: Lang,
    format: Download,
) -> Result<HttpResponse, AppError> {
    // Both filters absent: every level and every index.
    let level = Level::from_query(q.level.as_deref())?;
    let Loaded {
        campaign,
        shown: fresh,
        ..
    } = load(state, req, slug, None).await?;
    let index = match q.index.as_deref() {
        Some(i) => Some(results::resolve_index(&fresh.results, Some(i))?),
        None => None,
    };
    let (body, content_type, extension) = match format {
        Download::Csv => (
            export::results_csv(&fresh.results, level, index.as_deref(), lang)?.into_bytes(),
            "text/csv; charset=utf-8",
            "csv",
        ),
        Download::Xlsx => (
            export::results_xlsx(&fresh.results, level, index.as_deref(), lang)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(crate::routes::attachment(&format!(
            "{}-results.{extension}",
            campaign.campaign.slug
        )))
        .body(body))
}

#[get("/results/{slug}/results.csv")]
async fn download_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    q: web::Query<PageQuery>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    download(&state, &req, &slug, &q, lang, Download::Csv).await
}

#[get("/results/{slug}/results.xlsx")]
async fn download_xlsx(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    q: web::Query<PageQuery>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    download(&state, &req, &slug, &q, lang, Download::Xlsx).await
}
