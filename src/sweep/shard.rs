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
/// only `JOB_COMPLETION_INDEX`).
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
    /// - `auto/N`: index from `JOB_COMPLETION_INDEX` (Kubernetes Indexed Job) or
    ///   `SLURM_ARRAY_TASK_ID` (Slurm array, which must then be numbered from 0: the id is
    ///   used as is, so re-running a subset such as `--array=3,5` keeps each task's
    ///   shard), count N;
    /// - `auto`: the same index, count from [`SHARD_COUNT_VAR`] or `SLURM_ARRAY_TASK_COUNT`.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a malformed spec, a missing or non-numeric variable, or
    /// an index outside the count.
    pub fn parse_with(spec: &str, var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let num = |field: &str, s: &str| -> Result<usize> {
            s.trim()
                .parse::<usize>()
                .map_err(|_| Error::invalid(field.to_owned(), s, "not a non-negative integer"))
        };
        let (i, n) = spec.split_once('/').unwrap_or((spec, ""));
        let index = if i == "auto" {
            if let Some(v) = var("JOB_COMPLETION_INDEX") {
                num("JOB_COMPLETION_INDEX", &v)?
            } else if let Some(v) = var("SLURM_ARRAY_TASK_ID") {
                num("SLURM_ARRAY_TASK_ID", &v)?
            } else {
                return Err(Error::invalid(
                    "shard",
                    spec,
                    "`auto` needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID in the environment",
                ));
            }
        } else {
            num("shard index", i)?
        };
        let count = if !n.is_empty() {
            num("shard count", n)?
        } else if i != "auto" {
            return Err(Error::invalid(
                "shard",
                spec,
                "expected I/N, auto or auto/N",
            ));
        } else if let Some(v) = var(SHARD_COUNT_VAR) {
            num(SHARD_COUNT_VAR, &v)?
        } else if let Some(v) = var("SLURM_ARRAY_TASK_COUNT") {
            num("SLURM_ARRAY_TASK_COUNT", &v)?
        } else {
            return Err(Error::invalid(
                "shard",
                spec,
                "`auto` needs the count: auto/N, ADBANDIT_SHARD_COUNT or SLURM_ARRAY_TASK_COUNT",
            ));
        };
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
        assert_eq!(
            Shard::parse_with("auto/4", &k8s).unwrap(),
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
        // A re-run of tasks 3 and 5 only: the count must come from auto/N.
        let rerun = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ]);
        assert!(Shard::parse_with("auto", &rerun).is_err());
        assert_eq!(
            Shard::parse_with("auto/8", &rerun).unwrap(),
            Shard::new(5, 8).unwrap()
        );
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
