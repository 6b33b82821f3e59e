//! The account's twin: calibrate a simulator scenario from a report, print the calibration
//! check (the report against the twin replaying the same bids and budgets), then compare the
//! historical allocation, held fixed, with the engine's strategies on the twin (same seeds,
//! paired 95% intervals). Everything after calibration is a SIMULATION of the account, and the
//! comparison says so.
//!
//! Run with `cargo run --release --example twin [REPORT]` (default: the Google Ads keyword
//! fixture). The command with every option is `adbandit twin --report FILE [--days N]
//! [--seeds N] [--out DIR]`.

use adbandit::ingest::{self, Options};
use adbandit::twin::{TwinCompareOptions, TwinOptions, calibrate_ingested, compare_on_twin};

fn main() -> adbandit::Result<()> {
    let report = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tests/fixtures/ingest/google_keyword_utf16.csv".to_owned());
    let got = ingest::read_path(&report, &Options::default())?;
    let twin = calibrate_ingested(&got, &TwinOptions::default())?;
    print!("{}", twin.check.table());
    let cmp = compare_on_twin(&twin, &TwinCompareOptions::default())?;
    print!("{}", cmp.table());
    Ok(())
}
