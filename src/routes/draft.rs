//! The citizen's draft: the answers given so far and the page the last step led to, kept
//! in the respondent's own browser between steps, so that every step can answer with a
//! redirect to a plain GET (post/redirect/get). Back, reload and the language switch then
//! show a page with every answer kept, never "Confirm form resubmission".
//!
//! The draft is a cookie, encrypted and authenticated with the server's cookie key (a
//! reader of the browser's storage learns nothing; a changed cookie is ignored), scoped to
//! the survey's own path, `HttpOnly`, `SameSite=Lax`, `Secure` behind https, and forgotten by
//! the browser [`KEEP`] after the last step. Nothing of it is kept on the server, where its
//! appearance or disappearance would date a response. It is removed when the response is
//! stored. Kiosks (shared devices) never use one.
//!
//! A draft that would not fit one cookie (very long text answers) is not kept: that step
//! answers with the page itself, as the survey did before drafts.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite, time::Duration};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::flow::{Page, Progress, Step};
use crate::domain::validation::FieldError;

/// The cookie's name.
pub const COOKIE: &str = "hl_draft";

/// How long the browser keeps a draft after the last step.
pub const KEEP: Duration = Duration::hours(2);

/// The largest cookie value kept (browsers keep at least 4,096 bytes per cookie, name and
/// attributes included; common proxies refuse request headers over 8 KB).
const MAX_VALUE: usize = 3_600;

/// What a draft holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub sid: String,
    pub locality: String,
    /// The answers given so far (raw form values).
    pub raw: Map<String, Value>,
    /// The page the last step led to (`Step::as_field`).
    pub step: String,
    /// Its problems, if the last step had any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub more_questions: bool,
}

impl Draft {
    /// The draft after a step: where it got to and the page it leads to.
    pub fn after(progress: &Progress, page: &Page) -> Draft {
        Draft {
            sid: progress.sid.clone(),
            locality: progress.locality.clone(),
            raw: progress.raw.clone(),
            step: page.step.as_field(),
            errors: page.errors.clone(),
            more_questions: page.more_questions,
        }
    }

    /// A survey's first page: nothing answered yet.
    pub fn start(sid: &str, locality: &str, step: Step) -> Draft {
        Draft {
            sid: sid.to_owned(),
            locality: locality.to_owned(),
            raw: Map::new(),
            step: step.as_field(),
            errors: Vec::new(),
            more_questions: false,
        }
    }

    /// The page the draft stands on.
    pub fn step(&self) -> Option<Step> {
        Step::parse(&self.step)
    }
}

/// The draft the request carries for this survey, if any decrypts and reads.
pub fn read(req: &HttpRequest, key: &Key) -> Option<Draft> {
    let cookie = req.cookie(COOKIE)?;
    let mut jar = CookieJar::new();
    jar.add_original(cookie);
    let opened = jar.private(key).get(COOKIE)?;
    serde_json::from_str(opened.value()).ok()
}

/// Whether the request carries a draft cookie at all (then the browser keeps cookies and
/// a step can redirect).
pub fn present(req: &HttpRequest) -> bool {
    req.cookie(COOKIE).is_some()
}

/// The cookie that keeps `draft` for the survey at `path`; `None` when it would be too
/// large to keep.
pub fn cookie(key: &Key, path: &str, secure: bool, draft: &Draft) -> Option<Cookie<'static>> {
    let json = serde_json::to_string(draft).ok()?;
    let mut jar = CookieJar::new();
    jar.private_mut(key).add(
        Cookie::build(COOKIE, json)
            .path(path.to_owned())
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .max_age(KEEP)
            .finish(),
    );
    jar.get(COOKIE)
        .filter(|c| c.value().len() <= MAX_VALUE)
        .cloned()
}

/// The cookie that removes the draft of the survey at `path`.
pub fn removal(path: &str) -> Cookie<'static> {
    let mut c = Cookie::build(COOKIE, "")
        .path(path.to_owned())
        .http_only(true)
        .finish();
    c.make_removal();
    c
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn draft(text: &str) -> Draft {
        let mut raw = Map::new();
        raw.insert("e1_1".into(), Value::String("4".into()));
        raw.insert("comment".into(), Value::String(text.into()));
        Draft {
            sid: "5f2b7c1e-8d3a-4e6b-9c0d-1a2b3c4d5e6f".into(),
            locality: "00004".into(),
            raw,
            step: "2".into(),
            errors: vec![FieldError::new("answers.e2_1", "answer_required")],
            more_questions: false,
        }
    }

    fn back(key: &Key, c: &Cookie<'static>) -> Option<Draft> {
        let req = actix_web::test::TestRequest::default()
            .cookie(c.clone())
            .to_http_request();
        read(&req, key)
    }

    #[test]
    fn a_draft_reads_back_only_with_the_key_that_made_it() {
        let key = Key::generate();
        let d = draft("Tốt");
        let c = cookie(&key, "/s/sipas-demo", true, &d).unwrap();
        assert!(c.http_only().unwrap() && c.secure().unwrap());
        assert_eq!(c.path(), Some("/s/sipas-demo"));
        assert!(!c.value().contains("Tốt") && !c.value().contains("00004"));
        assert_eq!(back(&key, &c), Some(d));
        assert_eq!(back(&Key::generate(), &c), None, "another key");
        let mut changed = c.clone();
        let mut v = changed.value().to_owned();
        v.replace_range(10..11, if &v[10..11] == "A" { "B" } else { "A" });
        changed.set_value(v);
        assert_eq!(back(&key, &changed), None, "a changed cookie");
    }

    #[test]
    fn a_draft_too_large_for_a_cookie_is_not_kept() {
        let key = Key::generate();
        assert!(cookie(&key, "/s/x", false, &draft(&"ơ".repeat(500))).is_some());
        assert!(cookie(&key, "/s/x", false, &draft(&"ơ".repeat(2_000))).is_none());
    }
}
