//! segl: a rules language for customer segments.
//!
//! The library is pure: it takes source texts and returns values (syntax trees, typed programs,
//! diagnostics). Only the `segl` binary reads files, prints and looks at the environment.
//! See `ARCHITECTURE.md` for the stages.

pub mod check;
pub mod datacheck;
pub mod diagnostics;
pub mod diff;
pub mod engine;
pub mod explain;
pub mod fmt;
pub mod history;
pub mod infer;
pub mod ir;
pub mod lint;
pub mod project;
pub mod report;
pub mod sample;
pub mod schema;
pub mod sema;
pub mod source;
pub mod sql;
pub mod syntax;
pub mod testing;
