//! Syntax: the pest grammar in `grammar/segl.pest` turned into the [`ast`] with spans and comments.
//! The only module that knows pest.

pub mod ast;
pub mod dump;
mod errors;
mod parser;
mod scan;

pub use dump::dump;
pub use errors::RESERVED;
pub use parser::{Parsed, parse};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
