//! Quickstart: every built-in strategy on the `default` scenario (8 plans x 60 keywords,
//! 30 days) over 20 seeds, in parallel; prints the comparison table, writes the plots and
//! data to `out/quickstart/`, and says which strategy won and by how much.
//!
//! Run with `cargo run --release --example quickstart`.

use std::path::Path;

use adbandit::compare::report::{self, Comparison};
use adbandit::compare::{BuiltinStrategy, Grid, RunOptions, summarise};
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

    let s = &comparison.summary;
    if let (Some(best), Some(base)) = (s.best("default"), s.get("default", "static")) {
        let d = best.vs_baseline.unwrap_or(best.revenue);
        println!(
            "\nWinner: {} with revenue {:.0} per 30 days (ROI {}) against {:.0} for static bids and budgets:",
            best.strategy,
            best.revenue.mean,
            best.roi
                .map_or("-".to_owned(), |i| format!("{:.2}", i.mean)),
            base.revenue.mean
        );
        println!(
            "{:+.0} ({:+.1}%), 95% CI of the paired difference [{:+.0}, {:+.0}] over {} seeds ({:.1} s).",
            d.mean,
            100.0 * d.mean / base.revenue.mean,
            d.lo,
            d.hi,
            d.n,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
