//! `adbandit recommend --state DIR --report FILE`: the morning routine.
//!
//! Read the report; restore the engine from DIR (or, on the first run, build it from the
//! report's account); learn its new days and its restated ones; decide the day after the
//! report's last day; write the day's changes (`changes.csv`, `google_ads_editor.csv`,
//! `amazon_bulk.csv`), append the decision to `decisions.jsonl` and commit the new snapshot.
//! See [`crate::state`] for the layout and the commit protocol.
//!
//! **Restated days.** Platforms restate the last days as late conversions arrive, so give
//! the last few days again (the conversion window) each morning. A row of a day the engine
//! has learned, within its `restatement_days` (default 30) of the latest day learned,
//! *replaces* what it learned from that row (`Engine::observe`); the log line lists such days
//! as `restated_days`. Rows of learned days older than that window are left out (the engine
//! no longer remembers them, so they would count twice) and a note says how many.

use std::collections::BTreeSet;
use std::path::PathBuf;

use adbandit::analysis::fit_objective;
use adbandit::analysis::prepare;
use adbandit::apply::{self, Change, Entity, Field, Value, format_money};
use adbandit::engine::{Decision, Engine, EngineConfig, EngineSnapshot};
use adbandit::policy::BuiltinPolicy;
use adbandit::{Date, Objective, Report};
use clap::Args;
use serde::Serialize;

use crate::state::{self, Manifest, StateDir, write_atomic};
use crate::{Failure, Outcome, ReadArgs, read_text};

#[derive(Debug, Args)]
pub(crate) struct RecommendArgs {
    /// The state directory (created on the first run).
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    #[command(flatten)]
    read: ReadArgs,
    /// Show the changes without writing anything.
    #[arg(long)]
    dry_run: bool,
    /// The day to decide for [default: the day after the report's last day].
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    date: Option<Date>,
    /// Engine settings (JSON, `EngineConfig`) for the first run; later runs keep the state's.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The plans' objective on the first run: max-revenue, max-conversions, max-clicks,
    /// target-roi=R or target-cpa=AMOUNT [default: fitted to the data: revenue, else
    /// conversions, else clicks]. Later runs keep the state's; new plans take it too.
    #[arg(long, value_name = "OBJECTIVE", value_parser = crate::parse_objective)]
    objective: Option<Objective>,
    /// Seed of the engine, on the first run.
    #[arg(long, value_name = "N", default_value_t = 42)]
    seed: u64,
    /// Print the decision log line (JSON) instead of the table.
    #[arg(long)]
    json: bool,
}

fn parse_date(s: &str) -> Result<Date, String> {
    s.parse::<Date>().map_err(|e| e.to_string())
}

/// One line of `decisions.jsonl`.
#[derive(Debug, Serialize)]
struct LogLine<'a> {
    date: Date,
    round: u64,
    report: &'a str,
    currency: &'a str,
    learned_days: Vec<Date>,
    restated_days: Vec<Date>,
    notes: &'a [String],
    changes: &'a [Change],
    decision: &'a Decision,
}

