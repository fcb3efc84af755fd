//! The citizen's survey at `/s/{slug}`: server-rendered, works without
//! JavaScript. GET shows the first page; every step is a plain form POST to
//! the same URL. Answers given so far travel in hidden form fields — the
//! server keeps no session — and are only stored on the final submit.
//!
//! Each step answers with a redirect to `GET /s/{slug}?step=…`, which shows
//! the page from the respondent's [`draft`] cookie (post/redirect/get): Back,
//! reload and the language switch keep every answer. A browser that keeps no
//! cookies, a kiosk, and a draft too large for a cookie get the page itself
//! in answer to the POST instead.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, mime, post, web};
use chrono::Utc;
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::campaign::{Channel, Layout};
use crate::domain::flow::{self, FormError, Next, Page, Step, Survey};
use crate::domain::submission::Submission;
use crate::domain::validation::FieldError;
use crate::error::AppError;
use crate::i18n::{LANG_COOKIE, Lang};
use crate::routes::api::responses::read_limited;
use crate::routes::draft::{self, Draft};
use crate::routes::state::AppState;
use crate::services::campaigns::{self, OpenCampaign};
use crate::services::responses::{CachedCampaign, Origin};
use crate::services::{invitations, responses};
use crate::templates;
use crate::views::Chrome;
use crate::views::respond::{SurveyPage, SurveyState, ThanksPage};

/// Largest accepted form body (a long answer of 5,000 Vietnamese characters,
/// percent-encoded, is about 45 KB).
pub const MAX_FORM: usize = 256 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(start)
        .service(post_step)
        .service(thanks)
        .service(qr_svg)
        .service(qr_png);
}

#[derive(Deserialize)]
pub struct StartQuery {
    /// The locality of a printed link.
    l: Option<String>,
    /// The page to show from the draft (Back and Forward land here).
    pub step: Option<String>,
    /// The province chosen on the first half of a two-step locality list.
    pub p: Option<String>,
}

/// Where a survey is being answered: the public web page or a kiosk.
#[derive(Debug, Clone)]
pub struct Mode {
    /// The URL the form posts to (and the page's own URL).
    pub action: String,
    /// The fixed locality of a kiosk.
    pub locality: Option<String>,
    pub channel: Channel,
    pub thanks: String,
    /// The single-use invitation link that opened this survey (its campaign
    /// and spent tag, nothing naming the invitation).
    pub invitation: Option<invitations::Invited>,
    /// Steps keep a [`draft`] in the browser and redirect (not on kiosks).
    pub drafts: bool,
}

impl Mode {
    /// The public phone survey.
    pub fn web(slug: &str) -> Mode {
        Mode {
            action: format!("/s/{slug}"),
            locality: None,
            channel: Channel::Web,
            thanks: format!("/s/{slug}/thanks"),
            invitation: None,
            drafts: true,
        }
    }

    /// A kiosk: the locality is fixed, the channel is `kiosk`.
    pub fn for_kiosk(token: &str, locality: &str) -> Mode {
        Mode {
            action: format!("/k/{token}"),
            locality: Some(locality.to_owned()),
            channel: Channel::Kiosk,
            thanks: format!("/k/{token}/thanks"),
            invitation: None,
            drafts: false,
        }
    }

    /// An emailed invitation's single-use link.
    pub fn for_invitation(token: &str, slug: &str, invitation: invitations::Invited) -> Mode {
        Mode {
            action: format!("/i/{token}"),
            locality: None,
            channel: Channel::Email,
            thanks: format!("/s/{slug}/thanks"),
            invitation: Some(invitation),
            drafts: true,
        }
    }

    fn kiosk(&self) -> bool {
        self.channel == Channel::Kiosk
    }

    /// The survey as the flow sees it for this campaign: kiosks always show
    /// one page (it works offline).
    pub fn survey<'a>(
        &'a self,
        c: &'a OpenCampaign,
        offers_locality: &'a dyn Fn(&str) -> bool,
    ) -> Survey<'a> {
        Survey {
            definition: &c.definition,
            layout: if self.kiosk() {
                Layout::OnePage
            } else {
                c.layout
            },
            fixed_locality: self.locality.as_deref(),
            offers_locality,
            languages: &Lang::CODES,
        }
    }
}

/// Whether a campaign surveys a locality.
pub fn offers(c: &OpenCampaign) -> impl Fn(&str) -> bool + '_ {
    |code: &str| c.localities.iter().any(|l| l.code == code)
}

