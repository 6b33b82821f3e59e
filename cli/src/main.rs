//! `adbandit`: the operator's morning routine, strategy comparisons on the simulator, the
//! account's twin, sharded sweeps, and the built-in scenarios, as one command.
//!
//! The command maps flags to the library's option structs and calls the library; nothing here
//! computes what a program embedding `adbandit` could not compute the same way.
//!
//! Exit status: 0 done; 1 failed (an input that cannot be read, a run that failed, the twin's
//! calibration check failed); 2 usage (an unknown flag, subcommand, scenario or strategy name,
//! or a bad flag value). `sweep run` also uses 3 for an input a retry would meet again (a
//! bad sweep file or shard spec, a failing job: `adbandit::sweep::EXIT_CONFIG`, which a
//! cluster should not retry; 1 stays "worth a retry", e.g. an i/o error), and
//! `sweep run` exits 128 + the signal (143 for SIGTERM, 130 for SIGINT) after a termination
//! signal stopped it with every finished job on disk (run it again to resume).

mod names;
mod recommend;
mod state;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use adbandit::analysis::{AnalysisOptions, Level, analyze};
use adbandit::cancel::{Cancel, signal_exit_status};
use adbandit::compare::report::{self, Comparison};
use adbandit::compare::{Detail, Grid, RunOptions, SeedSet, summarise, verdict};
use adbandit::ingest::{self, ColumnMapping, Format, Layout, Mode, Options};
use adbandit::sim::Fidelity;
use adbandit::sweep::{self, EXIT_CONFIG, Shard, ShardOptions, Sweep};
use adbandit::twin::{TwinCompareOptions, TwinOptions, calibrate_ingested, compare_on_twin};
use adbandit::{Date, Money, Objective};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit status of a usage error (clap's own).
const USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "adbandit",
    version,
    about = "Bayesian bandits for ad bids and budgets: the morning routine, comparisons on a \
             simulated market, the account's twin, and sweeps",
    after_help = "Exit status: 0 done, 1 failed, 2 usage error; `sweep run` also 3 for an \
                  input a retry would meet again, and 128 + signal when a signal stopped it.\n\
                  Every command takes --help. ROI means revenue / cost (ROAS).",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Effect analysis of an account's report: numbers with 95% credible intervals, rankings,
    /// and the engine's budgets, bids, pauses and flags for the day after the report.
    Analyze(AnalyzeArgs),
    /// The morning routine: read yesterday's report, restore the engine from DIR, decide, and
    /// write today's changes (CSV, Google Ads Editor, Amazon bulk), a decision log and the new
    /// state.
    Recommend(recommend::RecommendArgs),
    /// Strategies side by side on simulated markets: same seeds, paired 95% intervals.
    Compare(CompareArgs),
    /// Calibrate a simulator twin from a report, check it, and compare the historical
    /// allocation with the engine's strategies on it (a SIMULATION of the account).
    Twin(TwinArgs),
    /// Sweep files: run (a shard of) a sweep resumably, or merge shards.
    #[command(subcommand)]
    Sweep(SweepCommand),
    /// The built-in scenarios.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
}

/// How to read a report (analyze, recommend, twin).
#[derive(Debug, Clone, Args)]
pub(crate) struct ReadArgs {
    /// The report file (Google Ads, Amazon Sponsored Products, Taobao/Tmall export, or the
    /// canonical CSV).
    #[arg(long, value_name = "FILE")]
    pub report: PathBuf,
    /// The layout, if detection from the header is not wanted.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    pub format: FormatArg,
    /// A JSON column mapping for any other layout (format in notes/ingest.md).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Skip defective rows (listed with line, column and reason) instead of failing on the
    /// first.
    #[arg(long, conflicts_with = "strict")]
    pub lenient: bool,
    /// Fail on the platforms' quirks too (more clicks than impressions, view-through orders,
    /// ...), which the default mode reads with a counted note.
    #[arg(long)]
    pub strict: bool,
    /// The period every row covers, both days included, for a file without a date column
    /// (an "All time" export states no dates); wins over a date range in the title lines.
    #[arg(long, value_name = "START..END", value_parser = parse_period)]
    pub period: Option<(Date, Date)>,
    /// The report's currency (ISO 4217 code), when the file does not say or says wrongly;
    /// money is never shown in a currency nobody stated.
    #[arg(long, value_name = "CODE", value_parser = parse_currency)]
    pub currency: Option<String>,
    /// The channel of the file's plans (marketplace search, display, a search engine), for
    /// a file without a channel column: one file per channel.
    #[arg(long, value_name = "NAME")]
    pub channel: Option<String>,
}

