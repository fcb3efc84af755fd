//! The signed-in accounts as handlers receive them: a staff member on a
//! staff page, or a caller of the JSON API (the extractors that produce
//! them are in `routes::extract`).

use serde::Serialize;

use crate::error::AppError;
use crate::i18n::Lang;

use super::{Access, Area, Role};

/// A signed-in staff member on a staff page.
#[derive(Debug, Clone)]
pub struct StaffUser {
    pub id: i64,
    pub email: String,
    pub role: Role,
    /// Locality codes the account is restricted to; `None` = everywhere.
    pub localities: Option<Vec<String>>,
    pub session_id: String,
    pub csrf_token: String,
    pub lang: Lang,
}

/// What templates show of the signed-in user.
#[derive(Debug, Clone, Serialize)]
pub struct StaffView {
    pub email: String,
    pub role: &'static str,
    pub csrf_token: String,
    pub is_admin: bool,
}

impl StaffUser {
    /// Refuses with 403 unless the role may do this.
    pub fn require(&self, area: Area, access: Access) -> Result<(), AppError> {
        if self.role.can(area, access) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn view(&self) -> StaffView {
        StaffView {
            email: self.email.clone(),
            role: self.role.as_str(),
            csrf_token: self.csrf_token.clone(),
            is_admin: self.role == Role::Admin,
        }
    }
}

/// A staff member calling the JSON API, by session cookie or
/// `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct ApiUser {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub localities: Option<Vec<String>>,
    pub lang: Lang,
}

impl ApiUser {
    /// Refuses with 403 unless the role may do this.
    pub fn require(&self, area: Area, access: Access) -> Result<(), AppError> {
        if self.role.can(area, access) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}
