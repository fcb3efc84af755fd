//! Building the HTTP application and binding its listener (port 0 in tests).

use std::cell::RefCell;
use std::net::TcpListener;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, Server, Service, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, Method};
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::web::Bytes;
use actix_web::{App, HttpMessage, HttpServer, web};
use futures_util::future::LocalBoxFuture;
use sea_orm::DatabaseConnection;

use crate::auth::limiter::LoginLimiter;
use crate::config::Settings;
use crate::error::AppError;
use crate::mail::Mailer;
use crate::routes;
use crate::routes::rate_limit::{ConnectionLimiter, Proxies};
use crate::routes::state::AppState;

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
    #[error("mail settings: {0}")]
    Mail(#[from] crate::mail::MailError),
}

/// A bound, not yet running, HTTP server.
pub struct Application {
    port: u16,
    server: Server,
}

/// Headers every response carries, error pages and 404s included (the list is
/// [`routes::problem::SECURITY_HEADERS`], which the error edge also applies itself).
pub fn security_headers() -> DefaultHeaders {
    routes::problem::SECURITY_HEADERS
        .iter()
        .fold(DefaultHeaders::new(), |h, pair| h.add(*pair))
}

impl Application {
    /// Binds `settings.bind` and prepares the app on `db` (already migrated), sending mail
    /// through the SMTP server the settings name (if any).
    pub async fn build(
        settings: Settings,
        db: DatabaseConnection,
    ) -> Result<Application, StartupError> {
        let mailer = Mailer::configured(&settings)?;
        Application::build_with_mailer(settings, db, mailer).await
    }

