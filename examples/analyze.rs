//! Effect analysis of an account's own report: per plan and keyword, the numbers with 95%
//! credible intervals, rankings, and the engine's budgets, bids, pauses and flags for the
//! day after the report.
//!
//! Run: `cargo run --release --example analyze -- --report tests/fixtures/ingest/google_keyword_utf16.csv [--format auto] [--mapping FILE] [--lenient] [--json] [--out DIR]`
//!
//! With `--out DIR` it writes `analysis.csv`, `analysis.json`, `roi_plans.svg` and
//! `roi_keywords.svg`.

use std::process::ExitCode;

use adbandit::analysis::args::parse_analyze;
use adbandit::analysis::{AnalysisOptions, Level, analyze};
use adbandit::ingest;

fn run() -> adbandit::Result<()> {
    let args = parse_analyze(std::env::args().skip(1))?;
    let got = ingest::read_path(&args.report, &args.read().options()?)?;
    let a = analyze(
        &got,
        &AnalysisOptions {
            seed: args.seed,
            ..AnalysisOptions::default()
        },
    )?;
    if args.json {
        println!("{}", a.to_json()?);
    } else {
        print!("{}", a.table(args.top));
    }
    if let Some(dir) = &args.out {
        let io = |p: &std::path::Path, e: std::io::Error| adbandit::Error::Io {
            path: p.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let p = dir.join("analysis.csv");
        a.write_csv(std::fs::File::create(&p).map_err(|e| io(&p, e))?)?;
        for (name, text) in [
            ("analysis.json", a.to_json()?),
            ("roi_plans.svg", a.svg(Level::Plan)),
            ("roi_keywords.svg", a.svg(Level::Keyword)),
        ] {
            let p = dir.join(name);
            std::fs::write(&p, text).map_err(|e| io(&p, e))?;
        }
        eprintln!(
            "wrote analysis.csv, analysis.json, roi_plans.svg, roi_keywords.svg to {}",
            dir.display()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("analyze: {e}");
            ExitCode::from(2)
        }
    }
}
