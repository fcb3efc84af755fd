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

/// What [`encode_path`] leaves as it is: RFC 3986's unreserved characters and `/`.
const PATH_IN_QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes a local path for a query parameter.
pub fn encode_path(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, PATH_IN_QUERY).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_are_encoded_for_a_query_parameter() {
        assert_eq!(
            super::encode_path("/results/hà-nội/x_1.~?a=b&c=d e#f%"),
            "/results/h%C3%A0-n%E1%BB%99i/x_1.~%3Fa%3Db%26c%3Dd%20e%23f%25"
        );
    }
}
