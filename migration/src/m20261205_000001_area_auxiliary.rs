//! Area-level auxiliary data for small-area estimation: one value of one variable per
//! locality (`hailong localities auxiliary`), e.g. a census share or an administrative count,
//! used as a covariate of the Fay–Herriot model.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("area_auxiliary")
                    .col(big_pk_auto("id"))
                    .col(string("locality_code"))
                    .col(string("variable"))
                    .col(double("value"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_area_auxiliary_locality_variable")
                    .table(Alias::new("area_auxiliary"))
                    .col(Alias::new("locality_code"))
                    .col(Alias::new("variable"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("area_auxiliary")).to_owned())
            .await
    }
}
