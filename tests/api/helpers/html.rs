//! Reading pages as a browser would, with `scraper` (an HTML5 parser and CSS selectors):
//! form fields, attribute values, text.

use scraper::{Html, Selector};

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css:?}: {e}"))
}

/// The value of attribute `attr` on every element matching `css`, in page order.
pub fn attrs(html: &str, css: &str, attr: &str) -> Vec<String> {
    Html::parse_document(html)
        .select(&selector(css))
        .filter_map(|e| e.value().attr(attr).map(str::to_owned))
        .collect()
}

/// The value of attribute `attr` on the first element matching `css`.
pub fn attr(html: &str, css: &str, attr: &str) -> String {
    attrs(html, css, attr)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {css} with {attr} on the page"))
}

/// The text inside the first element matching `css` (entities decoded).
pub fn text(html: &str, css: &str) -> String {
    Html::parse_document(html)
        .select(&selector(css))
        .next()
        .unwrap_or_else(|| panic!("no {css} on the page"))
        .text()
        .collect()
}

/// The text inside every element matching `css`, trimmed (entities decoded).
pub fn texts(html: &str, css: &str) -> Vec<String> {
    Html::parse_document(html)
        .select(&selector(css))
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

/// The value of the first `csrf_token` hidden field in a page.
pub fn csrf_of(html: &str) -> String {
    attr(html, "input[name=csrf_token]", "value")
}

/// The hidden fields of the page, as a browser would send them.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let doc = Html::parse_document(html);
    doc.select(&selector("input[type=hidden][name]"))
        .map(|e| {
            let v = e.value();
            let name = v.attr("name").unwrap_or_default().to_owned();
            (name, v.attr("value").unwrap_or_default().to_owned())
        })
        .collect()
}

/// What a browser sends: hidden fields, checked choices, filled-in text and numbers,
/// selected options, text areas (without the buttons: the caller says which it presses).
pub fn browser_fields(html: &str) -> Vec<(String, String)> {
    let doc = Html::parse_document(html);
    let mut out = Vec::new();
    let fields = selector("input[name], select[name], textarea[name]");
    let selected = selector("option[selected]");
    for e in doc.select(&fields) {
        let v = e.value();
        let name = v.attr("name").unwrap_or_default().to_owned();
        let value = v.attr("value").unwrap_or_default().to_owned();
        match v.name() {
            "select" => {
                if let Some(o) = e.select(&selected).next() {
                    let text: String = o.text().collect();
                    let value = o.value().attr("value").map_or(text, str::to_owned);
                    out.push((name, value));
                }
            }
            "textarea" => {
                let text: String = e.text().collect();
                if !text.is_empty() {
                    out.push((name, text));
                }
            }
            _ => match v.attr("type").unwrap_or("text") {
                "hidden" => out.push((name, value)),
                "radio" | "checkbox" if v.attr("checked").is_some() => out.push((name, value)),
                "text" | "number" | "email" | "date" | "tel" if !value.is_empty() => {
                    out.push((name, value))
                }
                _ => {}
            },
        }
    }
    out
}
