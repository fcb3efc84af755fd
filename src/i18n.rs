//! Languages: negotiation (`?lang=`, cookie, `Accept-Language`) and
//! translations from `locales/` (Fluent), Vietnamese first, English second.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::sync::LazyLock;

use actix_web::http::header::{self, AcceptLanguage, HeaderValue, Preference, Quality};
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::Serialize;

/// Name of the cookie that remembers the visitor's language choice.
pub const LANG_COOKIE: &str = "hailong_lang";

/// A language Hailong's interface speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];
    /// The codes of [`Lang::ALL`].
    pub const CODES: [&'static str; 2] = ["vi", "en"];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The English text in English when there is one, else the Vietnamese:
    /// how every name kept in both languages (campaigns, services,
    /// localities) is shown.
    pub fn pick<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::En if !en.is_empty() => en,
            _ => vi,
        }
    }

    /// Picks the best language from an `Accept-Language` header by q-value.
    pub fn from_accept_language(value: &str) -> Option<Lang> {
        let value = HeaderValue::from_str(value).ok()?;
        let items = header::from_comma_delimited(std::iter::once(&value)).ok()?;
        Lang::from_accept(AcceptLanguage(items))
    }

    /// The first language spoken here in the header's ranking (highest q
    /// first, ties in the listed order); `q=0` means "not this one".
    fn from_accept(accept: AcceptLanguage) -> Option<Lang> {
        let wanted = accept
            .0
            .into_iter()
            .filter(|item| item.quality > Quality::ZERO)
            .collect();
        AcceptLanguage(wanted)
            .ranked()
            .into_iter()
            .find_map(|preference| match preference {
                Preference::Specific(tag) => Lang::parse(tag.primary_language()),
                Preference::Any => None,
            })
    }

    /// The language of a request: `?lang=`, then the cookie, then
    /// `Accept-Language`, then Vietnamese.
    pub fn of_request(req: &HttpRequest) -> Lang {
        let from_query = req
            .query_string()
            .split('&')
            .find_map(|pair| pair.strip_prefix("lang=").and_then(Lang::parse));
        from_query
            .or_else(|| req.cookie(LANG_COOKIE).and_then(|c| Lang::parse(c.value())))
            .or_else(|| {
                req.get_header::<AcceptLanguage>()
                    .and_then(Lang::from_accept)
            })
            .unwrap_or(Lang::Vi)
    }
}

impl FromRequest for Lang {
    type Error = actix_web::Error;
    type Future = Ready<Result<Lang, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Lang::of_request(req)))
    }
}

/// The Fluent sources, embedded so one binary deploys.
pub const SOURCES: [(Lang, &str); 2] = [
    (Lang::Vi, include_str!("../locales/vi/main.ftl")),
    (Lang::En, include_str!("../locales/en/main.ftl")),
];

struct Catalog {
    bundles: HashMap<Lang, FluentBundle<FluentResource>>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    let mut bundles = HashMap::new();
    for (lang, source) in SOURCES {
        let resource = match FluentResource::try_new(source.to_owned()) {
            Ok(r) => r,
            Err((r, errors)) => {
                tracing::error!(lang = lang.code(), ?errors, "locale file has errors");
                r
            }
        };
        let langid = match lang {
            Lang::Vi => unic_langid::langid!("vi"),
            Lang::En => unic_langid::langid!("en"),
        };
        let mut bundle = FluentBundle::new_concurrent(vec![langid]);
        bundle.set_use_isolating(false);
        if let Err(errors) = bundle.add_resource(resource) {
            tracing::error!(
                lang = lang.code(),
                ?errors,
                "locale file has duplicate keys"
            );
        }
        bundles.insert(lang, bundle);
    }
    Catalog { bundles }
});

/// An argument of a translated message: numbers select plural forms.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Num(f64),
    Str(String),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Str(s.to_owned())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Str(s)
    }
}
impl From<f64> for Arg {
    fn from(n: f64) -> Arg {
        Arg::Num(n)
    }
}
impl From<u64> for Arg {
    fn from(n: u64) -> Arg {
        Arg::Num(n as f64)
    }
}

/// Translates `key` with named arguments; falls back to English, then to the key itself.
pub fn t(lang: Lang, key: &str, args: &[(&str, Arg)]) -> String {
    let mut fargs = FluentArgs::new();
    for (k, v) in args {
        let value = match v {
            Arg::Num(n) => FluentValue::from(*n),
            Arg::Str(s) => FluentValue::from(s.clone()),
        };
        fargs.set(*k, value);
    }
    for l in [lang, Lang::En, Lang::Vi] {
        if let Some(bundle) = CATALOG.bundles.get(&l)
            && let Some(msg) = bundle.get_message(key)
            && let Some(pattern) = msg.value()
        {
            let mut errors = vec![];
            let out = bundle.format_pattern(pattern, Some(&fargs), &mut errors);
            return out.into_owned();
        }
    }
    tracing::warn!(key, "missing translation");
    key.to_owned()
}

/// The message ids a Fluent source defines, in order.
pub fn keys_of(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_exists_in_every_locale() {
        let vi = keys_of(SOURCES[0].1);
        let en = keys_of(SOURCES[1].1);
        let missing_en: Vec<_> = vi.iter().filter(|k| !en.contains(k)).collect();
        let missing_vi: Vec<_> = en.iter().filter(|k| !vi.contains(k)).collect();
        assert!(missing_en.is_empty(), "missing in en: {missing_en:?}");
        assert!(missing_vi.is_empty(), "missing in vi: {missing_vi:?}");
        assert!(vi.len() > 10);
    }

    #[test]
    fn no_key_is_defined_twice() {
        for (lang, source) in SOURCES {
            let mut keys = keys_of(source);
            let total = keys.len();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), total, "{} defines a key twice", lang.code());
        }
    }

    #[test]
    fn locale_files_parse_without_errors() {
        for (lang, source) in SOURCES {
            assert!(
                FluentResource::try_new(source.to_owned()).is_ok(),
                "{} has syntax errors",
                lang.code()
            );
        }
    }

    #[test]
    fn negotiation_prefers_highest_q() {
        assert_eq!(
            Lang::from_accept_language("fr;q=1, en;q=0.8, vi;q=0.5"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("vi-VN,vi;q=0.9,en;q=0.8"),
            Some(Lang::Vi)
        );
        assert_eq!(Lang::from_accept_language("de"), None);
        assert_eq!(
            Lang::from_accept_language("en;q=0, vi;q=0.1, de"),
            Some(Lang::Vi)
        );
        assert_eq!(
            Lang::from_accept_language("*, en-GB;q=0.9, vi;q=0.9"),
            Some(Lang::En)
        );
    }

    #[test]
    fn pick_falls_back_to_vietnamese_when_english_is_empty() {
        assert_eq!(Lang::En.pick("Hà Nội", "Hanoi"), "Hanoi");
        assert_eq!(Lang::En.pick("Hà Nội", ""), "Hà Nội");
        assert_eq!(Lang::Vi.pick("Hà Nội", "Hanoi"), "Hà Nội");
        assert_eq!(Lang::Vi.pick("", "Hanoi"), "");
    }

    #[test]
    fn translates_with_arguments() {
        assert_eq!(t(Lang::En, "app-name", &[]), "Hailong");
        let s = t(Lang::Vi, "home-responses", &[("count", Arg::from(3u64))]);
        assert!(s.contains('3'), "{s}");
    }
}
