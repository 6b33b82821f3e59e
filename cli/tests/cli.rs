//! The `adbandit` binary run as a user runs it: help, version, errors, suggestions, exit
//! codes, and `recommend` end to end, twice in a row, with a crash between write and rename.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_adbandit"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn repo_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/ingest")
        .join(name)
        .display()
        .to_string()
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("adbandit-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn help_and_version_exit_zero() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["recommend", "--help"],
        &["compare", "--help"],
        &["sweep", "run", "--help"],
        &["scenario", "show", "--help"],
        &["analyze", "-h"],
        &["twin", "--help"],
    ] {
        let o = run(args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(!out.is_empty() && err.is_empty(), "{args:?}");
    }
    let (out, _) = text(&run(&["--version"]));
    assert!(out.starts_with("adbandit 0.1.0"), "{out}");
    let (out, _) = text(&run(&["--help"]));
    for sub in [
        "analyze",
        "recommend",
        "compare",
        "twin",
        "sweep",
        "scenario",
        "Exit status",
    ] {
        assert!(out.contains(sub), "{sub} missing from --help");
    }
}

#[test]
fn usage_errors_exit_two_with_suggestions() {
    let cases: [(&[&str], &str); 7] = [
        (&["compare", "--seed", "3"], "'--seeds'"),
        (&["compair"], "'compare'"),
        (&["compare", "--scenario", "drfit"], "did you mean `drift`"),
        (
            &["compare", "--strategies", "static,thomson"],
            "did you mean `thompson`",
        ),
        (&["compare", "--baseline", "statc"], "did you mean `static`"),
        (&["compare", "--fidelity", "medium"], "fast"),
        (&["recommend", "--report", "x.csv"], "--state"),
    ];
    for (args, want) in cases {
        let o = run(args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?} printed to stdout: {out}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // A misspelt scenario name lists the built-ins.
    let (_, err) = text(&run(&["scenario", "show", "dubble_11"]));
    assert!(
        err.contains("double_11") && err.contains("long_tail"),
        "{err}"
    );
    assert!(err.contains("did you mean `double_11`"), "{err}");
}

#[test]
fn failures_exit_one() {
    let o = run(&["analyze", "--report", "/no/such/report.csv"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("/no/such/report.csv"), "{err}");
    let o = run(&["compare", "--scenario", "/no/such/scenario.json"]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(&["sweep", "merge", "/no/such/dir"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn scenarios_and_a_small_comparison() {
    let (out, _) = text(&run(&["scenario", "list"]));
    for name in ["small", "default", "double_11", "drift", "long_tail"] {
        assert!(out.lines().any(|l| l.starts_with(name)), "{name}: {out}");
    }
    let o = run(&["scenario", "show", "small"]);
    assert_eq!(o.status.code(), Some(0));
    let o = run(&["scenario", "show", "small", "--json"]);
    let (json, _) = text(&o);
    assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());

    let dir = temp("compare");
    let o = run(&[
        "compare",
        "--scenario",
        "small",
        "--strategies",
        "static,thompson",
        "--seeds",
        "3",
        "--days",
        "5",
        "--threads",
        "1",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("thompson") && out.contains("small:"), "{out}");
    for f in ["results.json", "summary.csv", "runs.csv"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn recommend(state: &Path, report: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "recommend",
        "--state",
        state.to_str().unwrap(),
        "--report",
        report,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// Every file under `dir`, with its bytes, sorted by path.
fn snapshot_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn recommend_twice_carries_the_state() {
    let state = temp("recommend");
    let (day1, day2) = (fixture("day1.csv"), fixture("day2.csv"));

    // A dry run on an empty directory writes nothing.
    let o = recommend(&state, &day1, &["--dry-run"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.starts_with("DRY RUN"), "{out}");
    assert!(!state.exists());

    // The canonical CSV states no currency: name it.
    let o = recommend(&state, &day1, &["--currency", "CNY"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("decision 1 for 2026-11-02"), "{out}");
    assert!(
        out.contains("Dresses") && out.contains("red dress"),
        "names: {out}"
    );
    let day = state.join("changes/2026-11-02");
    let changes = std::fs::read_to_string(day.join("changes.csv")).unwrap();
    assert!(changes.starts_with(
        "date,entity,plan_id,plan_name,keyword_id,keyword,match_type,field,from,to,currency,code,reason,creative_id,creative\n"
    ));
    assert!(changes.contains(",CNY,"), "{changes}");
    // Money in the minor unit (two decimals for CNY), names and ids.
    let budget_row = changes
        .lines()
        .find(|l| l.contains("daily_budget"))
        .expect("a budget change");
    let cells: Vec<&str> = budget_row.split(',').collect();
    assert!(cells[2] == "111" || cells[2] == "222", "{budget_row}");
    for money in &cells[8..10] {
        let (_, frac) = money.split_once('.').expect("decimals");
        assert_eq!(frac.len(), 2, "{budget_row}");
    }
    let google = std::fs::read_to_string(day.join("google_ads_editor.csv")).unwrap();
    assert!(google.starts_with(
        "Campaign,Ad group,Keyword,Criterion Type,Max CPC,Budget,Status,Ad ID,Headline 1\n"
    ));
    let amazon = std::fs::read_to_string(day.join("amazon_bulk.csv")).unwrap();
    assert!(amazon.starts_with("Product,Entity,Operation,Campaign ID,"));
    assert!(amazon.contains("Sponsored Products,Keyword,Update,111,,k1,Dresses"));
    let log = std::fs::read_to_string(state.join("decisions.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 1);

    // A dry run on an existing state changes nothing.
    let before = snapshot_of(&state);
    let o = recommend(&state, &day2, &["--dry-run"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(snapshot_of(&state), before);

    // Day two: the engine is restored, not rebuilt.
    let o = recommend(&state, &day2, &[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("decision 2 for 2026-11-03"), "{out}");
    let log = std::fs::read_to_string(state.join("decisions.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["round"], 2);
    assert_eq!(lines[1]["learned_days"], serde_json::json!(["2026-11-02"]));
    // Today's budgets start from yesterday's decision.
    let to1 = &lines[0]["decision"]["budgets"][0]["to"];
    let from2 = &lines[1]["decision"]["budgets"][0]["from"];
    assert_eq!(to1, from2);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("state.json")).unwrap()).unwrap();
    assert_eq!(m["round"], 2);
    assert_eq!(m["log_lines"], 2);

    // The same report again: nothing new, exit 1, nothing changed.
    let before = snapshot_of(&state);
    let o = recommend(&state, &day2, &[]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("nothing new"), "{err}");
    assert_eq!(snapshot_of(&state), before);

    // --config is for the first run only; a report in another currency is refused.
    let o = recommend(&state, &day2, &["--config", "x.json"]);
    assert_eq!(o.status.code(), Some(2));
    let o = recommend(
        &state,
        &fixture("day3_restated.csv"),
        &["--currency", "USD"],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("USD") && err.contains("CNY"), "{err}");
    assert_eq!(snapshot_of(&state), before);
    std::fs::remove_dir_all(&state).unwrap();
}

#[test]
fn a_crash_before_the_commit_leaves_yesterday_whole() {
    let (day1, day2) = (fixture("day1.csv"), fixture("day2.csv"));
    // Reference: two runs without a crash.
    let clean = temp("clean");
    assert_eq!(recommend(&clean, &day1, &[]).status.code(), Some(0));
    assert_eq!(recommend(&clean, &day2, &[]).status.code(), Some(0));

    let state = temp("crash");
    assert_eq!(recommend(&state, &day1, &[]).status.code(), Some(0));
    let yesterday = std::fs::read(state.join("state.json")).unwrap();
    let yesterday_engine = std::fs::read(state.join("engine-000001.json")).unwrap();
    let yesterday_log = std::fs::read_to_string(state.join("decisions.jsonl")).unwrap();
    for crash_at in ["engine-000002.json", "decisions.jsonl", "state.json"] {
        let o = bin()
            .args([
                "recommend",
                "--state",
                state.to_str().unwrap(),
                "--report",
                &day2,
            ])
            .env("ADBANDIT_TEST_CRASH_BEFORE_RENAME", crash_at)
            .output()
            .unwrap();
        assert!(
            !o.status.success(),
            "{crash_at}: the process should have aborted"
        );
        assert!(
            !matches!(o.status.code(), Some(0..=2)),
            "{crash_at}: {:?}",
            o.status
        );
        // Yesterday's committed state is whole.
        assert_eq!(std::fs::read(state.join("state.json")).unwrap(), yesterday);
        assert_eq!(
            std::fs::read(state.join("engine-000001.json")).unwrap(),
            yesterday_engine
        );
        let log = std::fs::read_to_string(state.join("decisions.jsonl")).unwrap();
        assert!(log.starts_with(&yesterday_log), "{crash_at}");
    }
    // The next run commits the day as if nothing had happened.
    let o = recommend(&state, &day2, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let files = |d: &Path| -> Vec<(String, Vec<u8>)> {
        snapshot_of(d)
            .into_iter()
            .filter(|(n, _)| !n.contains(".tmp"))
            .collect()
    };
    assert_eq!(files(&state), files(&clean));
    std::fs::remove_dir_all(&state).unwrap();
    std::fs::remove_dir_all(&clean).unwrap();
}

#[test]
fn recommend_reads_a_platform_export_with_names() {
    let state = temp("google");
    let o = recommend(&state, &repo_fixture("google_keyword_utf16.csv"), &[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("(account account, INR)"), "{out}");
    let changes = std::fs::read_to_string(state.join("changes/2020-02-03/changes.csv")).unwrap();
    assert!(
        changes.contains("Dresses") && changes.contains(",INR,"),
        "{changes}"
    );
    std::fs::remove_dir_all(&state).unwrap();
}

#[test]
fn recommend_adds_new_plans_and_keywords() {
    let state = temp("new-plan");
    assert_eq!(
        recommend(&state, &fixture("day1.csv"), &[]).status.code(),
        Some(0)
    );
    let o = recommend(&state, &fixture("day2_new_plan.csv"), &[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("new plan Bags (333) added"), "{out}");
    assert!(
        out.contains("new keyword maxi dress (k5) added to Dresses"),
        "{out}"
    );
    let log = std::fs::read_to_string(state.join("decisions.jsonl")).unwrap();
    let day2: serde_json::Value = serde_json::from_str(log.lines().nth(1).unwrap()).unwrap();
    let plans: Vec<&str> = day2["decision"]["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["plan"].as_str().unwrap())
        .collect();
    assert_eq!(plans, ["111", "222", "333"]);
    std::fs::remove_dir_all(&state).unwrap();
}

#[test]
fn recommend_learns_restated_days_once() {
    let state = temp("restated");
    for day in ["day1.csv", "day2.csv"] {
        let o = recommend(&state, &fixture(day), &[]);
        assert_eq!(o.status.code(), Some(0), "{day}: {}", text(&o).1);
    }
    // Day 3's report restates day 2 (late conversions) and adds day 3.
    let o = recommend(&state, &fixture("day3_restated.csv"), &[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("decision 3 for 2026-11-04"), "{out}");
    assert!(out.contains("restated days 2026-11-02"), "{out}");
    let log = std::fs::read_to_string(state.join("decisions.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(log.lines().nth(2).unwrap()).unwrap();
    assert_eq!(line["learned_days"], serde_json::json!(["2026-11-03"]));
    assert_eq!(line["restated_days"], serde_json::json!(["2026-11-02"]));
    // The same report again adds no day: nothing new.
    let o = recommend(&state, &fixture("day3_restated.csv"), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o).1);
    std::fs::remove_dir_all(&state).unwrap();
}

#[test]
fn report_flags_reach_the_library() {
    // --currency names the money of a file that states none (the canonical fixture).
    let state = temp("currency");
    let o = recommend(
        &state,
        &fixture("day1.csv"),
        &["--currency", "usd", "--dry-run"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("(account account, USD)"), "{out}");
    assert!(!state.exists());
    // --objective on analyze: asked for, not fitted.
    let o = run(&[
        "analyze",
        "--report",
        &fixture("day1.csv"),
        "--objective",
        "target-roi=3",
        "--currency",
        "CNY",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        out.contains("target ROI 3") && out.contains("as asked"),
        "{out}"
    );
    // Bad values are usage errors naming the way out.
    for (args, want) in [
        (
            &["--objective", "target-roas=3"][..],
            "did you mean `target-roi`",
        ),
        (&["--objective", "target-cpa"], "target-cpa=VALUE"),
        (&["--currency", "dollars"], "ISO 4217"),
        (
            &["--period", "2026-11-05..2026-11-01"],
            "ends before it starts",
        ),
        (&["--lenient", "--strict"], "cannot be used with"),
    ] {
        let mut a = vec!["analyze", "--report", "r.csv"];
        a.extend_from_slice(args);
        let o = run(&a);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn compare_takes_a_seed_range_and_detail() {
    let dir = temp("seeds");
    let o = run(&[
        "compare",
        "--scenario",
        "small",
        "--strategies",
        "static,ucb",
        "--seeds",
        "3..5",
        "--days",
        "3",
        "--threads",
        "1",
        "--detail",
        "keywords",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("(3 seeds)"), "{out}");
    let runs = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "seed").unwrap();
    let mut seeds: Vec<u64> = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    seeds.sort_unstable();
    assert_eq!(seeds, [3, 3, 4, 4, 5, 5]);
    assert!(dir.join("keyword_days.jsonl").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
    let o = run(&["compare", "--seeds", "9..3"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o).1);
}

const SWEEP: &str = r#"{
  "name": "cli-test",
  "scenarios": ["small"],
  "strategies": [{"name": "static"}, {"name": "thompson"}],
  "seeds": 2,
  "days": 3,
  "fidelity": "fast"
}"#;

#[test]
fn sweep_exit_codes_and_a_repair_that_drops_damage() {
    let root = temp("sweep");
    std::fs::create_dir_all(&root).unwrap();
    let file = root.join("sweep.json");
    std::fs::write(&file, SWEEP).unwrap();
    let (f, out) = (file.to_str().unwrap(), root.join("out"));
    let o = run(&[
        "sweep",
        "run",
        f,
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let reference = std::fs::read(out.join("summary.csv")).unwrap();

    // A sweep file with a misspelt field, or a bad shard: 3 (a retry meets it again).
    let bad = root.join("bad.json");
    std::fs::write(&bad, SWEEP.replace("\"days\"", "\"dayz\"")).unwrap();
    let o = run(&["sweep", "run", bad.to_str().unwrap(), "--out", "x"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("dayz"), "{err}");
    let o = run(&["sweep", "run", f, "--out", "x", "--shard", "5/2"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o).1);
    // --drop-damaged is for a repair only: a usage error.
    let o = run(&["sweep", "merge", out.to_str().unwrap(), "--drop-damaged"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o).1);

    // Damage one line of the shard file: the merge refuses it, naming the line.
    let shard = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("shard-")
        })
        .expect("a shard file");
    let text_of = std::fs::read_to_string(&shard).unwrap();
    let mut lines: Vec<String> = text_of.lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 4);
    lines[1] = lines[1].replacen("\"revenue\":", "\"revenue\": ", 1);
    std::fs::write(&shard, lines.join("\n") + "\n").unwrap();
    let o = run(&["sweep", "merge", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o).1);
    // A repair without --drop-damaged refuses too; with it, the line is dropped.
    let fixed = root.join("fixed");
    let o = run(&[
        "sweep",
        "merge",
        out.to_str().unwrap(),
        "--repair-into",
        fixed.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o).1);
    let o = run(&[
        "sweep",
        "merge",
        out.to_str().unwrap(),
        "--repair-into",
        fixed.to_str().unwrap(),
        "--drop-damaged",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("dropped") && err.contains("1 jobs missing"),
        "{err}"
    );
    // A resume on the repaired directory re-runs the dropped job; the result is the same.
    let o = run(&[
        "sweep",
        "run",
        f,
        "--out",
        fixed.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("3 already done, 1 run"), "{err}");
    assert_eq!(std::fs::read(fixed.join("summary.csv")).unwrap(), reference);
    std::fs::remove_dir_all(&root).unwrap();
}

/// SIGTERM stops `sweep run` with exit 143 and every finished job on disk; the same command
/// resumes and ends with the result of an uninterrupted run.
#[cfg(unix)]
#[test]
fn sweep_run_stops_on_sigterm_and_resumes() {
    use std::time::{Duration, Instant};
    let root = temp("sigterm");
    std::fs::create_dir_all(&root).unwrap();
    let file = root.join("sweep.json");
    // Long enough that the signal lands mid-run: 8 jobs of 30 days on `default`.
    let long = SWEEP
        .replace("\"small\"", "\"default\"")
        .replace("\"seeds\": 2", "\"seeds\": 4")
        .replace("\"days\": 3", "\"days\": 30");
    std::fs::write(&file, long).unwrap();
    let out = root.join("out");
    let args = |dir: &Path| -> Vec<String> {
        [
            "sweep",
            "run",
            file.to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
        ]
        .map(String::from)
        .into_iter()
        .chain(["--threads".into(), "1".into()])
        .collect()
    };
    let child = bin()
        .args(args(&out))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first finished job's line, then stop it.
    let started = Instant::now();
    let shard = out.join("shard-000-of-001.jsonl");
    while std::fs::metadata(&shard).map_or(true, |m| m.len() == 0) {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no job finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(143), "{err}");
    let done = std::fs::read_to_string(&shard).unwrap().lines().count();
    assert!(
        err.contains("stopped by signal 15") && err.contains("run the same command to resume"),
        "{err}"
    );
    if done < 8 {
        let o = bin().args(args(&out)).output().unwrap();
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(err.contains(&format!("{done} already done")), "{err}");
    }
    let clean = root.join("clean");
    let o = bin().args(args(&clean)).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    assert_eq!(
        std::fs::read(out.join("summary.csv")).unwrap(),
        std::fs::read(clean.join("summary.csv")).unwrap()
    );
    std::fs::remove_dir_all(&root).unwrap();
}
