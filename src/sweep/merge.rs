//! Merging shard results: every job of the sweep exactly once, then the same summary as a
//! single-machine run (results are put back in sweep order before summarising).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::compare::report::Comparison;
use crate::compare::{Job, JobResult, Summary, summarise};
use crate::error::{Error, Result};
use crate::sweep::store::{Manifest, ResultFile, io};

/// Jobs missing from, or repeated in, a set of result files.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Coverage {
    /// Jobs with no result.
    pub missing: Vec<Job>,
    /// Jobs with more than one result, with the files holding them.
    pub duplicated: Vec<(Job, Vec<PathBuf>)>,
}

impl Coverage {
    /// Whether every job is present exactly once.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.duplicated.is_empty()
    }

    fn describe(&self) -> String {
        const SHOW: usize = 20;
        let mut s = String::new();
        let job = |j: &Job| {
            format!(
                "{} ({} / {} / seed {})",
                j.id, j.scenario, j.strategy, j.seed
            )
        };
        if !self.missing.is_empty() {
            let _ = write!(s, "{} job(s) missing:", self.missing.len());
            for j in self.missing.iter().take(SHOW) {
                let _ = write!(s, " {};", job(j));
            }
            if self.missing.len() > SHOW {
                let _ = write!(s, " and {} more;", self.missing.len() - SHOW);
            }
        }
        if !self.duplicated.is_empty() {
            let _ = write!(s, " {} job(s) duplicated:", self.duplicated.len());
            for (j, files) in self.duplicated.iter().take(SHOW) {
                let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                let _ = write!(s, " {} in {};", job(j), files.join(", "));
            }
            if self.duplicated.len() > SHOW {
                let _ = write!(s, " and {} more;", self.duplicated.len() - SHOW);
            }
        }
        s.trim().to_owned()
    }
}

/// The merged sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The sweep's manifest.
    pub manifest: Manifest,
    /// Results in sweep order.
    pub results: Vec<JobResult>,
    /// Their summary against the manifest's baseline.
    pub summary: Summary,
    /// Result files read.
    pub files: Vec<PathBuf>,
    /// Torn last lines dropped (their jobs would be reported missing).
    pub dropped_partial_lines: usize,
}

impl Merged {
    /// As a [`Comparison`] for [`crate::compare::report::write_all`] and the plots.
    pub fn comparison(&self) -> Comparison {
        Comparison {
            options: self.manifest.options,
            results: self.results.clone(),
            summary: self.summary.clone(),
        }
    }
}

/// Result files and manifests under `paths` (directories, not recursive, or files).
fn scan<P: AsRef<Path>>(paths: &[P]) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let (mut results, mut manifests) = (Vec::new(), Vec::new());
    let mut add = |p: PathBuf| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.ends_with(".jsonl") {
            results.push(p);
        } else if name.starts_with("manifest-") && name.ends_with(".json") {
            manifests.push(p);
        }
    };
    for p in paths {
        let p = p.as_ref();
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| io(p, e))?
                .map(|e| e.map(|e| e.path()).map_err(|e| io(p, e)))
                .collect::<Result<_>>()?;
            entries.sort();
            entries.into_iter().for_each(&mut add);
        } else if p.is_file() {
            // A result file: its manifest sits next to it.
            add(p.to_owned());
            let dir = p.parent().unwrap_or(Path::new("."));
            let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| io(dir, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|e| {
                    e.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("manifest-"))
                })
                .collect();
            entries.sort();
            entries.into_iter().for_each(&mut add);
        } else {
            return Err(io(p, "no such file or directory"));
        }
    }
    results.sort();
    results.dedup();
    manifests.sort();
    manifests.dedup();
    Ok((results, manifests))
}

