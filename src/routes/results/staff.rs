//! Staff pages for results: the targets of a campaign. NOT mounted here: the lead mounts
//! [`configure`] inside the guarded `/staff` scope (login + role + CSRF), giving
//! `/staff/campaigns/{slug}/targets`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Serialize;

use crate::auth::extract::{StaffForm, StaffUser, StaffView};
use crate::auth::{Access, Area};
use crate::error::{AppError, Problem, field_message};
use crate::i18n::Lang;
use crate::services::audit::{self, Actor};
use crate::services::targets::{self, TargetForm};
use crate::services::{campaigns, results};
use crate::state::AppState;
use crate::templates;
use crate::views::Chrome;
use crate::views::results::TargetView;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(add).service(remove);
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
    let fresh = results::results_for(&state.db, &campaign).await?;
    let r = &fresh.results;
    let outcomes = targets::outcomes(&state.db, campaign.campaign.id, r).await?;
    let action = req.path().trim_end_matches('/').to_owned();
    let page = TargetsPage {
        chrome: Chrome::new(lang, req.path()),
        staff: user.view(),
        slug: slug.to_owned(),
        campaign: match lang {
            Lang::En if !campaign.campaign.name_en.is_empty() => campaign.campaign.name_en.clone(),
            _ => campaign.campaign.name_vi.clone(),
        },
        targets: outcomes
            .iter()
            .map(|o| TargetView::new(o, r, lang))
            .collect(),
        localities: r
            .localities
            .iter()
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

/// Targets are recorded by those who may change campaigns or results.
fn require_targets(user: &StaffUser, access: Access) -> Result<(), Problem> {
    if user.role.can(Area::Results, access) || user.role.can(Area::Campaigns, access) {
        Ok(())
    } else {
        Err(AppError::Forbidden.page(user.lang))
    }
}

#[get("/campaigns/{slug}/targets")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    user: StaffUser,
) -> Result<HttpResponse, Problem> {
    require_targets(&user, Access::Read)?;
    render(&state, &req, &slug, &user, Vec::new())
        .await
        .map_err(|e| e.page(user.lang))
}

#[post("/campaigns/{slug}/targets")]
async fn add(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    form: StaffForm<TargetForm>,
) -> Result<HttpResponse, Problem> {
    let StaffForm { user, form } = form;
    require_targets(&user, Access::Write)?;
    let lang = user.lang;
    let run = async {
        let campaign = campaigns::by_slug(&state.db, &slug).await?;
        let fresh = results::results_for(&state.db, &campaign).await?;
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
    };
    run.await.map_err(|e| e.page(lang))
}

#[derive(serde::Deserialize)]
pub struct Empty {}

#[post("/campaigns/{slug}/targets/{id}/delete")]
async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, Problem> {
    let user = form.user;
    require_targets(&user, Access::Write)?;
    let lang = user.lang;
    let run = async {
        let (slug, id) = path.into_inner();
        let campaign = campaigns::by_slug(&state.db, &slug).await?;
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
        Ok::<_, AppError>(
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, back))
                .finish(),
        )
    };
    run.await.map_err(|e| e.page(lang))
}
