//! Strategies side by side on the `drift` scenario (the plans' value order reverses
//! mid-horizon): static bids and budgets against Thompson sampling with and without
//! forgetting, 20 seeds, paired 95% intervals, and a verdict that admits ties.
//!
//! Run with `cargo run --release --example compare`. The same with every flag is the
//! command `adbandit compare --scenario drift --strategies static,thompson,thompson_forget`
//! (`cargo install --path cli`).

use adbandit::compare::{BuiltinStrategy, Grid, RunOptions, report, summarise, verdict};
use adbandit::sim::Scenario;

fn main() -> adbandit::Result<()> {
    let strategies = BuiltinStrategy::entries(&["static", "thompson", "thompson_forget"])?;
    let grid = Grid::new(vec![Scenario::drift()], strategies, 20);
    let results = grid.run(&RunOptions {
        progress: true,
        ..RunOptions::default()
    })?;
    let summary = summarise(&results, "static");
    print!("{}", report::table(&summary));
    for line in verdict::verdicts(&results, &summary) {
        println!("{line}");
    }
    Ok(())
}
