//! Languages as XLSForm names them: `label::English (en)`, `label::Français`,
//! `label:English`, a plain `label` in the default language.

use std::collections::BTreeMap;

use super::super::text::{Text, is_language_code};
use super::sheets::Sheet;
use super::{Reason, code};

/// Language names seen in real forms, lowercased, with their codes.
const NAMES: &[(&str, &str)] = &[
    ("english", "en"),
    ("anglais", "en"),
    ("inglés", "en"),
    ("vietnamese", "vi"),
    ("tiếng việt", "vi"),
    ("tieng viet", "vi"),
    ("french", "fr"),
    ("français", "fr"),
    ("francais", "fr"),
    ("spanish", "es"),
    ("español", "es"),
    ("espanol", "es"),
    ("portuguese", "pt"),
    ("português", "pt"),
    ("portugues", "pt"),
    ("swahili", "sw"),
    ("kiswahili", "sw"),
    ("arabic", "ar"),
    ("العربية", "ar"),
    ("عربي", "ar"),
    ("chinese", "zh"),
    ("中文", "zh"),
    ("hindi", "hi"),
    ("हिन्दी", "hi"),
    ("bengali", "bn"),
    ("bangla", "bn"),
    ("russian", "ru"),
    ("русский", "ru"),
    ("german", "de"),
    ("deutsch", "de"),
    ("italian", "it"),
    ("italiano", "it"),
    ("indonesian", "id"),
    ("bahasa indonesia", "id"),
    ("thai", "th"),
    ("khmer", "km"),
    ("lao", "lo"),
    ("burmese", "my"),
    ("myanmar", "my"),
    ("nepali", "ne"),
    ("amharic", "am"),
    ("hausa", "ha"),
    ("yoruba", "yo"),
    ("igbo", "ig"),
    ("somali", "so"),
    ("luganda", "lg"),
    ("kinyarwanda", "rw"),
    ("chichewa", "ny"),
    ("zulu", "zu"),
    ("xhosa", "xh"),
    ("afrikaans", "af"),
    ("pashto", "ps"),
    ("dari", "prs"),
    ("urdu", "ur"),
    ("persian", "fa"),
    ("farsi", "fa"),
    ("turkish", "tr"),
    ("ukrainian", "uk"),
    ("polish", "pl"),
    ("dutch", "nl"),
    ("japanese", "ja"),
    ("korean", "ko"),
    ("tagalog", "tl"),
    ("filipino", "fil"),
    ("malay", "ms"),
    ("haitian creole", "ht"),
    ("kreyol", "ht"),
    ("tetum", "tet"),
    ("tigrinya", "ti"),
    ("oromo", "om"),
    ("shona", "sn"),
    ("lingala", "ln"),
    ("wolof", "wo"),
    ("bambara", "bm"),
    ("fula", "ff"),
    ("fulfulde", "ff"),
    ("malagasy", "mg"),
    ("sinhala", "si"),
    ("tamil", "ta"),
    ("telugu", "te"),
    ("marathi", "mr"),
    ("gujarati", "gu"),
    ("punjabi", "pa"),
    ("kurdish", "ku"),
    ("hebrew", "he"),
    ("greek", "el"),
    ("romanian", "ro"),
    ("hungarian", "hu"),
    ("czech", "cs"),
    ("serbian", "sr"),
    ("croatian", "hr"),
    ("bosnian", "bs"),
    ("albanian", "sq"),
    ("georgian", "ka"),
    ("armenian", "hy"),
    ("mongolian", "mn"),
    ("uzbek", "uz"),
    ("kazakh", "kk"),
    ("tajik", "tg"),
    ("kyrgyz", "ky"),
    ("azerbaijani", "az"),
];

/// The code of a language as a column or `default_language` names it:
/// `Tiếng Việt (vi)` → `vi`, `English` → `en`, `fr` → `fr`; `None` when the
/// name is not known.
pub fn language_code(name: &str) -> Option<String> {
    let name = name.trim();
    if let (Some(open), Some(close)) = (name.rfind('('), name.rfind(')'))
        && open < close
    {
        let code = name[open + 1..close].trim().to_lowercase();
        if is_language_code(&code) {
            return Some(code);
        }
        return language_code(&name[..open]);
    }
    let lower = name.to_lowercase();
    if let Some((_, code)) = NAMES.iter().find(|(n, _)| *n == lower) {
        return Some((*code).to_owned());
    }
    (is_language_code(&lower) && lower.len() <= 3).then_some(lower)
}

/// Letters only Vietnamese uses among the languages forms are written in.
fn looks_vietnamese(s: &str) -> bool {
    s.chars()
        .any(|c| "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĂÂĐÊÔƠƯ".contains(c))
}

/// A column's family (`label`, `hint`, `constraint_message`, …) and its
/// language name (`None` for the plain column): `label::English (en)`,
/// `label:English`, `label`.
pub fn split_header(header: &str) -> (String, Option<String>) {
    if let Some((kind, lang)) = header.split_once("::") {
        return (kind.trim().to_lowercase(), Some(lang.trim().to_owned()));
    }
    if let Some((kind, lang)) = header.split_once(':')
        && !kind.contains(' ')
        && !["bind", "jr", "instance", "body", "media"].contains(&kind)
    {
        return (kind.trim().to_lowercase(), Some(lang.trim().to_owned()));
    }
    (header.trim().to_lowercase(), None)
}

