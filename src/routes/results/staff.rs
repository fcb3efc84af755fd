//! Staff pages for results: the targets of a campaign. NOT mounted here: the lead mounts
//! [`configure`] inside the guarded `/staff` scope (login + role + CSRF), giving
//! `/staff/campaigns/{slug}/targets`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Serialize;

use crate::auth::{Access, Area};
use crate::error::{AppError, field_message};
use crate::routes::extract::{StaffForm, StaffUser, StaffView};
use crate::routes::state::AppState;
use crate::services::audit::{self, Actor};
use crate::services::reports::{self, ReportForm};
use crate::services::results::Audience;
use crate::services::targets::{self, TargetForm};
use crate::services::{campaigns, results};
use crate::templates;
use crate::views::Chrome;
use crate::views::results::TargetView;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(add)
        .service(remove)
        .service(reports_page)
        .service(request_report)
        .service(publish_now);
}

#[derive(Debug, Serialize)]
struct TargetsPage {
    #[serde(flatten)]
    chrome: Chrome,
    staff: StaffView,
    slug: String,
    campaign: String,
    action: String,
    targets: Vec<TargetView>,
    localities: Vec<(String, String)>,
    indices: Vec<(String, String)>,
    errors: Vec<String>,
}

async fn render(
    state: &AppState,
    req: &HttpRequest,
    slug: &str,
    user: &StaffUser,
    errors: Vec<String>,
) -> Result<HttpResponse, AppError> {
    let lang = user.lang;
    let campaign = campaigns::by_slug(&state.db, slug).await?;
    let fresh = crate::services::publication::published(&state.db, &campaign).await?;
    let r = &fresh.results;
    // The account's own localities, whether the campaign is public or not.
    let audience = Audience::account(user.localities.clone());
    let outcomes = targets::outcomes_for(&state.db, campaign.campaign.id, r, &audience).await?;
    let action = req.path().trim_end_matches('/').to_owned();
    let page = TargetsPage {
        chrome: Chrome::new(lang, req.path()),
        staff: user.view(),
        slug: slug.to_owned(),
        campaign: lang
            .pick(&campaign.campaign.name_vi, &campaign.campaign.name_en)
            .to_owned(),
        targets: outcomes
            .iter()
            .map(|o| TargetView::new(o, r, lang))
            .collect(),
        localities: r
            .localities
            .iter()
            .filter(|l| audience.sees_in(r, &l.code))
            .map(|l| (l.code.clone(), format!("{} ({})", l.name(lang), l.code)))
            .collect(),
        indices: r
            .nodes
            .iter()
            .map(|n| (n.key.clone(), format!("{} – {}", n.key, n.name(lang))))
            .collect(),
        action,
        errors,
    };
    let body = templates::render("results/targets_staff.html", &page)?;
    let status = if page.errors.is_empty() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// Targets are read and recorded only by those who may read results (administrators and
/// analysts): a target's met/missed tells about the estimate, and designers do not see
/// the results of private campaigns.
fn require_targets(user: &StaffUser, access: Access) -> Result<(), AppError> {
    if user.role.can(Area::Results, access) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[get("/campaigns/{slug}/targets")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    user: StaffUser,
) -> Result<HttpResponse, AppError> {
    require_targets(&user, Access::Read)?;
    render(&state, &req, &slug, &user, Vec::new()).await
}

#[post("/campaigns/{slug}/targets")]
async fn add(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    form: StaffForm<TargetForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    require_targets(&user, Access::Write)?;
    let lang = user.lang;
    let campaign = campaigns::by_slug(&state.db, &slug).await?;
    let fresh = crate::services::publication::published(&state.db, &campaign).await?;
    if !Audience::account(user.localities.clone()).sees_in(&fresh.results, form.locality.trim()) {
        return Err(AppError::Forbidden);
    }
    match targets::create(&state.db, campaign.campaign.id, &fresh.results, &form).await {
        Ok(_) => {
            audit::record(
                &state.db,
                &Actor::staff(user.id, &user.email),
                "target.create",
                "campaign",
                &campaign.campaign.id.to_string(),
                &slug,
            )
            .await?;
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, req.path().to_owned()))
                .finish())
        }
        Err(AppError::Validation(errors)) => {
            let messages = errors.iter().map(|e| field_message(lang, e)).collect();
            render(&state, &req, &slug, &user, messages).await
        }
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize)]
pub struct Empty {}

