//! Shards: which jobs of a sweep one process runs.
//!
//! Shard `I/N` runs the jobs whose index in the sweep is `I` modulo `N` (round robin), not a
//! contiguous block: jobs are listed scenario by scenario, so blocks would hand one shard all
//! the jobs of the slowest scenario (say `long_tail`) and another only `small` ones;
//! interleaving gives every shard the same mix, so shards finish together. The price is that
//! every shard computes the oracle of every scenario once (cheap next to the runs).

use std::fmt;

use crate::error::{Error, Result};

/// Shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    index: usize,
    count: usize,
}

/// Environment variable carrying the shard count for Kubernetes Indexed Jobs (which set
/// only `JOB_COMPLETION_INDEX`); in a Slurm array, if set, it must agree with
/// `SLURM_ARRAY_TASK_COUNT`.
pub const SHARD_COUNT_VAR: &str = "ADBANDIT_SHARD_COUNT";

impl Shard {
    /// The whole sweep as one shard.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] unless `count >= 1` and `index < count`.
    pub fn new(index: usize, count: usize) -> Result<Self> {
        if count == 0 || index >= count {
            return Err(Error::invalid(
                "shard",
                format!("{index}/{count}"),
                "needs count >= 1 and 0 <= index < count",
            ));
        }
        Ok(Shard { index, count })
    }

    /// Index (0-based).
    pub fn index(&self) -> usize {
        self.index
    }
    /// Number of shards.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Whether the job at `job_index` in the sweep belongs to this shard.
    pub fn owns(&self, job_index: usize) -> bool {
        job_index % self.count == self.index
    }

    /// Parses `I/N`, or `auto` / `auto/N` taking the index (and count) from the process
    /// environment; see [`Shard::parse_with`].
    ///
    /// # Errors
    /// As [`Shard::parse_with`].
    pub fn parse(spec: &str) -> Result<Self> {
        Shard::parse_with(spec, |k| std::env::var(k).ok())
    }

    /// Parses a shard spec, reading variables through `var`:
    /// - `I/N`: shard I of N;
    /// - `auto`: the index from `JOB_COMPLETION_INDEX` (Kubernetes Indexed Job) or
    ///   `SLURM_ARRAY_TASK_ID` (Slurm array); the count from `SLURM_ARRAY_TASK_COUNT` in a
    ///   Slurm array (so the script's `--array` is the one place that sets it), else from
    ///   [`SHARD_COUNT_VAR`];
    /// - `auto/N`: the same index, count N.
    ///
    /// Every count that is configured must agree: `N` of `auto/N`, [`SHARD_COUNT_VAR`] and
    /// `SLURM_ARRAY_TASK_COUNT`. A Slurm array must be numbered `0-(N-1)` without a step
    /// (`SLURM_ARRAY_TASK_MIN` = 0, `SLURM_ARRAY_TASK_MAX` = N − 1), since the task id is
    /// the shard index. A smaller array than meant, or a re-submission of a few task ids,
    /// is thus refused at start instead of surfacing as missing jobs at merge; re-run tasks
    /// with `scontrol requeue` or by submitting the whole array again (finished shards
    /// find every job done and exit at once).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a malformed spec, a missing or non-numeric variable,
    /// counts that disagree, a Slurm array not numbered from 0, or an index outside the
    /// count.
    pub fn parse_with(spec: &str, var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let num = |field: &str, s: &str| -> Result<usize> {
            s.trim()
                .parse::<usize>()
                .map_err(|_| Error::invalid(field.to_owned(), s, "not a non-negative integer"))
        };
        let env_num = |name: &str| var(name).map(|v| num(name, &v)).transpose();
        let (i, n) = spec.split_once('/').unwrap_or((spec, ""));
        if i != "auto" {
            if n.is_empty() {
                return Err(Error::invalid(
                    "shard",
                    spec,
                    "expected I/N, auto or auto/N",
                ));
            }
            return Shard::new(num("shard index", i)?, num("shard count", n)?);
        }
        let k8s = env_num("JOB_COMPLETION_INDEX")?;
        let slurm = if k8s.is_none() {
            env_num("SLURM_ARRAY_TASK_ID")?
        } else {
            None
        };
        let Some(index) = k8s.or(slurm) else {
            return Err(Error::invalid(
                "shard",
                spec,
                "`auto` needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID in the environment",
            ));
        };
        // Every configured count, with where it came from.
        let mut counts: Vec<(String, usize)> = Vec::new();
        if slurm.is_some() {
            let count = env_num("SLURM_ARRAY_TASK_COUNT")?;
            if let Some(c) = count {
                counts.push(("SLURM_ARRAY_TASK_COUNT".into(), c));
                let (min, max) = (
                    env_num("SLURM_ARRAY_TASK_MIN")?,
                    env_num("SLURM_ARRAY_TASK_MAX")?,
                );
                if min.is_some_and(|m| m != 0) || max.is_some_and(|m| m + 1 != c) {
                    return Err(Error::invalid(
                        "SLURM_ARRAY_TASK_MIN..SLURM_ARRAY_TASK_MAX",
                        format!(
                            "{}..{} with {c} tasks",
                            min.map_or("?".into(), |m| m.to_string()),
                            max.map_or("?".into(), |m| m.to_string())
                        ),
                        "the array must be --array=0-(N-1), every task id a shard index: \
                         submit the whole array (finished shards exit at once) or use \
                         scontrol requeue",
                    ));
                }
            }
        }
        if let Some(c) = env_num(SHARD_COUNT_VAR)? {
            counts.push((SHARD_COUNT_VAR.into(), c));
        }
        if !n.is_empty() {
            counts.push((format!("--shard {spec}"), num("shard count", n)?));
        }
        let Some((_, count)) = counts.first().cloned() else {
            return Err(Error::invalid(
                "shard",
                spec,
                "`auto` needs the count: auto/N, ADBANDIT_SHARD_COUNT or SLURM_ARRAY_TASK_COUNT",
            ));
        };
        if let Some((src, c)) = counts.iter().find(|(_, c)| *c != count) {
            let list: Vec<String> = counts.iter().map(|(s, c)| format!("{s} = {c}")).collect();
            return Err(Error::invalid(
                "shard count",
                list.join(", "),
                format!(
                    "{src} says {c} but {} says {count}: set the count in one place",
                    counts[0].0
                ),
            ));
        }
        Shard::new(index, count)
    }

