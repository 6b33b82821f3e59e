//! Result files (JSON Lines, one finished job per line) and the sweep manifest.
//!
//! A shard appends each job's line as the job ends, in one `write` call, and syncs it to
//! disk, so a killed run keeps every finished job. A crash can leave a last line without its
//! newline: readers drop it (it is re-run on resume) instead of parsing it. Every line
//! carries the sweep fingerprint, so lines of two sweeps are never mixed.
//!
//! Every line ends with a checksum of its own bytes:
//! `{"sweep":…,"index":…,"result":{…},"checksum":"<16 hex digits>"}`, the 64-bit FNV-1a
//! hash of everything before `,"checksum"`. FNV-1a changes with any single changed byte
//! (each step is a bijection of the state), so a flipped digit, a hand edit or two writers'
//! interleaved bytes are caught and named by file and line. Lines written before checksums
//! existed (no `checksum` key) are still read, counted as unverified, and reported.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::compare::runner::{MAX_THREADS, fnv1a};
use crate::compare::{Job, JobResult, RunOptions};
use crate::error::{Error, Result};
use crate::sweep::shard::Shard;
use crate::sweep::spec::{FORMAT, Sweep, fingerprint};

/// One line of a result file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultLine {
    /// Fingerprint of the sweep the job belongs to.
    pub sweep: String,
    /// Index of the job in the sweep.
    pub index: usize,
    /// The job's result.
    pub result: JobResult,
    /// The line's checksum as read (`None` in lines written before checksums); ignored when
    /// writing: [`ResultLine::encode`] computes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// The longest result line read (a job's line is a few kilobytes per simulated week).
pub const MAX_RESULT_LINE_BYTES: u64 = 16 << 20;

/// What precedes the checksum's digits at the end of a line.
const CHECKSUM_KEY: &[u8] = b",\"checksum\":\"";
/// Length of the line's tail from `,"checksum":"` to the closing brace.
const CHECKSUM_TAIL: usize = CHECKSUM_KEY.len() + 16 + 2;

impl ResultLine {
    /// A line for job `index` of sweep `sweep`.
    pub fn new(sweep: &str, index: usize, result: JobResult) -> Self {
        ResultLine {
            sweep: sweep.to_owned(),
            index,
            result,
            checksum: None,
        }
    }

    /// The line as written to a result file: JSON, the checksum last, a newline.
    ///
    /// # Errors
    /// [`Error::Serde`] if the result cannot be serialised.
    pub fn encode(&self) -> Result<String> {
        let mut text = if self.checksum.is_some() {
            let mut l = self.clone();
            l.checksum = None;
            serde_json::to_string(&l)?
        } else {
            serde_json::to_string(self)?
        };
        // The content is everything before the closing brace.
        text.pop();
        let sum = fnv1a(text.as_bytes());
        text.push_str(&format!(",\"checksum\":\"{sum:016x}\"}}\n"));
        Ok(text)
    }
}

/// The digest of a line's content and whether its checksum vouched for it.
enum Check {
    /// The checksum matches the content.
    Verified(u64),
    /// No checksum (an older writer): the digest of the line without its closing brace.
    Unverified(u64),
    /// A checksum that does not match, or is not where the writer puts it.
    Bad(String),
}

fn check(line: &[u8], parsed_has_checksum: bool) -> Check {
    let n = line.len();
    if n > CHECKSUM_TAIL && line.ends_with(b"\"}") {
        let (content, tail) = line.split_at(n - CHECKSUM_TAIL);
        if let Some(digits) = tail.strip_prefix(CHECKSUM_KEY) {
            let digits = &digits[..16];
            let found = std::str::from_utf8(digits)
                .ok()
                .and_then(|d| u64::from_str_radix(d, 16).ok());
            let want = fnv1a(content);
            return match found {
                Some(f) if f == want => Check::Verified(want),
                _ => Check::Bad(format!(
                    "checksum {} does not match the line's content ({want:016x}): the line \
                     was changed or damaged after it was written",
                    String::from_utf8_lossy(digits)
                )),
            };
        }
    }
    if parsed_has_checksum {
        return Check::Bad("the checksum is not at the end of the line: edited".into());
    }
    Check::Unverified(fnv1a(&line[..n.saturating_sub(1)]))
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
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
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
        let fp = fingerprint(
            &m.jobs,
            &m.baseline,
            m.options.granularity,
            m.options.detail,
        )?;
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
        std::fs::write(&tmp, serde_json::to_string_pretty(self)?)
            .map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    }
}

/// One complete line of a result file.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLine {
    /// 1-based line number in the file.
    pub line: usize,
    /// The parsed line.
    pub value: ResultLine,
    /// FNV-1a digest of the line's content (without its checksum): equal digests mean
    /// byte-identical content.
    pub digest: u64,
    /// Whether a checksum vouched for the line (false for lines of older writers).
    pub verified: bool,
}

