//! "Did you mean ...?": the nearest known names to a misspelt one.
//!
//! A case-insensitive exact match wins; otherwise names within an edit distance of about a third
//! of the longer name, closest first, at most four.

/// A name the user could have meant, with the word that matched it (the name itself or a synonym).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// The name to suggest.
    pub name: &'a str,
    /// Other words that refer to the same thing (schema synonyms, labels).
    pub aliases: Vec<&'a str>,
}

impl<'a> Candidate<'a> {
    #[must_use]
    pub fn plain(name: &'a str) -> Self {
        Candidate {
            name,
            aliases: Vec::new(),
        }
    }
}

fn distance(a: &str, b: &str) -> usize {
    strsim::damerau_levenshtein(&a.to_lowercase(), &b.to_lowercase())
}

fn threshold(a: &str, b: &str) -> usize {
    let len = a.chars().count().max(b.chars().count());
    (len / 3).max(1)
}

/// The best suggestions for `wanted` among `candidates`, best first, at most four, no repeats.
#[must_use]
pub fn nearest<'a>(wanted: &str, candidates: &[Candidate<'a>]) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &'a str)> = Vec::new();
    for cand in candidates {
        let words = std::iter::once(cand.name).chain(cand.aliases.iter().copied());
        let mut best: Option<usize> = None;
        for word in words {
            let score = if word.eq_ignore_ascii_case(wanted)
                || word.to_lowercase() == wanted.to_lowercase()
            {
                0
            } else {
                let d = distance(word, wanted);
                if d > threshold(word, wanted) {
                    continue;
                }
                d + 1
            };
            best = Some(best.map_or(score, |b: usize| b.min(score)));
        }
        if let Some(score) = best {
            scored.push((score, cand.name));
        }
    }
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let mut out: Vec<&'a str> = Vec::new();
    for (_, name) in scored {
        if !out.contains(&name) {
            out.push(name);
        }
        if out.len() == 4 {
            break;
        }
    }
    out
}

/// Formats suggestions as help text: "did you mean `a`?" or "did you mean `a`, `b` or `c`?".
#[must_use]
pub fn did_you_mean(names: &[&str]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(|n| format!("`{n}`")).collect();
            Some(format!("did you mean {} or `{last}`?", init.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_synonyms() {
        let arr = Candidate {
            name: "arr",
            aliases: vec!["revenue", "ARR"],
        };
        let cands = vec![arr, Candidate::plain("region"), Candidate::plain("plan")];
        assert_eq!(nearest("regoin", &cands), vec!["region"]);
        assert_eq!(nearest("Revenue", &cands), vec!["arr"]);
        assert_eq!(nearest("xyzzy", &cands), Vec::<&str>::new());
        assert_eq!(
            did_you_mean(&["a", "b", "c"]).as_deref(),
            Some("did you mean `a`, `b` or `c`?")
        );
    }
}
