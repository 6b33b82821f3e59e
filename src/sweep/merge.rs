//! Merging shard results: every job of the sweep exactly once, then the same summary as a
//! single-machine run (results are put back in sweep order before summarising).
//!
//! Byte-identical copies of a job's line are accepted and counted: two writers of one shard
//! (a Kubernetes replacement pod starting while the old one still terminates, a requeued
//! Slurm task) run the same deterministic job and append the same bytes. Copies that differ
//! are refused. [`repair`] writes a clean, de-duplicated copy of a results directory.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::compare::report::Comparison;
use crate::compare::{Job, JobResult, Summary, summarise};
use crate::error::{Error, Result};
use crate::sweep::store::{DamagedLine, Manifest, ResultFile, ResultLine};

/// Where a line is: file and 1-based line number.
pub type LineAt = (PathBuf, usize);

/// Jobs missing from, or repeated in, a set of result files.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Coverage {
    /// Jobs with no result.
    pub missing: Vec<Job>,
    /// Jobs with more than one copy, all byte-identical (accepted), with where each is.
    pub duplicated: Vec<(Job, Vec<LineAt>)>,
    /// Jobs whose copies differ (refused), with where each is.
    pub conflicting: Vec<(Job, Vec<LineAt>)>,
}

impl Coverage {
    /// Whether every job is present, and its copies (if several) agree.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.conflicting.is_empty()
    }

    /// Extra identical copies (lines beyond the first of each job).
    pub fn duplicate_lines(&self) -> usize {
        self.duplicated.iter().map(|(_, at)| at.len() - 1).sum()
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
        if !self.conflicting.is_empty() {
            let _ = write!(
                s,
                " {} job(s) with conflicting copies (`repair` can drop them for a re-run):",
                self.conflicting.len()
            );
            for (j, at) in self.conflicting.iter().take(SHOW) {
                let at: Vec<String> = at
                    .iter()
                    .map(|(f, l)| format!("{} line {l}", f.display()))
                    .collect();
                let _ = write!(s, " {} at {};", job(j), at.join(", "));
            }
            if self.conflicting.len() > SHOW {
                let _ = write!(s, " and {} more;", self.conflicting.len() - SHOW);
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
    /// Jobs found more than once, byte-identical (accepted; the extra copies are ignored).
    pub duplicated: Vec<(Job, Vec<LineAt>)>,
    /// Lines without a checksum (written before checksums existed): read, not verified.
    pub unverified_lines: usize,
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
                .map_err(|e| Error::io(p, e))?
                .map(|e| e.map(|e| e.path()).map_err(|e| Error::io(p, e)))
                .collect::<Result<_>>()?;
            entries.sort();
            entries.into_iter().for_each(&mut add);
        } else if p.is_file() {
            // A result file: its manifest sits next to it.
            add(p.to_owned());
            let dir = p.parent().unwrap_or(Path::new("."));
            let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| Error::io(dir, e))?
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
            return Err(Error::io(p, "no such file or directory"));
        }
    }
    results.sort();
    results.dedup();
    manifests.sort();
    manifests.dedup();
    Ok((results, manifests))
}

/// Reads the result files under `paths` (directories or `.jsonl` files, with the
/// `manifest-*.json` the shards wrote next to them), verifies every line's checksum, checks
/// that they all belong to one sweep and cover each of its jobs (byte-identical extra
/// copies are accepted and listed in [`Merged::duplicated`]), and summarises them in sweep
/// order.
///
/// # Errors
/// [`Error::Inconsistent`] for results of different sweeps (naming the fingerprints and
/// files), for missing jobs or jobs whose copies differ (naming their ids, files and
/// lines), or for lines whose job is not in the sweep; [`Error::Parse`] naming the file and
/// line for a damaged line (checksum mismatch); [`Error::Io`] for unreadable files.
pub fn merge<P: AsRef<Path>>(paths: &[P]) -> Result<Merged> {
    let g = gather(paths, false)?;
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
        .filter_map(|h| h.into_iter().next().map(|h| h.value.result))
        .collect();
    let summary = summarise(&results, &g.manifest.baseline);
    Ok(Merged {
        manifest: g.manifest,
        results,
        summary,
        files: g.files,
        dropped_partial_lines: g.dropped,
        duplicated: coverage.duplicated,
        unverified_lines: g.unverified,
    })
}

/// Which jobs of the sweep under `paths` are missing or duplicated, without failing on
/// them (e.g. to watch shards that still run).
///
/// # Errors
/// As [`merge()`], except for incomplete coverage.
pub fn coverage<P: AsRef<Path>>(paths: &[P]) -> Result<Coverage> {
    Ok(gather(paths, false)?.coverage())
}

/// One copy of a job's line.
struct Hit {
    file: PathBuf,
    line: usize,
    digest: u64,
    value: ResultLine,
}

struct Gathered {
    manifest: Manifest,
    found: Vec<Vec<Hit>>,
    files: Vec<PathBuf>,
    dropped: usize,
    unverified: usize,
    /// Damaged lines (lenient reads only).
    damaged: Vec<(PathBuf, DamagedLine)>,
}

impl Gathered {
    fn coverage(&self) -> Coverage {
        let mut coverage = Coverage::default();
        for (job, hits) in self.manifest.jobs.iter().zip(&self.found) {
            let at = || hits.iter().map(|h| (h.file.clone(), h.line)).collect();
            match hits.split_first() {
                None => coverage.missing.push(job.clone()),
                Some((_, [])) => {}
                Some((first, rest)) if rest.iter().all(|h| h.digest == first.digest) => {
                    coverage.duplicated.push((job.clone(), at()));
                }
                Some(_) => coverage.conflicting.push((job.clone(), at())),
            }
        }
        coverage
    }
}

