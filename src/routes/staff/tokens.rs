//! One's own API tokens, for scripts.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use crate::error::{AppError, field_message};
use crate::routes::extract::{StaffForm, StaffUser};
use crate::routes::state::AppState;
use crate::services::audit::Actor;
use crate::services::staff::{self, StaffError};
use crate::views::staff::tokens::{TokenRow, TokensPage};

use super::{render, see_other};

async fn page(
    state: &AppState,
    user: &StaffUser,
    new_token: Option<String>,
    errors: Vec<String>,
) -> Result<HttpResponse, AppError> {
    let tokens = staff::tokens_of(&state.db, user.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created_on: t.created_at.format("%Y-%m-%d").to_string(),
            last_used_on: t.last_used_on.map(|d| d.to_string()),
            revoked: t.revoked,
        })
        .collect();
    render(
        user,
        "staff/tokens.html",
        "/staff/tokens",
        TokensPage {
            tokens,
            new_token,
            errors,
        },
    )
}

#[get("/tokens")]
pub async fn index(state: web::Data<AppState>, user: StaffUser) -> Result<HttpResponse, AppError> {
    page(&state, &user, None, vec![]).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
}

#[post("/tokens")]
pub async fn create(
    state: web::Data<AppState>,
    form: StaffForm<CreateForm>,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = form;
    let lang = user.lang;
    match staff::create_token(
        &state.db,
        &Actor::staff(user.id, &user.email),
        user.id,
        &form.name,
    )
    .await
    {
        Ok((_, token)) => page(&state, &user, Some(token), vec![]).await,
        Err(StaffError::Invalid(list)) => {
            let errors = list.iter().map(|f| field_message(lang, f)).collect();
            page(&state, &user, None, errors).await
        }
        Err(e) => Err(AppError::Internal(e.into())),
    }
}

#[derive(Deserialize)]
pub struct Empty {}

#[post("/tokens/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: StaffForm<Empty>,
) -> Result<HttpResponse, AppError> {
    let user = form.user;
    match staff::revoke_token(
        &state.db,
        &Actor::staff(user.id, &user.email),
        user.id,
        path.into_inner(),
    )
    .await
    {
        Ok(()) => Ok(see_other("/staff/tokens")),
        Err(StaffError::NotFound) => Err(AppError::NotFound("token_not_found")),
        Err(e) => Err(AppError::Internal(e.into())),
    }
}
