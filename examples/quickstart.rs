//! Quickstart: every built-in strategy on the `default` scenario (8 plans x 60 keywords,
//! 30 days) over 20 seeds, in parallel; prints the comparison table, writes the plots and
//! data to `out/quickstart/`, and says which strategies lead (naming the ones the paired
//! intervals cannot tell apart) and by how much they beat static bids and budgets.
//!
//! Run with `cargo run --release --example quickstart`.

use std::path::Path;

use adbandit::compare::report::{self, Comparison};
use adbandit::compare::{BuiltinStrategy, Grid, RunOptions, summarise, verdict};
use adbandit::sim::Scenario;

fn main() -> adbandit::Result<()> {
    let started = std::time::Instant::now();
    let scenario = Scenario::default_scenario();
    let grid = Grid::new(vec![scenario], BuiltinStrategy::all()?, 20);
    let options = RunOptions {
        progress: true,
        ..RunOptions::default()
    };
    let results = grid.run(&options)?;
    let summary = summarise(&results, "static");
    println!("{}", report::table(&summary));

    let out = Path::new("out/quickstart");
    let comparison = Comparison {
        options,
        results,
        summary,
    };
    report::write_all(out, &comparison)?;
    #[cfg(feature = "plots")]
    for p in adbandit::compare::plot::write_plots(&comparison.results, out)? {
        println!("wrote {}", p.display());
    }
    println!(
        "wrote {}/{{results.json, runs.csv, daily.csv, summary.csv}}",
        out.display()
    );

    // The verdict admits ties: strategies whose paired difference from the leader has an
    // interval containing zero are named together.
    println!();
    for line in verdict::verdicts(&comparison.results, &comparison.summary) {
        println!("{line}");
    }
    eprintln!(
        "{} runs in {:.1} s",
        comparison.results.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