fn gather<P: AsRef<Path>>(paths: &[P], lenient: bool) -> Result<Gathered> {
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
    let mut found: Vec<Vec<Hit>> = std::iter::repeat_with(Vec::new).take(n).collect();
    let (mut dropped, mut unverified, mut damaged) = (0, 0, Vec::new());
    for f in &files {
        let rf = if lenient {
            ResultFile::read_lenient(f)?
        } else {
            ResultFile::read(f)?
        };
        dropped += usize::from(rf.dropped_partial_line);
        unverified += rf.unverified();
        damaged.extend(rf.damaged.into_iter().map(|d| (f.clone(), d)));
        for s in rf.lines {
            let l = &s.value;
            let at = || format!("{} line {}", f.display(), s.line);
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
            found[l.index].push(Hit {
                file: f.clone(),
                line: s.line,
                digest: s.digest,
                value: s.value,
            });
        }
    }
    Ok(Gathered {
        manifest,
        found,
        files,
        dropped,
        unverified,
        damaged,
    })
}

/// What [`repair`] may drop to produce a clean copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RepairOptions {
    /// Drop damaged lines (checksum mismatch, not a result line) and every copy of a job
    /// whose copies conflict, instead of refusing; their jobs are then missing, and a
    /// resume of the repaired directory re-runs them (results are deterministic).
    pub drop_damaged: bool,
}

/// What [`repair`] wrote and dropped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Repaired {
    /// Result files written, in name order.
    pub files: Vec<PathBuf>,
    /// Jobs written (one line each).
    pub jobs: usize,
    /// Identical extra copies dropped.
    pub duplicate_lines: usize,
    /// Damaged lines dropped, with where they were and why.
    pub damaged: Vec<(PathBuf, DamagedLine)>,
    /// Jobs dropped because their copies conflicted (to be re-run by a resume).
    pub conflicting: Vec<Job>,
    /// Jobs of the sweep with no line in the copy (never run, or dropped): a resume runs them.
    pub missing: usize,
    /// Lines of older writers (no checksum) copied with a checksum added.
    pub unverified_lines: usize,
    /// Torn last lines left behind.
    pub dropped_partial_lines: usize,
}

/// Writes a clean copy of the results under `inputs` into `out` (a new or empty directory):
/// the manifest, and each job's line exactly once, with its checksum, in the file of the
/// shard that owns it (`shard-III-of-NNN.jsonl`, the shard count read from the file it came
/// from) in sweep order, so the copy both merges and resumes. Byte-identical duplicates
/// are dropped and counted.
///
/// # Errors
/// [`Error::InvalidValue`] if `out` is not empty; as [`merge()`] for results of several
/// sweeps; [`Error::Inconsistent`] for damaged lines or conflicting copies, naming file and
/// line, unless [`RepairOptions::drop_damaged`]; [`Error::Io`].
pub fn repair<P: AsRef<Path>>(inputs: &[P], out: &Path, opts: RepairOptions) -> Result<Repaired> {
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(|e| Error::io(out, e))?;
        if entries.next().is_some() {
            return Err(Error::invalid(
                "repair output",
                out.display(),
                "must be a new or empty directory (the inputs are never changed)",
            ));
        }
    }
    let g = gather(inputs, true)?;
    let coverage = g.coverage();
    if !opts.drop_damaged {
        if let Some((f, d)) = g.damaged.first() {
            return Err(Error::Inconsistent {
                field: format!("{} line {}", f.display(), d.line),
                reason: format!(
                    "{} ({} damaged line(s) in all; repair with drop_damaged to drop them \
                     and re-run their jobs)",
                    d.reason,
                    g.damaged.len()
                ),
            });
        }
        if !coverage.conflicting.is_empty() {
            return Err(Error::Inconsistent {
                field: format!("sweep {}", g.manifest.fingerprint),
                reason: coverage.describe(),
            });
        }
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    g.manifest.write(out, "repair")?;
    let conflicting: Vec<&str> = coverage
        .conflicting
        .iter()
        .map(|(j, _)| j.id.as_str())
        .collect();
    // Output file name -> lines, in sweep order (jobs are visited in order).
    let mut by_file: BTreeMap<String, String> = BTreeMap::new();
    let mut jobs = 0;
    for (job, hits) in g.manifest.jobs.iter().zip(&g.found) {
        let Some(first) = hits.first() else { continue };
        if conflicting.contains(&job.id.as_str()) {
            continue;
        }
        let name = first
            .file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("results.jsonl");
        let name = match crate::sweep::store::shard_count_of(name) {
            Some(n) if n > 0 => crate::sweep::Shard::new(first.value.index % n, n)?.file_name(),
            _ => name.to_owned(),
        };
        by_file
            .entry(name)
            .or_default()
            .push_str(&first.value.encode()?);
        jobs += 1;
    }
    let mut files = Vec::new();
    for (name, text) in by_file {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        files.push(path);
    }
    Ok(Repaired {
        files,
        jobs,
        duplicate_lines: coverage.duplicate_lines(),
        damaged: g.damaged,
        missing: g.manifest.jobs.len() - jobs,
        conflicting: coverage.conflicting.into_iter().map(|(j, _)| j).collect(),
        unverified_lines: g.unverified,
        dropped_partial_lines: g.dropped,
    })
}
