//! The fuzz targets' bodies (`fuzz/src/lib.rs`) on stable: each runs on its seed corpus
//! (`fuzz/corpus/<target>/`, plus seeds built here from the current formats) and on a fixed,
//! seeded set of mutations of every seed (truncations, byte flips, inserted tokens such as
//! huge numbers). A body panics on a crash or a broken round trip, so this test fails.
//!
//! `ADBANDIT_FUZZ_SECONDS=60 cargo test --release --test fuzz_replay -- --ignored` keeps
//! mutating for that long per target (what `scripts/fuzz.sh` runs without a nightly
//! toolchain). A crash found either way becomes a seed file or a test here.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod bodies;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use adbandit::engine::{Engine, EngineConfig};
use adbandit::sweep::{Shard, ShardOptions, Sweep, SweepSpec, run_shard};
use adbandit::{Account, Date, Keyword, MatchType, Money, Plan, Report, ReportRow, Stats};

type Body = fn(&[u8]);

const TARGETS: [(&str, Body); 6] = [
    ("ingest_bytes", bodies::ingest_bytes),
    ("scenario", bodies::scenario),
    ("snapshot", bodies::snapshot),
    ("sweep", bodies::sweep),
    ("account", bodies::account),
    ("result_line", bodies::result_line),
];

/// Tokens that break parsers: limits, non-numbers, structure.
const TOKENS: [&str; 16] = [
    "-1",
    "0",
    "1e308",
    "-1e308",
    "18446744073709551616",
    "9223372036854775807",
    "4294967297",
    "NaN",
    "null",
    "\"\"",
    "[]",
    "{}",
    "\"\\u0000\"",
    ",",
    "\n",
    "\u{feff}",
];

/// SplitMix64: a small deterministic generator for the mutations.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(seed: &[u8], rng: &mut Mix) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 => v.truncate(at),
            1 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            2 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                const BYTES: &[u8] = b"{}[]\",:0123456789e.-";
                v[i] = BYTES[rng.below(BYTES.len())];
            }
            3 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(at..at, t.bytes());
            }
            4 => {
                // Replace the number starting at or after `at` with a token.
                if let Some(s) = v[at..].iter().position(u8::is_ascii_digit).map(|p| p + at) {
                    let e = v[s..]
                        .iter()
                        .position(|b| !b.is_ascii_digit())
                        .map_or(v.len(), |p| p + s);
                    let t = TOKENS[rng.below(7)];
                    v.splice(s..e, t.bytes());
                }
            }
            _ => {
                // Duplicate a slice (repeated keys, rows, lines).
                let len = rng.below(64).min(v.len() - at.min(v.len()));
                let piece = v[at..at + len].to_vec();
                v.splice(at..at, piece);
            }
        }
    }
    v
}

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("adbandit-fuzz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An account with two plans, as in the crate's front-page example.
fn account() -> Account {
    let y = |x| Money::from_units(x).unwrap();
    Account::new(
        "Shop",
        "CNY",
        vec![
            Plan::new("dress", "Dresses", y(300), y(0), y(5)).with_keyword(Keyword::new(
                "d1",
                "red dress",
                MatchType::Exact,
                y(1),
            )),
            Plan::new("shoe", "Shoes", y(300), y(0), y(5)).with_keyword(Keyword::new(
                "s1",
                "running shoes",
                MatchType::Phrase,
                y(1),
            )),
        ],
    )
    .unwrap()
}

/// A snapshot of an engine that has observed a day and decided one.
fn snapshot_json() -> String {
    let y = |x| Money::from_units(x).unwrap();
    let mut engine = Engine::new(account(), EngineConfig::default(), 7).unwrap();
    let day = Date::from_ymd(2026, 11, 1).unwrap();
    let row = |plan: &str, kw: &str, clicks, orders, revenue| ReportRow {
        date: day,
        hour: None,
        days: 1,
        plan: adbandit::PlanId::new(plan),
        keyword: Some(adbandit::KeywordId::new(kw)),
        stats: Stats::new(4_000, clicks, orders, y(150), y(revenue)).unwrap(),
    };
    engine
        .observe(
            &Report::new(vec![
                row("dress", "d1", 200, 20, 2_000),
                row("shoe", "s1", 120, 3, 240),
            ])
            .unwrap(),
        )
        .unwrap();
    engine.decide(day.add_days(1)).unwrap();
    engine.snapshot().to_json().unwrap()
}

/// A result file of a two-job sweep.
fn result_lines() -> Vec<u8> {
    let spec = SweepSpec::from_json(
        r#"{"scenarios":["small"],"seeds":2,"days":2,"strategies":[{"name":"static"}]}"#,
    )
    .unwrap();
    let sw = Sweep::new(&spec, Path::new(".")).unwrap();
    let dir = scratch("lines");
    let opts = ShardOptions {
        threads: 1,
        progress: false,
        sync: false,
    };
    let run = run_shard(&sw, Shard::ALL, &dir, &opts).unwrap();
    let bytes = std::fs::read(run.file).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    bytes
}

/// Seeds of a target: the committed corpus plus the ones built here.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    for f in files {
        out.push(std::fs::read(f).unwrap());
    }
    // The current formats, whatever the committed seeds were written with.
    match target {
        "snapshot" => out.push(snapshot_json().into_bytes()),
        "account" => out.push(serde_json::to_vec(&account()).unwrap()),
        "result_line" => out.push(result_lines()),
        _ => {}
    }
    out
}

