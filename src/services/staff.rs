//! Staff accounts and API tokens.

use chrono::Utc;
use entity::{api_token, password_reset, staff_user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use crate::auth::{Role, password, random_token, session, token_hash};
use crate::domain::validation::FieldError;

use super::audit::{self, Actor};

/// A problem with an account change.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("an account with this email already exists")]
    Duplicate,
    #[error("no such account")]
    NotFound,
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("{0}")]
    Password(#[from] password::PasswordError),
    #[error("no randomness from the operating system: {0}")]
    Random(#[from] getrandom::Error),
}

/// Normalises and checks an email address (lowercase, one `@`, a dot in the domain).
pub fn parse_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(char::is_whitespace)
        && email.len() <= 254
        && email.matches('@').count() == 1;
    ok.then_some(email)
}

/// A new account's details.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub role: &'a str,
    pub password: &'a str,
    pub localities: Option<Vec<String>>,
}

/// Creates an account; every problem is listed.
pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    new: NewUser<'_>,
) -> Result<staff_user::Model, StaffError> {
    let mut errors = Vec::new();
    let email = parse_email(new.email);
    if email.is_none() {
        errors.push(FieldError::new("email", "invalid_email"));
    }
    let role = Role::parse(new.role);
    if role.is_none() {
        errors.push(FieldError::new("role", "invalid_role"));
    }
    if password::check_policy(new.password).is_err() {
        errors.push(
            FieldError::new("password", "password_too_short")
                .with("min", password::MIN_LENGTH.to_string()),
        );
    }
    let (Some(email), Some(role)) = (email, role) else {
        return Err(StaffError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(StaffError::Invalid(errors));
    }
    if by_email(db, &email).await?.is_some() {
        return Err(StaffError::Duplicate);
    }
    let now = Utc::now();
    let user = staff_user::ActiveModel {
        email: Set(email.clone()),
        password_hash: Set(password::hash(new.password)?),
        role: Set(role.as_str().to_owned()),
        localities: Set(new
            .localities
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::to_string(&l).unwrap_or_else(|_| "[]".to_owned()))),
        active: Set(true),
        created_at: Set(now),
        password_changed_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        actor,
        "user.create",
        "user",
        &user.id.to_string(),
        &format!("{email} as {}", role.as_str()),
    )
    .await?;
    Ok(user)
}

pub async fn by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<staff_user::Model>, DbErr> {
    // No account has a NUL in its address, and PostgreSQL refuses one in a query.
    if email.contains('\0') {
        return Ok(None);
    }
    staff_user::Entity::find()
        .filter(staff_user::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<staff_user::Model>, DbErr> {
    staff_user::Entity::find()
        .order_by_asc(staff_user::Column::Email)
        .all(db)
        .await
}

/// Changes an account's role and active flag. Deactivation ends its
/// sessions and revokes its API tokens and pending reset links for good, so
/// reactivating the account brings none of them back.
pub async fn update<C>(
    db: &C,
    actor: &Actor,
    id: i64,
    role: &str,
    active: bool,
) -> Result<(), StaffError>
where
    C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
{
    let role = Role::parse(role)
        .ok_or_else(|| StaffError::Invalid(vec![FieldError::new("role", "invalid_role")]))?;
    let txn = crate::db::begin_write(db).await?;
    let user = staff_user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(StaffError::NotFound)?;
    let before = format!("{} active={}", user.role, user.active);
    let mut model: staff_user::ActiveModel = user.into();
    model.role = Set(role.as_str().to_owned());
    model.active = Set(active);
    model.update(&txn).await?;
    if !active {
        revoke_credentials(&txn, id).await?;
    }
    audit::record(
        &txn,
        actor,
        "user.update",
        "user",
        &id.to_string(),
        &format!("{before} -> {} active={active}", role.as_str()),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Ends every session, revokes every API token and voids every pending
/// reset link of an account (password change, reset, deactivation).
async fn revoke_credentials(db: &impl ConnectionTrait, user_id: i64) -> Result<(), DbErr> {
    session::revoke_all(db, user_id).await?;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::Revoked, Expr::value(true))
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::Revoked.eq(false))
        .exec(db)
        .await?;
    void_resets(db, user_id).await
}

/// Makes every unused reset link of an account unusable.
async fn void_resets(db: &impl ConnectionTrait, user_id: i64) -> Result<(), DbErr> {
    password_reset::Entity::update_many()
        .col_expr(password_reset::Column::Used, Expr::value(true))
        .filter(password_reset::Column::UserId.eq(user_id))
        .filter(password_reset::Column::Used.eq(false))
        .exec(db)
        .await?;
    Ok(())
}

/// The password policy, as a field error on `new_password`.
fn check_new_password(new_password: &str) -> Result<(), StaffError> {
    password::check_policy(new_password).map_err(|_| {
        StaffError::Invalid(vec![
            FieldError::new("new_password", "password_too_short")
                .with("min", password::MIN_LENGTH.to_string()),
        ])
    })
}

/// Stores an already hashed password and revokes the account's sessions,
/// API tokens and reset links, inside the caller's transaction.
async fn store_password(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: i64,
    hash: String,
) -> Result<(), StaffError> {
    let user = staff_user::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(StaffError::NotFound)?;
    let mut model: staff_user::ActiveModel = user.into();
    model.password_hash = Set(hash);
    model.password_changed_at = Set(Utc::now());
    model.update(txn).await?;
    revoke_credentials(txn, id).await?;
    audit::record(
        txn,
        actor,
        "user.password",
        "user",
        &id.to_string(),
        "sessions, API tokens and reset links revoked",
    )
    .await?;
    Ok(())
}

/// Sets a new password; ends every session of the account and revokes its
/// API tokens and pending reset links, all in one transaction.
pub async fn set_password<C>(
    db: &C,
    actor: &Actor,
    id: i64,
    new_password: &str,
) -> Result<(), StaffError>
where
    C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
{
    check_new_password(new_password)?;
    // Hashing is slow: done before the write lock is taken.
    let hash = password::hash(new_password)?;
    let txn = crate::db::begin_write(db).await?;
    store_password(&txn, actor, id, hash).await?;
    txn.commit().await?;
    Ok(())
}

/// Creates an API token; the plaintext is returned once and never stored.
pub async fn create_token(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
    name: &str,
) -> Result<(api_token::Model, String), StaffError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StaffError::Invalid(vec![FieldError::new(
            "name",
            "invalid_token_name",
        )]));
    }
    let token = format!("hl_{}", random_token()?);
    let row = api_token::ActiveModel {
        user_id: Set(user_id),
        name: Set(name.to_owned()),
        token_hash: Set(token_hash(&token)),
        prefix: Set(token.chars().take(10).collect()),
        created_at: Set(Utc::now()),
        last_used_on: Set(None),
        revoked: Set(false),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        actor,
        "token.create",
        "api_token",
        &row.id.to_string(),
        name,
    )
    .await?;
    Ok((row, token))
}

