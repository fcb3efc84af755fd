//! Use cases over the database. Functions take `&impl ConnectionTrait` so they
//! compose inside transactions.

pub mod audit;
pub mod campaigns;
pub mod crosswalk;
pub mod demo;
pub mod localities;
pub mod locality_lists;
pub mod planning;
pub mod population;
pub mod sampling;
pub mod staff;
