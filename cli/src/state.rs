//! The state directory of `adbandit recommend`, and atomic writes.
//!
//! Layout:
//! - `state.json`: the manifest, written last; renaming it into place commits the day;
//! - `engine-NNNNNN.json`: the engine snapshot after decision N (the one before is kept);
//! - `decisions.jsonl`: one line per committed decision (what changed and why);
//! - `changes/YYYY-MM-DD/`: the day's `changes.csv`, `google_ads_editor.csv`,
//!   `amazon_bulk.csv`.
//!
//! Every file is written to a temporary name, fsynced and renamed, so a reader sees the old
//! file or the new one, never a torn one. The manifest names the snapshot and the number of
//! committed log lines: a crash before its rename leaves yesterday's manifest, which points at
//! yesterday's snapshot, and the next run drops any log line past the committed count. Nothing
//! of yesterday's state is overwritten before the commit.
//!
//! Why this lives in the binary and not the library: a service that embeds the engine keeps its
//! state in its own store (a database row, an object store) with its own transactions; this
//! directory layout and its commit protocol are the command's file format. The change-file
//! writers, which any service producing upload files needs, are in the library
//! (`adbandit::apply`).

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use adbandit::Date;
use serde::{Deserialize, Serialize};

use crate::io_error;

/// Set to a file name (e.g. `state.json`) to abort the process after that file's temporary
/// copy is written and synced, before its rename: the crash the tests simulate.
pub(crate) const CRASH_VAR: &str = "ADBANDIT_TEST_CRASH_BEFORE_RENAME";

/// This build's manifest format.
pub(crate) const FORMAT: u32 = 1;

/// The committed state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// The engine snapshot file, relative to the directory.
    pub engine: String,
    /// Decisions committed so far (the engine's round).
    pub round: u64,
    /// The day of the last decision.
    pub last_decision: Date,
    /// Days whose rows the engine has learned: a later report's rows for them restate them
    /// (within the engine's restatement window) or are left out (older days).
    pub observed_days: BTreeSet<Date>,
    /// Lines of `decisions.jsonl` that belong to committed decisions.
    pub log_lines: usize,
}

/// A state directory.
#[derive(Debug)]
pub(crate) struct StateDir {
    pub dir: PathBuf,
}

impl StateDir {
    pub(crate) fn new(dir: &Path) -> Self {
        StateDir {
            dir: dir.to_path_buf(),
        }
    }

    fn manifest_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The manifest, or `None` for a directory without one (the first run).
    pub(crate) fn manifest(&self) -> adbandit::Result<Option<Manifest>> {
        let p = self.manifest_path();
        let text = match fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&p, e)),
        };
        let m: Manifest = serde_json::from_str(&text).map_err(|e| adbandit::Error::Parse {
            file: p.display().to_string(),
            line: e.line(),
            column: format!("character {}", e.column()),
            reason: e.to_string(),
        })?;
        if m.format != FORMAT {
            return Err(adbandit::Error::FormatVersion {
                found: m.format,
                supported: FORMAT,
            });
        }
        Ok(Some(m))
    }

    pub(crate) fn read(&self, name: &str) -> adbandit::Result<String> {
        let p = self.dir.join(name);
        fs::read_to_string(&p).map_err(|e| io_error(&p, e))
    }

    /// The committed lines of the decision log (lines past `committed` are from a run that
    /// crashed before its commit, and are dropped).
    pub(crate) fn log(&self, committed: usize) -> adbandit::Result<Vec<String>> {
        let p = self.dir.join("decisions.jsonl");
        let text = match fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io_error(&p, e)),
        };
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.len() < committed {
            return Err(adbandit::Error::Inconsistent {
                field: p.display().to_string(),
                reason: format!(
                    "has {} lines but state.json says {committed} were committed",
                    lines.len()
                ),
            });
        }
        Ok(lines.into_iter().take(committed).collect())
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync,
/// rename, fsync of the directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> adbandit::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = File::create(&tmp).map_err(|e| io_error(&tmp, e))?;
        f.write_all(bytes).map_err(|e| io_error(&tmp, e))?;
        f.sync_all().map_err(|e| io_error(&tmp, e))?;
    }
    if std::env::var_os(CRASH_VAR).is_some_and(|v| v == name.as_str()) {
        eprintln!("{CRASH_VAR}={name}: aborting before the rename");
        std::process::abort();
    }
    fs::rename(&tmp, path).map_err(|e| io_error(path, e))?;
    // The rename is durable once the directory is synced (not possible on every platform).
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole() {
        let dir = std::env::temp_dir().join(format!("adbandit-state-{}", std::process::id()));
        let p = dir.join("a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "two");
        assert!(!dir.join(".a.txt.tmp").exists());
        let s = StateDir::new(&dir);
        assert_eq!(s.manifest().unwrap(), None);
        fs::write(dir.join("decisions.jsonl"), "a\nb\nc\n").unwrap();
        assert_eq!(s.log(2).unwrap(), ["a", "b"]);
        assert!(s.log(4).is_err());
        fs::write(dir.join("state.json"), "{\"format\": 1}").unwrap();
        assert!(s.manifest().is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