pub fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // Answers are in the page: never keep it in a shared device's cache.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

async fn open_campaign(state: &AppState, slug: &str) -> Result<Arc<CachedCampaign>, AppError> {
    let cached = state.campaign_cache.get(&state.db, slug).await?;
    responses::ensure_open(&cached.campaign, Utc::now().date_naive())?;
    Ok(cached)
}

#[get("/s/{slug}")]
pub async fn start(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<StartQuery>,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let cached = open_campaign(&state, &path).await?;
    let c = &cached.campaign;
    let mode = Mode::web(&c.campaign.slug);
    let locality = query
        .l
        .as_deref()
        .filter(|l| c.localities.iter().any(|x| x.code == *l))
        .unwrap_or("");
    if let Some(res) = resume(&req, &state, &cached, &mode, lang, &query, locality)? {
        return Ok(res);
    }
    let raw = Map::new();
    let offered = offers(c);
    let step = mode.survey(c, &offered).start(Some(locality));
    let sid = Uuid::new_v4().hyphenated().to_string();
    let key = (lang.code(), locality, req.path());
    let body = state.first_pages.get(&cached, key, &sid, |sid| {
        let page = render_page(
            c,
            &mode,
            lang,
            req.path(),
            sid,
            step,
            locality,
            &raw,
            &[],
            false,
            None,
            &cached.province_names,
        );
        templates::render("respond/survey.html", &page)
    })?;
    let mut res = html(body);
    keep_draft(&mut res, &state, &mode, &Draft::start(&sid, locality, step))?;
    Ok(res)
}

/// The page a respondent's draft stands on, or the step the address names when the
/// survey may show it for the draft's answers; `None` without a draft (a new
/// respondent).
pub fn resume(
    req: &HttpRequest,
    state: &AppState,
    cached: &CachedCampaign,
    mode: &Mode,
    lang: Lang,
    query: &StartQuery,
    printed_locality: &str,
) -> Result<Option<HttpResponse>, AppError> {
    if !mode.drafts {
        return Ok(None);
    }
    let Some(d) = draft::read(req, &state.cookie_key) else {
        return Ok(None);
    };
    // Nothing answered yet: a page without a step (a link, the home page) starts
    // afresh, with a new submission id; a printed link for another locality too.
    let other_place = !printed_locality.is_empty() && printed_locality != d.locality;
    if d.raw.is_empty() && (query.step.is_none() || other_place) {
        return Ok(None);
    }
    let c = &cached.campaign;
    let offered = offers(c);
    let survey = mode.survey(c, &offered);
    let locality_ok = mode.locality.is_some() || offered(&d.locality);
    let may_show = |s: &Step| (locality_ok || *s == Step::Locality) && survey.may_show(&d.raw, *s);
    let saved = d.step().filter(may_show);
    let asked = query.step.as_deref().and_then(Step::parse).filter(may_show);
    let at = asked.or(saved).unwrap_or(if locality_ok {
        survey.first_step(&d.raw)
    } else {
        Step::Locality
    });
    let (errors, more) = if Some(at) == saved {
        (d.errors.as_slice(), d.more_questions)
    } else {
        (&[][..], false)
    };
    let here = format!("{}?step={}", req.path(), at.as_field());
    let page = render_page(
        c,
        mode,
        lang,
        &here,
        &d.sid,
        at,
        &d.locality,
        &d.raw,
        errors,
        more,
        query.p.as_deref(),
        &cached.province_names,
    );
    Ok(Some(html(templates::render("respond/survey.html", &page)?)))
}

/// Sets the draft cookie on a response (nothing when the draft is too large to keep).
pub fn keep_draft(
    res: &mut HttpResponse,
    state: &AppState,
    mode: &Mode,
    d: &Draft,
) -> Result<bool, AppError> {
    if !mode.drafts {
        return Ok(false);
    }
    let secure = state.settings.cookies_secure();
    let Some(cookie) = draft::cookie(&state.cookie_key, &mode.action, secure, d) else {
        return Ok(false);
    };
    res.add_cookie(&cookie)
        .map_err(|e| anyhow::anyhow!("cookie: {e}"))?;
    Ok(true)
}