/// `2026-11-01..2026-11-30` (or `..=`): both days included.
fn parse_period(s: &str) -> Result<(Date, Date), String> {
    let (a, b) = s
        .split_once("..=")
        .or_else(|| s.split_once(".."))
        .ok_or_else(|| format!("`{s}`: give START..END, e.g. 2026-11-01..2026-11-30"))?;
    let day = |t: &str| t.trim().parse::<Date>().map_err(|e| e.to_string());
    let (a, b) = (day(a)?, day(b)?);
    if b < a {
        return Err(format!("`{s}`: the period ends before it starts"));
    }
    Ok((a, b))
}

fn parse_currency(s: &str) -> Result<String, String> {
    let c = s.trim().to_ascii_uppercase();
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err(format!(
            "`{s}`: an ISO 4217 code of three letters, e.g. USD, CNY, JPY"
        ))
    }
}

/// `--objective`: `max-revenue`, `max-conversions`, `max-clicks`, `target-roi=R` or
/// `target-cpa=AMOUNT` (in the report's currency).
fn parse_objective(s: &str) -> Result<Objective, String> {
    let (name, value) = match s.split_once('=') {
        Some((n, v)) => (n.trim(), Some(v.trim())),
        None => (s.trim(), None),
    };
    let need = |what: &str| -> Result<&str, String> {
        value
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("`{name}` needs its {what}: {name}=VALUE"))
    };
    let o = match name {
        "max-revenue" => Objective::MaxRevenue,
        "max-conversions" => Objective::MaxConversions,
        "max-clicks" => Objective::MaxClicks,
        "target-roi" => {
            let v = need("target ROI (revenue / cost, e.g. 3)")?;
            let roi: f64 = v.parse().map_err(|_| format!("`{v}`: not a number"))?;
            Objective::TargetRoi { roi }
        }
        "target-cpa" => {
            let v = need("target cost per conversion (e.g. 300)")?;
            let cpa: Money = v.parse().map_err(|e| format!("`{v}`: {e}"))?;
            Objective::TargetCpa { cpa }
        }
        _ => {
            const NAMES: [&str; 5] = [
                "max-revenue",
                "max-conversions",
                "max-clicks",
                "target-roi",
                "target-cpa",
            ];
            return Err(format!(
                "`{name}`{}: one of max-revenue, max-conversions, max-clicks, target-roi=R, \
                 target-cpa=AMOUNT",
                names::did_you_mean(name, &NAMES)
            ));
        }
    };
    if value.is_some() && matches!(name, "max-revenue" | "max-conversions" | "max-clicks") {
        return Err(format!("`{name}` takes no value"));
    }
    o.validate("--objective").map_err(|e| e.to_string())?;
    Ok(o)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatArg {
    Auto,
    GoogleCampaign,
    GoogleKeyword,
    GoogleSearchTerms,
    AmazonCampaign,
    AmazonSearchTerms,
    TaobaoPlan,
    TaobaoKeyword,
    GoogleAds,
    AmazonAdvertisedProduct,
    TaobaoCreative,
    Canonical,
}

