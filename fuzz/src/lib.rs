//! Bodies of the fuzz targets, one plain function each, so they run on stable too:
//! `fuzz/fuzz_targets/*.rs` hand libFuzzer's bytes to them (nightly, `scripts/fuzz.sh`), and
//! `tests/fuzz_replay.rs` includes this file and runs them on the seed corpus and on
//! deterministic mutations of it (`cargo test`).
//!
//! Each body must never panic: bad input is an `Err`, and what parses must survive a round
//! trip (written back and read again, it is the same value).

use std::path::Path;

use adbandit::engine::{Engine, EngineSnapshot};
use adbandit::ingest::{Mode, Options, read_bytes};
use adbandit::policy::BuiltinPolicy;
use adbandit::sim::Scenario;
use adbandit::sweep::{ResultFile, SweepSpec};
use adbandit::{Account, Report};

/// A report export in any layout and encoding, strict and lenient: whatever is accepted
/// writes as canonical CSV that reads back to the same report.
pub fn ingest_bytes(data: &[u8]) {
    for mode in [Mode::Strict, Mode::Lenient] {
        let opts = Options {
            mode,
            ..Options::default()
        };
        let Ok(got) = read_bytes(data, "fuzz.csv", &opts) else {
            continue;
        };
        let _ = got.report.total();
        let mut csv = Vec::new();
        got.write_canonical(&mut csv)
            .expect("an accepted report writes as canonical CSV");
        let again = read_bytes(&csv, "canonical.csv", &Options::default())
            .expect("canonical CSV reads back");
        assert_eq!(
            rows(&again.report),
            rows(&got.report),
            "canonical round trip changed the report"
        );
    }
}

fn rows(r: &Report) -> String {
    serde_json::to_string(r.rows()).unwrap_or_default()
}

/// A scenario file: accepted ones round-trip through JSON.
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(s) = Scenario::from_json(text) else {
        return;
    };
    let json = serde_json::to_string(&s).expect("an accepted scenario serialises");
    let again = Scenario::from_json(&json).expect("a written scenario reads back");
    assert_eq!(
        serde_json::to_string(&again).ok(),
        Some(json),
        "scenario round trip"
    );
}

/// An engine snapshot: accepted ones restore, and the restored engine's snapshot restores
/// to the same bytes.
pub fn snapshot(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(snap) = EngineSnapshot::<BuiltinPolicy>::from_json(text) else {
        return;
    };
    let Ok(engine) = Engine::restore(snap) else {
        return;
    };
    let json = engine
        .snapshot()
        .to_json()
        .expect("a restored engine snapshots");
    let again = Engine::restore(
        EngineSnapshot::<BuiltinPolicy>::from_json(&json).expect("a written snapshot parses"),
    )
    .expect("a written snapshot restores");
    assert_eq!(
        again.snapshot().to_json().ok(),
        Some(json),
        "snapshot round trip"
    );
}

/// A sweep file: accepted ones round-trip.
pub fn sweep(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(spec) = SweepSpec::from_json(text) else {
        return;
    };
    let json = serde_json::to_string(&spec).expect("an accepted sweep serialises");
    let again = SweepSpec::from_json(&json).expect("a written sweep reads back");
    assert_eq!(again, spec, "sweep round trip");
}

/// An account as JSON: accepted ones round-trip.
pub fn account(data: &[u8]) {
    let Ok(a) = serde_json::from_slice::<Account>(data) else {
        return;
    };
    let json = serde_json::to_string(&a).expect("an accepted account serialises");
    let again: Account = serde_json::from_str(&json).expect("a written account reads back");
    assert_eq!(again, a, "account round trip");
}

/// A sweep's result file: every line read is verified or counted, and re-encoding a line
/// gives a line that verifies and parses to the same value.
pub fn result_line(data: &[u8]) {
    let Ok(file) = ResultFile::read_from(Path::new("fuzz.jsonl"), data) else {
        return;
    };
    for l in &file.lines {
        let text = l.value.encode().expect("a read line encodes");
        let again = ResultFile::read_from(Path::new("again.jsonl"), text.as_bytes())
            .expect("an encoded line reads");
        assert!(again.damaged.is_empty(), "{:?}", again.damaged);
        assert_eq!(again.lines.len(), 1);
        assert!(again.lines[0].verified);
        let mut want = l.value.clone();
        want.checksum = again.lines[0].value.checksum.clone();
        assert_eq!(again.lines[0].value, want, "result line round trip");
    }
}
