//! Sessions: a random id in an encrypted, signed cookie; the session itself
//! (keyed by the id's SHA-256) in the database, so logging out, expiry and a
//! password change revoke it in every process. API tokens likewise.

use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use chrono::{Duration, Utc};
use entity::{api_token, app_secret, staff_session, staff_user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};

use super::{Role, random_token, token_hash};

/// Name of the staff session cookie.
pub const SESSION_COOKIE: &str = "hailong_staff";
/// A session ends this long after sign-in.
pub const SESSION_HOURS: i64 = 12;
const KEY_NAME: &str = "cookie_key";

/// A problem with sessions or keys.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("no randomness from the operating system: {0}")]
    Random(#[from] getrandom::Error),
    #[error("the stored cookie key is not 64 hex-encoded bytes")]
    BadKey,
}

/// The key that encrypts and signs cookies: generated once and kept in the
/// database, so every process on the same database shares it.
pub async fn cookie_key(db: &impl ConnectionTrait) -> Result<Key, SessionError> {
    let mut bytes = [0u8; 64];
    getrandom::fill(&mut bytes)?;
    app_secret::Entity::insert(app_secret::ActiveModel {
        name: Set(KEY_NAME.to_owned()),
        value: Set(hex::encode(bytes)),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;
    let stored = app_secret::Entity::find_by_id(KEY_NAME.to_owned())
        .one(db)
        .await?
        .ok_or(SessionError::BadKey)?;
    let raw = hex::decode(stored.value).map_err(|_| SessionError::BadKey)?;
    Key::try_from(raw.as_slice()).map_err(|_| SessionError::BadKey)
}

/// Who is signed in, and through what.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: staff_user::Model,
    pub role: Role,
    /// The session, when signed in through the cookie (not an API token).
    pub session: Option<staff_session::Model>,
}

/// Starts a session; returns the cookie to set.
pub async fn create(
    db: &impl ConnectionTrait,
    key: &Key,
    user_id: i64,
    secure: bool,
) -> Result<Cookie<'static>, SessionError> {
    let value = random_token()?;
    let now = Utc::now();
    staff_session::ActiveModel {
        id: Set(token_hash(&value)),
        user_id: Set(user_id),
        csrf_token: Set(random_token()?),
        created_at: Set(now),
        expires_at: Set(now + Duration::hours(SESSION_HOURS)),
    }
    .insert(db)
    .await?;
    let mut jar = CookieJar::new();
    jar.private_mut(key).add(
        Cookie::build(SESSION_COOKIE, value)
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .finish(),
    );
    Ok(jar
        .get(SESSION_COOKIE)
        .cloned()
        .unwrap_or_else(|| Cookie::new(SESSION_COOKIE, "")))
}

/// A cookie that removes the session cookie.
pub fn removal() -> Cookie<'static> {
    let mut c = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .finish();
    c.make_removal();
    c
}

/// The session id inside an encrypted cookie, if it decrypts and verifies.
pub fn open_cookie(key: &Key, cookie: &Cookie<'_>) -> Option<String> {
    let mut jar = CookieJar::new();
    jar.add_original(cookie.clone().into_owned());
    jar.private(key)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

async fn active_user(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Option<(staff_user::Model, Role)>, DbErr> {
    Ok(staff_user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .filter(|u| u.active)
        .and_then(|u| Role::parse(&u.role).map(|r| (u, r))))
}

/// The signed-in user behind a session id, if the session is current.
pub async fn lookup(
    db: &impl ConnectionTrait,
    session_value: &str,
) -> Result<Option<Authenticated>, DbErr> {
    let Some(session) = staff_session::Entity::find_by_id(token_hash(session_value))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if session.expires_at <= Utc::now() {
        staff_session::Entity::delete_by_id(session.id)
            .exec(db)
            .await?;
        return Ok(None);
    }
    Ok(active_user(db, session.user_id)
        .await?
        .map(|(user, role)| Authenticated {
            user,
            role,
            session: Some(session),
        }))
}

/// The user behind an API token, if the token is valid and not revoked.
pub async fn lookup_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<Authenticated>, DbErr> {
    let Some(row) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash(token)))
        .filter(api_token::Column::Revoked.eq(false))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let today = Utc::now().date_naive();
    if row.last_used_on != Some(today) {
        let mut active: api_token::ActiveModel = row.clone().into();
        active.last_used_on = Set(Some(today));
        active.update(db).await?;
    }
    Ok(active_user(db, row.user_id)
        .await?
        .map(|(user, role)| Authenticated {
            user,
            role,
            session: None,
        }))
}

/// Ends one session.
pub async fn revoke(db: &impl ConnectionTrait, session_id: &str) -> Result<(), DbErr> {
    staff_session::Entity::delete_by_id(session_id.to_owned())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of a user (password change, deactivation).
pub async fn revoke_all(db: &impl ConnectionTrait, user_id: i64) -> Result<(), DbErr> {
    staff_session::Entity::delete_many()
        .filter(staff_session::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The localities an account is restricted to (`None`: not restricted). A
/// stored list that cannot be read restricts to nothing rather than to
/// nothing at all: access fails closed.
pub fn localities_of(user: &staff_user::Model) -> Option<Vec<String>> {
    let stored = user.localities.as_deref()?;
    match serde_json::from_str::<Vec<String>>(stored) {
        Ok(list) => Some(list),
        Err(e) => {
            tracing::error!(user = user.id, error = %e, "unreadable locality list: the account sees no locality");
            Some(Vec::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(localities: Option<&str>) -> staff_user::Model {
        staff_user::Model {
            id: 7,
            email: "a@example.org".to_owned(),
            password_hash: String::new(),
            role: "analyst".to_owned(),
            localities: localities.map(str::to_owned),
            active: true,
            created_at: Utc::now(),
            password_changed_at: Utc::now(),
        }
    }

    #[test]
    fn a_locality_list_that_cannot_be_read_restricts_to_nothing() {
        assert_eq!(localities_of(&user(None)), None);
        assert_eq!(
            localities_of(&user(Some(r#"["01","79"]"#))),
            Some(vec!["01".to_owned(), "79".to_owned()])
        );
        assert_eq!(localities_of(&user(Some("[\"01\""))), Some(vec![]));
        assert_eq!(localities_of(&user(Some("{}"))), Some(vec![]));
    }
}
