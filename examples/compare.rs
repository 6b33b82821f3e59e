//! Command-line front end of the strategy comparison: scenarios x strategies x seeds.
//!
//! Run with, for example:
//! `cargo run --release --example compare -- --scenario drift --strategies static,thompson,thompson_forget --seeds 20 --out out/drift`
//! (`--help` lists every flag). Unknown flags and bad values print a usage error and exit 2.

use std::process::ExitCode;

use adbandit::compare::cli::{self, Command};
use adbandit::compare::report::{self, Comparison};
use adbandit::compare::{Grid, summarise};

fn main() -> ExitCode {
    let args = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Run(a)) => a,
        Ok(Command::Help) => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &cli::CliArgs) -> adbandit::Result<()> {
    let grid = Grid::new(args.load_scenarios()?, args.strategy_entries()?, args.seeds);
    let options = args.run_options();
    let started = std::time::Instant::now();
    let results = grid.run(&options)?;
    let elapsed = started.elapsed().as_secs_f64();
    let summary = summarise(&results, &args.baseline);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", report::table(&summary));
        eprintln!(
            "{} runs in {elapsed:.1} s ({:.1} runs/s on {} threads)",
            results.len(),
            results.len() as f64 / elapsed,
            options.threads
        );
    }
    if let Some(dir) = &args.out {
        let comparison = Comparison {
            options,
            results,
            summary,
        };
        report::write_all(dir, &comparison)?;
        #[cfg(feature = "plots")]
        adbandit::compare::plot::write_plots(&comparison.results, dir)?;
        eprintln!("wrote {}", dir.display());
    }
    Ok(())
}
