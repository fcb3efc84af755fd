//! What the black-box tests share: the app under test ([`TestApp`], [`spawn_app`]),
//! staff set-up as methods of `TestApp` (`add_user`, `login`, `page_csrf`, `token_for`),
//! pages read with `scraper` ([`browser_fields`], [`csrf_of`], [`attr`]),
//! mail (an in-memory [`Inbox`] or a real SMTP [`start_sink`]) and direct looks at the
//! database ([`count`], [`publish`]).

mod app;
mod db;
mod html;
mod mail;
mod staff;

pub use app::*;
pub use db::*;
pub use html::*;
pub use mail::*;
pub use staff::*;
