//! The engine embedded in a long-running service: each morning it observes yesterday's
//! report, decides budgets and bids, applies them to the "platform" (here the simulator),
//! paces each plan hour by hour, and snapshots its state to disk. Halfway through, the
//! service "restarts": it restores the engine from the snapshot file and carries on, making
//! exactly the decisions it would have made.
//!
//! Run with `cargo run --release --example embed_service`.

use adbandit::engine::{Engine, EngineConfig, EngineSnapshot};
use adbandit::policy::BuiltinPolicy;
use adbandit::sim::{Controls, Fidelity, Granularity, Market, Scenario, outcomes_to_report};
use adbandit::{Money, Report};

fn main() -> adbandit::Result<()> {
    let scenario = Scenario::small();
    let mut platform = Market::new(&scenario, Fidelity::Fast, 7);
    let dir = std::env::temp_dir().join("adbandit-embed-service");
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let snapshot_file = dir.join("engine.json");

    let mut engine = Engine::new(scenario.account().clone(), EngineConfig::default(), 42)?;
    let mut yesterday: Option<Report> = None;
    let restart_day = scenario.days() / 2;
    for day in 0..scenario.days() {
        if day == restart_day {
            // The process restarts: everything in memory is gone but the snapshot.
            drop(engine);
            let json =
                std::fs::read_to_string(&snapshot_file).map_err(|e| io(&snapshot_file, e))?;
            engine = Engine::restore(EngineSnapshot::<BuiltinPolicy>::from_json(&json)?)?;
            println!(
                "-- restarted from {} ({} bytes)",
                snapshot_file.display(),
                json.len()
            );
        }
        let date = scenario.date(day);
        if let Some(report) = &yesterday {
            engine.observe(report)?;
        }
        let decision = engine.decide(date)?;
        // Apply the decision on the platform: budgets, bids, pauses.
        let mut controls = Controls::from_account(engine.account());
        let mut pacers = Vec::new();
        for p in engine.account().plans() {
            pacers.push(engine.pacer(&p.id, date)?);
        }
        let mut spent = vec![Money::ZERO; pacers.len()];
        let mut hours = Vec::with_capacity(24);
        for hour in 0..24u8 {
            for (i, pacer) in pacers.iter_mut().enumerate() {
                controls.plan_throttle[i] = pacer.control(hour, spent[i]).throttle;
            }
            let outcome = platform.run_hour(day, hour, &controls)?;
            for (s, h) in spent.iter_mut().zip(&outcome.plan_spend) {
                *s = s.checked_add(*h)?;
            }
            hours.push(outcome);
        }
        let report = outcomes_to_report(engine.account(), date, &hours, Granularity::Daily)?;
        let total = report.total()?;
        println!(
            "{date}: budget {:>8} spent {:>8} revenue {:>9} ROI {:>5.2} | {} budget changes, {} bids, {} pauses, {} flags",
            decision.budget_sum(),
            total.cost(),
            total.revenue(),
            total.roi().unwrap_or(0.0),
            decision.budgets.iter().filter(|b| b.to != b.from).count(),
            decision.bids.iter().filter(|b| b.to != b.from).count(),
            decision.pauses.len(),
            decision.flags.len(),
        );
        if let Some(b) = decision
            .budgets
            .iter()
            .max_by_key(|b| (b.to.micros() - b.from.micros()).abs())
        {
            println!("    biggest move: {}", b.reason.message);
        }
        yesterday = Some(report);
        // Persist after every decision, as a service would.
        let json = engine.snapshot().to_json()?;
        std::fs::write(&snapshot_file, json).map_err(|e| io(&snapshot_file, e))?;
    }
    Ok(())
}

fn io(path: &std::path::Path, e: std::io::Error) -> adbandit::Error {
    adbandit::Error::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}