/// The languages of a form: which column names which code, and the main one.
pub struct Languages {
    /// Language name as written in a header → code (`None`: unknown, left out).
    pub codes: BTreeMap<String, Option<String>>,
    /// The language of plain `label`/`hint` columns and the form's main one.
    pub default: String,
    /// Notes for the warnings: how the default was chosen, unknown names.
    pub notes: Vec<Reason>,
}

impl Languages {
    /// Reads the language of every translatable column of the sheets;
    /// `default_language` from the settings (may be empty).
    pub fn read(sheets: &[&Sheet], default_language: &str) -> Languages {
        let mut codes = BTreeMap::new();
        let mut order = Vec::new();
        let mut plain_texts = Vec::new();
        let mut notes = Vec::new();
        for sheet in sheets {
            for (i, h) in sheet.headers.iter().enumerate() {
                let (family, lang) = split_header(h);
                if !TRANSLATABLE.contains(&family.as_str()) {
                    continue;
                }
                match lang {
                    Some(name) => {
                        if let std::collections::btree_map::Entry::Vacant(slot) = codes.entry(name)
                        {
                            let name = slot.key().clone();
                            let code = language_code(&name);
                            match &code {
                                Some(c) => order.push(c.clone()),
                                None => notes.push(
                                    Reason::new(code::LANGUAGE_UNKNOWN).with("language", name),
                                ),
                            }
                            slot.insert(code);
                        }
                    }
                    None if family == "label" => {
                        plain_texts.extend(sheet.rows.iter().filter_map(|r| r.get(i).cloned()));
                    }
                    None => {}
                }
            }
        }
        let has_plain = !plain_texts.is_empty();
        let default = if !default_language.trim().is_empty() {
            match language_code(default_language) {
                Some(code) => code,
                None => {
                    notes.push(
                        Reason::new(code::DEFAULT_LANGUAGE_UNKNOWN)
                            .with("language", default_language),
                    );
                    fallback(&order, &plain_texts, has_plain, &mut notes)
                }
            }
        } else {
            fallback(&order, &plain_texts, has_plain, &mut notes)
        };
        Languages {
            codes,
            default,
            notes,
        }
    }

    /// The texts of a column family in a row, by language code.
    pub fn texts(&self, sheet: &Sheet, row: &[String], family: &str) -> Text {
        let mut map = BTreeMap::new();
        for (i, h) in sheet.headers.iter().enumerate() {
            let (fam, lang) = split_header(h);
            if fam != family {
                continue;
            }
            let code = match lang {
                None => Some(self.default.clone()),
                Some(name) => self.codes.get(&name).cloned().flatten(),
            };
            if let (Some(code), Some(value)) = (code, row.get(i))
                && !value.trim().is_empty()
            {
                // A language column wins over the plain one.
                let plain = split_header(h).1.is_none();
                if plain && map.contains_key(&code) {
                    continue;
                }
                map.insert(code, value.trim().to_owned());
            }
        }
        Text(map)
    }
}

/// Families whose columns carry a language.
const TRANSLATABLE: &[&str] = &[
    "label",
    "hint",
    "constraint_message",
    "required_message",
    "guidance_hint",
    "form_title",
];

fn fallback(
    order: &[String],
    plain: &[String],
    has_plain: bool,
    notes: &mut Vec<Reason>,
) -> String {
    if has_plain {
        let non_empty: Vec<&String> = plain.iter().filter(|t| !t.trim().is_empty()).collect();
        let vi = non_empty.iter().filter(|t| looks_vietnamese(t)).count();
        if !non_empty.is_empty() && vi * 2 >= non_empty.len() {
            return "vi".to_owned();
        }
        if order.is_empty() {
            notes.push(Reason::new(code::PLAIN_LABEL_ENGLISH));
            return "en".to_owned();
        }
    }
    order.first().cloned().unwrap_or_else(|| "vi".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_names_become_codes() {
        assert_eq!(language_code("Tiếng Việt (vi)").as_deref(), Some("vi"));
        assert_eq!(language_code("English").as_deref(), Some("en"));
        assert_eq!(language_code("Français").as_deref(), Some("fr"));
        assert_eq!(language_code("swahili").as_deref(), Some("sw"));
        assert_eq!(language_code("العربية").as_deref(), Some("ar"));
        assert_eq!(language_code("English (EN)").as_deref(), Some("en"));
        assert_eq!(language_code("fr").as_deref(), Some("fr"));
        assert_eq!(language_code("Klingon"), None);
    }

    #[test]
    fn headers_split_into_family_and_language() {
        assert_eq!(
            split_header("label::English (en)"),
            ("label".into(), Some("English (en)".into()))
        );
        assert_eq!(
            split_header("label:English"),
            ("label".into(), Some("English".into()))
        );
        assert_eq!(split_header("label"), ("label".into(), None));
        assert_eq!(
            split_header("bind:relevant"),
            ("bind:relevant".into(), None)
        );
    }

    #[test]
    fn a_plain_label_is_vietnamese_only_when_it_reads_so() {
        let sheet = |label: &str| Sheet {
            headers: vec!["type".into(), "label".into()],
            rows: vec![vec!["text".into(), label.into()]],
        };
        let l = Languages::read(&[&sheet("Bạn bao nhiêu tuổi?")], "");
        assert_eq!(l.default, "vi");
        let l = Languages::read(&[&sheet("How old are you?")], "");
        assert_eq!(l.default, "en");
        assert_eq!(l.notes, vec![Reason::new(code::PLAIN_LABEL_ENGLISH)]);
        let l = Languages::read(&[&sheet("Quel âge avez-vous ?")], "French");
        assert_eq!(l.default, "fr");
    }
}
