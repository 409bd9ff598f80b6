//! The one integration-test binary: one module per area, fixtures under `tests/fixtures/`.

// Test helpers may stop the test with a message: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod check;
mod ci;
mod cli;
mod datacheck;
mod dbt;
mod diff;
mod differential;
mod explain;
mod fmt;
mod history;
mod lint;
mod load;
mod parse;
mod render;
mod report;
mod run;
mod sample;
mod scaffold;
mod sql;
mod sql_engines;
mod stream;
mod testing;