/// A complete line that could not be used: not a result line, or a checksum mismatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedLine {
    /// 1-based line number in the file.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// The complete lines of a result file.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultFile {
    /// The file.
    pub path: PathBuf,
    /// Usable lines, in file order.
    pub lines: Vec<StoredLine>,
    /// Damaged complete lines (only [`ResultFile::read_lenient`] keeps going past one).
    pub damaged: Vec<DamagedLine>,
    /// Bytes up to the end of the last complete line.
    pub complete_len: u64,
    /// Whether an unterminated last line (a crash mid-write) was dropped.
    pub dropped_partial_line: bool,
}

impl ResultFile {
    /// Reads a result file (a missing file reads as empty), verifying each line's
    /// checksum. A last line without its newline is dropped, not parsed.
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::Parse`] naming the file and line for a complete line that is
    /// not a result line or whose checksum does not match (damage a crash cannot explain),
    /// or a line longer than [`MAX_RESULT_LINE_BYTES`].
    pub fn read(path: &Path) -> Result<Self> {
        let f = ResultFile::read_lenient(path)?;
        if let Some(d) = f.damaged.first() {
            return Err(Error::Parse {
                file: path.display().to_string(),
                line: d.line,
                column: "line".into(),
                reason: d.reason.clone(),
            });
        }
        Ok(f)
    }

    /// [`ResultFile::read`], listing damaged lines in [`ResultFile::damaged`] instead of
    /// failing on the first (for [`crate::sweep::repair`]).
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::Parse`] for a line longer than [`MAX_RESULT_LINE_BYTES`].
    pub fn read_lenient(path: &Path) -> Result<Self> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ResultFile {
                    path: path.to_owned(),
                    lines: Vec::new(),
                    damaged: Vec::new(),
                    complete_len: 0,
                    dropped_partial_line: false,
                });
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        ResultFile::read_from(path, file)
    }

    /// [`ResultFile::read_lenient`] from any reader; `path` names it in messages.
    ///
    /// # Errors
    /// [`Error::Io`] if reading fails; [`Error::Parse`] for a line longer than
    /// [`MAX_RESULT_LINE_BYTES`].
    pub fn read_from(path: &Path, reader: impl std::io::Read) -> Result<Self> {
        use std::io::{BufRead as _, Read as _};
        let mut reader = std::io::BufReader::new(reader);
        let (mut lines, mut damaged) = (Vec::new(), Vec::new());
        let (mut complete, mut dropped_partial_line) = (0u64, false);
        let mut buf = Vec::new();
        for n in 1.. {
            buf.clear();
            let got = (&mut reader)
                .take(MAX_RESULT_LINE_BYTES + 1)
                .read_until(b'\n', &mut buf)
                .map_err(|e| Error::io(path, e))?;
            if got == 0 {
                break;
            }
            if buf.last() != Some(&b'\n') {
                if buf.len() as u64 > MAX_RESULT_LINE_BYTES {
                    return Err(Error::Parse {
                        file: path.display().to_string(),
                        line: n,
                        column: "line".into(),
                        reason: format!("longer than {MAX_RESULT_LINE_BYTES} bytes"),
                    });
                }
                // The unterminated tail: a crash mid-write.
                dropped_partial_line = buf.iter().any(|b| !b.is_ascii_whitespace());
                break;
            }
            complete += got as u64;
            let line = &buf[..buf.len() - 1];
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let value: ResultLine = match serde_json::from_slice(line) {
                Ok(v) => v,
                Err(e) => {
                    damaged.push(DamagedLine {
                        line: n,
                        reason: format!("not a sweep result line: {e}"),
                    });
                    continue;
                }
            };
            match check(line, value.checksum.is_some()) {
                Check::Verified(digest) => lines.push(StoredLine {
                    line: n,
                    value,
                    digest,
                    verified: true,
                }),
                Check::Unverified(digest) => lines.push(StoredLine {
                    line: n,
                    value,
                    digest,
                    verified: false,
                }),
                Check::Bad(reason) => damaged.push(DamagedLine { line: n, reason }),
            }
        }
        Ok(ResultFile {
            path: path.to_owned(),
            lines,
            damaged,
            complete_len: complete,
            dropped_partial_line,
        })
    }

    /// Lines without a checksum (written before checksums existed).
    pub fn unverified(&self) -> usize {
        self.lines.iter().filter(|l| !l.verified).count()
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
    /// Jobs run (and written) now.
    pub ran: usize,
    /// Whether a torn last line (from a crash) was dropped and its job re-run.
    pub dropped_partial_line: bool,
    /// Whether it stopped early on request (see [`run_shard_cancellable`]): `ran` jobs
    /// were written, the rest are left for a resume.
    pub cancelled: bool,
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
    run_shard_cancellable(sweep, shard, dir, opts, &Cancel::new())
}

