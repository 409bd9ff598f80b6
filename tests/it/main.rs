//! The one integration-test binary.

mod cli;
mod parse;
mod render;
