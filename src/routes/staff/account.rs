//! The staff dashboard and one's own account (password change).

use actix_web::{HttpResponse, get, post, web};
use entity::campaign;
use sea_orm::{EntityTrait, QueryOrder};
use serde::Deserialize;

use crate::auth::{Access, Area, password, session};
use crate::error::{AppError, field_message};
use crate::i18n;
use crate::routes::extract::{StaffForm, StaffUser};
use crate::routes::state::AppState;
use crate::services::audit::Actor;
use crate::services::staff::{self, StaffError};
use crate::views::staff::Notice;
use crate::views::staff::account::{AreaLink, Dashboard, DashboardCampaign};
use crate::views::staff::hub::status_of;

use super::render;

/// The campaigns, in listing order, each linking to its hub.
async fn campaign_list(
    state: &AppState,
    user: &StaffUser,
) -> Result<Vec<DashboardCampaign>, AppError> {
    let today = chrono::Utc::now().date_naive();
    Ok(campaign::Entity::find()
        .order_by_asc(campaign::Column::SortOrder)
        .order_by_asc(campaign::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| DashboardCampaign {
            name: user.lang.pick(&c.name_vi, &c.name_en).to_owned(),
            status: status_of(today, c.opens_on, c.closes_on),
            opens_on: c.opens_on.format("%d/%m/%Y").to_string(),
            closes_on: c.closes_on.format("%d/%m/%Y").to_string(),
            slug: c.slug,
        })
        .collect())
}

#[get("")]
pub async fn dashboard(
    state: web::Data<AppState>,
    user: StaffUser,
) -> Result<HttpResponse, AppError> {
    let campaigns = campaign_list(&state, &user).await?;
    let mut areas = Vec::new();
    if user.role.can(Area::Accounts, Access::Write) {
        areas.push(AreaLink {
            href: "/staff/users",
            key: "staff-nav-users",
        });
        areas.push(AreaLink {
            href: "/staff/audit",
            key: "staff-nav-audit",
        });
    }
    if user.role.can(Area::Campaigns, Access::Read) {
        areas.push(AreaLink {
            href: "/staff/plan",
            key: "plan-title",
        });
    }
    areas.push(AreaLink {
        href: "/staff/campaigns",
        key: "staff-nav-campaigns",
    });
    areas.push(AreaLink {
        href: "/staff/questionnaires",
        key: "staff-nav-questionnaires",
    });
    areas.push(AreaLink {
        href: "/staff/kiosks",
        key: "staff-nav-kiosks",
    });
    areas.push(AreaLink {
        href: "/staff/tokens",
        key: "staff-nav-tokens",
    });
    areas.push(AreaLink {
        href: "/staff/account",
        key: "staff-nav-account",
    });
    render(
        &user,
        "staff/dashboard.html",
        "/staff",
        Dashboard { campaigns, areas },
    )
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    done: Option<String>,
}

#[get("/account")]
pub async fn show(user: StaffUser, q: web::Query<NoticeQuery>) -> Result<HttpResponse, AppError> {
    let notice = Notice {
        notice: q
            .done
            .as_deref()
            .filter(|d| *d == "password")
            .map(|_| i18n::t(user.lang, "account-password-changed", &[])),
        errors: vec![],
    };
    render(&user, "staff/account.html", "/staff/account", notice)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

#[post("/account/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    form: StaffForm<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    let lang = user.lang;
    let account = staff::by_email(&state.db, &user.email)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let mut errors = Vec::new();
    if !password::verify(&form.current_password, &account.password_hash) {
        errors.push(i18n::t(lang, "account-wrong-current", &[]));
    }
    if form.new_password != form.confirm_password {
        errors.push(i18n::t(lang, "account-mismatch", &[]));
    }
    if errors.is_empty() {
        match staff::set_password(
            &state.db,
            &Actor::staff(user.id, &user.email),
            user.id,
            &form.new_password,
        )
        .await
        {
            Ok(()) => {
                // Every session ended, this one included: sign in again.
                session::revoke_all(&state.db, user.id).await?;
                return Ok(HttpResponse::SeeOther()
                    .insert_header(("Location", "/staff/login"))
                    .cookie(session::removal())
                    .finish());
            }
            Err(StaffError::Invalid(list)) => {
                errors.extend(list.iter().map(|f| field_message(lang, f)));
            }
            Err(e) => return Err(AppError::Internal(e.into())),
        }
    }
    let notice = Notice {
        notice: None,
        errors,
    };
    let mut res = render(&user, "staff/account.html", "/staff/account", notice)?;
    *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}
