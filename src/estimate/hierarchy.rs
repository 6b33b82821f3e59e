//! Estimates for a whole account: account → plans → keywords, each level shrunk to its parent.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::estimate::evidence::Counts;
use crate::estimate::posterior::{BetaPosterior, BetaPrior, OrderValuePosterior, OrderValuePrior};
use crate::estimate::shrinkage::{ShrinkageConfig, fit_beta_prior, fit_order_value_prior};
use crate::model::Account;
use crate::rng::SimRng;

/// The posteriors of one arm (account, plan or keyword) and the counts behind them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArmEstimate {
    /// Click-through rate.
    pub ctr: BetaPosterior,
    /// Conversion rate.
    pub cvr: BetaPosterior,
    /// Mean order value (AOV), currency units.
    pub aov: OrderValuePosterior,
    /// The (weighted) counts the posteriors were updated with.
    pub counts: Counts,
}

impl ArmEstimate {
    /// Posteriors of an aggregate (the account, a channel) from its pooled counts alone:
    /// uniform priors on the rates and a weak order-value prior at the pooled mean. A weak
    /// prior at the pooled rate is as good as any constant and lets a brand-new account
    /// start somewhere sensible.
    pub fn pooled(c: Counts) -> Self {
        ArmEstimate::from_priors(
            BetaPrior::UNIFORM,
            BetaPrior::UNIFORM,
            OrderValuePrior::weak(if c.conversions > 0.0 {
                c.revenue / c.conversions
            } else {
                1.0
            }),
            c,
        )
    }

    fn from_priors(ctr: BetaPrior, cvr: BetaPrior, aov: OrderValuePrior, c: Counts) -> Self {
        ArmEstimate {
            ctr: ctr.update(c.clicks, c.impressions),
            cvr: cvr.update(c.conversions, c.clicks),
            aov: aov.update(c.conversions, c.revenue),
            counts: c,
        }
    }

    /// Posterior mean value per click, CVR x AOV (currency units). The factors are
    /// independent a posteriori, so the mean of the product is the product of the means.
    pub fn value_per_click(&self) -> f64 {
        self.cvr.mean() * self.aov.mean()
    }

    /// Posterior mean value per impression, CTR x CVR x AOV.
    pub fn value_per_impression(&self) -> f64 {
        self.ctr.mean() * self.value_per_click()
    }

    /// Posterior mean ROI (revenue / cost) at a cost per click of `cpc` currency units;
    /// `None` if `cpc` is not positive.
    pub fn roi(&self, cpc: f64) -> Option<f64> {
        (cpc > 0.0 && cpc.is_finite()).then(|| self.value_per_click() / cpc)
    }

    /// One Thompson draw of value per click: CVR and AOV drawn from their posteriors.
    pub fn sample_value_per_click(&self, rng: &mut SimRng) -> f64 {
        self.cvr.sample(rng) * self.aov.sample(rng)
    }

    /// Monte-Carlo credible interval of value per click (`draws` draws from `rng`), and of
    /// ROI when `cpc` is given. The product of posteriors has no closed form.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a level outside (0, 1) or fewer than 100 draws.
    pub fn value_interval(&self, level: f64, draws: usize, rng: &mut SimRng) -> Result<(f64, f64)> {
        if !(level > 0.0 && level < 1.0) {
            return Err(Error::parameter("level", level, "must be in (0, 1)"));
        }
        if draws < 100 {
            return Err(Error::parameter("draws", draws, "must be >= 100"));
        }
        let (c, a) = (self.cvr.sampler(), self.aov.sampler());
        let mut xs: Vec<f64> = (0..draws).map(|_| c.sample(rng) * a.sample(rng)).collect();
        xs.sort_by(f64::total_cmp);
        let tail = (1.0 - level) / 2.0;
        let at = |q: f64| xs[((q * (draws - 1) as f64).round() as usize).min(draws - 1)];
        Ok((at(tail), at(1.0 - tail)))
    }
}

/// Posteriors for every level of an account, fitted by empirical Bayes.
///
/// Indexes follow the account: `plans[i]` is `account.plans()[i]`, and `keywords[i][j]` is
/// its `j`-th keyword.
///
/// ```
/// use adbandit::estimate::{AccountEstimates, Counts, ShrinkageConfig};
/// use adbandit::{Account, Keyword, MatchType, Money, Plan};
/// let y = |x| Money::from_units(x).unwrap();
/// let plan = Plan::new("p", "P", y(100), y(0), y(5))
///     .with_keyword(Keyword::new("a", "red dress", MatchType::Exact, y(1)))
///     .with_keyword(Keyword::new("b", "blue dress", MatchType::Exact, y(1)));
/// let account = Account::new("s", "CNY", vec![plan])?;
/// let seen = Counts { impressions: 1000.0, clicks: 50.0, ..Counts::default() };
/// let est = AccountEstimates::fit(&account, &[Counts::default()], &[vec![seen, Counts::default()]],
///     &ShrinkageConfig::default())?;
/// // The keyword with no data starts at its plan's level, not at 50%.
/// assert!((est.keywords[0][1].ctr.mean() - est.plans[0].ctr.mean()).abs() < 1e-9);
/// # Ok::<(), adbandit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountEstimates {
    /// The whole account.
    pub account: ArmEstimate,
    /// Per plan.
    pub plans: Vec<ArmEstimate>,
    /// Per plan, per keyword.
    pub keywords: Vec<Vec<ArmEstimate>>,
}