    /// The result file name of this shard: `shard-III-of-NNN.jsonl`.
    pub fn file_name(&self) -> String {
        format!("shard-{:03}-of-{:03}.jsonl", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let v: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        move |k| v.iter().find(|(a, _)| a == k).map(|(_, b)| b.clone())
    }

    #[test]
    fn explicit_and_environment_specs() {
        assert_eq!(
            Shard::parse_with("2/5", env(&[])).unwrap(),
            Shard::new(2, 5).unwrap()
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3"), (SHARD_COUNT_VAR, "8")]);
        assert_eq!(
            Shard::parse_with("auto", &k8s).unwrap(),
            Shard::new(3, 8).unwrap()
        );
        let k8s_plain = env(&[("JOB_COMPLETION_INDEX", "3")]);
        assert_eq!(
            Shard::parse_with("auto/4", &k8s_plain).unwrap(),
            Shard::new(3, 4).unwrap()
        );
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        assert_eq!(
            Shard::parse_with("auto", &slurm).unwrap(),
            Shard::new(7, 8).unwrap()
        );
        // Issue 17: a smaller array than configured passed silently until merge. Every
        // configured count must agree, and the array must be numbered 0..N-1.
        let slurm4 = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "3"),
        ]);
        assert_eq!(
            Shard::parse_with("auto", &slurm4).unwrap(),
            Shard::new(3, 4).unwrap()
        );
        let err = Shard::parse_with("auto/8", &slurm4)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("SLURM_ARRAY_TASK_COUNT = 4") && err.contains("8"),
            "{err}"
        );
        let configured = env(&[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            (SHARD_COUNT_VAR, "8"),
        ]);
        assert!(Shard::parse_with("auto", &configured).is_err());
        // A re-submission of tasks 3 and 5 only: the ids are not 0..count.
        let rerun = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
            ("SLURM_ARRAY_TASK_MIN", "3"),
            ("SLURM_ARRAY_TASK_MAX", "5"),
        ]);
        assert!(Shard::parse_with("auto", &rerun).is_err());
        assert!(Shard::parse_with("auto/8", &rerun).is_err());
        // Kubernetes: the index from the Job, the count from the pod's environment.
        assert!(Shard::parse_with("auto/4", &k8s).is_err());
        for bad in ["5/5", "1/0", "x/2", "3", "-1/2", "auto"] {
            assert!(Shard::parse_with(bad, env(&[])).is_err(), "accepted {bad}");
        }
        assert!(Shard::parse_with("auto", env(&[("JOB_COMPLETION_INDEX", "1")])).is_err());
    }

    #[test]
    fn shards_partition_the_jobs() {
        let n = 3;
        for j in 0..20 {
            let owners = (0..n)
                .filter(|&i| Shard::new(i, n).unwrap().owns(j))
                .count();
            assert_eq!(owners, 1);
        }
        assert_eq!(
            Shard::new(2, 10).unwrap().file_name(),
            "shard-002-of-010.jsonl"
        );
    }
}
