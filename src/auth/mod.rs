//! Staff accounts: passwords, roles and what each role may do, sessions in
//! encrypted cookies backed by the database, API tokens, CSRF, login limits.

pub mod limiter;
pub mod password;
pub mod session;
pub mod user;

use serde::Serialize;

/// A staff member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Accounts and everything else.
    Admin,
    /// Questionnaires and campaigns.
    Designer,
    /// Kiosks, invitations and fieldwork progress.
    FieldManager,
    /// Results and exports; read-only on the rest.
    Analyst,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::Designer,
        Role::FieldManager,
        Role::Analyst,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Designer => "designer",
            Role::FieldManager => "field_manager",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A part of the staff application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Accounts,
    Audit,
    Questionnaires,
    Campaigns,
    Kiosks,
    Invitations,
    Fieldwork,
    Results,
    Exports,
}

/// Reading or changing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl Role {
    /// The permission matrix, in one place.
    pub fn can(self, area: Area, access: Access) -> bool {
        use Access::*;
        use Area::*;
        match (self, area, access) {
            (Role::Admin, _, _) => true,
            (_, Accounts | Audit, _) => false,
            (Role::Designer, Questionnaires | Campaigns, _) => true,
            (Role::FieldManager, Kiosks | Invitations | Fieldwork, _) => true,
            (Role::Analyst, Results | Exports, _) => true,
            // Invitation lists hold email addresses: only those who send them.
            (_, Invitations, _) => false,
            // Results (of campaigns that are not public), microdata and
            // result exports are the analysts'.
            (Role::Designer | Role::FieldManager, Results | Exports, _) => false,
            // Read-only on the rest.
            (_, _, Read) => true,
            (_, _, Write) => false,
        }
    }
}

/// 32 random bytes from the operating system, hex-encoded: the one generator
/// of secrets (sessions, CSRF and API tokens, reset links, kiosk device
/// tokens, invitation nonces, the server key).
pub fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// SHA-256 of a token, hex-encoded: what is stored instead of the token.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_can_everything_and_others_only_their_job() {
        for area in [
            Area::Accounts,
            Area::Audit,
            Area::Questionnaires,
            Area::Campaigns,
            Area::Kiosks,
            Area::Invitations,
            Area::Fieldwork,
            Area::Results,
            Area::Exports,
        ] {
            assert!(Role::Admin.can(area, Access::Write));
        }
        assert!(Role::Designer.can(Area::Questionnaires, Access::Write));
        assert!(!Role::Designer.can(Area::Kiosks, Access::Write));
        assert!(Role::Designer.can(Area::Kiosks, Access::Read));
        assert!(!Role::Designer.can(Area::Accounts, Access::Read));
        assert!(Role::FieldManager.can(Area::Invitations, Access::Write));
        assert!(!Role::FieldManager.can(Area::Campaigns, Access::Write));
        assert!(Role::Analyst.can(Area::Exports, Access::Read));
        assert!(Role::Analyst.can(Area::Results, Access::Read));
        assert!(!Role::Designer.can(Area::Results, Access::Read));
        assert!(!Role::FieldManager.can(Area::Results, Access::Read));
        assert!(!Role::Analyst.can(Area::Questionnaires, Access::Write));
        assert!(Role::Analyst.can(Area::Questionnaires, Access::Read));
        assert!(!Role::Analyst.can(Area::Invitations, Access::Read));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_token().unwrap_or_default();
        let b = random_token().unwrap_or_default();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}
