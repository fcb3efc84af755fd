//! Failed sign-in counts, shared by every process on the database: per
//! account (`account:<keyed hash>`) and per client address (`address:<keyed
//! hash>`); neither the typed name nor the address is stored.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("login_failures")
                    .col(string("subject").primary_key())
                    .col(integer("failures"))
                    // Unix seconds of the window's first failure.
                    .col(big_integer("since"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("login_failures")).to_owned())
            .await
    }
}