impl FormatArg {
    fn format(self) -> Format {
        let l = match self {
            FormatArg::Auto => return Format::Auto,
            FormatArg::GoogleCampaign => Layout::GoogleAdsCampaign,
            FormatArg::GoogleKeyword => Layout::GoogleAdsKeyword,
            FormatArg::GoogleSearchTerms => Layout::GoogleAdsSearchTerms,
            FormatArg::AmazonCampaign => Layout::AmazonSpCampaign,
            FormatArg::AmazonSearchTerms => Layout::AmazonSpSearchTerms,
            FormatArg::TaobaoPlan => Layout::TaobaoPlan,
            FormatArg::TaobaoKeyword => Layout::TaobaoKeyword,
            FormatArg::GoogleAds => Layout::GoogleAdsAds,
            FormatArg::AmazonAdvertisedProduct => Layout::AmazonSpAdvertisedProduct,
            FormatArg::TaobaoCreative => Layout::TaobaoCreative,
            FormatArg::Canonical => Layout::Canonical,
        };
        Format::Layout(l)
    }
}

impl ReadArgs {
    /// The ingestion options (reads the mapping file).
    pub(crate) fn options(&self) -> adbandit::Result<Options> {
        let mapping = match &self.mapping {
            None => None,
            Some(p) => Some(ColumnMapping::from_json(&read_text(p)?)?),
        };
        Ok(Options {
            format: self.format.format(),
            mapping,
            mode: if self.lenient {
                Mode::Lenient
            } else if self.strict {
                Mode::Strict
            } else {
                Mode::Standard
            },
            period: self.period,
            channel: self.channel.clone().filter(|c| !c.trim().is_empty()),
            ..Options::default()
        })
    }

    /// Reads the report. With `--currency`, the report's money is in that currency whatever
    /// the file says (a note says when they differ); `analyze` passes it to the analysis.
    pub(crate) fn read(&self) -> adbandit::Result<(ingest::Ingested, Vec<String>)> {
        let mut got = ingest::read_path(&self.report, &self.options()?)?;
        let mut notes = Vec::new();
        if let Some(c) = &self.currency {
            match &got.currency {
                Some(f) if !f.eq_ignore_ascii_case(c) => notes.push(format!(
                    "the file says its currency is {f}; read as {c} as asked (--currency)"
                )),
                _ => {}
            }
            got.currency = Some(c.clone());
        }
        Ok((got, notes))
    }
}

