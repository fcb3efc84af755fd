//! A campaign's hub: where staff find everything about one campaign (its status, fieldwork
//! as published, the survey links with their QR codes, posters, and the campaign's other
//! pages), and the printable poster of one locality.

use serde::Serialize;

/// `open`, `upcoming` or `closed` on a day (dates only: no time of day is shown).
pub fn status_of(
    today: chrono::NaiveDate,
    opens_on: chrono::NaiveDate,
    closes_on: chrono::NaiveDate,
) -> &'static str {
    if today < opens_on {
        "upcoming"
    } else if today > closes_on {
        "closed"
    } else {
        "open"
    }
}

/// A link from the hub to one of the campaign's pages.
#[derive(Debug, Serialize)]
pub struct HubLink {
    pub href: String,
    /// The translation key of its label.
    pub key: &'static str,
    /// The translation key of the line that says what it is for.
    pub hint: &'static str,
}

/// One locality: its survey link, QR code and poster, and its fieldwork as published.
#[derive(Debug, Serialize)]
pub struct LocalityLine {
    pub code: String,
    pub name: String,
    /// The survey's address for this locality (`…/s/{slug}?l=CODE`).
    pub link: String,
    pub qr: String,
    pub poster: String,
    /// Responses in the latest publication (`None`: not yet published).
    pub responses: Option<u64>,
    pub target: Option<u64>,
    /// `responses / target` in whole percent, capped at 100 for the bar.
    pub percent: Option<u64>,
}

/// The localities of one province (or the campaign's own provinces, `name` empty).
#[derive(Debug, Serialize)]
pub struct ProvinceGroup {
    pub name: String,
    pub localities: Vec<LocalityLine>,
    pub responses: Option<u64>,
    pub target: Option<u64>,
}

/// The latest publication, as the hub shows it.
#[derive(Debug, Serialize)]
pub struct PublishedView {
    pub number: i64,
    pub date: String,
    pub responses: u64,
    pub target: Option<u64>,
}

/// The campaign hub.
#[derive(Debug, Serialize)]
pub struct HubPage {
    pub slug: String,
    pub name: String,
    pub status: &'static str,
    pub opens_on: String,
    pub closes_on: String,
    pub is_public: bool,
    pub questionnaire: String,
    pub service: String,
    /// `None`: not yet published.
    pub published: Option<PublishedView>,
    /// The survey's address (only a path when no public address is configured).
    pub link: String,
    /// A QR code can be made (`base_url`, or a `qr_hosts` entry for this host).
    pub has_address: bool,
    pub qr: String,
    pub poster: String,
    pub groups: Vec<ProvinceGroup>,
    pub links: Vec<HubLink>,
}

/// The printable poster of a campaign, or of one of its localities.
#[derive(Debug, Serialize)]
pub struct PosterPage {
    pub slug: String,
    pub campaign: String,
    /// The locality's name (`None`: the campaign's poster).
    pub locality: Option<String>,
    pub link: String,
    /// The QR code, an inline `<svg>` made by the server.
    pub svg: String,
    pub closes_on: String,
    pub hub: String,
}

/// `text` as an inline QR code (`<svg class="qr" role="img" aria-label="…">`), to put in a
/// page as it is. `None` when the text is too long for a QR code.
pub fn inline_qr(text: &str, label: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let image = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    let at = image.find("<svg")?;
    let label: String = label
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    Some(image[at..].replacen(
        "<svg ",
        &format!("<svg class=\"qr\" role=\"img\" aria-label=\"{label}\" "),
        1,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_inline_qr_code_is_one_svg_element_with_its_label_escaped() {
        let svg = inline_qr("https://example.vn/s/a?l=00004", "A \"B\" <C>").unwrap();
        assert!(svg.starts_with(
            "<svg class=\"qr\" role=\"img\" aria-label=\"A &quot;B&quot; &lt;C&gt;\" "
        ));
        assert!(!svg.contains("<?xml"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn the_status_is_read_from_dates_only() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            status_of(d("2027-01-01"), d("2027-01-02"), d("2027-02-01")),
            "upcoming"
        );
        assert_eq!(
            status_of(d("2027-01-02"), d("2027-01-02"), d("2027-02-01")),
            "open"
        );
        assert_eq!(
            status_of(d("2027-02-01"), d("2027-01-02"), d("2027-02-01")),
            "open"
        );
        assert_eq!(
            status_of(d("2027-02-02"), d("2027-01-02"), d("2027-02-01")),
            "closed"
        );
    }
}
