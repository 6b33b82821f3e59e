//! Effect analysis of an account's own report: per plan and keyword, the numbers with 95%
//! credible intervals, rankings, and the engine's budgets, bids, pauses and flags for the
//! day after the report.
//!
//! Run with `cargo run --release --example analyze [REPORT]` (default: a 2-day Google Ads
//! keyword export from `tests/fixtures/ingest/`). The command with every option is
//! `adbandit analyze --report FILE [--format ...] [--json] [--out DIR]`.

use adbandit::analysis::{AnalysisOptions, analyze};
use adbandit::ingest::{self, Options};

fn main() -> adbandit::Result<()> {
    let report = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tests/fixtures/ingest/google_keyword_utf16.csv".to_owned());
    let got = ingest::read_path(&report, &Options::default())?;
    let a = analyze(&got, &AnalysisOptions::default())?;
    print!("{}", a.table(10));
    Ok(())
}