#[derive(Debug, Args)]
struct AnalyzeArgs {
    #[command(flatten)]
    read: ReadArgs,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
    /// Write analysis.csv, analysis.json, roi_plans.svg and roi_keywords.svg here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Keywords shown at each end of the table.
    #[arg(long, value_name = "N", default_value_t = 10)]
    top: usize,
    /// Seed of the Monte-Carlo draws and of the engine.
    #[arg(long, value_name = "N", default_value_t = 42)]
    seed: u64,
    /// What to analyse and recommend for: max-revenue, max-conversions, max-clicks,
    /// target-roi=R or target-cpa=AMOUNT [default: fitted to the data: revenue, else
    /// conversions, else clicks].
    #[arg(long, value_name = "OBJECTIVE", value_parser = parse_objective)]
    objective: Option<Objective>,
    /// Credible level of the intervals, in (0, 1).
    #[arg(long, value_name = "P", default_value_t = 0.95)]
    level: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FidelityArg {
    Fast,
    Exact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DetailArg {
    /// Totals and the account's days.
    Totals,
    /// Also plan days (plan_days.jsonl) and the engine's decisions (decisions.jsonl).
    Plans,
    /// Also keyword days and search terms (keyword_days.jsonl, search_terms.jsonl).
    Keywords,
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// A built-in scenario name or a scenario file; repeat or comma-separate for several.
    #[arg(long = "scenario", alias = "scenarios", value_name = "NAME|FILE", value_delimiter = ',', default_values_t = ["default".to_owned()])]
    scenarios: Vec<String>,
    /// Strategies, comma-separated, or `all`.
    #[arg(long, alias = "strategy", value_name = "LIST", value_delimiter = ',', default_values_t = ["all".to_owned()])]
    strategies: Vec<String>,
    /// A JSON list of strategies instead of --strategies, with engine settings, e.g.
    /// [{"name": "static"}, {"name": "told", "builtin": "thompson", "settings":
    /// {"calendar": "scenario"}}].
    #[arg(long, value_name = "FILE", conflicts_with = "strategies")]
    strategies_file: Option<PathBuf>,
    /// The strategy the others are compared with, seed by seed.
    #[arg(long, value_name = "NAME", default_value = "static")]
    baseline: String,
    /// Replications: a count N (seeds 0..N), a range A..B (both ends included) or a list
    /// A,B,C.
    #[arg(long, value_name = "N|A..B|A,B,...", default_value = "20", value_parser = parse_seeds)]
    seeds: SeedSet,
    /// Days to simulate (at most the scenario's horizon) [default: the horizon].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    days: Option<u32>,
    /// Market fidelity.
    #[arg(long, value_enum, default_value_t = FidelityArg::Fast)]
    fidelity: FidelityArg,
    /// Worker threads [default: all cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
    /// Master seed of every stream.
    #[arg(long, value_name = "N", default_value_t = 2026)]
    master_seed: u64,
    /// Write results.json, runs.csv, daily.csv, summary.csv, the JSON Lines records of
    /// --detail and the plots here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Per-day records each run keeps [default: plans with --out, else totals].
    #[arg(long, value_enum, value_name = "LEVEL")]
    detail: Option<DetailArg>,
    /// Print the summary as JSON instead of the table.
    #[arg(long)]
    json: bool,
}

fn parse_seeds(s: &str) -> Result<SeedSet, String> {
    s.parse::<SeedSet>().map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
struct TwinArgs {
    #[command(flatten)]
    read: ReadArgs,
    /// Days simulated per strategy run.
    #[arg(long, value_name = "N", default_value_t = 28, value_parser = clap::value_parser!(u32).range(1..=366))]
    days: u32,
    /// Paired seeds per strategy.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    seeds: u32,
    /// Master seed.
    #[arg(long, value_name = "N", default_value_t = 42)]
    seed: u64,
    /// Start the engines cold (from the account alone) instead of warm from the report.
    #[arg(long)]
    cold: bool,
    /// Write twin_scenario.json, calibration.json, the labelled comparison, CSVs and plots.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum SweepCommand {
    /// Run a sweep file, or one shard of it; a re-run resumes from DIR.
    Run(SweepRunArgs),
    /// Check that shards cover the sweep exactly once and write the merged outputs.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
struct SweepRunArgs {
    /// The sweep file (scenarios, strategy grids, seeds, days, fidelity).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Results directory (DIR/shard-*.jsonl, and the merged outputs of a whole sweep).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// `I/N`, `auto` or `auto/N`: run the jobs whose index is I modulo N; `auto` reads
    /// JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID (N from ADBANDIT_SHARD_COUNT or
    /// SLURM_ARRAY_TASK_COUNT). Without it the whole sweep runs and is merged.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Worker threads [default: all cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
    /// Do not fsync each result line (faster; a crashed machine may lose lines).
    #[arg(long)]
    no_sync: bool,
    /// Print the merged summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// Result directories or shard files.
    #[arg(value_name = "DIR|FILE", required = true)]
    inputs: Vec<PathBuf>,
    /// Where to write the merged summary, CSVs, JSON and plots.
    #[arg(long, value_name = "DIR", conflicts_with = "repair_into")]
    out: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Instead of merging, write a clean copy into DIR: each job once (byte-identical
    /// duplicates dropped), checksums added; a resume on DIR re-runs what is missing.
    #[arg(long, value_name = "DIR")]
    repair_into: Option<PathBuf>,
    /// With --repair-into: also drop damaged lines and jobs whose copies conflict (they are
    /// re-run on resume) instead of refusing the repair.
    #[arg(long, requires = "repair_into")]
    drop_damaged: bool,
}

#[derive(Debug, Subcommand)]
enum ScenarioCommand {
    /// The built-in scenarios, one a line.
    List,
    /// A scenario's account, horizon and events (`--json`: the scenario file itself).
    Show {
        /// A built-in name or a scenario file.
        #[arg(value_name = "NAME|FILE")]
        scenario: String,
        /// Print the scenario JSON.
        #[arg(long)]
        json: bool,
    },
}

/// What went wrong: a usage error (exit 2), a failure (exit 1), or an exit status of its own
/// (a sweep's [`EXIT_CONFIG`], 128 + a signal) with an optional message.
#[derive(Debug)]
pub(crate) enum Failure {
    Usage(String),
    Failed(String),
    Status(u8, Option<String>),
}

impl From<adbandit::Error> for Failure {
    fn from(e: adbandit::Error) -> Self {
        Failure::Failed(e.to_string())
    }
}

pub(crate) type Outcome<T = ()> = Result<T, Failure>;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with status 0; errors to stderr with status 2.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let outcome = match cli.command {
        Command::Analyze(a) => run_analyze(&a),
        Command::Recommend(a) => recommend::run(&a),
        Command::Compare(a) => run_compare(&a),
        Command::Twin(a) => run_twin(&a),
        Command::Sweep(SweepCommand::Run(a)) => run_sweep(&a),
        Command::Sweep(SweepCommand::Merge(a)) => run_merge(&a),
        Command::Scenario(ScenarioCommand::List) => scenario_list(),
        Command::Scenario(ScenarioCommand::Show { scenario, json }) => {
            scenario_show(&scenario, json)
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(m)) => {
            eprintln!("error: {m}\n\nFor more information, try '--help'.");
            ExitCode::from(USAGE)
        }
        Err(Failure::Failed(m)) => {
            eprintln!("error: {m}");
            ExitCode::FAILURE
        }
        Err(Failure::Status(code, m)) => {
            if let Some(m) = m {
                eprintln!("error: {m}");
            }
            ExitCode::from(code)
        }
    }
}

pub(crate) fn io_error(path: &Path, e: std::io::Error) -> adbandit::Error {
    adbandit::Error::io(path, e)
}

/// Most bytes of a JSON input the command reads whole (mappings, strategy and engine
/// settings): far above any real one, so a wrong path such as /dev/zero fails fast.
const MAX_JSON_INPUT: u64 = 16 << 20;

pub(crate) fn read_text(path: &Path) -> adbandit::Result<String> {
    let bytes = adbandit::io::read_capped(path, MAX_JSON_INPUT)?;
    String::from_utf8(bytes).map_err(|_| adbandit::Error::io(path, "not UTF-8 text"))
}

fn write_text(path: &Path, text: &str) -> adbandit::Result<()> {
    std::fs::write(path, text).map_err(|e| io_error(path, e))
}

fn create_dir(dir: &Path) -> adbandit::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))
}

fn threads(t: Option<u32>) -> usize {
    t.map_or_else(|| RunOptions::default().threads, |t| t as usize)
}

fn run_analyze(args: &AnalyzeArgs) -> Outcome {
    // The analysis applies --currency itself (and notes a file that says otherwise).
    let got = ingest::read_path(&args.read.report, &args.read.options()?)?;
    let a = analyze(
        &got,
        &AnalysisOptions {
            seed: args.seed,
            level: args.level,
            objective: args.objective,
            currency: args.read.currency.clone(),
            ..AnalysisOptions::default()
        },
    )?;
    if args.json {
        println!("{}", a.to_json()?);
    } else {
        print!("{}", a.table(args.top));
    }
    if let Some(dir) = &args.out {
        create_dir(dir)?;
        let p = dir.join("analysis.csv");
        a.write_csv(std::fs::File::create(&p).map_err(|e| io_error(&p, e))?)?;
        write_text(&dir.join("analysis.json"), &a.to_json()?)?;
        write_text(&dir.join("roi_plans.svg"), &a.svg(Level::Plan))?;
        write_text(&dir.join("roi_keywords.svg"), &a.svg(Level::Keyword))?;
        eprintln!(
            "wrote analysis.csv, analysis.json, roi_plans.svg, roi_keywords.svg to {}",
            dir.display()
        );
    }
    Ok(())
}

/// Prints the summary and the verdict, and writes the files (and plots) of a comparison.
fn emit(comparison: &Comparison, out: Option<&Path>, json: bool) -> Outcome {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&comparison.summary).map_err(adbandit::Error::from)?
        );
    } else {
        print!("{}", report::table(&comparison.summary));
        for line in verdict::verdicts(&comparison.results, &comparison.summary) {
            println!("{line}");
        }
    }
    if let Some(dir) = out {
        report::write_all(dir, comparison)?;
        adbandit::compare::plot::write_plots_with(
            &comparison.results,
            dir,
            &adbandit::compare::plot::PlotOptions {
                baseline: Some(comparison.summary.baseline.clone()),
                ..Default::default()
            },
        )?;
        eprintln!("wrote {}", dir.display());
    }
    Ok(())
}

