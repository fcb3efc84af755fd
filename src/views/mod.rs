//! One `Serialize` context per page or API answer.

pub mod api;
pub mod home;
pub mod png;
pub mod respond;
pub mod results;
pub mod staff;

use serde::Serialize;

use crate::i18n::Lang;

/// What every page's layout needs: the language and the switch to the others.
#[derive(Debug, Serialize)]
pub struct Chrome {
    pub lang: &'static str,
    /// Links to this page in the other languages.
    pub languages: Vec<LanguageLink>,
}

#[derive(Debug, Serialize)]
pub struct LanguageLink {
    pub code: &'static str,
    pub href: String,
    pub current: bool,
}

impl Chrome {
    pub fn new(lang: Lang, path: &str) -> Chrome {
        let languages = Lang::ALL
            .iter()
            .map(|l| LanguageLink {
                code: l.code(),
                href: format!("/lang/{}?next={}", l.code(), encode_path(path)),
                current: *l == lang,
            })
            .collect();
        Chrome {
            lang: lang.code(),
            languages,
        }
    }
}

/// Percent-encodes a local path for a query parameter.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