/// [`run_shard`] that stops when `cancel` is set (e.g. by
/// [`Cancel::on_termination_signals`]): no job starts after it, running jobs are abandoned
/// at their next simulated day, and it returns with [`ShardRun::cancelled`] set and every
/// finished job's line written (and synced, with [`ShardOptions::sync`]). Running it again
/// resumes.
///
/// # Errors
/// As [`run_shard`]; a cancellation is not an error.
pub fn run_shard_cancellable(
    sweep: &Sweep,
    shard: Shard,
    dir: &Path,
    opts: &ShardOptions,
    cancel: &Cancel,
) -> Result<ShardRun> {
    if opts.threads == 0 || opts.threads > MAX_THREADS {
        return Err(Error::parameter(
            "threads",
            opts.threads,
            format!("must be in 1..={MAX_THREADS}"),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    check_shard_count(dir, shard)?;
    Manifest::of(sweep).write(dir, &shard.index().to_string())?;
    let path = dir.join(shard.file_name());
    let existing = ResultFile::read(&path)?;
    // Job index -> (line, digest) of its first copy: later copies must be byte-identical
    // (two writers of one shard), else the file needs `repair`.
    let mut done: BTreeMap<usize, (usize, u64)> = BTreeMap::new();
    for s in &existing.lines {
        let l = &s.value;
        let bad = |reason: String| Error::Inconsistent {
            field: format!("{} line {}", path.display(), s.line),
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
        if let Some((first, digest)) = done.get(&l.index)
            && *digest != s.digest
        {
            return Err(bad(format!(
                "job {} was already written differently on line {first}: conflicting copies \
                 (repair the directory into a new one, dropping damaged jobs, then resume)",
                l.result.job.id
            )));
        }
        done.entry(l.index).or_insert((s.line, s.digest));
    }
    let pending: Vec<usize> = (0..sweep.jobs().len())
        .filter(|&i| shard.owns(i) && !done.contains_key(&i))
        .collect();
    let total = (0..sweep.jobs().len()).filter(|&i| shard.owns(i)).count();
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    if existing.dropped_partial_line {
        // Cut the torn line so the next append starts on a fresh line.
        file.set_len(existing.complete_len)
            .map_err(|e| Error::io(&path, e))?;
    }
    let file: Mutex<File> = Mutex::new(file);
    let jobs: Vec<Job> = pending.iter().map(|&i| sweep.jobs()[i].clone()).collect();
    let mut run_opts = sweep.options();
    run_opts.threads = opts.threads;
    run_opts.progress = opts.progress;
    let fp = sweep.fingerprint();
    let written = AtomicUsize::new(0);
    let outcome = sweep
        .grid()
        .run_jobs_cancellable(&jobs, &run_opts, cancel, |pos, result| {
            let text = ResultLine::new(fp, pending[pos], result.clone()).encode()?;
            let mut f = file
                .lock()
                .map_err(|_| Error::io(&path, "result file lock poisoned"))?;
            f.write_all(text.as_bytes())
                .map_err(|e| Error::io(&path, e))?;
            if opts.sync {
                f.sync_data().map_err(|e| Error::io(&path, e))?;
            }
            written.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
    let cancelled = match outcome {
        Ok(_) => false,
        Err(Error::Cancelled { .. }) => true,
        Err(e) => return Err(e),
    };
    Ok(ShardRun {
        shard,
        file: path,
        jobs: total,
        skipped: done.len(),
        ran: written.load(Ordering::SeqCst),
        dropped_partial_line: existing.dropped_partial_line,
        cancelled,
    })
}

/// Refuses a directory holding non-empty result files of another shard count: its jobs
/// would be run twice (and, were the count too small by mistake, found only at merge).
fn check_shard_count(dir: &Path, shard: Shard) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for e in entries {
        let e = e.map_err(|e| Error::io(dir, e))?;
        let name = e.file_name();
        let Some(count) = name.to_str().and_then(shard_count_of) else {
            continue;
        };
        let non_empty = e.metadata().map(|m| m.len() > 0).unwrap_or(false);
        if count != shard.count() && non_empty {
            return Err(Error::Inconsistent {
                field: dir.join(&name).display().to_string(),
                reason: format!(
                    "this directory holds results of a {count}-shard run, and this run has \
                     {} shards: keep the shard count of the sweep's first launch (or use a \
                     new directory)",
                    shard.count()
                ),
            });
        }
    }
    Ok(())
}

/// `N` of a file named `shard-III-of-NNN.jsonl`.
pub(crate) fn shard_count_of(name: &str) -> Option<usize> {
    let rest = name.strip_prefix("shard-")?.strip_suffix(".jsonl")?;
    let (i, n) = rest.split_once("-of-")?;
    i.parse::<usize>().ok()?;
    n.parse().ok()
}