/// Reads the result files under `paths` (directories or `.jsonl` files, with the
/// `manifest-*.json` the shards wrote next to them), checks that they all belong to one
/// sweep and cover each of its jobs exactly once, and summarises them in sweep order.
///
/// # Errors
/// [`Error::Inconsistent`] for results of different sweeps (naming the fingerprints and
/// files), for missing or duplicated jobs (naming their ids), or for lines whose job is not
/// in the sweep; [`Error::Io`] / [`Error::Parse`] for unreadable files.
pub fn merge<P: AsRef<Path>>(paths: &[P]) -> Result<Merged> {
    let g = gather(paths)?;
    let coverage = g.coverage();
    if !coverage.is_complete() {
        return Err(Error::Inconsistent {
            field: format!(
                "sweep {} ({} jobs)",
                g.manifest.fingerprint,
                g.manifest.jobs.len()
            ),
            reason: coverage.describe(),
        });
    }
    let results: Vec<JobResult> = g
        .found
        .into_iter()
        .filter_map(|mut h| h.pop().map(|h| h.0))
        .collect();
    let summary = summarise(&results, &g.manifest.baseline);
    Ok(Merged {
        manifest: g.manifest,
        results,
        summary,
        files: g.files,
        dropped_partial_lines: g.dropped,
    })
}

/// Which jobs of the sweep under `paths` are missing or duplicated, without failing on
/// them (e.g. to watch shards that still run).
///
/// # Errors
/// As [`merge()`], except for incomplete coverage.
pub fn coverage<P: AsRef<Path>>(paths: &[P]) -> Result<Coverage> {
    Ok(gather(paths)?.coverage())
}

struct Gathered {
    manifest: Manifest,
    found: Vec<Vec<(JobResult, PathBuf)>>,
    files: Vec<PathBuf>,
    dropped: usize,
}

impl Gathered {
    fn coverage(&self) -> Coverage {
        let mut coverage = Coverage::default();
        for (job, hits) in self.manifest.jobs.iter().zip(&self.found) {
            match hits.len() {
                0 => coverage.missing.push(job.clone()),
                1 => {}
                _ => coverage
                    .duplicated
                    .push((job.clone(), hits.iter().map(|h| h.1.clone()).collect())),
            }
        }
        coverage
    }
}

fn gather<P: AsRef<Path>>(paths: &[P]) -> Result<Gathered> {
    let (files, manifest_files) = scan(paths)?;
    let mut manifests: BTreeMap<String, (Manifest, Vec<PathBuf>)> = BTreeMap::new();
    for p in &manifest_files {
        let m = Manifest::load(p)?;
        manifests
            .entry(m.fingerprint.clone())
            .or_insert_with(|| (m, Vec::new()))
            .1
            .push(p.clone());
    }
    if manifests.len() > 1 {
        let list: Vec<String> = manifests
            .iter()
            .map(|(fp, (_, ps))| {
                let ps: Vec<String> = ps.iter().map(|p| p.display().to_string()).collect();
                format!("{fp} ({})", ps.join(", "))
            })
            .collect();
        return Err(Error::Inconsistent {
            field: "merge".into(),
            reason: format!(
                "results of {} different sweeps cannot be merged: {}",
                manifests.len(),
                list.join("; ")
            ),
        });
    }
    let Some((_, (manifest, _))) = manifests.pop_first() else {
        return Err(Error::invalid(
            "merge",
            paths
                .iter()
                .map(|p| p.as_ref().display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            "no sweep manifest (manifest-*.json) found: not a sweep results directory",
        ));
    };
    let n = manifest.jobs.len();
    let mut found: Vec<Vec<(JobResult, PathBuf)>> = vec![Vec::new(); n];
    let mut dropped = 0;
    for f in &files {
        let rf = ResultFile::read(f)?;
        dropped += usize::from(rf.dropped_partial_line);
        for (k, l) in rf.lines.into_iter().enumerate() {
            let at = || format!("{} line {}", f.display(), k + 1);
            if l.sweep != manifest.fingerprint {
                return Err(Error::Inconsistent {
                    field: at(),
                    reason: format!(
                        "belongs to sweep {}, not {} (the manifest's): results of different \
                         sweep files cannot be merged",
                        l.sweep, manifest.fingerprint
                    ),
                });
            }
            if manifest.jobs.get(l.index).map(|j| &j.id) != Some(&l.result.job.id) {
                return Err(Error::Inconsistent {
                    field: at(),
                    reason: format!(
                        "job {} at index {} is not in the sweep",
                        l.result.job.id, l.index
                    ),
                });
            }
            found[l.index].push((l.result, f.clone()));
        }
    }
    Ok(Gathered {
        manifest,
        found,
        files,
        dropped,
    })
}
