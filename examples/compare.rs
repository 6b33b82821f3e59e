//! Command-line front end of the strategy comparison: scenarios x strategies x seeds.
//!
//! Run with, for example:
//! `cargo run --release --example compare -- --scenario drift --strategies static,thompson,thompson_forget --seeds 20 --out out/drift`
//! (`--help` lists every flag). Unknown flags and bad values print a usage error and exit 2.
//!
//! Sweeps (see `deploy/README.md`): `compare --sweep sweep.json --shard 3/8 --out results`
//! runs one shard, resumably; `compare merge results --out merged` checks and summarises.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use adbandit::compare::cli::{self, Command};
use adbandit::compare::report::{self, Comparison};
use adbandit::compare::{Grid, summarise};
use adbandit::sweep::{self, Shard, ShardOptions, Sweep};

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let outcome = match &command {
        Command::Run(a) => run(a),
        Command::Sweep(a) => return run_sweep(a),
        Command::Merge(a) => run_merge(a),
        Command::Help => Ok(()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the summary and writes the files (and plots) of a comparison.
fn emit(comparison: &Comparison, out: Option<&Path>, json: bool) -> adbandit::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&comparison.summary)?);
    } else {
        print!("{}", report::table(&comparison.summary));
    }
    if let Some(dir) = out {
        report::write_all(dir, comparison)?;
        #[cfg(feature = "plots")]
        adbandit::compare::plot::write_plots(&comparison.results, dir)?;
        eprintln!("wrote {}", dir.display());
    }
    Ok(())
}

fn run(args: &cli::CliArgs) -> adbandit::Result<()> {
    let grid = Grid::with_seeds(
        args.load_scenarios()?,
        args.strategy_entries()?,
        &args.seeds,
    );
    let options = args.run_options();
    let started = Instant::now();
    let results = grid.run(&options)?;
    let elapsed = started.elapsed().as_secs_f64();
    let summary = summarise(&results, &args.baseline);
    if !args.json {
        eprintln!(
            "{} runs in {elapsed:.1} s ({:.1} runs/s on {} threads)",
            results.len(),
            results.len() as f64 / elapsed,
            options.threads
        );
    }
    let comparison = Comparison {
        options,
        results,
        summary,
    };
    emit(&comparison, args.out.as_deref(), args.json)
}

/// A sweep: exit 0; 128 + signal when SIGTERM/SIGINT stopped it (finished jobs are on
/// disk); 1 for an i/o error (worth a retry); `sweep::EXIT_CONFIG` for anything a retry
/// would meet again (bad input, a failing job), so a cluster does not retry it.
fn run_sweep(args: &cli::SweepArgs) -> ExitCode {
    let fail = |code: u8, e: adbandit::Error| {
        eprintln!("error: {e}");
        ExitCode::from(code)
    };
    let cancel = match adbandit::cancel::Cancel::on_termination_signals() {
        Ok(c) => c,
        Err(e) => return fail(1, e),
    };
    let prepared = Sweep::load(&args.file).and_then(|sw| {
        let shard = match &args.shard {
            Some(s) => Shard::parse(s)?,
            None => Shard::ALL,
        };
        Ok((sw, shard))
    });
    let (sw, shard) = match prepared {
        Ok(p) => p,
        Err(e) => return fail(sweep::EXIT_CONFIG, e),
    };
    match sweep_shard(args, &sw, shard, &cancel) {
        Ok(()) if cancel.is_cancelled() => {
            let sig = cancel.signal().unwrap_or(15);
            ExitCode::from(adbandit::cancel::signal_exit_status(sig))
        }
        Ok(()) => ExitCode::SUCCESS,
        // An i/o error may pass (a volume hiccup): retry. Anything else a retry would meet
        // again (results are deterministic).
        Err(e @ adbandit::Error::Io { .. }) => fail(1, e),
        Err(e) => fail(sweep::EXIT_CONFIG, e),
    }
}

fn sweep_shard(
    args: &cli::SweepArgs,
    sw: &Sweep,
    shard: Shard,
    cancel: &adbandit::cancel::Cancel,
) -> adbandit::Result<()> {
    let started = Instant::now();
    let done = sweep::run_shard_cancellable(
        sw,
        shard,
        &args.out,
        &ShardOptions {
            threads: args.threads,
            progress: true,
            sync: args.sync,
        },
        cancel,
    )?;
    if done.cancelled {
        eprintln!(
            "sweep {}, shard {shard}: stopped by {}; {} jobs written this run, {} left: run \
             the same command to resume -> {}",
            sw.fingerprint(),
            cancel
                .signal()
                .map_or("request".to_owned(), |s| format!("signal {s}")),
            done.ran,
            done.jobs - done.skipped - done.ran,
            done.file.display()
        );
        return Ok(());
    }
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "sweep {} ({}), shard {shard}: {} jobs, {} already done, {} run in {elapsed:.1} s \
         ({:.1} jobs/s on {} threads){} -> {}",
        sw.name(),
        sw.fingerprint(),
        done.jobs,
        done.skipped,
        done.ran,
        done.ran as f64 / elapsed.max(1e-9),
        args.threads,
        if done.dropped_partial_line {
            ", a torn last line dropped and re-run"
        } else {
            ""
        },
        done.file.display()
    );
    if shard.count() == 1 {
        let merged = sweep::merge(&[&args.out])?;
        emit(&merged.comparison(), Some(&args.out), args.json)?;
    } else {
        eprintln!(
            "merge when every shard is done: compare merge {}",
            args.out.display()
        );
    }
    Ok(())
}

fn run_merge(args: &cli::MergeArgs) -> adbandit::Result<()> {
    if let Some(into) = &args.repair_into {
        let r = sweep::repair(
            &args.inputs,
            into,
            sweep::RepairOptions {
                drop_damaged: args.drop_damaged,
            },
        )?;
        for (f, d) in &r.damaged {
            eprintln!("dropped {} line {}: {}", f.display(), d.line, d.reason);
        }
        for j in &r.conflicting {
            eprintln!(
                "dropped job {} (conflicting copies): it will be re-run",
                j.id
            );
        }
        eprintln!(
            "repaired into {}: {} jobs in {} files, {} duplicate lines dropped, {} damaged \
             lines and {} conflicting jobs dropped, {} unverified lines given checksums; {} \
             jobs missing (resume a shard on {} to run them)",
            into.display(),
            r.jobs,
            r.files.len(),
            r.duplicate_lines,
            r.damaged.len(),
            r.conflicting.len(),
            r.unverified_lines,
            r.missing,
            into.display()
        );
        return Ok(());
    }
    let merged = sweep::merge(&args.inputs)?;
    eprintln!(
        "merged sweep {} ({}): {} jobs from {} files{}{}{}",
        merged.manifest.name,
        merged.manifest.fingerprint,
        merged.results.len(),
        merged.files.len(),
        if merged.dropped_partial_lines > 0 {
            format!(", {} torn last lines ignored", merged.dropped_partial_lines)
        } else {
            String::new()
        },
        if merged.duplicated.is_empty() {
            String::new()
        } else {
            format!(
                ", {} jobs found more than once (byte-identical copies, ignored)",
                merged.duplicated.len()
            )
        },
        if merged.unverified_lines > 0 {
            format!(
                ", {} lines without checksums (older writer; not verified)",
                merged.unverified_lines
            )
        } else {
            String::new()
        }
    );
    emit(&merged.comparison(), args.out.as_deref(), args.json)
}
