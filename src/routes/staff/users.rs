//! Accounts, for administrators.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use crate::auth::{Access, Area, Role};
use crate::error::{AppError, field_message};
use crate::i18n;
use crate::routes::extract::{StaffForm, StaffUser};
use crate::routes::state::AppState;
use crate::services::audit::Actor;
use crate::services::staff::{self, NewUser, StaffError};
use crate::views::staff::Notice;
use crate::views::staff::users::{UserRow, UsersPage};

use super::{render, see_other};

async fn page(
    state: &AppState,
    user: &StaffUser,
    notice: Notice,
    email: String,
) -> Result<HttpResponse, AppError> {
    let rows = staff::list(&state.db)
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            email: u.email,
            role: u.role,
            active: u.active,
            localities: u
                .localities
                .as_deref()
                .and_then(|l| serde_json::from_str::<Vec<String>>(l).ok())
                .map(|l| l.join(", "))
                .unwrap_or_default(),
            created_on: u.created_at.format("%Y-%m-%d").to_string(),
        })
        .collect();
    let ctx = UsersPage {
        users: rows,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        notice,
        email,
    };
    render(user, "staff/users.html", "/staff/users", ctx)
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

#[get("/users")]
pub async fn index(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    user.require(Area::Accounts, Access::Read)?;
    let notice = Notice {
        notice: q.done.as_deref().map(|d| {
            i18n::t(
                user.lang,
                &format!(
                    "users-done-{}",
                    if d == "created" { "created" } else { "updated" }
                ),
                &[],
            )
        }),
        errors: vec![],
    };
    page(&state, &user, notice, String::new()).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    localities: String,
}

#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    form: StaffForm<CreateForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    user.require(Area::Accounts, Access::Write)?;
    let lang = user.lang;
    let localities: Vec<String> = form
        .localities
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let result = staff::create(
        &state.db,
        &Actor::staff(user.id, &user.email),
        NewUser {
            email: &form.email,
            role: &form.role,
            password: &form.password,
            localities: Some(localities),
        },
    )
    .await;
    let errors = match result {
        Ok(_) => return Ok(see_other("/staff/users?done=created")),
        Err(StaffError::Invalid(list)) => list.iter().map(|f| field_message(lang, f)).collect(),
        Err(StaffError::Duplicate) => vec![i18n::t(lang, "users-duplicate", &[])],
        Err(e) => return Err(AppError::Internal(e.into())),
    };
    let mut res = page(
        &state,
        &user,
        Notice {
            notice: None,
            errors,
        },
        form.email,
    )
    .await?;
    *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

#[derive(Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    active: Option<String>,
}

#[post("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: StaffForm<UpdateForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    user.require(Area::Accounts, Access::Write)?;
    let lang = user.lang;
    let id = path.into_inner();
    let active = form.active.is_some();
    if id == user.id && (!active || form.role != Role::Admin.as_str()) {
        // An administrator cannot lock themselves out.
        let errors = vec![i18n::t(lang, "users-not-yourself", &[])];
        let mut res = page(
            &state,
            &user,
            Notice {
                notice: None,
                errors,
            },
            String::new(),
        )
        .await?;
        *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    }
    match staff::update(
        &state.db,
        &Actor::staff(user.id, &user.email),
        id,
        &form.role,
        active,
    )
    .await
    {
        Ok(()) => Ok(see_other("/staff/users?done=updated")),
        Err(StaffError::NotFound) => Err(AppError::NotFound("user_not_found")),
        Err(StaffError::Invalid(list)) => {
            let errors = list.iter().map(|f| field_message(lang, f)).collect();
            let mut res = page(
                &state,
                &user,
                Notice {
                    notice: None,
                    errors,
                },
                String::new(),
            )
            .await?;
            *res.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(AppError::Internal(e.into())),
    }
}
