//! Sweeps: sharded runs merge to the bytes of a single-machine run; killed shards resume
//! without losing or repeating jobs; merge refuses mixed sweeps and names missing jobs.

use std::path::{Path, PathBuf};

use adbandit::Error;
use adbandit::compare::{report, summarise};
use adbandit::sweep::{ResultFile, Shard, ShardOptions, Sweep, SweepSpec, merge, run_shard};

const SWEEP: &str = r#"{
  "name": "test",
  "scenarios": ["small"],
  "strategies": [
    {"name": "static"},
    {"name": "even_split"},
    {"name": "manual_rule", "grid": {"step": [0.05, 0.2]}},
    {"name": "thompson"}
  ],
  "seeds": 3,
  "days": 3,
  "fidelity": "fast",
  "baseline": "static"
}"#;

fn sweep(text: &str) -> Sweep {
    Sweep::new(&SweepSpec::from_json(text).unwrap(), Path::new(".")).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("adbandit-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn opts(threads: usize) -> ShardOptions {
    ShardOptions {
        threads,
        progress: false,
        sync: false,
    }
}

/// Every byte a user sees of a summary: CSVs, table, JSON.
fn outputs(results: &[adbandit::compare::JobResult], baseline: &str) -> Vec<String> {
    let s = summarise(results, baseline);
    vec![
        report::summary_csv(&s).unwrap(),
        report::table(&s),
        serde_json::to_string_pretty(&s).unwrap(),
        report::runs_csv(results).unwrap(),
        report::daily_csv(results).unwrap(),
    ]
}

fn run_all(sw: &Sweep, n: usize, dir: &Path, threads: usize) {
    for i in 0..n {
        let r = run_shard(sw, Shard::new(i, n).unwrap(), dir, &opts(threads)).unwrap();
        assert_eq!(r.skipped, 0);
        assert_eq!(r.ran, r.jobs);
    }
}

#[test]
fn three_shards_merge_to_the_bytes_of_one_machine() {
    let sw = sweep(SWEEP);
    assert_eq!(sw.jobs().len(), 5 * 3);
    // Reference: the plain comparison runner on every job, in one process.
    let mut o = sw.options();
    o.threads = 2;
    let reference = sw.grid().run_jobs(sw.jobs(), &o).unwrap();
    let want = outputs(&reference, sw.baseline());

    let one = scratch("one");
    run_all(&sw, 1, &one, 2);
    let m1 = merge(&[&one]).unwrap();
    assert_eq!(m1.results, reference);
    assert_eq!(outputs(&m1.results, &m1.manifest.baseline), want);
    assert_eq!(m1.summary, summarise(&reference, "static"));

    // Three shards in three directories (three machines), one thread each.
    let dirs: Vec<PathBuf> = (0..3).map(|i| scratch(&format!("three-{i}"))).collect();
    for (i, d) in dirs.iter().enumerate() {
        run_shard(&sw, Shard::new(i, 3).unwrap(), d, &opts(1)).unwrap();
    }
    let m3 = merge(&dirs).unwrap();
    assert_eq!(m3.files.len(), 3);
    assert_eq!(outputs(&m3.results, &m3.manifest.baseline), want);
    assert_eq!(
        m3.comparison().to_json().unwrap(),
        m1.comparison().to_json().unwrap()
    );
    for d in dirs.iter().chain([&one]) {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn a_killed_shard_resumes_without_losing_or_repeating_jobs() {
    let sw = sweep(SWEEP);
    let dir = scratch("resume");
    run_all(&sw, 3, &dir, 1);
    let want = outputs(&merge(&[&dir]).unwrap().results, sw.baseline());

    // Simulate a kill of shard 1 while it wrote its third line: two whole lines and half
    // of the third survive.
    let shard = Shard::new(1, 3).unwrap();
    let path = dir.join(shard.file_name());
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5);
    let torn = format!(
        "{}\n{}\n{}",
        lines[0],
        lines[1],
        &lines[2][..lines[2].len() / 2]
    );
    std::fs::write(&path, &torn).unwrap();

    let rf = ResultFile::read(&path).unwrap();
    assert_eq!(rf.lines.len(), 2);
    assert!(rf.dropped_partial_line);
    // Merging now reports the three lost jobs by id, not garbage.
    let err = merge(&[&dir]).unwrap_err().to_string();
    assert!(err.contains("3 job(s) missing"), "{err}");
    let lost = &ResultFile::read(&dir.join(Shard::new(1, 3).unwrap().file_name()))
        .unwrap()
        .lines;
    assert_eq!(lost.len(), 2);
    for l in text.lines().skip(2) {
        let id = serde_json::from_str::<adbandit::sweep::ResultLine>(l)
            .unwrap()
            .result
            .job
            .id;
        assert!(err.contains(&id), "{err} lacks {id}");
    }

    let again = run_shard(&sw, shard, &dir, &opts(2)).unwrap();
    assert_eq!((again.jobs, again.skipped, again.ran), (5, 2, 3));
    assert!(again.dropped_partial_line);
    let rf = ResultFile::read(&path).unwrap();
    assert_eq!(rf.lines.len(), 5);
    assert!(!rf.dropped_partial_line);
    // A third run has nothing left to do.
    let idle = run_shard(&sw, shard, &dir, &opts(2)).unwrap();
    assert_eq!((idle.skipped, idle.ran), (5, 0));

    let merged = merge(&[&dir]).unwrap();
    assert_eq!(merged.results.len(), sw.jobs().len());
    assert_eq!(outputs(&merged.results, sw.baseline()), want);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn merge_refuses_other_sweeps_and_names_missing_and_duplicated_jobs() {
    let a = sweep(SWEEP);
    let b = sweep(&SWEEP.replace("\"seeds\": 3", "\"seeds\": [7, 8]"));
    assert_ne!(a.fingerprint(), b.fingerprint());
    let (da, db) = (scratch("mix-a"), scratch("mix-b"));
    run_shard(&a, Shard::new(0, 2).unwrap(), &da, &opts(2)).unwrap();
    run_shard(&b, Shard::new(1, 2).unwrap(), &db, &opts(2)).unwrap();
    let err = merge(&[&da, &db]).unwrap_err().to_string();
    assert!(err.contains("different sweeps"), "{err}");
    assert!(
        err.contains(a.fingerprint()) && err.contains(b.fingerprint()),
        "{err}"
    );

    // A result file of sweep b copied into a's directory (manifest of a only).
    std::fs::copy(
        db.join(Shard::new(1, 2).unwrap().file_name()),
        da.join("stray.jsonl"),
    )
    .unwrap();
    let err = merge(&[&da]).unwrap_err();
    assert!(matches!(err, Error::Inconsistent { .. }));
    let err = err.to_string();
    assert!(
        err.contains("stray.jsonl") && err.contains("belongs to sweep"),
        "{err}"
    );
    std::fs::remove_file(da.join("stray.jsonl")).unwrap();

    // And resuming a shard on a directory of another sweep is refused too.
    std::fs::copy(
        db.join(Shard::new(1, 2).unwrap().file_name()),
        da.join(Shard::new(1, 2).unwrap().file_name()),
    )
    .unwrap();
    let err = run_shard(&a, Shard::new(1, 2).unwrap(), &da, &opts(1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("belongs to sweep"), "{err}");
    std::fs::remove_file(da.join(Shard::new(1, 2).unwrap().file_name())).unwrap();

    // Only shard 0 of 2: the odd-indexed jobs are missing, named by id.
    let err = merge(&[&da]).unwrap_err().to_string();
    let missing: Vec<&str> = a
        .jobs()
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, j)| j.id.as_str())
        .collect();
    assert!(
        err.contains(&format!("{} job(s) missing", missing.len())),
        "{err}"
    );
    for id in &missing {
        assert!(err.contains(id), "{err} lacks {id}");
    }
    let cov = adbandit::sweep::coverage(&[&da]).unwrap();
    assert_eq!(cov.missing.len(), missing.len());

    // The sweep run twice under different shard counts (in two directories): every job
    // has two byte-identical copies, accepted and reported.
    run_shard(&a, Shard::new(1, 2).unwrap(), &da, &opts(2)).unwrap();
    let dc = scratch("mix-c");
    run_shard(&a, Shard::new(0, 1).unwrap(), &dc, &opts(2)).unwrap();
    let m = merge(&[&da, &dc]).unwrap();
    assert_eq!(m.duplicated.len(), a.jobs().len());
    let (_, at) = &m.duplicated[1];
    let names: Vec<String> = at
        .iter()
        .map(|(f, _)| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["shard-001-of-002.jsonl", "shard-000-of-001.jsonl"]);
    assert_eq!(m.results, merge(&[&dc]).unwrap().results);
    // In one directory the second count is refused before it runs anything.
    let err = run_shard(&a, Shard::new(0, 3).unwrap(), &da, &opts(1)).unwrap_err();
    assert!(
        matches!(&err, Error::Inconsistent { reason, .. } if reason.contains("2-shard run")),
        "{err}"
    );
    assert!(!da.join(Shard::new(0, 3).unwrap().file_name()).exists());
    for d in [da, db, dc] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn the_deploy_example_loads_and_bad_parameter_ranges_fail_early() {
    let sw = Sweep::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/sweep.example.json"))
        .unwrap();
    // 3 scenarios x (static, even_split, 6 manual, 3 thompson, 3 eps_greedy, oracle) x 20.
    assert_eq!(sw.jobs().len(), 3 * 15 * 20);
    let bad = SWEEP.replace("[0.05, 0.2]", "[0.05, 2.0]");
    let err = Sweep::new(&SweepSpec::from_json(&bad).unwrap(), Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(err.contains("manual_rule[step=2.0]"), "{err}");
}

/// Issue 17: a sweep naming `/dev/zero` read 2 GB before failing; `--threads 100000` hung.
#[test]
fn oversized_inputs_and_thread_counts_fail_fast_with_the_bound() {
    let dir = scratch("bounds");
    let t = std::time::Instant::now();
    let file = dir.join("zero.json");
    std::fs::write(
        &file,
        r#"{"scenarios":["/dev/zero"],"seeds":1,"strategies":[{"name":"static"}]}"#,
    )
    .unwrap();
    if Path::new("/dev/zero").exists() {
        match Sweep::load(&file) {
            Err(Error::InvalidValue { field, reason, .. }) => {
                assert_eq!(field, "/dev/zero");
                assert!(
                    reason.contains(&adbandit::io::MAX_SCENARIO_FILE_BYTES.to_string()),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    // The sweep file itself is capped too (padding is valid JSON whitespace).
    let big = format!(
        "{}{}",
        SWEEP,
        " ".repeat(adbandit::io::MAX_SWEEP_FILE_BYTES as usize)
    );
    std::fs::write(&file, big).unwrap();
    assert!(matches!(
        Sweep::load(&file),
        Err(Error::InvalidValue { .. })
    ));
    let sw = sweep(SWEEP);
    let out = dir.join("out");
    let err = run_shard(&sw, Shard::ALL, &out, &opts(100_000)).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidParameter { name: "threads", reason, .. }
            if reason.contains(&adbandit::compare::runner::MAX_THREADS.to_string())),
        "{err}"
    );
    assert!(!out.exists(), "checked after writing");
    assert!(t.elapsed().as_secs() < 10, "{:?}", t.elapsed());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Lines of a file, each with its newline.
fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .split_inclusive('\n')
        .map(str::to_owned)
        .collect()
}

/// Issue 17: a changed digit inside a result line was accepted by resume and merge.
#[test]
fn a_changed_digit_is_caught_by_resume_and_merge_with_file_and_line() {
    let sw = sweep(SWEEP);
    let dir = scratch("digit");
    run_all(&sw, 2, &dir, 1);
    let shard = Shard::new(1, 2).unwrap();
    let path = dir.join(shard.file_name());
    let mut lines = lines_of(&path);
    // Change one digit of the revenue on line 3, keeping the JSON valid.
    let at = lines[2].find("\"revenue\":").unwrap() + "\"revenue\":".len();
    let mut bytes = lines[2].clone().into_bytes();
    bytes[at] = if bytes[at] == b'9' { b'1' } else { b'9' };
    lines[2] = String::from_utf8(bytes).unwrap();
    std::fs::write(&path, lines.concat()).unwrap();
    for err in [
        run_shard(&sw, shard, &dir, &opts(1)).unwrap_err(),
        merge(&[&dir]).unwrap_err(),
    ] {
        match err {
            Error::Parse {
                file, line, reason, ..
            } => {
                assert!(file.ends_with("shard-001-of-002.jsonl"), "{file}");
                assert_eq!(line, 3);
                assert!(reason.contains("checksum"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    // repair refuses unless told to drop it; dropped, a resume re-runs that one job.
    let fixed = dir.join("fixed");
    assert!(adbandit::sweep::repair(&[&dir], &fixed, Default::default()).is_err());
    let r = adbandit::sweep::repair(
        &[&dir],
        &fixed,
        adbandit::sweep::RepairOptions { drop_damaged: true },
    )
    .unwrap();
    assert_eq!((r.damaged.len(), r.damaged[0].1.line), (1, 3));
    assert_eq!((r.jobs, r.missing), (sw.jobs().len() - 1, 1));
    let again = run_shard(&sw, shard, &fixed, &opts(1)).unwrap();
    assert_eq!(again.ran, 1);
    let reference = sw.grid().run_jobs(sw.jobs(), &sw.options()).unwrap();
    assert_eq!(merge(&[&fixed]).unwrap().results, reference);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 17: two writers of one shard (a replacement pod while the old one terminates)
/// append the same lines; merge refused them and no command repaired them.
#[test]
fn two_writers_of_one_shard_merge_and_repair_to_a_clean_copy() {
    let sw = sweep(SWEEP);
    let dir = scratch("writers");
    run_all(&sw, 2, &dir, 1);
    let want = merge(&[&dir]).unwrap();
    assert!(want.duplicated.is_empty());
    let path = dir.join(Shard::new(0, 2).unwrap().file_name());
    let lines = lines_of(&path);
    // The second writer appended two of the same jobs again.
    let doubled = format!("{}{}{}", lines.concat(), lines[1], lines[4]);
    std::fs::write(&path, &doubled).unwrap();
    let m = merge(&[&dir]).unwrap();
    assert_eq!(m.results, want.results);
    assert_eq!(m.duplicated.len(), 2);
    assert_eq!(m.duplicated[0].1[1].1, lines.len() + 1);
    // Resume accepts them too: nothing to run.
    let idle = run_shard(&sw, Shard::new(0, 2).unwrap(), &dir, &opts(1)).unwrap();
    assert_eq!(idle.ran, 0);
    // A clean copy: the same bytes as an undisturbed run.
    let clean = dir.join("clean");
    let r = adbandit::sweep::repair(&[&dir], &clean, Default::default()).unwrap();
    assert_eq!(
        (r.duplicate_lines, r.jobs, r.missing),
        (2, sw.jobs().len(), 0)
    );
    for i in 0..2 {
        let name = Shard::new(i, 2).unwrap().file_name();
        let mut orig = lines_of(&dir.join(&name));
        if i == 0 {
            orig.truncate(lines.len());
        }
        // Within a file, lines are in sweep order (completion order differs with threads).
        let mut got = lines_of(&clean.join(&name));
        orig.sort_by_key(|l| {
            serde_json::from_str::<adbandit::sweep::ResultLine>(l)
                .unwrap()
                .index
        });
        got.sort_by_key(|l| {
            serde_json::from_str::<adbandit::sweep::ResultLine>(l)
                .unwrap()
                .index
        });
        assert_eq!(got, orig);
    }
    assert!(merge(&[&clean]).unwrap().duplicated.is_empty());
    // The output must be new: repairing into a non-empty directory is refused.
    assert!(adbandit::sweep::repair(&[&dir], &clean, Default::default()).is_err());

    // Conflicting copies (same job, different valid content) are refused, naming both.
    let other: adbandit::sweep::ResultLine = serde_json::from_str(&lines[1]).unwrap();
    let mut changed = other.clone();
    changed.result.metrics.clicks += 1;
    let conflict = format!("{}{}", lines.concat(), changed.encode().unwrap());
    std::fs::write(&path, conflict).unwrap();
    let err = merge(&[&dir]).unwrap_err().to_string();
    assert!(
        err.contains("conflicting") && err.contains(&other.result.job.id),
        "{err}"
    );
    assert!(
        err.contains("line 2") && err.contains(&format!("line {}", lines.len() + 1)),
        "{err}"
    );
    let err = run_shard(&sw, Shard::new(0, 2).unwrap(), &dir, &opts(1)).unwrap_err();
    assert!(err.to_string().contains("conflicting"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Result files written before checksums existed still merge and resume, counted as
/// unverified; `repair` rewrites them with checksums.
#[test]
fn lines_without_checksums_are_read_and_reported() {
    let sw = sweep(SWEEP);
    let dir = scratch("old");
    run_all(&sw, 1, &dir, 2);
    let path = dir.join(Shard::ALL.file_name());
    let lines = lines_of(&path);
    let old: String = lines
        .iter()
        .map(|l| {
            let cut = l.rfind(",\"checksum\"").unwrap();
            format!("{}}}\n", &l[..cut])
        })
        .collect();
    std::fs::write(&path, &old).unwrap();
    let m = merge(&[&dir]).unwrap();
    assert_eq!(m.unverified_lines, sw.jobs().len());
    assert!(m.duplicated.is_empty());
    // An old line and a new copy of the same job are the same content.
    std::fs::write(&path, format!("{old}{}", lines[0])).unwrap();
    let m = merge(&[&dir]).unwrap();
    assert_eq!(m.duplicated.len(), 1);
    let clean = dir.join("clean");
    let r = adbandit::sweep::repair(&[&dir], &clean, Default::default()).unwrap();
    assert_eq!(r.unverified_lines, sw.jobs().len());
    assert_eq!(merge(&[&clean]).unwrap().unverified_lines, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
