//! Result files (JSON Lines, one finished job per line) and the sweep manifest.
//!
//! A shard appends each job's line as the job ends, in one `write` call, and syncs it to
//! disk, so a killed run keeps every finished job. A crash can leave a last line without its
//! newline: readers drop it (it is re-run on resume) instead of parsing it. Every line
//! carries the sweep fingerprint, so lines of two sweeps are never mixed.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::compare::runner::MAX_THREADS;
use crate::compare::{Job, JobResult, RunOptions};
use crate::error::{Error, Result};
use crate::sweep::shard::Shard;
use crate::sweep::spec::{FORMAT, Sweep, fingerprint};

/// One line of a result file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultLine {
    /// Fingerprint of the sweep the job belongs to.
    pub sweep: String,
    /// Index of the job in the sweep.
    pub index: usize,
    /// The job's result.
    pub result: JobResult,
}

/// The sweep as written next to its result files, so `merge` needs only the directories:
/// every job with its id, the options and the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format tag ([`FORMAT`]).
    pub format: String,
    /// Sweep name.
    pub name: String,
    /// Sweep fingerprint.
    pub fingerprint: String,
    /// Baseline strategy of the summary.
    pub baseline: String,
    /// Run options (one thread, no progress bar: they do not change results).
    pub options: RunOptions,
    /// Every job, in sweep order.
    pub jobs: Vec<Job>,
}

impl Manifest {
    /// The manifest of a sweep.
    pub fn of(sweep: &Sweep) -> Self {
        Manifest {
            format: FORMAT.to_owned(),
            name: sweep.name().to_owned(),
            fingerprint: sweep.fingerprint().to_owned(),
            baseline: sweep.baseline().to_owned(),
            options: sweep.options(),
            jobs: sweep.jobs().to_vec(),
        }
    }

    /// File name in a results directory: `manifest-<fingerprint>.json`.
    pub fn file_name(fingerprint: &str) -> String {
        format!("manifest-{fingerprint}.json")
    }

    /// Reads and checks a manifest (format, and the fingerprint against its own jobs).
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Parse`], [`Error::Inconsistent`] for a manifest whose
    /// fingerprint does not match its contents.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
        let m: Manifest = serde_json::from_str(&text).map_err(|e| Error::Parse {
            file: path.display().to_string(),
            line: e.line(),
            column: e.column().to_string(),
            reason: e.to_string(),
        })?;
        if m.format != FORMAT {
            return Err(Error::invalid(
                format!("{}: format", path.display()),
                &m.format,
                format!("this build reads {FORMAT}"),
            ));
        }
        let fp = fingerprint(&m.jobs, &m.baseline, m.options.granularity)?;
        if fp != m.fingerprint {
            return Err(Error::Inconsistent {
                field: path.display().to_string(),
                reason: format!(
                    "fingerprint {} does not match its jobs ({fp}): edited or corrupt",
                    m.fingerprint
                ),
            });
        }
        Ok(m)
    }

    /// Writes the manifest into `dir` atomically (temporary file, then rename), so shards
    /// writing it at once never leave a torn file.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Serde`].
    pub fn write(&self, dir: &Path, writer_tag: &str) -> Result<PathBuf> {
        let path = dir.join(Manifest::file_name(&self.fingerprint));
        let tmp = dir.join(format!(
            ".{}.tmp-{writer_tag}-{}",
            Manifest::file_name(&self.fingerprint),
            std::process::id()
        ));
        std::fs::write(&tmp, serde_json::to_string_pretty(self)?).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
        Ok(path)
    }
}

pub(crate) fn io(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// The complete lines of a result file.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultFile {
    /// The file.
    pub path: PathBuf,
    /// Parsed lines, in file order.
    pub lines: Vec<ResultLine>,
    /// Bytes up to the end of the last complete line.
    pub complete_len: u64,
    /// Whether an unterminated last line (a crash mid-write) was dropped.
    pub dropped_partial_line: bool,
}

