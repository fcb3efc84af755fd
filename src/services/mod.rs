//! Use cases over the database. Functions take `&impl ConnectionTrait` so they
//! compose inside transactions.

pub mod campaigns;
pub mod demo;
pub mod export;
pub mod localities;
pub mod results;
pub mod targets;