#[allow(clippy::too_many_arguments)]
pub fn render_page(
    c: &OpenCampaign,
    mode: &Mode,
    lang: Lang,
    path: &str,
    sid: &str,
    step: Step,
    locality: &str,
    raw: &Map<String, Value>,
    errors: &[FieldError],
    more_questions: bool,
    province: Option<&str>,
    names: &HashMap<String, (String, String)>,
) -> SurveyPage {
    SurveyPage::new(
        c,
        &SurveyState {
            lang,
            path,
            action: &mode.action,
            sid,
            step,
            locality,
            raw,
            errors,
            more_questions,
            province,
            province_names: names,
            kiosk: mode.kiosk(),
        },
    )
}

/// Parses an `application/x-www-form-urlencoded` body (415 for anything else).
pub async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<(String, String)>, AppError> {
    let form = mime::APPLICATION_WWW_FORM_URLENCODED.essence_str();
    if req
        .mime_type()
        .ok()
        .flatten()
        .is_none_or(|m| m.essence_str() != form)
    {
        return Err(AppError::UnsupportedMediaType);
    }
    let body = read_limited(req, payload, MAX_FORM).await?;
    flow::parse_form_body(&body).map_err(|e| match e {
        FormError::NotUtf8 => AppError::BadRequest {
            code: "invalid_utf8",
            detail: String::new(),
        },
        FormError::Unreadable(detail) => AppError::BadRequest {
            code: "invalid_form",
            detail,
        },
    })
}

#[post("/s/{slug}")]
pub async fn post_step(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let fields = read_form(&req, payload).await?;
    let c = open_campaign(&state, &path).await?;
    let mode = Mode::web(&c.campaign.campaign.slug);
    advance(&req, &state, &c, &mode, lang, &fields).await
}

/// One step of the survey: the flow decides, and this shows its page (by a redirect to
/// it, see [`draft`]) or hands the finished response to [`responses::accept`].
pub async fn advance(
    req: &HttpRequest,
    state: &AppState,
    cached: &CachedCampaign,
    mode: &Mode,
    lang: Lang,
    fields: &[(String, String)],
) -> Result<HttpResponse, AppError> {
    let c = &cached.campaign;
    let offered = offers(c);
    let survey = mode.survey(c, &offered);
    let (progress, current, next) = survey.advance(fields);
    let page = match next {
        Next::Show(page) => page,
        Next::Submit => match page_or_done(state, cached, mode, &progress).await? {
            Some(errors) => survey.page_for(current, errors),
            None => {
                let mut res = see_other(&mode.thanks);
                if mode.drafts && draft::present(req) {
                    res.add_cookie(&draft::removal(&mode.action))
                        .map_err(|e| anyhow::anyhow!("cookie: {e}"))?;
                }
                return Ok(res);
            }
        },
    };
    let switched = page.switch_language.as_deref().and_then(Lang::parse);
    // Post/redirect/get when the browser keeps cookies (it sent the draft back).
    let mut res = if mode.drafts && draft::present(req) {
        let mut res = see_other(&step_address(mode, &page));
        if keep_draft(&mut res, state, mode, &Draft::after(&progress, &page))? {
            res
        } else {
            // Too large for a cookie: the page itself, and no stale draft.
            let mut res = show(
                c,
                cached,
                mode,
                switched.unwrap_or(lang),
                req,
                &progress,
                &page,
            )?;
            res.add_cookie(&draft::removal(&mode.action))
                .map_err(|e| anyhow::anyhow!("cookie: {e}"))?;
            res
        }
    } else {
        show(
            c,
            cached,
            mode,
            switched.unwrap_or(lang),
            req,
            &progress,
            &page,
        )?
    };
    if let Some(l) = switched {
        let cookie = Cookie::build(LANG_COOKIE, l.code())
            .path("/")
            .same_site(SameSite::Lax)
            .http_only(true)
            .max_age(actix_web::cookie::time::Duration::days(365))
            .finish();
        res.add_cookie(&cookie)
            .map_err(|e| anyhow::anyhow!("cookie: {e}"))?;
    }
    Ok(res)
}

/// A page of the survey as the answer to a POST (no redirect).
fn show(
    c: &OpenCampaign,
    cached: &CachedCampaign,
    mode: &Mode,
    lang: Lang,
    req: &HttpRequest,
    progress: &flow::Progress,
    page: &Page,
) -> Result<HttpResponse, AppError> {
    let view = render_page(
        c,
        mode,
        lang,
        req.path(),
        &progress.sid,
        page.step,
        &progress.locality,
        &progress.raw,
        &page.errors,
        page.more_questions,
        page.province.as_deref(),
        &cached.province_names,
    );
    Ok(html(templates::render("respond/survey.html", &view)?))
}

