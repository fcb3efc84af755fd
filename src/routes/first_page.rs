//! The first page of a survey, rendered once per campaign load, language,
//! locality and address: it is the same for every respondent but for its
//! submission id, and a burst of respondents opening a printed link should
//! not render it for each of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::services::responses::CachedCampaign;

/// Stands for the submission id in a cached first page (replaced by a fresh
/// id for every page served); cannot occur in rendered text otherwise.
pub const SID_SLOT: &str = "\u{1}sid-slot\u{1}";

/// Pages kept at most; past it the cache starts again (old loads of a
/// campaign are never asked for again, so nothing else evicts them).
const MAX_PAGES: usize = 4_096;

/// A campaign load, a language code, a locality and the page's path.
type Key = (u64, &'static str, String, String);

#[derive(Debug, Default)]
pub struct FirstPages {
    pages: Mutex<HashMap<Key, Arc<str>>>,
}

impl FirstPages {
    /// The first page of `campaign` for this language, locality and path,
    /// rendered by `render` (given [`SID_SLOT`] for the id) when not kept,
    /// with `sid` in place of the slot.
    pub fn get<E>(
        &self,
        campaign: &CachedCampaign,
        (lang, locality, path): (&'static str, &str, &str),
        sid: &str,
        render: impl FnOnce(&str) -> Result<String, E>,
    ) -> Result<String, E> {
        let key: Key = (campaign.load, lang, locality.to_owned(), path.to_owned());
        let kept = self
            .pages
            .lock()
            .ok()
            .and_then(|pages| pages.get(&key).cloned());
        let html = match kept {
            Some(html) => html,
            None => {
                let html: Arc<str> = Arc::from(render(SID_SLOT)?);
                if let Ok(mut pages) = self.pages.lock() {
                    if pages.len() >= MAX_PAGES {
                        pages.clear();
                    }
                    pages.insert(key, html.clone());
                }
                html
            }
        };
        Ok(html.replace(SID_SLOT, sid))
    }
}
