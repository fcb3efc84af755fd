//! What the black-box tests share: the app under test ([`TestApp`], [`spawn_app`]),
//! staff set-up as methods of `TestApp` (`add_user`, `login`, `page_csrf`, `token_for`),
//! and direct looks at the database ([`count`], [`publish`]).

mod app;
mod db;
mod staff;

pub use app::*;
pub use db::*;
pub use staff::*;