#[post("/campaigns/{slug}/targets/{id}/delete")]
async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let user = form.user;
    require_targets(&user, Access::Write)?;
    let (slug, id) = path.into_inner();
    let campaign = campaigns::by_slug(&state.db, &slug).await?;
    let audience = Audience::account(user.localities.clone());
    if audience.is_restricted() {
        let fresh = crate::services::publication::published(&state.db, &campaign).await?;
        let target = targets::list(&state.db, campaign.campaign.id)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(AppError::NotFound("target_not_found"))?;
        if !audience.sees_in(&fresh.results, &target.locality_code) {
            return Err(AppError::Forbidden);
        }
    }
    targets::delete(&state.db, campaign.campaign.id, id).await?;
    audit::record(
        &state.db,
        &Actor::staff(user.id, &user.email),
        "target.delete",
        "campaign",
        &campaign.campaign.id.to_string(),
        &format!("{slug} target {id}"),
    )
    .await?;
    let back = req
        .path()
        .trim_end_matches("/delete")
        .trim_end_matches(&format!("/{id}"))
        .to_owned();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, back))
        .finish())
}

// ------------------------------------------------------------------------------------------
// Reports by email.
// ------------------------------------------------------------------------------------------

/// The report form as the results page and the reports page show it.
#[derive(Debug, Serialize)]
pub struct ReportFormView {
    pub slug: String,
    pub csrf_token: String,
    /// `(key, label)` of every index, element and criterion.
    pub indices: Vec<(String, String)>,
    /// The index preselected.
    pub index: String,
    /// The microdata option is offered.
    pub microdata: bool,
    /// Why no report can be emailed (no SMTP server): the form is shown disabled.
    pub unavailable: Option<String>,
    /// What the email will lack (no `base_url`: no link to the results page).
    pub note: Option<String>,
}

impl ReportFormView {
    pub fn new(
        state: &AppState,
        user: &StaffUser,
        campaign: &campaigns::OpenCampaign,
        nodes: &[results::IndexNode],
        index: &str,
    ) -> ReportFormView {
        let lang = user.lang;
        ReportFormView {
            unavailable: state
                .mailer
                .is_none()
                .then(|| crate::i18n::t(lang, "report-no-smtp", &[])),
            note: state
                .settings
                .base_url
                .is_none()
                .then(|| crate::i18n::t(lang, "report-no-base-url", &[])),
            slug: campaign.campaign.slug.clone(),
            csrf_token: user.csrf_token.clone(),
            indices: nodes
                .iter()
                .map(|n| (n.key.clone(), format!("{} – {}", n.key, n.name(user.lang))))
                .collect(),
            index: index.to_owned(),
            // The microdata are not split by locality: only for those who see them all.
            microdata: user.role.can(Area::Exports, Access::Read)
                && !Audience::of_campaign(campaign.campaign.is_public, user.localities.clone())
                    .is_restricted(),
        }
    }
}

