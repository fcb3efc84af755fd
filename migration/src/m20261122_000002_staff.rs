//! Staff accounts, their sessions and API tokens, password resets, the
//! audit log, and the application's own secrets (the cookie key).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 6] = [
    "app_secrets",
    "staff_users",
    "staff_sessions",
    "api_tokens",
    "password_resets",
    "audit_log",
];

fn user_fk(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_user_id"))
        .from(Alias::new(table), Alias::new("user_id"))
        .to(Alias::new("staff_users"), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("app_secrets")
                    .col(string("name").primary_key())
                    .col(text("value"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("staff_users")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("email"))
                    .col(text("password_hash"))
                    .col(string("role"))
                    .col(text_null("localities"))
                    .col(boolean("active"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("password_changed_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("staff_sessions")
                    .col(string("id").primary_key())
                    .col(big_integer("user_id"))
                    .col(string("csrf_token"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .foreign_key(&mut user_fk("staff_sessions"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("api_tokens")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(string("name"))
                    .col(string_uniq("token_hash"))
                    .col(string("prefix"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(date_null("last_used_on"))
                    .col(boolean("revoked"))
                    .foreign_key(&mut user_fk("api_tokens"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("password_resets")
                    .col(string("token_hash").primary_key())
                    .col(big_integer("user_id"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(boolean("used"))
                    .foreign_key(&mut user_fk("password_resets"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(big_pk_auto("id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(big_integer_null("staff_id"))
                    .col(string("staff_email"))
                    .col(string("action"))
                    .col(string("object_type"))
                    .col(string("object_id"))
                    .col(text("detail"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_at")
                    .table(Alias::new("audit_log"))
                    .col(Alias::new("at"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(Alias::new(*table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
