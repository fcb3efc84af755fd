//! Names as Kobo and ODK write them, turned into Hailong codes: letters,
//! digits, `_`, `-`, `.`, starting with a letter or digit, at most 64.

use std::collections::HashSet;

use super::super::text::is_code;

/// Latin letters with accents to their plain letter (Vietnamese included).
fn plain_letter(c: char) -> Option<char> {
    const GROUPS: &[(&str, char)] = &[
        ("àáâãäåāăąạảấầẩẫậắằẳẵặ", 'a'),
        ("ÀÁÂÃÄÅĀĂĄẠẢẤẦẨẪẬẮẰẲẴẶ", 'A'),
        ("çćĉċč", 'c'),
        ("ÇĆĈĊČ", 'C'),
        ("đď", 'd'),
        ("ĐĎ", 'D'),
        ("èéêëēĕėęěẹẻẽếềểễệ", 'e'),
        ("ÈÉÊËĒĔĖĘĚẸẺẼẾỀỂỄỆ", 'E'),
        ("ìíîïĩīĭįỉị", 'i'),
        ("ÌÍÎÏĨĪĬĮỈỊ", 'I'),
        ("ñńňņ", 'n'),
        ("ÑŃŇŅ", 'N'),
        ("òóôõöøōŏőơọỏốồổỗộớờởỡợ", 'o'),
        ("ÒÓÔÕÖØŌŎŐƠỌỎỐỒỔỖỘỚỜỞỠỢ", 'O'),
        ("ùúûüũūŭůűųưụủứừửữự", 'u'),
        ("ÙÚÛÜŨŪŬŮŰŲƯỤỦỨỪỬỮỰ", 'U'),
        ("ýÿỳỵỷỹ", 'y'),
        ("ÝŸỲỴỶỸ", 'Y'),
        ("śšşș", 's'),
        ("ŚŠŞȘ", 'S'),
        ("źżž", 'z'),
        ("ŹŻŽ", 'Z'),
    ];
    if c.is_ascii() {
        return Some(c);
    }
    GROUPS
        .iter()
        .find(|(set, _)| set.contains(c))
        .map(|(_, p)| *p)
}

/// A code made from any name: accents dropped, other signs as `_`, a
/// leading `_`/sign dropped, at most 64 characters; `fallback` when
/// nothing is left.
pub fn clean(name: &str, fallback: &str) -> String {
    if is_code(name) {
        return name.to_owned();
    }
    let mut out = String::new();
    for c in name.trim().chars() {
        match plain_letter(c) {
            Some(p) if p.is_ascii_alphanumeric() || p == '-' || p == '.' => out.push(p),
            _ => {
                if !out.ends_with('_') {
                    out.push('_');
                }
            }
        }
    }
    let trimmed = out
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .trim_end_matches('_');
    let mut code: String = trimmed.chars().take(64).collect();
    while code.ends_with(['_', '-', '.']) {
        code.pop();
    }
    if is_code(&code) {
        code
    } else {
        fallback.to_owned()
    }
}

/// Codes handed out so far in one scope (questions, sections, a list's options).
#[derive(Default)]
pub struct Taken(HashSet<String>);

impl Taken {
    pub fn contains(&self, code: &str) -> bool {
        self.0.contains(code)
    }

    /// `code` if free, else `code_2`, `code_3`, …; marks it taken.
    pub fn unique(&mut self, code: &str) -> String {
        let mut candidate = code.to_owned();
        let mut n = 2;
        while self.0.contains(&candidate) {
            let suffix = format!("_{n}");
            let keep: String = code.chars().take(64 - suffix.len()).collect();
            candidate = format!("{keep}{suffix}");
            n += 1;
        }
        self.0.insert(candidate.clone());
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_safe_codes() {
        assert_eq!(clean("Hà Nội", "x"), "Ha_Noi");
        assert_eq!(clean("_uuid", "x"), "uuid");
        assert_eq!(clean("water & sanitation", "x"), "water_sanitation");
        assert_eq!(clean("my form (v2)", "x"), "my_form_v2");
        assert_eq!(clean("كلمة", "opt1"), "opt1");
        assert_eq!(clean(&"a".repeat(80), "x").len(), 64);
        assert_eq!(clean("q1", "x"), "q1");
    }

    #[test]
    fn taken_codes_get_a_suffix() {
        let mut t = Taken::default();
        assert_eq!(t.unique("main"), "main");
        assert_eq!(t.unique("main"), "main_2");
        assert_eq!(t.unique("main"), "main_3");
        assert!(t.contains("main_2"));
    }
}
