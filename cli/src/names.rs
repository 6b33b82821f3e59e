//! Built-in names (scenarios, strategies) resolved before file paths, with "did you mean".

use std::path::Path;

use adbandit::compare::BUILTIN_NAMES;
use adbandit::sim::Scenario;

use crate::{Failure, Outcome};

/// Levenshtein distance on characters (names are short; O(n·m) is nothing).
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `" (did you mean `x`?)"` for the closest of `known` within a third of the name's length
/// (at least 2 edits), else `""`.
pub(crate) fn did_you_mean<S: AsRef<str>>(name: &str, known: &[S]) -> String {
    let limit = (name.chars().count() / 3).max(2);
    known
        .iter()
        .map(|k| {
            (
                distance(&name.to_lowercase(), &k.as_ref().to_lowercase()),
                k.as_ref(),
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map_or(String::new(), |(_, k)| format!(" (did you mean `{k}`?)"))
}

/// A built-in scenario by name, else a scenario file. A name that is neither a built-in nor
/// an existing file, and does not look like a path, is a usage error listing the built-ins.
pub(crate) fn scenario(name_or_file: &str) -> Outcome<Scenario> {
    if Scenario::BUILTIN.contains(&name_or_file) {
        return Ok(Scenario::builtin(name_or_file)?);
    }
    let looks_like_path = name_or_file.contains(['/', '\\', '.']);
    if !looks_like_path && !Path::new(name_or_file).exists() {
        return Err(Failure::Usage(format!(
            "unknown scenario `{name_or_file}`{}; built-in scenarios: {} (or give a scenario \
             file)",
            did_you_mean(name_or_file, &Scenario::BUILTIN),
            Scenario::BUILTIN.join(", ")
        )));
    }
    Ok(Scenario::load(name_or_file)?)
}

/// Strategy names from `--strategies` (`all` = every built-in), checked, in order, unique.
pub(crate) fn strategies(list: &[String]) -> Outcome<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let add: Vec<&str> = if s == "all" {
            BUILTIN_NAMES.to_vec()
        } else if BUILTIN_NAMES.contains(&s) {
            vec![s]
        } else {
            return Err(Failure::Usage(format!(
                "unknown strategy `{s}`{}; strategies: {}, or all",
                did_you_mean(s, &BUILTIN_NAMES),
                BUILTIN_NAMES.join(", ")
            )));
        };
        for a in add {
            if !out.iter().any(|o| o == a) {
                out.push(a.to_owned());
            }
        }
    }
    if out.is_empty() {
        return Err(Failure::Usage("--strategies: needs at least one".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(distance("drfit", "drift"), 2);
        assert_eq!(distance("", "ab"), 2);
        assert_eq!(distance("thompson", "thompson"), 0);
        assert!(did_you_mean("drfit", &Scenario::BUILTIN).contains("`drift`"));
        assert!(did_you_mean("thomson", &BUILTIN_NAMES).contains("`thompson`"));
        assert!(did_you_mean("double11", &Scenario::BUILTIN).contains("`double_11`"));
        assert_eq!(did_you_mean("zzzzzz", &Scenario::BUILTIN), "");
    }

    #[test]
    fn names_before_paths() {
        assert!(scenario("small").is_ok());
        match scenario("smal") {
            Err(Failure::Usage(m)) => assert!(m.contains("`small`") && m.contains("long_tail")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            scenario("/no/such/file.json"),
            Err(Failure::Failed(_))
        ));
        assert_eq!(
            strategies(&["all".into()]).unwrap().len(),
            BUILTIN_NAMES.len()
        );
        assert_eq!(
            strategies(&["ucb".into(), "static".into(), "ucb".into()]).unwrap(),
            ["ucb", "static"]
        );
        assert!(
            matches!(strategies(&["ubc".into()]), Err(Failure::Usage(m)) if m.contains("`ucb`"))
        );
    }
}