/// Where a step's redirect goes: the page, scrolled to the problems or to the question
/// that just appeared.
fn step_address(mode: &Mode, page: &Page) -> String {
    let anchor = if !page.errors.is_empty() {
        "#problems".to_owned()
    } else {
        page.new_question
            .as_deref()
            .map(|code| format!("#q-{code}"))
            .unwrap_or_default()
    };
    let province = page
        .province
        .as_deref()
        .map(|p| format!("&p={}", crate::views::encode_path(p)))
        .unwrap_or_default();
    format!(
        "{}?step={}{province}{anchor}",
        mode.action,
        page.step.as_field()
    )
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Stores a finished response; `Some(problems)` when it cannot be stored
/// as it is (the respondent fixes them on the page they belong to).
async fn page_or_done(
    state: &AppState,
    cached: &CachedCampaign,
    mode: &Mode,
    progress: &flow::Progress,
) -> Result<Option<Vec<FieldError>>, AppError> {
    let submission = Submission {
        id: Uuid::try_parse(&progress.sid).map_err(|e| anyhow::anyhow!("sid: {e}"))?,
        locality: progress.locality.clone(),
        answers: progress.raw.clone(),
        channel: Some(mode.channel),
    };
    let origin = Origin {
        channel: mode.channel,
        fixed_locality: mode.locality.as_deref(),
        invitation: mode.invitation.as_ref(),
    };
    let today = Utc::now().date_naive();
    match responses::accept(&state.db, &state.writer, cached, &submission, origin, today).await {
        Ok(_) => Ok(None),
        Err(AppError::Validation(errors)) => Ok(Some(errors)),
        Err(e) => Err(e),
    }
}

#[get("/s/{slug}/thanks")]
pub async fn thanks(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let c = campaigns::by_slug(&state.db, &path).await?;
    let page = ThanksPage {
        chrome: Chrome::new(lang, req.path()),
        campaign: lang
            .pick(&c.campaign.name_vi, &c.campaign.name_en)
            .to_owned(),
        again: None,
        results: c
            .campaign
            .is_public
            .then(|| format!("/results/{}", c.campaign.slug)),
        kiosk: false,
    };
    Ok(html(templates::render("respond/thanks.html", &page)?))
}

/// The public address of `path` and whether it depends on the request's `Host`:
/// from `base_url`, else from the `qr_hosts` entry the `Host` header names
/// (the request only chooses among configured addresses; `X-Forwarded-Host`
/// and `Forwarded` are never read). `None`: no address may be printed.
pub fn public_address(req: &HttpRequest, state: &AppState, path: &str) -> Option<(String, bool)> {
    if let Some(url) = state.settings.public_url(path) {
        return Some((url, false));
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))?;
    state
        .settings
        .qr_host_url(&host, path)
        .map(|url| (url, true))
}

/// The QR code of a survey's address, and whether it varies by `Host`.
async fn qr_code(
    req: &HttpRequest,
    state: &AppState,
    slug: &str,
) -> Result<(QrCode, bool), AppError> {
    let c = campaigns::by_slug(&state.db, slug).await?;
    let (url, by_host) = public_address(req, state, &format!("/s/{}", c.campaign.slug))
        .ok_or(AppError::NotFound("qr_no_base_url"))?;
    let code = QrCode::new(url.as_bytes())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("QR code: {e}")))?;
    Ok((code, by_host))
}

/// `public` when the address came from `base_url`; otherwise the image
/// depends on the `Host` header and no shared cache may keep it.
fn qr_cache(by_host: bool) -> &'static str {
    if by_host {
        "private, max-age=3600"
    } else {
        "public, max-age=3600"
    }
}

/// A QR code as an SVG image (at least 256 px, with its quiet zone), kept by caches as
/// `cache_control` says and varying by `Host`.
pub fn qr_svg_answer(code: &QrCode, cache_control: &'static str) -> HttpResponse {
    let image = code
        .render::<svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::VARY, "Host"))
        .body(image)
}

#[get("/s/{slug}/qr.svg")]
pub async fn qr_svg(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (code, by_host) = qr_code(&req, &state, &path).await?;
    Ok(qr_svg_answer(&code, qr_cache(by_host)))
}

#[get("/s/{slug}/qr.png")]
pub async fn qr_png(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (code, by_host) = qr_code(&req, &state, &path).await?;
    let png = crate::views::png::qr_png(&code, 8);
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header((header::CACHE_CONTROL, qr_cache(by_host)))
        .insert_header((header::VARY, "Host"))
        .body(png))
}
