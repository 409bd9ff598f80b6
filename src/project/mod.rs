//! Projects: the `segl.toml` settings and which files of a project folder are rule files.
//!
//! Everything here works on text and path strings; the CLI does the reading and the walking.

pub mod config;
pub mod data;
pub mod glob;

pub use config::{AsOf, Config, parse_config};

/// The folder, relative to a project, whose `.segl` files are data fixtures rather than rules.
pub const DATA_DIR: &str = "data";

/// Whether a file (path relative to the project root, `/`-separated) is one of the project's
/// rule files: it matches one of the `rules` patterns of `segl.toml`, or, without that list, it
/// is a `.segl` file that is not below `data/`.
#[must_use]
pub fn is_rule_file(relative_path: &str, config: Option<&Config>) -> bool {
    match config.and_then(|c| c.rules.as_ref()) {
        Some(patterns) => patterns
            .iter()
            .any(|(pattern, _)| glob::matches(pattern, relative_path)),
        None => {
            relative_path.ends_with(".segl") && !relative_path.starts_with(&format!("{DATA_DIR}/"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rule_files_skip_data() {
        assert!(is_rule_file("schema.segl", None));
        assert!(is_rule_file("segments/emea.segl", None));
        assert!(!is_rule_file("data/fixture.segl", None));
        assert!(!is_rule_file("notes.txt", None));
        assert!(is_rule_file("metadata/x.segl", None));
    }
}