    /// Like [`Application::build`], with the mailer given (`None`: no mail is sent).
    pub async fn build_with_mailer(
        settings: Settings,
        db: DatabaseConnection,
        mailer: Option<Mailer>,
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
        // Results are published on each campaign's schedule (checked each minute).
        if settings.publication_schedule {
            let floor = settings.min_n_floor;
            tokio::spawn(crate::services::publication::scheduler(db.clone(), floor));
        }
        let limiter = Arc::new(crate::routes::rate_limit::RateLimiter::new(&settings));
        let campaign_cache = Arc::new(crate::services::responses::CampaignCache::new(
            std::time::Duration::from_secs(2),
        ));
        let login_limiter = Arc::new(LoginLimiter::new(cookie_key.signing()));
        let state = AppState {
            db,
            writer,
            limiter,
            campaign_cache,
            first_pages: Arc::default(),
            settings: Arc::new(settings),
            cookie_key,
            login_limiter,
            mailer,
        };
        // Reports an earlier process left queued are sent now.
        let (resume_db, resume_settings) = (state.db.clone(), state.settings.clone());
        let resume_mailer = state.mailer.clone();
        tokio::spawn(async move {
            match crate::services::reports::resume(&resume_db, resume_settings, resume_mailer).await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(requests = n, "resuming queued report requests"),
                Err(e) => tracing::warn!(error = %e, "cannot resume queued report requests"),
            }
        });
        let body_timeout = Duration::from_secs(state.settings.body_timeout_secs.max(1));
        let header_timeout = Duration::from_secs(state.settings.header_timeout_secs.max(1));
        let cap = ConnectionLimiter::new(&state.settings);
        let proxies = Proxies::new(&state.settings);
        let data = web::Data::new(state);
        let server =
            HttpServer::new(move || {
                let (cap, proxies) = (cap.clone(), proxies.clone());
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
                    // Innermost: errors become pages or JSON problems before
                    // the headers, compression and the request line see them.
                    .wrap(actix_web::middleware::from_fn(routes::limits::submissions))
                    .wrap(actix_web::middleware::from_fn(routes::problem::render))
                    .wrap(security_headers())
                    .wrap(Compress::default())
                    .wrap_fn(head_as_get)
                    .wrap_fn(move |req, srv| body_deadline(body_timeout, req, srv))
                    .wrap_fn(move |req, srv| connection_cap(&cap, &proxies, req, srv))
                    .wrap_fn(|req, srv| {
                        // One line per request: method, route pattern (never the
                        // raw path, which may hold a token), status, duration.
                        // No client address, no user agent. A respondent's
                        // requests are never logged (their time of day would
                        // date a response) and count under one route label.
                        let started = Instant::now();
                        let method = req.method().to_string();
                        let respondent = routes::is_respondent_path(req.path());
                        let pattern = if respondent {
                            RESPONDENT_ROUTE.to_owned()
                        } else {
                            req.match_pattern()
                                .unwrap_or_else(|| "<unmatched>".to_owned())
                        };
                        let fut = srv.call(req);
                        async move {
                            let res = fut.await?;
                            crate::metrics::METRICS.request(
                                &method,
                                &pattern,
                                res.status().as_u16(),
                                started.elapsed().as_secs_f64(),
                            );
                            if !respondent {
                                tracing::info!(
                                    target: "hailong::http",
                                    method,
                                    route = pattern,
                                    status = res.status().as_u16(),
                                    ms = started.elapsed().as_secs_f64() * 1000.0,
                                );
                            }
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
            .client_request_timeout(header_timeout)
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

/// The route label a respondent's requests count under in the metrics.
const RESPONDENT_ROUTE: &str = "<respondent>";

/// A refusal answered by a middleware (before or instead of the handler): a
/// translated problem, page or JSON as the path asks, and the connection
/// closed afterwards.
fn refusal(req: &actix_web::HttpRequest, error: AppError) -> actix_web::HttpResponse {
    let mut res = routes::problem::respond(req, &error);
    res.head_mut().set_connection_type(ConnectionType::Close);
    res
}

/// Caps the requests one client address has in progress at once
/// (`max_connections_per_client`): 429 and the connection closed beyond it.
fn connection_cap<S, B>(
    cap: &ConnectionLimiter,
    proxies: &Proxies,
    req: ServiceRequest,
    srv: &S,
) -> LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    match cap.enter(proxies.client_addr(req.request())) {
        Err(()) => {
            let res = refusal(req.request(), AppError::TooManyConnections);
            let (req, payload) = req.into_parts();
            let res = keep_unread(ServiceResponse::new(req, res), payload);
            Box::pin(std::future::ready(Ok(res)))
        }
        Ok(in_flight) => {
            let fut = srv.call(req);
            Box::pin(async move {
                let res = fut.await;
                drop(in_flight);
                res.map(ServiceResponse::map_into_boxed_body)
            })
        }
    }
}

/// Gives a request's body `timeout` from the moment its headers were read:
/// the payload every extractor reads (forms, JSON, bytes, the strict JSON
/// reader) is wrapped in a stream that fails at the deadline, and the answer
/// becomes 408 with the connection closed, whatever the handler made of the
/// error. Actix itself bounds only the headers (`client_request_timeout`).
///
/// A body left unread (refused before reading, or cut off) closes the
/// connection after the answer: actix would otherwise drain a chunked body
/// for as long as the client keeps trickling it.
fn body_deadline<S, B>(
    timeout: Duration,
    mut req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<BoxBody>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let payload = req.take_payload();
    let body = if matches!(payload, Payload::None) {
        req.set_payload(payload);
        None
    } else {
        let body = Rc::new(RefCell::new(Body {
            payload: Some(payload),
            finished: false,
            expired: false,
        }));
        req.set_payload(Payload::Stream {
            payload: Box::pin(DeadlinePayload {
                body: body.clone(),
                deadline: Box::pin(tokio::time::sleep(timeout)),
            }),
        });
        Some(body)
    };
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        let Some(body) = body else {
            return Ok(res.map_into_boxed_body());
        };
        let (expired, unread) = {
            let mut body = body.borrow_mut();
            let payload = body.payload.take();
            let unread = if body.finished {
                None
            } else if body.expired {
                payload
            } else {
                payload.and_then(arrived_whole)
            };
            (body.expired, unread)
        };
        let res = if expired {
            let (req, _) = res.into_parts();
            let timeout = refusal(&req, AppError::RequestTimeout);
            ServiceResponse::new(req, timeout)
        } else {
            res.map_into_boxed_body()
        };
        Ok(match unread {
            Some(unread) => keep_unread(res, unread),
            None => res,
        })
    }
}

/// `None` when the rest of an unread body has already arrived (it is
/// discarded, and the connection can stay open as actix would keep it);
/// otherwise the payload, still unfinished.
fn arrived_whole(mut payload: Payload) -> Option<Payload> {
    let mut cx = Context::from_waker(std::task::Waker::noop());
    loop {
        match futures_util::Stream::poll_next(Pin::new(&mut payload), &mut cx) {
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => return None,
            Poll::Ready(Some(Ok(_))) => continue,
            Poll::Pending => return Some(payload),
        }
    }
}

/// A request body nobody read to its end, kept alive by the response's body
/// until actix has sent it: actix then sees an unfinished request body and
/// closes the connection instead of draining it.
struct HoldingBody {
    body: BoxBody,
    _unread: Payload,
}

impl MessageBody for HoldingBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> actix_web::body::BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

/// Closes the connection after `res` without reading the rest of `payload`.
fn keep_unread(res: ServiceResponse<BoxBody>, payload: Payload) -> ServiceResponse<BoxBody> {
    if matches!(payload, Payload::None) {
        return res;
    }
    let mut res = res.map_body(|head, body| {
        head.set_connection_type(ConnectionType::Close);
        HoldingBody {
            body,
            _unread: payload,
        }
        .boxed()
    });
    res.response_mut()
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    res
}

/// A request body shared by the handler's stream and the middleware.
struct Body {
    payload: Option<Payload>,
    /// Read to its end.
    finished: bool,
    /// The deadline passed before it was read to its end.
    expired: bool,
}

/// A request payload that fails once its deadline has passed.
struct DeadlinePayload {
    body: Rc<RefCell<Body>>,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl futures_util::Stream for DeadlinePayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        {
            let mut body = self.body.borrow_mut();
            if body.finished || body.expired {
                return Poll::Ready(None);
            }
            let Some(payload) = body.payload.as_mut() else {
                return Poll::Ready(None);
            };
            match Pin::new(payload).poll_next(cx) {
                Poll::Ready(None) => {
                    body.finished = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(item)) => return Poll::Ready(Some(item)),
                Poll::Pending => {}
            }
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.body.borrow_mut().expired = true;
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "request body timed out",
            )))));
        }
        Poll::Pending
    }
}

/// An extractor's rejection (bad form, JSON, query or path) as the error it
/// stands for; `routes::problem` answers it.
fn extractor_problem(
    detail: String,
    status: actix_web::http::StatusCode,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    routes::problem::from_status(status, detail).into()
}
