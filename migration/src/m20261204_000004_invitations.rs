//! Invitations unlinkable by construction (issue 13).
//!
//! Before: `invitations` kept the SHA-256 of each link's token and, once the
//! link was used, `used_on`: anyone reading the database while `serve` ran
//! could watch `used_on` change and the newest response appear beside it.
//!
//! After: an invitation row holds a random `nonce` and `lookup_hash`
//! (`HMAC(server key, "lookup"|token)`, filled when the link is sent); the
//! token itself is `HMAC(server key, "token"|nonce)`, derived again for a
//! reminder, never stored. The server key lives outside the database. A
//! used link adds a row to `spent_invitations(campaign_id, tag)` with
//! `tag = HMAC(server key, "spent"|token)`: no date, no reference to the
//! invitation row, and nothing on the invitation row changes. Single use is
//! the tag's uniqueness.
//!
//! Existing rows: their used state cannot be converted (which tag a used
//! row would have needs the old token, which was never stored), so it is
//! dropped and treated as unknown; their old links stop working. They keep
//! `sent`, get a fresh nonce and `reminded = false`, so the next reminder
//! round sends every address a working link (with "if you have already
//! answered, thank you").
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from_table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_campaign_id"))
        .from(Alias::new(from_table), Alias::new("campaign_id"))
        .to(Alias::new("campaigns"), Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, outer: &SchemaManager) -> Result<(), DbErr> {
        // One transaction, so every step runs on one connection: on SQLite the
        // migrator runs each statement on whichever pooled connection is free,
        // and a connection still reading an older schema refused the rename.
        let txn = outer.get_connection().begin().await?;
        let manager = &SchemaManager::new(&txn);
        manager
            .create_table(
                Table::create()
                    .table("invitations_v2")
                    .col(big_pk_auto("id"))
                    .col(big_integer("campaign_id"))
                    .col(string("email"))
                    .col(string_uniq("nonce"))
                    .col(string_null("lookup_hash").unique_key())
                    .col(boolean("sent"))
                    .col(boolean("reminded"))
                    .col(date("created_on"))
                    .foreign_key(&mut fk("invitations_v2"))
                    .to_owned(),
            )
            .await?;
        let db = &txn;
        let nonce = match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                "md5(random()::text || clock_timestamp()::text || id::text) || \
                 md5(random()::text || id::text)"
            }
            _ => "lower(hex(randomblob(32)))",
        };
        db.execute_unprepared(&format!(
            "INSERT INTO invitations_v2 (campaign_id, email, nonce, lookup_hash, sent, reminded, \
             created_on) SELECT campaign_id, email, {nonce}, NULL, sent, false, created_on \
             FROM invitations ORDER BY id"
        ))
        .await?;
        manager
            .drop_table(Table::drop().table(Alias::new("invitations")).to_owned())
            .await?;
        manager
            .rename_table(
                Table::rename()
                    .table(Alias::new("invitations_v2"), Alias::new("invitations"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_invitations_campaign_email")
                    .table(Alias::new("invitations"))
                    .col(Alias::new("campaign_id"))
                    .col(Alias::new("email"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("spent_invitations")
                    .col(big_integer("campaign_id"))
                    .col(string("tag"))
                    .primary_key(Index::create().col(Alias::new("tag")))
                    .foreign_key(&mut fk("spent_invitations"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_spent_invitations_campaign")
                    .table(Alias::new("spent_invitations"))
                    .col(Alias::new("campaign_id"))
                    .to_owned(),
            )
            .await?;
        txn.commit().await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The old shape cannot be restored with working links: the address
        // list is kept, unsent.
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("spent_invitations"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("invitations"))
                    .add_column(date_null("used_on"))
                    .to_owned(),
            )
            .await
    }
}
