//! Double 11: a promotion-day scenario (pre-heat, the day with 4x traffic and 2.2x
//! conversion, the hangover). Compares static bids, Thompson sampling with a 7-day half-life
//! and the forgetting variant (3 days), prints the table and the revenue around the spike
//! day by day, and writes plots to `out/double_11/`.
//!
//! Run with `cargo run --release --example double_11`.

use std::path::Path;

use adbandit::compare::summary::Interval;
use adbandit::compare::{BuiltinStrategy, Grid, RunOptions, report, summarise};
use adbandit::sim::Scenario;

fn main() -> adbandit::Result<()> {
    let scenario = Scenario::double_11();
    let names = [
        "static",
        "manual_rule",
        "thompson",
        "thompson_forget",
        "oracle",
    ];
    let grid = Grid::new(
        vec![scenario.clone()],
        BuiltinStrategy::entries(&names)?,
        20,
    );
    let options = RunOptions {
        progress: true,
        ..RunOptions::default()
    };
    let results = grid.run(&options)?;
    let summary = summarise(&results, "thompson");
    print!("{}", report::table(&summary));

    // Revenue per day around the spike (mean over seeds).
    let spike = (0..scenario.days())
        .max_by(|&a, &b| {
            let f = |d| scenario.truth().day_factors(d).traffic;
            f(a).total_cmp(&f(b))
        })
        .unwrap_or(0);
    let days: Vec<u32> = (spike.saturating_sub(3)..(spike + 5).min(scenario.days())).collect();
    print!("\nrevenue by day (mean of 20 seeds)\n{:<16}", "strategy");
    for d in &days {
        print!(" {:>9}", scenario.date(*d).to_string()[5..].to_owned());
    }
    println!();
    for s in names {
        print!("{s:<16}");
        for &d in &days {
            let xs: Vec<f64> = results
                .iter()
                .filter(|r| r.job.strategy == s)
                .map(|r| r.daily[d as usize].revenue.units())
                .collect();
            print!(" {:>9.0}", Interval::of(&xs).mean);
        }
        println!();
    }
    // The window around the spike, paired seed by seed.
    let window = |s: &str| -> Vec<f64> {
        results
            .iter()
            .filter(|r| r.job.strategy == s)
            .map(|r| {
                days.iter()
                    .map(|&d| r.daily[d as usize].revenue.units())
                    .sum()
            })
            .collect()
    };
    let diff: Vec<f64> = window("thompson_forget")
        .iter()
        .zip(window("thompson"))
        .map(|(a, b)| a - b)
        .collect();
    let d = Interval::of(&diff);
    println!(
        "
thompson_forget - thompson over {} .. {}: {:+.0} [{:+.0}, {:+.0}] (95% CI, paired)",
        scenario.date(days[0]),
        scenario.date(days[days.len() - 1]),
        d.mean,
        d.lo,
        d.hi
    );
    let out = Path::new("out/double_11");
    #[cfg(feature = "plots")]
    adbandit::compare::plot::write_plots(&results, out)?;
    report::write_all(
        out,
        &report::Comparison {
            options,
            results,
            summary,
        },
    )?;
    println!("wrote {}", out.display());
    Ok(())
}
