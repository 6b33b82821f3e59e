//! Quickstart: an account, a week of statistics, and what the estimates say.
//!
//! Run with `cargo run --release --example quickstart`.

use adbandit::estimate::{AccountEstimates, Counts, ShrinkageConfig};
use adbandit::rng::stream;
use adbandit::{Account, Keyword, MatchType, Money, Plan, Stats};

fn main() -> adbandit::Result<()> {
    let y = |x| Money::from_units(x);
    let account = Account::new(
        "Demo shop",
        "CNY",
        vec![
            Plan::new("dresses", "Dresses", y(300)?, y(0)?, y(5)?)
                .with_keyword(Keyword::new("d1", "red dress", MatchType::Exact, y(1)?))
                .with_keyword(Keyword::new("d2", "summer dress", MatchType::Phrase, y(1)?))
                .with_keyword(Keyword::new("d3", "silk dress", MatchType::Broad, y(1)?)),
            Plan::new("shoes", "Shoes", y(300)?, y(0)?, y(5)?)
                .with_keyword(Keyword::new("s1", "running shoes", MatchType::Exact, y(1)?))
                .with_keyword(Keyword::new("s2", "trail shoes", MatchType::Phrase, y(1)?)),
        ],
    )?;
    // A week of (impressions, clicks, orders, cost, revenue) per keyword.
    let week = [
        vec![
            (7000, 350, 21, 280, 3150),
            (5000, 150, 6, 120, 720),
            (300, 6, 0, 5, 0),
        ],
        vec![(6000, 120, 2, 150, 300), (2000, 60, 3, 70, 600)],
    ];
    let counts: Vec<Vec<Counts>> = week
        .iter()
        .map(|plan| {
            plan.iter()
                .map(|&(i, c, o, cost, rev)| {
                    Ok(Counts::from_stats(&Stats::new(i, c, o, y(cost)?, y(rev)?)?))
                })
                .collect::<adbandit::Result<_>>()
        })
        .collect::<adbandit::Result<_>>()?;
    let est = AccountEstimates::fit(
        &account,
        &[Counts::default(); 2],
        &counts,
        &ShrinkageConfig::default(),
    )?;
    let mut rng = stream(2026, &[]);
    println!(
        "{:<14} {:>7} {:>17} {:>7} {:>17} {:>8} {:>8}",
        "keyword", "CTR", "95% CI", "CVR", "95% CI", "AOV", "ROI"
    );
    for (p, plan) in account.plans().iter().enumerate() {
        for (k, kw) in plan.keywords.iter().enumerate() {
            let e = &est.keywords[p][k];
            let (cl, ch) = e.ctr.interval(0.95)?;
            let (vl, vh) = e.cvr.interval(0.95)?;
            let roi = e.counts.cpc().and_then(|cpc| e.roi(cpc));
            println!(
                "{:<14} {:>6.2}% [{:>5.2}%, {:>5.2}%] {:>6.2}% [{:>5.2}%, {:>5.2}%] {:>8.1} {:>8}",
                kw.text,
                100.0 * e.ctr.mean(),
                100.0 * cl,
                100.0 * ch,
                100.0 * e.cvr.mean(),
                100.0 * vl,
                100.0 * vh,
                e.aov.mean(),
                roi.map_or("-".to_string(), |r| format!("{r:.2}"))
            );
        }
    }
    let (lo, hi) = est.plans[0].value_interval(0.95, 4000, &mut rng)?;
    println!(
        "\nDresses: value per click {:.2} (95% CI {lo:.2}..{hi:.2})",
        est.plans[0].value_per_click()
    );
    Ok(())
}
