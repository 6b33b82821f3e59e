//! Peak memory of `Engine::decide` on a large account (issue 18): builds the engine of
//! `benches/decide.rs` (plans x keywords per plan, a third of the keywords with a day of
//! data), then reads the process's peak resident set (`VmHWM` in `/proc/self/status`, Linux
//! only) around one decision.
//!
//! Printed per keyword: the resident set holding the engine alone, the peak while deciding
//! (engine + decision + the decision's working memory), and the peak minus the engine (what
//! a decision adds). The peak is reset before the decision by writing `5` to
//! `/proc/self/clear_refs`; where that is refused, the peak printed includes building.
//!
//! Run: `cargo run --release --example decide_memory -- 1000 1000` (plans, keywords per
//! plan; the default is 1,000 x 1,000 = 1M keywords).

use std::time::Instant;

use adbandit::engine::{Engine, EngineConfig};
use adbandit::rng::stream;
use adbandit::{
    Account, Date, Keyword, KeywordId, MatchType, Money, Plan, PlanId, Report, ReportRow, Stats,
};
use rand::RngExt;

fn account(plans: usize, per_plan: usize) -> Account {
    let y = |x: f64| Money::from_units_f64(x).expect("valid amount");
    let ps = (0..plans)
        .map(|i| {
            let mut p = Plan::new(
                format!("p{i}"),
                format!("Plan {i}"),
                y(100.0),
                y(0.05),
                y(10.0),
            );
            p.keywords = (0..per_plan)
                .map(|j| {
                    Keyword::new(
                        format!("k{i}-{j}"),
                        format!("w{j} p{i}"),
                        MatchType::Broad,
                        y(1.0),
                    )
                })
                .collect();
            p
        })
        .collect();
    Account::new("bench", "CNY", ps).expect("valid account")
}

/// The engine of `benches/decide.rs`, with one day observed.
fn engine(plans: usize, per_plan: usize) -> adbandit::Result<(Engine, Date)> {
    let acc = account(plans, per_plan);
    let day = Date::from_ymd(2026, 11, 1)?;
    let mut rng = stream(9, &[]);
    let mut rows = Vec::new();
    for p in acc.plans() {
        for k in &p.keywords {
            if rng.random::<f64>() >= 0.33 {
                continue;
            }
            let imp = rng.random_range(10..500u64);
            let clicks = rng.random_range(0..=imp / 20);
            let conv = rng.random_range(0..=clicks / 5);
            let stats = Stats::new(
                imp,
                clicks,
                conv,
                Money::from_micros(clicks as i64 * 700_000),
                Money::from_micros(conv as i64 * 90_000_000),
            )?;
            rows.push(ReportRow {
                date: day,
                hour: None,
                days: 1,
                plan: PlanId::new(p.id.as_str()),
                keyword: Some(KeywordId::new(k.id.as_str())),
                stats,
            });
        }
    }
    let mut e = Engine::new(acc, EngineConfig::default(), 1)?;
    e.observe(&Report::new(rows)?)?;
    Ok((e, day))
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn main() -> adbandit::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let plans = args.first().copied().unwrap_or(1000);
    let per_plan = args.get(1).copied().unwrap_or(1000);
    let n = (plans * per_plan) as f64;
    let (mut e, day) = engine(plans, per_plan)?;
    // Building left the report and the account copies behind; the resident set now is the
    // engine (plus the allocator's free lists).
    let rss = status_bytes("VmRSS:").unwrap_or(0);
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let t = Instant::now();
    let d = e.decide(day.add_days(1))?;
    let secs = t.elapsed().as_secs_f64();
    let peak = status_bytes("VmHWM:").unwrap_or(0);
    println!(
        "{plans} plans x {per_plan} keywords = {n} keywords; {} bids decided in {secs:.3} s ({:.0} ns/keyword, {} rayon threads)",
        d.bids.len(),
        secs * 1e9 / n,
        rayon::current_num_threads()
    );
    println!(
        "engine resident {:.0} B/keyword; peak while deciding {:.0} B/keyword{}; decision adds {:.0} B/keyword",
        rss as f64 / n,
        peak as f64 / n,
        if reset {
            ""
        } else {
            " (peak not reset: includes building)"
        },
        peak.saturating_sub(rss) as f64 / n
    );
    Ok(())
}