pub(crate) fn run(args: &RecommendArgs) -> Outcome {
    let dir = StateDir::new(&args.state);
    let (got, read_notes) = args.read.read()?;
    let prep = prepare(&got)?;
    let manifest = dir.manifest()?;
    for (flag, given) in [
        ("--config", args.config.is_some()),
        ("--objective", args.objective.is_some()),
    ] {
        if let (Some(m), true) = (&manifest, given) {
            return Err(Failure::Usage(format!(
                "{flag} applies to the first run only; {} already has its engine (its \
                 settings are in {})",
                args.state.display(),
                m.engine
            )));
        }
    }
    let mut notes = read_notes;
    // What `prepare` assumed (budgets, bids) matters only when the engine is built from it.
    if manifest.is_none() {
        notes.extend(prep.notes.iter().cloned());
    }
    notes.extend(got.warnings.iter().map(ToString::to_string));
    if !got.skipped.is_empty() {
        notes.push(format!(
            "{} bad rows skipped (--lenient)",
            got.skipped.len()
        ));
    }
    let (mut engine, mut observed, log_lines) = match &manifest {
        None => {
            let config = match &args.config {
                None => EngineConfig::default(),
                Some(p) => serde_json::from_str(&read_text(p)?).map_err(|e| {
                    Failure::Failed(format!("{}: not an engine configuration: {e}", p.display()))
                })?,
            };
            // Every plan works on one objective: asked for, or fitted to the columns the
            // report has (no revenue column: conversions; neither: clicks), as `analyze`.
            let (objective, line) =
                fit_objective(got.has_conversions(), got.has_revenue(), args.objective)?;
            notes.insert(0, line);
            let plans = prep
                .account
                .plans()
                .iter()
                .map(|p| p.clone().with_objective(objective))
                .collect();
            let account =
                adbandit::Account::new(prep.account.name(), prep.account.currency(), plans)?;
            if got.currency.is_none() {
                notes.push(format!(
                    "the file states no currency: money is in the file's own units ({}); give \
                     --currency on the first run to name it",
                    account.currency()
                ));
            }
            let engine = Engine::new(account, config, args.seed)?;
            (engine, BTreeSet::new(), 0)
        }
        Some(m) => {
            let snap = EngineSnapshot::<BuiltinPolicy>::from_json(&dir.read(&m.engine)?)?;
            let engine = Engine::restore(snap)?;
            // A report without a currency is in the state's; one in another currency is
            // another account's, or a mistake: its figures would be learned as the state's.
            let theirs = engine.account().currency();
            if let Some(c) = &got.currency
                && !c.eq_ignore_ascii_case(theirs)
            {
                return Err(Failure::Failed(format!(
                    "{} is in {c}, but the engine in {} works in {theirs}: give a report of \
                     this account in {theirs}",
                    got.file,
                    args.state.display()
                )));
            }
            (engine, m.observed_days.clone(), m.log_lines)
        }
    };
    // Plans and keywords new to the engine join it (a new plan starts cold from the account's
    // level, with its budget and bids from the report or inferred, and the objective of the
    // account's first plan).
    let objective = engine.account().plans().first().map(|p| p.objective);
    for p in prep.account.plans() {
        if engine.account().plan(&p.id).is_none() {
            let mut p = p.clone();
            if let Some(o) = objective {
                p = p.with_objective(o);
            }
            engine.add_plan(p.clone())?;
            notes.push(format!(
                "new plan {} ({}) added with {} keywords",
                p.name,
                p.id,
                p.keywords.len()
            ));
            continue;
        }
        for k in &p.keywords {
            if engine.account().keyword(&k.id).is_none() {
                engine.add_keyword(&p.id, k.clone())?;
                notes.push(format!(
                    "new keyword {} ({}) added to {}",
                    k.text, k.id, p.name
                ));
            }
        }
    }
    // New days are learned; learned days within the engine's restatement window replace
    // what it learned of them; older learned days are left out (they would count twice).
    let window = engine.config().restatement_days;
    let latest = observed.iter().next_back().copied();
    let remembered =
        |d: Date| latest.is_some_and(|l| window > 0 && d.days_until(l) < window as i32);
    let (mut learned, mut restated) = (BTreeSet::new(), BTreeSet::new());
    let mut left_out = 0usize;
    let mut rows = Vec::new();
    for r in prep.report.rows() {
        // A row may cover several days (an export without the Day segment).
        let days: Vec<Date> = (0..r.days.max(1))
            .map(|i| r.date.add_days(i as i32))
            .collect();
        let seen = days.iter().filter(|d| observed.contains(d)).count();
        if seen == 0 {
            learned.extend(days);
        } else if seen == days.len() && days.iter().all(|d| remembered(*d)) {
            restated.extend(days);
        } else {
            // Too old to replace, or a period that overlaps learned days only in part.
            left_out += 1;
            continue;
        }
        rows.push(r.clone());
    }
    if left_out > 0 {
        notes.push(format!(
            "{left_out} rows left out: their days were learned more than {window} days before \
             the latest (the engine no longer remembers them) or in part only, so they would \
             count twice"
        ));
    }
    if !restated.is_empty() {
        let days: Vec<String> = restated.iter().map(ToString::to_string).collect();
        notes.push(format!(
            "restated days {}: their rows replace what was learned of them",
            days.join(", ")
        ));
    }
    let last_day = prep
        .report
        .rows()
        .iter()
        .map(|r| r.date.add_days(r.days.max(1) as i32 - 1))
        .max();
    let date = match (args.date, last_day) {
        (Some(d), _) => d,
        (None, Some(d)) => d.add_days(1),
        (None, None) => return Err(Failure::Failed("the report has no rows".into())),
    };
    if let Some(m) = &manifest
        && learned.is_empty()
        && date <= m.last_decision
    {
        return Err(Failure::Failed(format!(
            "nothing new: every day of {} was learned already and {} was decided on decision \
             {} (give the next day's report)",
            got.file, m.last_decision, m.round
        )));
    }
    if !rows.is_empty() {
        engine.observe(&Report::new(rows)?)?;
    }
    observed.extend(learned.iter().copied());
    let before = engine.account().clone();
    let decision = engine.decide(date)?;
    let mut changes = apply::changes(&before, &decision)?;
    // Campaign rows first, then keywords, then creatives (stable: account order within each).
    changes.sort_by_key(|c| match c.entity {
        Entity::Campaign => 0,
        Entity::Keyword => 1,
        Entity::Creative => 2,
    });
    let currency = before.currency().to_owned();

    let line = serde_json::to_string(&LogLine {
        date,
        round: decision.round,
        report: &got.file,
        currency: &currency,
        learned_days: learned.iter().copied().collect(),
        restated_days: restated.iter().copied().collect(),
        notes: &notes,
        changes: &changes,
        decision: &decision,
    })
    .map_err(adbandit::Error::from)?;
    if args.json {
        println!("{line}");
    } else {
        print_table(
            &before,
            &decision,
            &changes,
            &notes,
            &got.file,
            args.dry_run,
        );
    }
    if args.dry_run {
        eprintln!("dry run: nothing written to {}", args.state.display());
        return Ok(());
    }

    // 1. The day's change files (a re-run after a crash rewrites them identically).
    let day_dir = args.state.join("changes").join(date.to_string());
    let mut buf = Vec::new();
    apply::write_changes_csv(&mut buf, &changes, &currency, date)?;
    write_atomic(&day_dir.join("changes.csv"), &buf)?;
    buf.clear();
    apply::write_google_ads_editor(&mut buf, &changes, &currency)?;
    write_atomic(&day_dir.join("google_ads_editor.csv"), &buf)?;
    buf.clear();
    apply::write_amazon_bulk(&mut buf, &changes, &currency)?;
    write_atomic(&day_dir.join("amazon_bulk.csv"), &buf)?;
    // 2. The new snapshot, under a new name: yesterday's stays until the commit.
    let engine_file = format!("engine-{:06}.json", decision.round);
    write_atomic(
        &args.state.join(&engine_file),
        engine.snapshot().to_json()?.as_bytes(),
    )?;
    // 3. The log: the committed lines plus today's.
    let mut log = dir.log(log_lines)?;
    log.push(line);
    let mut text = log.join("\n");
    text.push('\n');
    write_atomic(&args.state.join("decisions.jsonl"), text.as_bytes())?;
    // 4. The commit.
    let m = Manifest {
        format: state::FORMAT,
        engine: engine_file.clone(),
        round: decision.round,
        last_decision: date,
        observed_days: observed,
        log_lines: log.len(),
    };
    let json = serde_json::to_string_pretty(&m).map_err(adbandit::Error::from)?;
    write_atomic(&args.state.join("state.json"), json.as_bytes())?;
    // Snapshots older than the previous one are no longer needed.
    let keep = manifest.as_ref().map(|m| m.engine.clone());
    if let Ok(entries) = std::fs::read_dir(&args.state) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("engine-")
                && name.ends_with(".json")
                && name != engine_file
                && Some(&name) != keep.as_ref()
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    if changes
        .iter()
        .any(|c| c.entity != Entity::Campaign && c.ad_group.is_none())
    {
        eprintln!(
            "note: google_ads_editor.csv leaves `Ad group` empty (reports fold ad groups into \
             their campaign): fill it before importing; amazon_bulk.csv carries ids only where \
             the report had them"
        );
    }
    eprintln!(
        "wrote {}/{{changes.csv, google_ads_editor.csv, amazon_bulk.csv}}; decision {} \
         committed to {}",
        day_dir.display(),
        decision.round,
        args.state.display()
    );
    Ok(())
}

