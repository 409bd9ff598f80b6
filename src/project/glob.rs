//! A small glob matcher for the `rules` list of `segl.toml`: `*`, `?` and `**`.
//!
//! Paths and patterns use `/` between folders. `*` and `?` never match `/`; `**` matches any
//! number of whole folders (`segments/**/*.segl` also matches `segments/a.segl`). A pattern
//! without any wildcard that names a folder matches every `.segl` file below it.

/// Whether `path` matches `pattern`.
#[must_use]
pub fn matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
    if !has_wildcard(pattern)
        && path.ends_with(".segl")
        && let Some(rest) = path.strip_prefix(pattern)
        && (rest.is_empty() || rest.starts_with('/'))
    {
        return true;
    }
    let pat: Vec<&str> = pattern.split('/').collect();
    let parts: Vec<&str> = path.split('/').collect();
    match_parts(&pat, &parts)
}

fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

fn match_parts(pat: &[&str], parts: &[&str]) -> bool {
    match pat.split_first() {
        None => parts.is_empty(),
        Some((&"**", rest)) => (0..=parts.len()).any(|skip| match_parts(rest, &parts[skip..])),
        Some((first, rest)) => match parts.split_first() {
            Some((part, more)) => match_segment(first, part) && match_parts(rest, more),
            None => false,
        },
    }
}

fn match_segment(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Classic wildcard matching with backtracking on the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards() {
        assert!(matches("*.segl", "a.segl"));
        assert!(!matches("*.segl", "dir/a.segl"));
        assert!(matches("**/*.segl", "dir/sub/a.segl"));
        assert!(matches("**/*.segl", "a.segl"));
        assert!(matches("segments/**/*.segl", "segments/a.segl"));
        assert!(matches("segments/s?.segl", "segments/s1.segl"));
        assert!(!matches("segments/s?.segl", "segments/s12.segl"));
        assert!(matches("./schema.segl", "schema.segl"));
    }

    #[test]
    fn plain_folder_means_everything_below() {
        assert!(matches("segments", "segments/x/a.segl"));
        assert!(matches("segments/", "segments/a.segl"));
        assert!(!matches("segments", "segments2/a.segl"));
        assert!(!matches("segments", "segments/readme.md"));
    }
}
