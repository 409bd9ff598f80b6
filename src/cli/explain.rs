//! `segl explain CODE`: prints the documentation page of a diagnostic code.

use clap::Args;

use super::{Exit, print_out, print_usage_error};
use segl::diagnostics::{Code, REGISTRY, suggest};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A diagnostic code such as `E0300` (upper or lower case)
    code: String,
}

pub fn run(args: &ExplainArgs) -> Exit {
    if let Some(code) = Code::parse(&args.code) {
        let mut page = code.info().doc.to_owned();
        if !page.ends_with('\n') {
            page.push('\n');
        }
        print_out(&page);
        return Exit::Clean;
    }
    let wanted = args.code.trim();
    let mut message = format!("`{wanted}` is not a segl diagnostic code");
    let candidates: Vec<suggest::Candidate<'_>> = REGISTRY
        .iter()
        .map(|info| suggest::Candidate::plain(info.name))
        .collect();
    // Codes are short, so edit distance alone is generous; also offer codes with the same digits.
    let mut nearest = suggest::nearest(wanted, &candidates);
    let digits: String = wanted.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 4 {
        for info in REGISTRY {
            if info.name.ends_with(&digits) && !nearest.contains(&info.name) {
                nearest.insert(0, info.name);
            }
        }
    }
    nearest.truncate(4);
    if let Some(help) = suggest::did_you_mean(&nearest) {
        message.push_str(&format!("\n  help: {help}"));
    }
    message.push_str("\n  help: run `segl codes` to list every code");
    print_usage_error(&message);
    Exit::Usage
}