fn print_table(
    account: &adbandit::Account,
    decision: &Decision,
    changes: &[Change],
    notes: &[String],
    file: &str,
    dry_run: bool,
) {
    let d = adbandit::money::minor_digits(account.currency());
    println!(
        "{}decision {} for {} (account {}, {}), from {file}",
        if dry_run { "DRY RUN: " } else { "" },
        decision.round,
        decision.date,
        account.name(),
        account.currency()
    );
    println!(
        "total daily budget {} {}",
        format_money(decision.budget_sum(), d),
        account.currency()
    );
    let v = |x: Value| match x {
        Value::Money(m) => format_money(m, d),
        Value::Status(s) => format!("{s:?}").to_lowercase(),
    };
    if changes.is_empty() {
        println!("no changes");
    } else {
        println!(
            "{:<8} {:<20} {:<24} {:<12} {:>10} {:>10}  reason",
            "entity", "plan", "keyword", "field", "from", "to"
        );
    }
    for c in changes {
        let field = match c.field {
            Field::DailyBudget => "daily_budget",
            Field::Bid => "bid",
            Field::Status => "status",
        };
        println!(
            "{:<8} {:<20} {:<24} {:<12} {:>10} {:>10}  {}",
            match c.entity {
                Entity::Campaign => "campaign",
                Entity::Keyword => "keyword",
                Entity::Creative => "creative",
            },
            clip(&c.plan_name, 20),
            clip(
                c.keyword_text
                    .as_deref()
                    .or(c.creative_name.as_deref())
                    .unwrap_or("-"),
                24
            ),
            field,
            v(c.from),
            v(c.to),
            c.reason
        );
    }
    for f in &decision.flags {
        let what = match (&f.keyword, &f.plan) {
            (Some(k), _) => account
                .keyword(k)
                .map_or(k.to_string(), |(_, kw)| kw.text.clone()),
            (None, Some(p)) => account.plan(p).map_or(p.to_string(), |p| p.name.clone()),
            (None, None) => "account".into(),
        };
        println!("flag {what}: {}", f.reason.message());
    }
    for n in notes {
        println!("note: {n}");
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
