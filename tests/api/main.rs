//! Black-box tests: the real server on a random port with a fresh database,
//! spoken to over HTTP; the real binary for command-line behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod campaigns;
mod cli;
mod health;
mod helpers;
mod pages;
mod results;
mod results_export;
mod results_pages;
mod results_waves;
