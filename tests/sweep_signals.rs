//! Issue 17: SIGTERM and SIGINT stop a sweep cleanly, with every finished job's line on
//! disk, within a second, and the shard resumes. The test re-runs its own binary as the
//! child (the ignored `child_runs_a_shard` entry point), so no other binary must be built.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use adbandit::cancel::Cancel;
use adbandit::sweep::{
    ResultFile, Shard, ShardOptions, Sweep, SweepSpec, merge, run_shard, run_shard_cancellable,
};

/// Long enough that a signal lands mid-run: 12 jobs of 30 simulated days.
const SWEEP: &str = r#"{
  "name": "signals",
  "scenarios": ["default"],
  "strategies": [{"name": "static"}, {"name": "thompson"}, {"name": "manual_rule"}],
  "seeds": 4,
  "fidelity": "fast"
}"#;

const CHILD_DIR: &str = "ADBANDIT_SIGNAL_TEST_DIR";

fn sweep() -> Sweep {
    Sweep::new(&SweepSpec::from_json(SWEEP).unwrap(), Path::new(".")).unwrap()
}

fn opts() -> ShardOptions {
    ShardOptions {
        threads: 2,
        progress: false,
        sync: true,
    }
}

/// The child: installs the handlers, runs the shard, exits as the sweep command does.
#[test]
#[ignore = "entry point of the child process of the signal tests"]
fn child_runs_a_shard() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let cancel = Cancel::on_termination_signals().unwrap();
    let run =
        run_shard_cancellable(&sweep(), Shard::ALL, Path::new(&dir), &opts(), &cancel).unwrap();
    println!("ran={} cancelled={}", run.ran, run.cancelled);
    let code = cancel
        .signal()
        .map_or(0, |s| i32::from(adbandit::cancel::signal_exit_status(s)));
    std::process::exit(code);
}

fn spawn(dir: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "child_runs_a_shard",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("adbandit-signal-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Waits until the shard file holds `n` complete lines.
fn wait_for_lines(path: &Path, n: usize, child: &mut Child) {
    let t = Instant::now();
    loop {
        let have = std::fs::read(path)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0);
        if have >= n {
            return;
        }
        assert!(child.try_wait().unwrap().is_none(), "child ended early");
        assert!(t.elapsed() < Duration::from_secs(120), "no result lines");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` and returns the exit code and how long the child took to exit.
fn signal(child: &mut Child, signal: &str) -> (Option<i32>, Duration) {
    let t = Instant::now();
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{signal} failed");
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("still running 30 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (status.code(), t.elapsed())
}

#[test]
fn sigterm_stops_within_a_second_flushed_and_resumable() {
    let sw = sweep();
    let dir = scratch("term");
    let file = dir.join(Shard::ALL.file_name());
    let mut child = spawn(&dir);
    wait_for_lines(&file, 2, &mut child);
    let (code, took) = signal(&mut child, "TERM");
    assert_eq!(code, Some(143), "exit status 128 + SIGTERM");
    eprintln!("stopped {took:?} after the signal");
    assert!(took < Duration::from_secs(1), "took {took:?} to stop");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    assert!(out.contains("cancelled=true"), "{out}");

    // Flushed: only whole, verified lines, and fewer than all jobs.
    let rf = ResultFile::read(&file).unwrap();
    assert!(!rf.dropped_partial_line);
    let written = rf.lines.len();
    assert!(written >= 2 && written < sw.jobs().len(), "{written}");
    assert!(rf.lines.iter().all(|l| l.verified));

    // Resumable: the rest runs, nothing twice.
    let t = Instant::now();
    let again = run_shard(&sw, Shard::ALL, &dir, &opts()).unwrap();
    eprintln!("resume: {} jobs in {:?}", again.ran, t.elapsed());
    assert_eq!(
        (again.skipped, again.ran),
        (written, sw.jobs().len() - written)
    );
    let merged = merge(&[&dir]).unwrap();
    assert!(merged.duplicated.is_empty());
    assert_eq!(merged.results.len(), sw.jobs().len());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigint_stops_the_same_way() {
    let dir = scratch("int");
    let file = dir.join(Shard::ALL.file_name());
    let mut child = spawn(&dir);
    wait_for_lines(&file, 1, &mut child);
    let (code, took) = signal(&mut child, "INT");
    assert_eq!(code, Some(130), "exit status 128 + SIGINT");
    eprintln!("stopped {took:?} after the signal");
    assert!(took < Duration::from_secs(1), "took {took:?} to stop");
    let rf = ResultFile::read(&file).unwrap();
    assert!(!rf.dropped_partial_line && !rf.lines.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}
