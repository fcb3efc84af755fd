//! Black-box tests: the real server on a random port with a fresh database,
//! spoken to over HTTP; the real binary for command-line behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod campaign_setup;
mod campaigns;
mod cli;
mod crash;
mod designer;
mod estimate;
mod health;
mod helpers;
mod hostile;
mod invitations;
mod kiosk;
mod limits;
mod localities;
mod logs;
mod operations;
mod pages;
mod planning;
mod questionnaires;
mod reports;
mod responses;
mod results;
mod results_crosswalk;
mod results_export;
mod results_indices;
mod results_pages;
mod results_restricted;
mod results_waves;
mod sampling;
mod sampling_stages;
mod staff;
mod staff_collect;
mod survey;
mod throughput;
