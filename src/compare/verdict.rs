//! Verdicts that admit ties: which strategies lead, which of them the data cannot tell apart,
//! and by how much they beat the baseline.
//!
//! A strategy *ties* with the leader (the highest mean revenue, the oracles left out) when the
//! paired 95% interval of their per-seed revenue difference contains zero; it *beats* the
//! baseline when its paired interval against the baseline lies above zero. Every strategy runs
//! on the same seeds (common random numbers), so the paired interval is much narrower than the
//! two strategies' own `±` intervals, and it is the one that decides.
//!
//! ```no_run
//! use adbandit::compare::{BuiltinStrategy, Grid, RunOptions, summarise, verdict};
//! use adbandit::sim::Scenario;
//! let grid = Grid::new(vec![Scenario::small()], BuiltinStrategy::all()?, 10);
//! let results = grid.run(&RunOptions::default())?;
//! let summary = summarise(&results, "static");
//! for line in verdict::verdicts(&results, &summary) {
//!     println!("{line}");
//! }
//! # Ok::<(), adbandit::Error>(())
//! ```

use crate::compare::runner::JobResult;
use crate::compare::summary::{Interval, Summary, is_reference, paired};

fn revenue(r: &JobResult) -> f64 {
    r.metrics.revenue.units()
}

/// `a`, `a and b`, `a, b and c`.
fn join(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [a] => (*a).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn interval(d: &Interval) -> String {
    format!("{:+.0} [{:+.0}, {:+.0}]", d.mean, d.lo, d.hi)
}

/// The verdict of one scenario (see the module docs); `None` if the scenario has no runs.
pub fn verdict(results: &[JobResult], summary: &Summary, scenario: &str) -> Option<String> {
    let base = summary.baseline.as_str();
    let mut rows: Vec<_> = summary
        .rows
        .iter()
        .filter(|r| r.scenario == scenario && !is_reference(&r.strategy))
        .collect();
    rows.sort_by(|a, b| b.revenue.mean.total_cmp(&a.revenue.mean));
    let leader = rows.first()?;
    let n = leader.revenue.n;
    if leader.strategy == base {
        return Some(format!(
            "{scenario}: no strategy has a higher mean revenue than the baseline {base} over {n} seeds."
        ));
    }
    // The leader and every strategy the paired interval cannot tell from it.
    let mut tied: Vec<&str> = vec![leader.strategy.as_str()];
    for r in rows.iter().skip(1) {
        if let Ok(d) = paired(results, scenario, &r.strategy, &leader.strategy, revenue)
            && d.lo <= 0.0
            && d.hi >= 0.0
        {
            tied.push(r.strategy.as_str());
        }
    }
    let vs_base: Vec<(&str, Option<Interval>)> = tied
        .iter()
        .map(|s| (*s, paired(results, scenario, s, base, revenue).ok()))
        .collect();
    let beats = |d: &Option<Interval>| d.is_some_and(|d| d.lo > 0.0);
    let mut out = if tied.len() == 1 {
        format!(
            "{scenario}: {} leads; its paired 95% interval against every other strategy excludes zero.",
            leader.strategy
        )
    } else if tied.contains(&base) {
        format!(
            "{scenario}: {} cannot be told apart at 95% (paired intervals of their differences \
             from {} contain zero), and that includes the baseline {base}.",
            join(&tied),
            leader.strategy
        )
    } else {
        format!(
            "{scenario}: {} are within each other's 95% intervals (the paired difference of each \
             from {} contains zero).",
            join(&tied),
            leader.strategy
        )
    };
    if !tied.contains(&base) {
        let parts: Vec<String> = vs_base
            .iter()
            .filter_map(|(s, d)| d.map(|d| format!("{s} {}", interval(&d))))
            .collect();
        let all = vs_base.iter().all(|(_, d)| beats(d));
        let who = if tied.len() == 1 { "It" } else { "All" };
        if all {
            out.push_str(&format!(
                " {who} beat{} {base} (paired revenue difference, 95% interval, {n} seeds): {}.",
                if tied.len() == 1 { "s" } else { "" },
                parts.join("; ")
            ));
        } else {
            out.push_str(&format!(
                " Against {base} (paired revenue difference, 95% interval, {n} seeds): {}.",
                parts.join("; ")
            ));
        }
    }
    Some(out)
}

/// One verdict per scenario, in summary order.
pub fn verdicts(results: &[JobResult], summary: &Summary) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    for r in &summary.rows {
        if !seen.contains(&r.scenario.as_str()) {
            seen.push(&r.scenario);
        }
    }
    seen.iter()
        .filter_map(|sc| verdict(results, summary, sc))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn lists_read_as_english() {
        assert_eq!(join(&["a"]), "a");
        assert_eq!(join(&["a", "b"]), "a and b");
        assert_eq!(join(&["a", "b", "c"]), "a, b and c");
    }
}