impl AccountEstimates {
    /// Fits the hierarchy.
    ///
    /// `plan_rows[i]` holds plan `i`'s counts that have no keyword (plan-level report rows);
    /// `keyword_counts[i][j]` holds keyword `j` of plan `i`. A plan's total is its plan-level
    /// counts plus its keywords'.
    ///
    /// # Errors
    /// [`Error::Inconsistent`] if the shapes do not match the account; [`Error::InvalidParameter`]
    /// for an invalid config.
    pub fn fit(
        account: &Account,
        plan_rows: &[Counts],
        keyword_counts: &[Vec<Counts>],
        cfg: &ShrinkageConfig,
    ) -> Result<Self> {
        cfg.validate()?;
        let plans = account.plans();
        if plan_rows.len() != plans.len() || keyword_counts.len() != plans.len() {
            return Err(Error::Inconsistent {
                field: "estimates".into(),
                reason: format!(
                    "{} plans but {} plan rows and {} keyword lists",
                    plans.len(),
                    plan_rows.len(),
                    keyword_counts.len()
                ),
            });
        }
        for (i, (p, ks)) in plans.iter().zip(keyword_counts).enumerate() {
            if ks.len() != p.keywords.len() {
                return Err(Error::Inconsistent {
                    field: format!("estimates.keywords[{i}]"),
                    reason: format!(
                        "plan has {} keywords, counts for {}",
                        p.keywords.len(),
                        ks.len()
                    ),
                });
            }
        }
        let plan_totals: Vec<Counts> = plan_rows
            .iter()
            .zip(keyword_counts)
            .map(|(own, ks)| {
                let mut t = *own;
                ks.iter().for_each(|k| t.add(k));
                t
            })
            .collect();
        let mut acc = Counts::default();
        plan_totals.iter().for_each(|t| acc.add(t));

        // Account level: pooled counts under weak priors.
        let account_est = ArmEstimate::pooled(acc);

        let (ctr_p, cvr_p, aov_p) = level_priors(&plan_totals, &account_est, cfg);
        let plan_est: Vec<ArmEstimate> = plan_totals
            .iter()
            .map(|c| ArmEstimate::from_priors(ctr_p, cvr_p, aov_p, *c))
            .collect();

        let keyword_est = keyword_counts
            .iter()
            .zip(&plan_est)
            .map(|(ks, parent)| {
                let (ctr_k, cvr_k, aov_k) = level_priors(ks, parent, cfg);
                ks.iter()
                    .map(|c| ArmEstimate::from_priors(ctr_k, cvr_k, aov_k, *c))
                    .collect()
            })
            .collect();
        Ok(AccountEstimates {
            account: account_est,
            plans: plan_est,
            keywords: keyword_est,
        })
    }
}

fn level_priors(
    children: &[Counts],
    parent: &ArmEstimate,
    cfg: &ShrinkageConfig,
) -> (BetaPrior, BetaPrior, OrderValuePrior) {
    let ctr = fit_beta_prior(
        children.iter().map(|c| (c.clicks, c.impressions)),
        parent.ctr.mean(),
        cfg,
    );
    let cvr = fit_beta_prior(
        children.iter().map(|c| (c.conversions, c.clicks)),
        parent.cvr.mean(),
        cfg,
    );
    let aov = fit_order_value_prior(
        children.iter().map(|c| (c.conversions, c.revenue)),
        parent.aov.mean(),
        cfg,
    );
    (ctr, cvr, aov)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Keyword, MatchType, Plan};
    use crate::money::Money;
    use crate::rng::stream;

    fn account(kw_per_plan: usize, plans: usize) -> Account {
        let y = |x| Money::from_units(x).unwrap();
        let ps = (0..plans)
            .map(|i| {
                let mut p = Plan::new(format!("p{i}"), "P", y(100), y(0), y(5));
                for j in 0..kw_per_plan {
                    p = p.with_keyword(Keyword::new(
                        format!("k{i}-{j}"),
                        format!("word{j}"),
                        MatchType::Exact,
                        y(1),
                    ));
                }
                p
            })
            .collect();
        Account::new("s", "CNY", ps).unwrap()
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        let a = account(2, 1);
        let r = AccountEstimates::fit(
            &a,
            &[Counts::default()],
            &[vec![Counts::default()]],
            &ShrinkageConfig::default(),
        );
        assert!(matches!(r, Err(Error::Inconsistent { .. })));
    }

    #[test]
    fn plans_shrink_toward_the_account() {
        let a = account(1, 4);
        let c = |clk: f64| Counts {
            impressions: 1000.0,
            clicks: clk,
            conversions: clk / 10.0,
            cost: clk,
            revenue: clk * 5.0,
        };
        let kws = vec![
            vec![c(10.0)],
            vec![c(20.0)],
            vec![c(30.0)],
            vec![Counts::default()],
        ];
        let e = AccountEstimates::fit(
            &a,
            &[Counts::default(); 4],
            &kws,
            &ShrinkageConfig::default(),
        )
        .unwrap();
        // The plan with no data sits at the account's pooled level.
        assert!((e.plans[3].ctr.mean() - e.account.ctr.mean()).abs() < 0.002);
        // Ordering of observed plans is kept, and each is pulled toward the mean.
        assert!(
            e.plans[0].ctr.mean() < e.plans[1].ctr.mean()
                && e.plans[1].ctr.mean() < e.plans[2].ctr.mean()
        );
        assert!(e.plans[0].ctr.mean() > 0.010 && e.plans[2].ctr.mean() < 0.030);
        let mut rng = stream(1, &[]);
        let (lo, hi) = e.plans[2].value_interval(0.9, 2000, &mut rng).unwrap();
        let v = e.plans[2].value_per_click();
        assert!(lo < v && v < hi, "{lo} {v} {hi}");
        assert!(e.plans[2].roi(0.0).is_none());
        assert!(e.plans[2].value_interval(1.0, 2000, &mut rng).is_err());
    }
}
