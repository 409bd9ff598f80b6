//! The one integration-test binary.

mod parse;
