//! The limits as the application applies them: a middleware over every
//! route for a respondent's submissions, and the client address as a
//! handler argument (the limiters themselves are in [`super::rate_limit`]).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::{Ready, ready};

use crate::error::AppError;

use super::rate_limit::ClientAddr;
use super::state::AppState;

/// Middleware over the whole application: a respondent's submissions — any
/// POST to a survey, kiosk or invitation page or to the submission API
/// ([`super::is_respondent_path`]) — take a token from their client's bucket
/// before anything else is read; past the limit they get 429. Being applied
/// to every route, no new submission route can forget it.
pub async fn submissions(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() == Method::POST
        && super::is_respondent_path(req.path())
        && let Some(state) = req.app_data::<web::Data<AppState>>()
        && !state.limiter.allow(req.request())
    {
        // An error response (not an Err), so the error edge and the headers
        // middleware outside see it like any handler's error.
        return Ok(req.error_response(AppError::TooManyRequests));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The client address every limit keys on, as a handler argument (the
/// sign-in and reset pages count attempts per address).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<ClientAddr>);

impl ClientIp {
    /// The address as the attempt limiter keys it (empty when unknown).
    pub fn key(&self) -> String {
        self.0.map(|a| a.to_string()).unwrap_or_default()
    }
}

impl FromRequest for ClientIp {
    type Error = AppError;
    type Future = Ready<Result<ClientIp, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.app_data::<web::Data<AppState>>() {
            Some(state) => Ok(ClientIp(state.limiter.client_addr(req))),
            None => Err(AppError::Internal(anyhow::anyhow!(
                "application state missing"
            ))),
        })
    }
}
