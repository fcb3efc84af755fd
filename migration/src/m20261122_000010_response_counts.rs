//! Responses per campaign and locality in a table of their own, kept by a
//! trigger on `responses` in the same transaction as the rows (so it can
//! never disagree with them, whoever inserts: the writer, the demo seed, a
//! restore), and the `(campaign_id, locality_code)` index of `responses`
//! replaced (on SQLite) by one on `campaign_id` alone; PostgreSQL keeps its
//! `(campaign_id, id)` index (see migration 000009), which serves both.
//!
//! Why: the group-commit writer stores a batch of responses from many
//! localities at once, and each locality has its own insertion point in a
//! `(campaign_id, locality_code)` index, so every stored row dirtied a page
//! of its own there, written to the log and synced with the commit. In an
//! index on `campaign_id` alone, a campaign's entries follow storage order:
//! a batch appends to one page. What that index served (counts per
//! locality for fieldwork progress, the results cache's marker, "does this
//! campaign have answers") now reads the few rows of `response_counts`.
//! Responses are never updated or deleted, so an insert trigger suffices.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_TRIGGER: &str = "CREATE TRIGGER responses_counted AFTER INSERT ON responses BEGIN \
     INSERT INTO response_counts (campaign_id, locality_code, n) \
     VALUES (NEW.campaign_id, NEW.locality_code, 1) \
     ON CONFLICT (campaign_id, locality_code) DO UPDATE SET n = n + 1; \
     END";

const PG_FUNCTION: &str = "CREATE FUNCTION hailong_count_response() RETURNS trigger AS $$ \
     BEGIN \
       INSERT INTO response_counts (campaign_id, locality_code, n) \
       VALUES (NEW.campaign_id, NEW.locality_code, 1) \
       ON CONFLICT (campaign_id, locality_code) DO UPDATE SET n = response_counts.n + 1; \
       RETURN NULL; \
     END $$ LANGUAGE plpgsql";

const PG_TRIGGER: &str = "CREATE TRIGGER responses_counted AFTER INSERT ON responses \
     FOR EACH ROW EXECUTE FUNCTION hailong_count_response()";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("response_counts")
                    .col(big_integer("campaign_id"))
                    .col(string("locality_code"))
                    .col(big_integer("n"))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("campaign_id"))
                            .col(Alias::new("locality_code")),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_response_counts_campaign_id")
                            .from(Alias::new("response_counts"), Alias::new("campaign_id"))
                            .to(Alias::new("campaigns"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO response_counts (campaign_id, locality_code, n) \
             SELECT campaign_id, locality_code, count(*) FROM responses \
             GROUP BY campaign_id, locality_code",
        )
        .await?;
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(PG_FUNCTION).await?;
                db.execute_unprepared(PG_TRIGGER).await?;
            }
            _ => {
                db.execute_unprepared(SQLITE_TRIGGER).await?;
            }
        }
        manager
            .drop_index(
                Index::drop()
                    .name("ix_responses_campaign_locality")
                    .table(Alias::new("responses"))
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(());
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_responses_campaign")
                    .table(Alias::new("responses"))
                    .col(Alias::new("campaign_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            manager
                .drop_index(
                    Index::drop()
                        .name("ix_responses_campaign")
                        .table(Alias::new("responses"))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_responses_campaign_locality")
                    .table(Alias::new("responses"))
                    .col(Alias::new("campaign_id"))
                    .col(Alias::new("locality_code"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared("DROP TRIGGER responses_counted ON responses")
                    .await?;
                db.execute_unprepared("DROP FUNCTION hailong_count_response()")
                    .await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER responses_counted")
                    .await?;
            }
        }
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("response_counts"))
                    .to_owned(),
            )
            .await
    }
}
