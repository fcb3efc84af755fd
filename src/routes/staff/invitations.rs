//! Staff pages for email invitations of a campaign: upload addresses, send
//! the links, send the one reminder round (to everyone: the server does not
//! know who answered), delete the list. No page shows whether, or how many,
//! invitees answered: that count comes with the published results.
//! Mounted by the staff scope, which adds login, roles and CSRF protection.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::{Access, Area};
use crate::error::AppError;
use crate::i18n::{self, Arg};
use crate::routes::extract::{StaffForm, StaffUser};
use crate::routes::state::AppState;
use crate::services::audit::{self, Actor};
use crate::services::{campaigns, invitations, publication};
use crate::templates;
use crate::views::Chrome;
use crate::views::staff::invitations::{InvitationsPage, PublishedAnswered};

/// Registers, relative to the scope it is mounted in:
/// `GET /campaigns/{slug}/invitations` and `POST …/invitations/{upload,send,remind,delete}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/campaigns/{slug}/invitations").route(web::get().to(show)))
        .service(
            web::resource("/campaigns/{slug}/invitations/{action}").route(web::post().to(act)),
        );
}

#[derive(Debug, Deserialize)]
pub struct UploadForm {
    #[serde(default)]
    addresses: String,
}

fn base_path(req: &HttpRequest) -> String {
    let path = req.path();
    match path.find("/invitations") {
        Some(at) => format!("{}/invitations", &path[..at]),
        None => path.to_owned(),
    }
}

async fn render(
    req: &HttpRequest,
    state: &AppState,
    user: &StaffUser,
    slug: &str,
    notice: Option<String>,
) -> Result<HttpResponse, AppError> {
    let lang = user.lang;
    let c = campaigns::by_slug(&state.db, slug).await?;
    let counts = invitations::counts(&state.db, c.campaign.id).await?;
    let published = publication::latest(&state.db, c.campaign.id)
        .await?
        .map(|p| PublishedAnswered {
            answered: p.invited_answered.unwrap_or(0),
            number: p.number,
            date: p.published_on.format("%Y-%m-%d").to_string(),
        });
    let page = InvitationsPage {
        chrome: Chrome::new(lang, req.path()),
        staff: user.view(),
        slug: c.campaign.slug.clone(),
        campaign: lang
            .pick(&c.campaign.name_vi, &c.campaign.name_en)
            .to_owned(),
        action: base_path(req),
        total: counts.total,
        sent: counts.sent,
        reminded: counts.reminded,
        notice,
        smtp_configured: state.mailer.is_some(),
        base_url_configured: state.settings.public_url("/").is_some(),
        published,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(templates::render("staff/invitations.html", &page)?))
}

async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    user: StaffUser,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Invitations, Access::Read)?;
    render(&req, &state, &user, &path, None).await
}

async fn act(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
    form: StaffForm<UploadForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    user.require(Area::Invitations, Access::Write)?;
    let lang = user.lang;
    let (slug, action) = path.into_inner();
    let c = campaigns::by_slug(&state.db, &slug).await?;
    let key = crate::secret_key::load(&state.settings)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("secret key: {e}")))?;
    // Links come from the configured public URL only, never from the
    // request's Host or forwarding headers.
    let settings = state.settings.clone();
    let link = move |token: &str| {
        settings
            .public_url(&format!("/i/{token}"))
            .unwrap_or_default()
    };
    let sending = || {
        if state.settings.public_url("/").is_none() {
            return Err(AppError::Conflict("invitations_need_base_url"));
        }
        state
            .mailer
            .as_ref()
            .ok_or(AppError::Conflict("invitations_need_smtp"))
    };
    let notice = match action.as_str() {
        "upload" => {
            let today = chrono::Utc::now().date_naive();
            let o =
                invitations::upload(&state.db, &key, c.campaign.id, &form.addresses, today).await?;
            i18n::t(
                lang,
                "invitations-uploaded",
                &[
                    ("added", Arg::from(o.added as u64)),
                    ("listed", Arg::from(o.already_listed as u64)),
                    ("invalid", Arg::from(o.invalid.join(", "))),
                ],
            )
        }
        "send" => {
            let o = invitations::send_pending(&state.db, &key, sending()?, &c, &link).await?;
            i18n::t(
                lang,
                "invitations-sent",
                &[
                    ("sent", Arg::from(o.sent as u64)),
                    ("failed", Arg::from(o.failed as u64)),
                ],
            )
        }
        "remind" => {
            let o = invitations::remind(&state.db, &key, sending()?, &c, &link).await?;
            i18n::t(
                lang,
                "invitations-sent",
                &[
                    ("sent", Arg::from(o.sent as u64)),
                    ("failed", Arg::from(o.failed as u64)),
                ],
            )
        }
        "delete" => {
            let n = invitations::delete_for_campaign(&state.db, c.campaign.id).await?;
            i18n::t(lang, "invitations-deleted", &[("count", Arg::from(n))])
        }
        _ => return Err(AppError::NotFound("page_not_found")),
    };
    // Which list and what was done; never the addresses.
    audit::record(
        &state.db,
        &Actor::staff(user.id, &user.email),
        &format!("invitations.{action}"),
        "campaign",
        &c.campaign.id.to_string(),
        &slug,
    )
    .await?;
    render(&req, &state, &user, &slug, Some(notice)).await
}