impl ResultFile {
    /// Reads a result file (a missing file reads as empty). A last line without its newline
    /// is dropped, not parsed.
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::Parse`] with the line number for a complete line that is not
    /// a result line (the file is damaged in a way a crash cannot explain).
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(path, e)),
        };
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let dropped_partial_line = bytes[complete..].iter().any(|b| !b.is_ascii_whitespace());
        let mut lines = Vec::new();
        for (n, line) in bytes[..complete].split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let parsed: ResultLine = serde_json::from_slice(line).map_err(|e| Error::Parse {
                file: path.display().to_string(),
                line: n + 1,
                column: e.column().to_string(),
                reason: format!("not a sweep result line: {e}"),
            })?;
            lines.push(parsed);
        }
        Ok(ResultFile {
            path: path.to_owned(),
            lines,
            complete_len: complete as u64,
            dropped_partial_line,
        })
    }
}

/// What [`run_shard`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardRun {
    /// The shard.
    pub shard: Shard,
    /// Its result file.
    pub file: PathBuf,
    /// Jobs in the shard.
    pub jobs: usize,
    /// Jobs found finished in the file and skipped (resume).
    pub skipped: usize,
    /// Jobs run now.
    pub ran: usize,
    /// Whether a torn last line (from a crash) was dropped and its job re-run.
    pub dropped_partial_line: bool,
}

/// How to run a shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardOptions {
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Progress bar on a terminal.
    pub progress: bool,
    /// `fsync` each line (survives a machine crash, not only a killed process).
    pub sync: bool,
}

impl Default for ShardOptions {
    fn default() -> Self {
        ShardOptions {
            threads: RunOptions::default().threads,
            progress: false,
            sync: true,
        }
    }
}

/// Runs one shard of `sweep` into `dir`: writes the manifest, reads the shard's result file,
/// skips the jobs already in it, drops a torn last line, and appends each remaining job's
/// line as it finishes.
///
/// # Errors
/// [`Error::InvalidParameter`] for `threads` outside `1..=`[`MAX_THREADS`] (before anything
/// is written); [`Error::Io`]; [`Error::Inconsistent`] when the result file holds lines of another sweep
/// or of jobs outside this shard; the first failing job's error (finished jobs stay in the
/// file).
pub fn run_shard(sweep: &Sweep, shard: Shard, dir: &Path, opts: &ShardOptions) -> Result<ShardRun> {
    if opts.threads == 0 || opts.threads > MAX_THREADS {
        return Err(Error::parameter(
            "threads",
            opts.threads,
            format!("must be in 1..={MAX_THREADS}"),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    Manifest::of(sweep).write(dir, &shard.index().to_string())?;
    let path = dir.join(shard.file_name());
    let existing = ResultFile::read(&path)?;
    let mut done = BTreeSet::new();
    for (n, l) in existing.lines.iter().enumerate() {
        let bad = |reason: String| Error::Inconsistent {
            field: format!("{} line {}", path.display(), n + 1),
            reason,
        };
        if l.sweep != sweep.fingerprint() {
            return Err(bad(format!(
                "belongs to sweep {}, not {} (the sweep file changed: use a new directory)",
                l.sweep,
                sweep.fingerprint()
            )));
        }
        let job = sweep.jobs().get(l.index);
        if job.map(|j| &j.id) != Some(&l.result.job.id) || !shard.owns(l.index) {
            return Err(bad(format!(
                "job {} at index {} is not a job of shard {shard}",
                l.result.job.id, l.index
            )));
        }
        done.insert(l.index);
    }
    let pending: Vec<usize> = (0..sweep.jobs().len())
        .filter(|&i| shard.owns(i) && !done.contains(&i))
        .collect();
    let total = (0..sweep.jobs().len()).filter(|&i| shard.owns(i)).count();
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| io(&path, e))?;
    if existing.dropped_partial_line {
        // Cut the torn line so the next append starts on a fresh line.
        file.set_len(existing.complete_len)
            .map_err(|e| io(&path, e))?;
    }
    let file: Mutex<File> = Mutex::new(file);
    let jobs: Vec<Job> = pending.iter().map(|&i| sweep.jobs()[i].clone()).collect();
    let mut run_opts = sweep.options();
    run_opts.threads = opts.threads;
    run_opts.progress = opts.progress;
    let fp = sweep.fingerprint();
    sweep
        .grid()
        .run_jobs_with(&jobs, &run_opts, |pos, result| {
            let line = ResultLine {
                sweep: fp.to_owned(),
                index: pending[pos],
                result: result.clone(),
            };
            let mut text = serde_json::to_string(&line)?;
            text.push('\n');
            let mut f = file
                .lock()
                .map_err(|_| io(&path, "result file lock poisoned"))?;
            f.write_all(text.as_bytes()).map_err(|e| io(&path, e))?;
            if opts.sync {
                f.sync_data().map_err(|e| io(&path, e))?;
            }
            Ok(())
        })?;
    Ok(ShardRun {
        shard,
        file: path,
        jobs: total,
        skipped: done.len(),
        ran: pending.len(),
        dropped_partial_line: existing.dropped_partial_line,
    })
}