pub async fn tokens_of(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Vec<api_token::Model>, DbErr> {
    api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await
}

/// Revokes one of the user's own tokens.
pub async fn revoke_token(
    db: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
    token_id: i64,
) -> Result<(), StaffError> {
    let row = api_token::Entity::find_by_id(token_id)
        .one(db)
        .await?
        .filter(|t| t.user_id == user_id)
        .ok_or(StaffError::NotFound)?;
    let mut model: api_token::ActiveModel = row.into();
    model.revoked = Set(true);
    model.update(db).await?;
    audit::record(
        db,
        actor,
        "token.revoke",
        "api_token",
        &token_id.to_string(),
        "",
    )
    .await?;
    Ok(())
}

/// How long a password reset link stays valid.
pub const RESET_MINUTES: i64 = 60;

/// Starts a password reset for an active account: returns the account and
/// the single-use token to email (only its SHA-256 is stored), or `None`
/// when there is no such active account (the caller says the same either way).
/// A new link voids the account's older ones.
pub async fn start_reset<C>(
    db: &C,
    email: &str,
) -> Result<Option<(staff_user::Model, String)>, StaffError>
where
    C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
{
    let Some(user) = by_email(db, email).await?.filter(|u| u.active) else {
        return Ok(None);
    };
    let token = random_token()?;
    let txn = crate::db::begin_write(db).await?;
    void_resets(&txn, user.id).await?;
    password_reset::ActiveModel {
        token_hash: Set(token_hash(&token)),
        user_id: Set(user.id),
        expires_at: Set(Utc::now() + chrono::Duration::minutes(RESET_MINUTES)),
        used: Set(false),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &Actor::staff(user.id, &user.email),
        "user.password_reset_requested",
        "user",
        &user.id.to_string(),
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(Some((user, token)))
}

/// The pending reset behind a token, if it is unused and not expired.
pub async fn pending_reset(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<password_reset::Model>, DbErr> {
    Ok(password_reset::Entity::find_by_id(token_hash(token))
        .one(db)
        .await?
        .filter(|r| !r.used && r.expires_at > Utc::now()))
}

/// Uses a reset link: sets the new password, ends every session, revokes the
/// API tokens and makes the link (and any other) unusable. The link is
/// claimed by one conditional update (`... WHERE used = false`) whose row
/// count decides: of two concurrent uses exactly one succeeds. A refused
/// password leaves the link unused.
pub async fn finish_reset<C>(db: &C, token: &str, new_password: &str) -> Result<(), StaffError>
where
    C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
{
    check_new_password(new_password)?;
    if pending_reset(db, token).await?.is_none() {
        // Not worth hashing a password for.
        return Err(StaffError::NotFound);
    }
    let hash = password::hash(new_password)?;
    let key = token_hash(token);
    let txn = crate::db::begin_write(db).await?;
    let claimed = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::Used, Expr::value(true))
        .filter(password_reset::Column::TokenHash.eq(key.clone()))
        .filter(password_reset::Column::Used.eq(false))
        .filter(password_reset::Column::ExpiresAt.gt(Utc::now()))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(StaffError::NotFound);
    }
    let reset = password_reset::Entity::find_by_id(key)
        .one(&txn)
        .await?
        .ok_or(StaffError::NotFound)?;
    let user = staff_user::Entity::find_by_id(reset.user_id)
        .one(&txn)
        .await?
        .filter(|u| u.active)
        .ok_or(StaffError::NotFound)?;
    store_password(&txn, &Actor::staff(user.id, &user.email), user.id, hash).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            parse_email(" An@Example.VN "),
            Some("an@example.vn".to_owned())
        );
        assert_eq!(parse_email("no-at.example.vn"), None);
        assert_eq!(parse_email("a@b"), None);
        assert_eq!(parse_email("a@@b.vn"), None);
    }
}
