//! The core's integration suite. Every test runs twice: on a fresh SQLite file and on a fresh
//! database of a real PostgreSQL server (see `support`).

mod support;

mod auth;
mod backup;
mod campaigns;
mod cli;
mod clients;
mod contracts;
mod days_work;
mod export;
mod fuzz;
mod import;
mod leads;
mod migrations;
mod office;
mod pages;
mod permissions;
mod rollups;
mod services;
mod soak;
mod stats;
