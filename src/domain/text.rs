//! Multilingual text and codes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::validation::FieldError;

/// A text in several languages: `{"vi": "…", "en": "…"}`. Vietnamese is
/// required wherever a text is required; other languages are optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(example = json!({"vi": "Hài lòng", "en": "Satisfied"}))]
pub struct Text(pub BTreeMap<String, String>);

impl Text {
    /// Builds a text from its Vietnamese and English values.
    pub fn vi_en(vi: &str, en: &str) -> Text {
        let mut map = BTreeMap::new();
        map.insert("vi".to_owned(), vi.to_owned());
        if !en.is_empty() {
            map.insert("en".to_owned(), en.to_owned());
        }
        Text(map)
    }

    /// True when no language has a value.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(|v| v.trim().is_empty())
    }

    /// The text in `lang`, falling back to Vietnamese, then to any language.
    pub fn get(&self, lang: &str) -> &str {
        self.0
            .get(lang)
            .filter(|s| !s.trim().is_empty())
            .or_else(|| self.0.get("vi"))
            .or_else(|| self.0.values().next())
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Requires a Vietnamese value and well-formed language codes.
    pub fn check(&self, path: &str, errors: &mut Vec<FieldError>) {
        if self.is_empty() {
            errors.push(FieldError::new(format!("{path}.vi"), "missing_vietnamese"));
        }
        self.check_optional(path, errors);
    }

    /// Checks language codes and lengths of an optional text.
    pub fn check_optional(&self, path: &str, errors: &mut Vec<FieldError>) {
        for (lang, value) in &self.0 {
            if !is_language_code(lang) {
                errors.push(
                    FieldError::new(format!("{path}.{lang}"), "invalid_language")
                        .with("code", lang.clone()),
                );
            }
            if value.chars().count() > 2_000 {
                errors.push(FieldError::new(format!("{path}.{lang}"), "text_too_long"));
            }
        }
        if !self.is_empty() && self.0.get("vi").is_none_or(|v| v.trim().is_empty()) {
            errors.push(FieldError::new(format!("{path}.vi"), "missing_vietnamese"));
        }
    }
}

/// A language code such as `vi`, `en` or `zh-Hant`.
pub fn is_language_code(s: &str) -> bool {
    let mut parts = s.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_lowercase()));
    first_ok
        && parts
            .all(|p| !p.is_empty() && p.len() <= 8 && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A stable code: 1–64 ASCII letters, digits, `_`, `-` or `.`, starting with a letter or digit.
pub fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falls_back_to_vietnamese() {
        let t = Text::vi_en("Xin chào", "");
        assert_eq!(t.get("en"), "Xin chào");
        let t = Text::vi_en("Xin chào", "Hello");
        assert_eq!(t.get("en"), "Hello");
    }

    #[test]
    fn codes() {
        assert!(is_code("q1"));
        assert!(is_code("E1.C2"));
        assert!(!is_code(""));
        assert!(!is_code("-x"));
        assert!(!is_code("a b"));
        assert!(is_language_code("vi"));
        assert!(is_language_code("zh-Hant"));
        assert!(!is_language_code("Vietnamese"));
    }

    #[test]
    fn a_text_without_vietnamese_is_reported_once() {
        let only_english = Text([("en".to_owned(), "Yes".to_owned())].into());
        for text in [Text::default(), only_english] {
            let mut errors = vec![];
            text.check("label", &mut errors);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].field, "label.vi");
            assert_eq!(errors[0].code, "missing_vietnamese");
        }
        let mut errors = vec![];
        Text::vi_en("Có", "Yes").check("label", &mut errors);
        assert!(errors.is_empty());
    }
}
