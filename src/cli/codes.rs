//! `segl codes`: the list of every diagnostic code with its severity and title.

use std::fmt::Write as _;

use super::{Exit, print_out};
use segl::diagnostics::{CodeStatus, REGISTRY};

pub fn run() -> Exit {
    let mut text = String::new();
    for info in REGISTRY {
        let status = match info.status {
            CodeStatus::Stable => "",
            CodeStatus::Removed => " (removed, no longer reported)",
        };
        let _ = writeln!(
            text,
            "{}  {:<7}  {}{status}",
            info.name,
            info.severity.as_str(),
            info.title
        );
    }
    text.push_str("\nRun `segl explain CODE` to read about one of them.\n");
    print_out(&text);
    Exit::Clean
}
