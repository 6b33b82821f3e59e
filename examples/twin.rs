//! The account's twin: calibrate a simulator scenario from a report, print the calibration
//! check (report vs the twin replaying the same bids and budgets), then compare the historical
//! allocation held fixed with the engine's strategies on the twin (same seeds, paired 95%
//! intervals).
//!
//! Everything after calibration is a SIMULATION of the account, not the account, and the
//! comparison says so; if the calibration check failed it says the comparison is not
//! trustworthy (and the example exits 1).
//!
//! Run: `cargo run --release --example twin -- --report FILE [--days N] [--seeds N] [--out DIR]`
//!
//! With `--out DIR` it writes `twin_scenario.json` (the simulator's scenario format, horizon
//! `--days`), `calibration.json`, `twin_comparison.json` / `.txt` (labelled), `runs.csv`,
//! `daily.csv`, `summary.csv` and, with the `plots` feature, `twin_revenue.svg` and
//! `twin_hourly_spend.svg`.

use std::process::ExitCode;

use adbandit::analysis::args::parse_twin;
use adbandit::compare::RunOptions;
use adbandit::ingest;
use adbandit::twin::{TwinCompareOptions, TwinOptions, calibrate_ingested, compare_on_twin};

fn run() -> adbandit::Result<bool> {
    let args = parse_twin(std::env::args().skip(1))?;
    let got = ingest::read_path(&args.report, &args.read().options()?)?;
    let twin = calibrate_ingested(
        &got,
        &TwinOptions {
            seed: args.seed,
            replay_seeds: args.seeds.min(16),
            ..TwinOptions::default()
        },
    )?;
    println!(
        "Twin of {} — a simulation of the account calibrated from {}",
        twin.scenario.account().name(),
        got.file
    );
    print!("{}", twin.check.table());
    for n in &twin.notes {
        println!("note: {n}");
    }
    println!();
    let started = std::time::Instant::now();
    let cmp = compare_on_twin(
        &twin,
        &TwinCompareOptions {
            days: args.days,
            seeds: u64::from(args.seeds),
            run: RunOptions {
                master_seed: args.seed,
                ..RunOptions::default()
            },
            ..TwinCompareOptions::default()
        },
    )?;
    print!("{}", cmp.table());
    eprintln!(
        "{} runs in {:.1} s",
        cmp.results().len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(dir) = &args.out {
        let io = |p: &std::path::Path, e: std::io::Error| adbandit::Error::Io {
            path: p.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        for (name, text) in [
            ("twin_scenario.json", twin.scenario_json(args.days)?),
            (
                "calibration.json",
                serde_json::to_string_pretty(&twin.check)?,
            ),
        ] {
            let p = dir.join(name);
            std::fs::write(&p, text).map_err(|e| io(&p, e))?;
        }
        cmp.write_all(dir)?;
        #[cfg(feature = "plots")]
        cmp.write_plots(dir)?;
        eprintln!(
            "wrote twin_scenario.json, calibration.json, twin_comparison.json/.txt, runs.csv, \
             daily.csv, summary.csv{} to {}",
            if cfg!(feature = "plots") {
                ", plots"
            } else {
                ""
            },
            dir.display()
        );
    }
    Ok(twin.check.passed())
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("twin: calibration check failed; treat the twin with care");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("twin: {e}");
            ExitCode::from(2)
        }
    }
}