/// Runs `body` on each seed and on `per_seed` mutations of it (or until `until`); returns
/// how many mutants ran and each distinct failure with the first input that caused it
/// (saved under the temporary directory).
fn run(target: &str, body: Body, per_seed: usize, until: Option<Instant>) -> (usize, Vec<String>) {
    let seeds = seeds(target);
    assert!(!seeds.is_empty(), "no seeds for {target}");
    let mut rng = Mix(0x5eed ^ target.len() as u64);
    let (mut n, mut failures) = (0, Vec::<String>::new());
    loop {
        for s in &seeds {
            body(s);
            for _ in 0..per_seed {
                let m = mutate(s, &mut rng);
                n += 1;
                let Err(e) = std::panic::catch_unwind(|| body(&m)) else {
                    continue;
                };
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                // One entry per kind of failure: the message up to its first detail.
                let kind: String = msg.chars().take_while(|c| *c != ':').collect();
                if failures.iter().any(|f| f.starts_with(&kind)) {
                    continue;
                }
                let path = std::env::temp_dir()
                    .join(format!("adbandit-fuzz-crash-{target}-{}", failures.len()));
                std::fs::write(&path, &m).unwrap();
                failures.push(format!("{kind}: {msg} (input: {})", path.display()));
            }
        }
        match until {
            Some(t) if Instant::now() < t => {}
            _ => return (n, failures),
        }
    }
}

#[test]
fn every_target_survives_its_corpus_and_mutations() {
    for (target, body) in TARGETS {
        let t = Instant::now();
        let (n, failures) = run(target, body, 200, None);
        assert!(failures.is_empty(), "{target}: {failures:#?}");
        eprintln!("{target}: {n} mutants in {:?}", t.elapsed());
    }
}

#[test]
fn seeds_are_accepted_inputs() {
    // The corpus is only useful if the seeds reach past the first error.
    assert!(SweepSpec::from_json(&String::from_utf8(seeds("sweep")[0].clone()).unwrap()).is_ok());
    let s = String::from_utf8(seeds("scenario")[0].clone()).unwrap();
    assert!(adbandit::sim::Scenario::from_json(&s).is_ok());
    let lines = adbandit::sweep::ResultFile::read_from(
        Path::new("seed"),
        seeds("result_line").last().unwrap().as_slice(),
    )
    .unwrap();
    assert_eq!(lines.lines.len(), 2);
    let snap = String::from_utf8(seeds("snapshot").last().unwrap().clone()).unwrap();
    let snap =
        adbandit::engine::EngineSnapshot::<adbandit::policy::BuiltinPolicy>::from_json(&snap);
    assert!(Engine::restore(snap.unwrap()).is_ok());
    let account = seeds("account").last().unwrap().clone();
    assert!(serde_json::from_slice::<Account>(&account).is_ok());
}

#[test]
#[ignore = "soak: ADBANDIT_FUZZ_SECONDS per target (scripts/fuzz.sh without nightly)"]
fn soak() {
    let secs: u64 = std::env::var("ADBANDIT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let only = std::env::var("ADBANDIT_FUZZ_TARGET").ok();
    // Quiet: failures are collected and listed at the end.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut all = Vec::new();
    for (target, body) in TARGETS {
        if only.as_deref().is_some_and(|o| o != target) {
            continue;
        }
        let (n, failures) = run(
            target,
            body,
            64,
            Some(Instant::now() + Duration::from_secs(secs)),
        );
        all.extend(failures.into_iter().map(|f| format!("{target}: {f}")));
        eprintln!("{target}: {n} mutants in {secs} s");
    }
    std::panic::set_hook(hook);
    assert!(all.is_empty(), "{all:#?}");
}

/// Inputs that crashed a body, named `<target>-<what>.<ext>` in `fuzz/crashes/`; each is
/// replayed here once fixed. The ones still open are listed in `OPEN` with their own test.
const OPEN: [&str; 1] = ["ingest_bytes-quoted-newlines.csv"];

fn crash_files() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/crashes");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name, std::fs::read(e.path()).unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn crashes_found_by_fuzzing_stay_fixed() {
    for (name, bytes) in crash_files() {
        if OPEN.contains(&name.as_str()) {
            continue;
        }
        let (target, body) = TARGETS
            .iter()
            .find(|(t, _)| name.starts_with(&format!("{t}-")))
            .unwrap_or_else(|| panic!("fuzz/crashes/{name}: no target of that name"));
        eprintln!("{target}: {name}");
        body(&bytes);
    }
}

/// Found by the soak (mutating `bing_mapped.csv`): a quote left open swallows the next
/// lines into one field, the file is accepted (strict mode) with a plan id that holds three
/// lines and 0 impressions, and its canonical CSV does not read back ("no header row
/// found"). The ingest layer owns the fix (reject the unbalanced quote or keep the row).
#[test]
#[ignore = "open: ingest accepts a multi-line quoted field that its canonical CSV cannot read back"]
fn ingest_quoted_newlines_round_trip() {
    let (_, bytes) = crash_files()
        .into_iter()
        .find(|(n, _)| n == OPEN[0])
        .unwrap();
    bodies::ingest_bytes(&bytes);
}

/// Writes the seeds built here into the corpus (for libFuzzer, which reads only files):
/// `cargo test --test fuzz_replay write_generated_seeds -- --ignored` after a format change.
#[test]
#[ignore = "writes fuzz/corpus/{snapshot,account,result_line}/seed-generated.*"]
fn write_generated_seeds() {
    for (target, bytes, ext) in [
        ("snapshot", snapshot_json().into_bytes(), "json"),
        (
            "account",
            serde_json::to_vec_pretty(&account()).unwrap(),
            "json",
        ),
        ("result_line", result_lines(), "jsonl"),
    ] {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-generated.{ext}")), bytes).unwrap();
    }
}
