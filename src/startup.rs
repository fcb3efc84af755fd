//! Building the HTTP application and binding its listener (port 0 in tests).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Server, Service, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::{App, HttpServer, web};
use sea_orm::DatabaseConnection;

use crate::auth::limiter::LoginLimiter;
use crate::config::Settings;
use crate::routes;
use crate::state::AppState;

/// A problem starting the server.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot prepare the cookie key: {0}")]
    CookieKey(#[from] crate::auth::session::SessionError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// A bound, not yet running, HTTP server.
pub struct Application {
    port: u16,
    server: Server,
}

/// Headers every response carries, error pages and 404s included.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
}

impl Application {
    /// Binds `settings.bind` and prepares the app on `db` (already migrated).
    pub async fn build(
        settings: Settings,
        db: DatabaseConnection,
    ) -> Result<Application, StartupError> {
        let cookie_key = crate::auth::session::cookie_key(&db).await?;
        // The server key for invitation links (outside the database): created
        // now if missing, with one log line, rather than on the first invitation.
        if let Err(e) = crate::secret_key::load(&settings) {
            tracing::warn!(error = %e, "no server secret key: invitation links will not work");
        }
        let listener = TcpListener::bind(&settings.bind).map_err(|source| StartupError::Bind {
            addr: settings.bind.clone(),
            source,
        })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let writer = crate::services::writer::ResponseWriter::start(db.clone());
        tokio::spawn(crate::db::checkpoint_sqlite(db.clone()));
        // Address lists of closed campaigns are deleted (now, then hourly).
        let purge_db = db.clone();
        tokio::spawn(async move {
            loop {
                let today = chrono::Utc::now().date_naive();
                if let Err(e) = crate::services::invitations::purge_closed(&purge_db, today).await {
                    tracing::warn!(error = %e, "cannot purge invitations of closed campaigns");
                }
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            }
        });
        let limiter = Arc::new(crate::rate_limit::RateLimiter::new(&settings));
        let campaign_cache = Arc::new(crate::services::responses::CampaignCache::new(
            std::time::Duration::from_secs(2),
        ));
        let login_limiter = Arc::new(LoginLimiter::new(cookie_key.signing()));
        let state = AppState {
            db,
            writer,
            limiter,
            campaign_cache,
            settings: Arc::new(settings),
            cookie_key,
            login_limiter,
        };
        // Reports an earlier process left queued are sent now.
        let (resume_db, resume_settings) = (state.db.clone(), state.settings.clone());
        tokio::spawn(async move {
            match crate::services::reports::resume(&resume_db, resume_settings).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(requests = n, "resuming queued report requests"),
                Err(e) => tracing::warn!(error = %e, "cannot resume queued report requests"),
            }
        });
        let data = web::Data::new(state);
        let server =
            HttpServer::new(move || {
                App::new()
                    .app_data(data.clone())
                    .app_data(web::JsonConfig::default().limit(64 * 1024).error_handler(
                        |e, req| {
                            extractor_problem(
                                e.to_string(),
                                actix_web::ResponseError::status_code(&e),
                                req,
                            )
                        },
                    ))
                    .app_data(web::FormConfig::default().limit(256 * 1024).error_handler(
                        |e, req| {
                            extractor_problem(
                                e.to_string(),
                                actix_web::ResponseError::status_code(&e),
                                req,
                            )
                        },
                    ))
                    .app_data(web::QueryConfig::default().error_handler(|e, req| {
                        extractor_problem(
                            e.to_string(),
                            actix_web::ResponseError::status_code(&e),
                            req,
                        )
                    }))
                    .app_data(web::PathConfig::default().error_handler(|e, req| {
                        extractor_problem(
                            e.to_string(),
                            actix_web::ResponseError::status_code(&e),
                            req,
                        )
                    }))
                    .wrap(security_headers())
                    .wrap(Compress::default())
                    .wrap_fn(head_as_get)
                    .wrap_fn(|req, srv| {
                        // One line per request: method, route pattern (never the
                        // raw path, which may hold a token), status, duration.
                        // No client address, no user agent.
                        let started = Instant::now();
                        let method = req.method().to_string();
                        let pattern = req
                            .match_pattern()
                            .unwrap_or_else(|| "<unmatched>".to_owned());
                        let fut = srv.call(req);
                        async move {
                            let res = fut.await?;
                            crate::metrics::METRICS.request(
                                &method,
                                &pattern,
                                res.status().as_u16(),
                                started.elapsed().as_secs_f64(),
                            );
                            tracing::info!(
                                target: "hailong::http",
                                method,
                                route = pattern,
                                status = res.status().as_u16(),
                                ms = started.elapsed().as_secs_f64() * 1000.0,
                            );
                            Ok(res)
                        }
                    })
                    .configure(routes::configure)
                    .default_service(web::to(routes::not_found))
            })
            .listen(listener)
            .map_err(|source| StartupError::Bind {
                addr: "listener".to_owned(),
                source,
            })?
            .shutdown_timeout(10)
            .run();
        Ok(Application { port, server })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// HEAD on any route answers like GET, without the body.
fn head_as_get<S, B>(
    mut req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<BoxBody>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let head = req.method() == Method::HEAD;
    if head {
        req.head_mut().method = Method::GET;
    }
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        if head {
            Ok(res.map_body(|_, body| {
                drop(body);
                ().boxed()
            }))
        } else {
            Ok(res.map_into_boxed_body())
        }
    }
}

/// Turns an extractor's rejection (bad form, JSON, query or path) into a
/// translated problem: a page, or JSON under `/api/`.
fn extractor_problem(
    detail: String,
    status: actix_web::http::StatusCode,
    req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use crate::error::AppError;
    use actix_web::http::StatusCode;
    let lang = crate::i18n::Lang::of_request(req);
    let err = match status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType,
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::NOT_FOUND => AppError::NotFound("page_not_found"),
        _ => AppError::BadRequest {
            code: "bad_request",
            detail,
        },
    };
    if req.path().starts_with("/api/") {
        err.api(lang).into()
    } else {
        err.page(lang).into()
    }
}