fn run_compare(args: &CompareArgs) -> Outcome {
    let scenarios = args
        .scenarios
        .iter()
        .map(|s| names::scenario(s))
        .collect::<Outcome<Vec<_>>>()?;
    let entries = match &args.strategies_file {
        Some(p) => adbandit::compare::strategies_from_json(&read_text(p)?)?,
        None => {
            let names = names::strategies(&args.strategies)?;
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            adbandit::compare::BuiltinStrategy::entries(&names)?
        }
    };
    let strategies: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    if !strategies.contains(&args.baseline) {
        return Err(Failure::Usage(format!(
            "--baseline {}{}: must be one of the strategies compared ({})",
            args.baseline,
            names::did_you_mean(&args.baseline, &strategies),
            strategies.join(", ")
        )));
    }
    let grid = Grid::with_seeds(scenarios, entries, &args.seeds);
    let detail = match args.detail {
        Some(DetailArg::Totals) => Detail::Totals,
        Some(DetailArg::Plans) => Detail::Plans,
        Some(DetailArg::Keywords) => Detail::Keywords,
        // The per-plan records are worth keeping when they are written.
        None if args.out.is_some() => Detail::Plans,
        None => Detail::Totals,
    };
    let options = RunOptions {
        master_seed: args.master_seed,
        days: args.days,
        fidelity: match args.fidelity {
            FidelityArg::Fast => Fidelity::Fast,
            FidelityArg::Exact => Fidelity::Exact,
        },
        threads: threads(args.threads),
        progress: true,
        detail,
        ..RunOptions::default()
    };
    let started = Instant::now();
    let results = grid.run(&options)?;
    let elapsed = started.elapsed().as_secs_f64();
    let summary = summarise(&results, &args.baseline);
    if !args.json {
        eprintln!(
            "{} runs in {elapsed:.1} s ({:.1} runs/s on {} threads)",
            results.len(),
            results.len() as f64 / elapsed.max(1e-9),
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

fn run_twin(args: &TwinArgs) -> Outcome {
    let (got, read_notes) = args.read.read()?;
    let twin = calibrate_ingested(
        &got,
        &TwinOptions {
            seed: args.seed,
            replay_seeds: args.seeds.min(16),
            ..TwinOptions::default()
        },
    )?;
    println!(
        "Twin of {}: a SIMULATION of the account calibrated from {}",
        twin.scenario.account().name(),
        got.file
    );
    print!("{}", twin.check.table());
    for n in read_notes.iter().chain(&twin.notes) {
        println!("note: {n}");
    }
    println!();
    let started = Instant::now();
    let cmp = compare_on_twin(
        &twin,
        &TwinCompareOptions {
            days: args.days,
            seeds: u64::from(args.seeds),
            run: RunOptions {
                master_seed: args.seed,
                ..RunOptions::default()
            },
            warm_start: !args.cold,
        },
    )?;
    print!("{}", cmp.table());
    eprintln!(
        "{} runs in {:.1} s",
        cmp.results().len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(dir) = &args.out {
        create_dir(dir)?;
        write_text(
            &dir.join("twin_scenario.json"),
            &twin.scenario_json(args.days)?,
        )?;
        write_text(
            &dir.join("calibration.json"),
            &serde_json::to_string_pretty(&twin.check).map_err(adbandit::Error::from)?,
        )?;
        cmp.write_all(dir)?;
        cmp.write_plots(dir)?;
        eprintln!(
            "wrote twin_scenario.json, calibration.json, twin_comparison.json/.txt, runs.csv, \
             daily.csv, summary.csv and plots to {}",
            dir.display()
        );
    }
    if twin.check.passed() {
        Ok(())
    } else {
        Err(Failure::Failed(
            "the twin's calibration check failed: treat its comparison as untrustworthy".into(),
        ))
    }
}

/// A sweep (shard): 0 done; 128 + signal when SIGTERM/SIGINT stopped it (finished jobs are
/// on disk; the same command resumes); 1 for an i/o error (worth a retry); [`EXIT_CONFIG`]
/// for anything a retry would meet again (a bad sweep file or shard spec, a failing job:
/// results are deterministic), so a cluster does not retry it.
fn run_sweep(args: &SweepRunArgs) -> Outcome {
    let config = |e: adbandit::Error| Failure::Status(EXIT_CONFIG, Some(e.to_string()));
    let retry = |e: adbandit::Error| match e {
        // An i/o error may pass (a volume hiccup): retry.
        adbandit::Error::Io { .. } => Failure::Failed(e.to_string()),
        e => config(e),
    };
    let cancel = Cancel::on_termination_signals()?;
    // A sweep file that cannot be read or is wrong fails the same way on every retry.
    let sw = Sweep::load(&args.file).map_err(config)?;
    let shard = match &args.shard {
        Some(s) => Shard::parse(s)
            .map_err(|e| Failure::Status(EXIT_CONFIG, Some(format!("--shard {s}: {e}"))))?,
        None => Shard::ALL,
    };
    let threads = threads(args.threads);
    let started = Instant::now();
    let done = sweep::run_shard_cancellable(
        &sw,
        shard,
        &args.out,
        &ShardOptions {
            threads,
            progress: true,
            sync: !args.no_sync,
        },
        &cancel,
    )
    .map_err(retry)?;
    let elapsed = started.elapsed().as_secs_f64();
    if done.cancelled {
        let sig = cancel.signal().unwrap_or(15);
        eprintln!(
            "sweep {}, shard {shard}: stopped by signal {sig}; {} jobs written this run, {} \
             left: run the same command to resume -> {}",
            sw.fingerprint(),
            done.ran,
            done.jobs - done.skipped - done.ran,
            done.file.display()
        );
        return Err(Failure::Status(signal_exit_status(sig), None));
    }
    eprintln!(
        "sweep {} ({}), shard {shard}: {} jobs, {} already done, {} run in {elapsed:.1} s \
         ({:.1} jobs/s on {threads} threads){} -> {}",
        sw.name(),
        sw.fingerprint(),
        done.jobs,
        done.skipped,
        done.ran,
        done.ran as f64 / elapsed.max(1e-9),
        if done.dropped_partial_line {
            ", a torn last line dropped and re-run"
        } else {
            ""
        },
        done.file.display()
    );
    if shard.count() == 1 {
        let merged = sweep::merge(&[&args.out]).map_err(retry)?;
        emit(&merged.comparison(), Some(&args.out), args.json)?;
    } else {
        eprintln!(
            "merge when every shard is done: adbandit sweep merge {}",
            args.out.display()
        );
    }
    Ok(())
}

/// A merge (or a repair): 0 done, 1 failed (missing or conflicting jobs, another sweep's
/// lines, damage, i/o).
fn run_merge(args: &MergeArgs) -> Outcome {
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
    let mut extra = String::new();
    if merged.dropped_partial_lines > 0 {
        extra.push_str(&format!(
            ", {} torn last lines ignored",
            merged.dropped_partial_lines
        ));
    }
    if !merged.duplicated.is_empty() {
        extra.push_str(&format!(
            ", {} jobs found more than once (byte-identical copies, ignored)",
            merged.duplicated.len()
        ));
    }
    if merged.unverified_lines > 0 {
        extra.push_str(&format!(
            ", {} lines without checksums (older writer; not verified)",
            merged.unverified_lines
        ));
    }
    eprintln!(
        "merged sweep {} ({}): {} jobs from {} files{extra}",
        merged.manifest.name,
        merged.manifest.fingerprint,
        merged.results.len(),
        merged.files.len(),
    );
    emit(&merged.comparison(), args.out.as_deref(), args.json)
}

fn scenario_list() -> Outcome {
    for name in adbandit::sim::Scenario::BUILTIN {
        let s = adbandit::sim::Scenario::builtin(name)?;
        println!(
            "{name:<16} {:>4} plans {:>6} keywords {:>3} days  {}",
            s.account().plans().len(),
            s.account().keyword_count(),
            s.days(),
            s.description()
        );
    }
    Ok(())
}

fn scenario_show(name: &str, json: bool) -> Outcome {
    if json {
        let text = match adbandit::sim::Scenario::builtin_json(name) {
            Some(t) => t.to_owned(),
            None => {
                names::scenario(name)?; // validates, names the field
                read_text(Path::new(name))?
            }
        };
        print!("{text}");
        return Ok(());
    }
    let s = names::scenario(name)?;
    let a = s.account();
    println!("scenario {}: {}", s.name(), s.description());
    println!(
        "{} days from {}; account {} ({}), {} plans, {} keywords, total daily budget {}",
        s.days(),
        s.start_date(),
        a.name(),
        a.currency(),
        a.plans().len(),
        a.keyword_count(),
        a.total_daily_budget()?
    );
    for e in &s.truth().market().events {
        let mut factors: Vec<String> = [
            ("traffic", e.traffic_factor()),
            ("ctr", e.ctr_factor()),
            ("cvr", e.cvr_factor()),
            ("order value", e.aov_factor()),
            ("rival bids", e.competitor_bid_factor()),
        ]
        .iter()
        .filter(|(_, f)| (f - 1.0).abs() > 1e-12)
        .map(|(n, f)| format!("{n} x{f}"))
        .collect();
        if e.ramp_days() > 0 {
            factors.push(format!("ramped over {} days", e.ramp_days()));
        }
        let sc = e.scope();
        let scope = if sc.is_account() {
            "the whole account".to_owned()
        } else {
            let mut parts = Vec::new();
            if !sc.plans.is_empty() {
                let ids: Vec<&str> = sc.plans.iter().map(|p| p.as_str()).collect();
                parts.push(format!("plans {}", ids.join(", ")));
            }
            if !sc.keywords.is_empty() {
                parts.push(format!("{} keywords", sc.keywords.len()));
            }
            if !sc.tags.is_empty() {
                parts.push(format!("tags {}", sc.tags.join(", ")));
            }
            parts.join("; ")
        };
        println!(
            "event {}: {} for {} days on {scope}: {}",
            e.name(),
            e.start(),
            e.days(),
            if factors.is_empty() {
                "no factor".to_owned()
            } else {
                factors.join(", ")
            }
        );
    }
    Ok(())
}