#[derive(Debug, Serialize)]
struct RequestView {
    requested_at: String,
    what: String,
    status: String,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct ReportsPage {
    #[serde(flatten)]
    chrome: Chrome,
    staff: StaffView,
    slug: String,
    campaign: String,
    queued: bool,
    report: ReportFormView,
    requests: Vec<RequestView>,
    errors: Vec<String>,
    publication: PublicationView,
}

/// The latest publication and the "Publish now" button.
#[derive(Debug, Serialize)]
struct PublicationView {
    /// `(number, date)` of the latest publication; `None`: not yet published.
    latest: Option<(i64, String)>,
    /// `daily`, `manual` or `on_close`.
    schedule: &'static str,
    can_publish: bool,
    /// Just published (`?published=N`), or nothing new could be published (`?published=0`).
    just: Option<i64>,
    csrf_token: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct ReportsQuery {
    #[serde(default)]
    queued: Option<String>,
    #[serde(default)]
    published: Option<i64>,
}

async fn render_reports(
    state: &AppState,
    req: &HttpRequest,
    slug: &str,
    user: &StaffUser,
    (queued, just): (bool, Option<i64>),
    errors: Vec<String>,
) -> Result<HttpResponse, AppError> {
    let lang = user.lang;
    let campaign = campaigns::by_slug(&state.db, slug).await?;
    let publication = PublicationView {
        latest: crate::services::publication::latest(&state.db, campaign.campaign.id)
            .await?
            .map(|p| {
                (
                    p.number,
                    crate::domain::publication::vietnam_date_text(p.published_on),
                )
            }),
        schedule: campaign.design.publication.as_str(),
        can_publish: user.role.can(Area::Results, Access::Write),
        just,
        csrf_token: user.csrf_token.clone(),
    };
    let plan = results::plan(&campaign.definition);
    let main = campaign
        .design
        .main_index
        .clone()
        .or_else(|| plan.nodes.first().map(|n| n.key.clone()))
        .unwrap_or_default();
    let requests = reports::recent(&state.db, user.id, campaign.campaign.id)
        .await?
        .into_iter()
        .map(|r| RequestView {
            requested_at: crate::i18n::t(
                lang,
                "report-time-vn",
                &[(
                    "time",
                    crate::i18n::Arg::from(
                        crate::domain::publication::vietnam_time(r.requested_at)
                            .format("%d/%m/%Y %H:%M")
                            .to_string(),
                    ),
                )],
            ),
            what: format!(
                "{} · {} · {}{}",
                r.format.to_uppercase(),
                r.level
                    .as_deref()
                    .map(|l| crate::i18n::t(lang, &format!("results-level-{l}"), &[]))
                    .unwrap_or_else(|| crate::i18n::t(lang, "report-all-levels", &[])),
                r.index_code.clone().unwrap_or_else(|| crate::i18n::t(
                    lang,
                    "report-all-indices",
                    &[]
                )),
                if r.with_microdata { " · zip" } else { "" }
            ),
            status: r.status,
            error: r.error,
        })
        .collect();
    let page = ReportsPage {
        chrome: Chrome::new(lang, req.path()),
        staff: user.view(),
        slug: slug.to_owned(),
        campaign: lang
            .pick(&campaign.campaign.name_vi, &campaign.campaign.name_en)
            .to_owned(),
        queued,
        report: ReportFormView::new(state, user, &campaign, &plan.nodes, &main),
        requests,
        errors,
        publication,
    };
    let body = templates::render("results/reports.html", &page)?;
    let status = if page.errors.is_empty() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

/// `GET /staff/campaigns/{slug}/reports`: the form and the user's recent requests with their
/// status (`?queued=1` right after a request).
#[get("/campaigns/{slug}/reports")]
async fn reports_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    q: web::Query<ReportsQuery>,
    user: StaffUser,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Results, Access::Read)?;
    render_reports(
        &state,
        &req,
        &slug,
        &user,
        (q.queued.is_some(), q.published),
        Vec::new(),
    )
    .await
}

/// `POST /staff/campaigns/{slug}/reports`: records the request, starts the background task
/// and answers at once with a 303 to the reports page; a 409 when no mail can be sent (no
/// SMTP server), recording nothing.
#[post("/campaigns/{slug}/reports")]
async fn request_report(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    form: StaffForm<ReportForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    user.require(Area::Results, Access::Read)?;
    // Never queue a report that cannot be sent.
    if state.mailer.is_none() {
        return Err(AppError::Conflict("reports_need_smtp"));
    }
    let lang = user.lang;
    let campaign = campaigns::by_slug(&state.db, &slug).await?;
    let who = reports::Requester {
        id: user.id,
        email: user.email.clone(),
        role: user.role,
        localities: user.localities.clone(),
        lang,
    };
    match reports::request(&state.db, &who, &campaign, &form).await {
        Ok(row) => {
            reports::spawn(
                state.db.clone(),
                state.settings.clone(),
                state.mailer.clone(),
                row.id,
            );
            Ok(HttpResponse::SeeOther()
                .insert_header((
                    header::LOCATION,
                    format!("{}?queued={}", req.path().trim_end_matches('/'), row.id),
                ))
                .finish())
        }
        Err(AppError::Validation(errors)) => {
            let messages = errors.iter().map(|e| field_message(lang, e)).collect();
            render_reports(&state, &req, &slug, &user, (false, None), messages).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /staff/campaigns/{slug}/publish`: "Publish now" (administrators and analysts),
/// then back to the reports page, which says what happened.
#[post("/campaigns/{slug}/publish")]
async fn publish_now(
    state: web::Data<AppState>,
    slug: web::Path<String>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let user = form.user;
    user.require(Area::Results, Access::Write)?;
    let campaign = campaigns::by_slug(&state.db, &slug).await?;
    let outcome = crate::services::publication::publish(
        &state.db,
        &campaign,
        crate::domain::publication::Trigger::Manual,
        state.settings.min_n_floor,
        chrono::Utc::now(),
    )
    .await?;
    if let Some(n) = outcome.number {
        audit::record(
            &state.db,
            &Actor::staff(user.id, &user.email),
            "results.publish",
            "campaign",
            &campaign.campaign.id.to_string(),
            &format!("{slug} publication {n}"),
        )
        .await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!(
                "/staff/campaigns/{slug}/reports?published={}",
                outcome.number.unwrap_or(0)
            ),
        ))
        .finish())
}
