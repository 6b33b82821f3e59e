//! Bandit policies: which arms (plans, keywords, bid levels) to play next.
//!
//! A policy turns the arms' evidence into one **score** per arm
//! ([`Policy::score`], written into a caller buffer, no allocation); the caller then plays the
//! best arm ([`argmax`], [`choose_one`]) or the best `m` arms ([`top_m`], for a budget split
//! over several plans). Ties go to the lower index, so choices are deterministic given the RNG.
//! Every draw comes from the `&mut SimRng` the caller passes: there is no hidden generator.
//!
//! The evidence lives in [`Arms`]: counts, priors, posteriors and cached samplers, one entry
//! per arm, with arms added, retired and reactivated at any time. [`Arms`] also applies
//! [`Forgetting`](crate::estimate::Forgetting), so *every* policy has a discounted and a
//! sliding-window variant without extra code: discounted Thompson sampling (Raj & Kalyani
//! 2017), discounted and sliding-window UCB (Garivier & Moulines 2011).
//!
//! | policy | score | use it when | parameters |
//! |---|---|---|---|
//! | [`Thompson`] | a draw from each arm's posterior (rate; CVR x AOV; / cpc for ROI) | the default: lowest regret in stochastic settings, sampled values usable for allocation | none (priors in [`ArmsConfig`]) |
//! | [`Ucb1`] | `mean + scale sqrt(c ln N / n)` | deterministic choices are wanted; rewards bounded | `c > 0` (2), `scale > 0` (reward range, 1) |
//! | [`BayesUcb`] | posterior quantile at `1 - 1/(t (ln t)^c)` | deterministic and as good as Thompson; few arms (each quantile costs ~µs) | `c >= 0` (0) |
//! | [`EpsilonGreedy`] | means; random with probability `eps_t` | a simple, explainable baseline | `epsilon` in [0, 1]; optional decay `c > 0`: `eps_t = min(epsilon, c K / t)` |
//! | [`Softmax`] | `mean / temperature + Gumbel` (Boltzmann) | exploration graded by how much worse an arm looks | `temperature > 0` (reward units) |
//! | [`Exp3`] | `ln p + Gumbel` from exponential weights | rewards may be adversarial or non-stochastic (competitors reacting) | `gamma` in (0, 1], or [`Exp3::tuned`]`(K, T)` |
//!
//! Policies read the arms through [`PosteriorView`] (implemented by [`Arms`] and by the
//! engine's fitted estimates, [`crate::estimate::PosteriorTable`]). What a score estimates is
//! chosen per call by [`Reward`]: CTR, CVR (or an `Arms` container's own rate), value per
//! click or ROI. Each policy declares what its scores are ([`Policy::score_kind`],
//! [`ScoreKind`]): Thompson scores are honest posterior draws of the reward; UCB1 and
//! Bayes-UCB scores are optimistic indices; epsilon-greedy and softmax scores are estimates
//! on the reward's scale perturbed for exploration (a mean, or a mean plus Gumbel noise);
//! EXP3 scores are a ranking only. The engine spends money by the scores, so it runs every
//! policy except those whose scores are a ranking only.
//!
//! ```
//! use adbandit::estimate::{BetaPrior, Forgetting};
//! use adbandit::policy::{Arms, ArmsConfig, BuiltinPolicy, Policy, Reward, top_m};
//! use adbandit::rng::stream;
//!
//! let cfg = ArmsConfig::new(BetaPrior::UNIFORM, Forgetting::half_life(7.0)?)?;
//! let mut arms = Arms::with_arms(cfg, 4);
//! let policy = BuiltinPolicy::thompson();
//! let mut rng = stream(42, &[]);
//! let (mut scores, mut chosen) = (vec![0.0; arms.len()], Vec::new());
//! for round in 1..=200 {
//!     policy.score(arms.view(), Reward::Rate, round, &mut rng, &mut scores);
//!     top_m(&scores, 2, &mut chosen); // play two arms at once
//!     for &i in &chosen {
//!         let p = [0.02, 0.05, 0.03, 0.01][i]; // the unknown CTRs
//!         arms.update(i, p * 1000.0, 1000.0)?;
//!     }
//!     arms.end_period();
//! }
//! assert!(arms.counts(1).trials > arms.counts(3).trials);
//! # Ok::<(), adbandit::Error>(())
//! ```

use std::fmt;

use rand::RngExt;
use rand_distr::Exp1;
use serde::{Deserialize, Serialize};

use crate::error::Result;
pub use crate::estimate::PosteriorView;
use crate::rng::SimRng;

pub mod arms;
pub mod bayes_ucb;
pub mod builtin;
pub mod eps_greedy;
pub mod exp3;
pub mod softmax;
pub mod thompson;
pub mod ucb;

pub use arms::{ArmCounts, ArmIx, ArmPosteriors, Arms, ArmsConfig, ArmsView, Reward};
pub use bayes_ucb::BayesUcb;
pub use builtin::BuiltinPolicy;
pub use eps_greedy::EpsilonGreedy;
pub use exp3::Exp3;
pub use softmax::Softmax;
pub use thompson::Thompson;
pub use ucb::Ucb1;

/// The reward observed for one play, for policies that learn from rewards directly (EXP3).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArmFeedback {
    /// The arm played.
    pub arm: ArmIx,
    /// The reward it earned (in [0, 1] for EXP3).
    pub reward: f64,
}

/// What a policy's scores are, declared through [`Policy::score_kind`]. Whoever spends
/// money by the scores (the engine allocates budgets in proportion to them) decides by this
/// declaration whether it can use a policy; [`ScoreKind::usable_as_value`] is the engine's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreKind {
    /// An honest draw from each arm's posterior of the reward (Thompson sampling).
    PosteriorSample,
    /// An optimistic index on the reward's scale: an upper bound or quantile (UCB1,
    /// Bayes-UCB).
    OptimisticIndex,
    /// An estimate of the reward on its scale, possibly perturbed for exploration: the
    /// posterior mean (epsilon-greedy), or the mean plus Gumbel noise (softmax).
    PointEstimate,
    /// Only the order means anything (EXP3's log-weights): not a value of the reward.
    RankingOnly,
}

impl ScoreKind {
    /// Whether the scores estimate the reward on its own scale, so that money can be
    /// allocated in proportion to them (everything but [`ScoreKind::RankingOnly`]).
    pub fn usable_as_value(self) -> bool {
        !matches!(self, ScoreKind::RankingOnly)
    }
}

/// A bandit policy. Dyn-compatible (`Box<dyn Policy>` works): the RNG is the concrete
/// [`SimRng`], the arms are read through the [`PosteriorView`] trait object, and there are
/// no generic methods.
///
/// A policy never owns or updates evidence: it scores from the view it is given (the
/// engine's fitted estimates, or a standalone [`Arms`] container), so every policy shares
/// one evidence store and one forgetting rule. See `examples/custom_policy.rs` for a policy
/// written outside the crate and run in the engine.
pub trait Policy: fmt::Debug + Send + Sync {
    /// A short stable name (`"thompson"`, `"ucb1"`, ...).
    fn name(&self) -> &'static str;

    /// What the scores are: a posterior sample, an optimistic index, a point estimate or a
    /// ranking only.
    fn score_kind(&self) -> ScoreKind;

    /// Writes one score per arm into `out` (`out.len()` should equal `arms.len()`; extra
    /// entries on either side are left alone). Higher is better. Retired arms get
    /// `f64::NEG_INFINITY`; no score is NaN. `round` is the 1-based decision number. Draws
    /// only from `rng` and does not allocate.
    fn score(
        &self,
        arms: &dyn PosteriorView,
        reward: Reward,
        round: u64,
        rng: &mut SimRng,
        out: &mut [f64],
    );

    /// Learns from rewards. Policies that read posteriors from the view ignore this (update
    /// the evidence instead); EXP3 uses it.
    ///
    /// # Errors
    /// A policy may reject feedback it cannot use (EXP3: an unknown arm or a reward outside
    /// [0, 1]), leaving its state unchanged.
    fn learn(&mut self, _arms: &dyn PosteriorView, _feedback: &[ArmFeedback]) -> Result<()> {
        Ok(())
    }

    /// Called after arms are added, retired or reactivated, for policies with per-arm state.
    fn arms_changed(&mut self, _arms: &dyn PosteriorView) {}
}

/// A standard Gumbel draw, `-ln E` with `E ~ Exp(1)` (one ziggurat draw and one log).
#[inline]
pub(crate) fn gumbel(rng: &mut SimRng) -> f64 {
    let e: f64 = rng.sample(Exp1);
    -(e.max(f64::MIN_POSITIVE)).ln()
}

/// The index of the highest score above `-inf` (ties to the lower index); `None` if none.
/// NaN scores are skipped.
#[inline]
pub fn argmax(scores: &[f64]) -> Option<ArmIx> {
    let mut best = f64::NEG_INFINITY;
    let mut ix = None;
    for (i, &s) in scores.iter().enumerate() {
        // Strict `>` keeps the first of equal scores and skips NaN and -inf.
        if s > best {
            best = s;
            ix = Some(i);
        }
    }
    ix
}

/// The indices of the `m` highest scores, best first (ties to the lower index). Arms scored
/// `-inf` (retired) or NaN are never chosen, so `out` may hold fewer than `m`. Reuses `out`'s
/// capacity.
pub fn top_m(scores: &[f64], m: usize, out: &mut Vec<ArmIx>) {
    out.clear();
    if m == 0 {
        return;
    }
    if m == 1 {
        out.extend(argmax(scores));
        return;
    }
    out.extend((0..scores.len()).filter(|&i| scores[i] > f64::NEG_INFINITY));
    // A total order (score descending, then index ascending) makes the result unique.
    let cmp = |a: &ArmIx, b: &ArmIx| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b));
    if out.len() > m {
        out.select_nth_unstable_by(m - 1, cmp);
        out.truncate(m);
    }
    out.sort_unstable_by(cmp);
}

/// Scores the arms with `policy` and returns the best active arm (`None` if none is active).
/// `scores` is resized to `arms.len()` and keeps the scores (e.g. Thompson draws).
pub fn choose_one<P: Policy + ?Sized>(
    policy: &P,
    arms: &dyn PosteriorView,
    reward: Reward,
    round: u64,
    rng: &mut SimRng,
    scores: &mut Vec<f64>,
) -> Option<ArmIx> {
    scores.resize(arms.len(), f64::NEG_INFINITY);
    policy.score(arms, reward, round, rng, scores);
    argmax(scores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::{BetaPrior, Forgetting, OrderValuePrior};
    use crate::rng::stream;

    const fn assert_send_sync<T: Send + Sync>() {}
    const _: () = {
        assert_send_sync::<Arms>();
        assert_send_sync::<BuiltinPolicy>();
        assert_send_sync::<Thompson>();
        assert_send_sync::<Ucb1>();
        assert_send_sync::<BayesUcb>();
        assert_send_sync::<EpsilonGreedy>();
        assert_send_sync::<Softmax>();
        assert_send_sync::<Exp3>();
        assert_send_sync::<Box<dyn Policy>>();
    };

    fn all() -> Vec<BuiltinPolicy> {
        vec![
            BuiltinPolicy::thompson(),
            BuiltinPolicy::ucb1(),
            BuiltinPolicy::bayes_ucb(),
            EpsilonGreedy::fixed(0.1).unwrap().into(),
            EpsilonGreedy::decaying(1.0, 5.0).unwrap().into(),
            Softmax::new(0.05).unwrap().into(),
            Exp3::new(0.1).unwrap().into(),
        ]
    }

    #[test]
    fn top_m_orders_and_breaks_ties_low() {
        let s = [0.5, 0.9, f64::NEG_INFINITY, 0.9, f64::NAN, 0.1];
        let mut out = Vec::new();
        top_m(&s, 3, &mut out);
        assert_eq!(out, vec![1, 3, 0]);
        top_m(&s, 10, &mut out);
        assert_eq!(out, vec![1, 3, 0, 5]);
        top_m(&s, 1, &mut out);
        assert_eq!(out, vec![1]);
        assert_eq!(argmax(&[f64::NEG_INFINITY, f64::NAN]), None);
        assert_eq!(argmax(&[1.0, f64::INFINITY, f64::INFINITY]), Some(1));
        assert_eq!(argmax(&[f64::INFINITY]), Some(0));
    }

    #[test]
    fn every_policy_scores_retired_as_neg_inf_and_never_nan() {
        let cfg = ArmsConfig::new(BetaPrior::UNIFORM, Forgetting::Never)
            .unwrap()
            .with_value_priors(
                BetaPrior::UNIFORM,
                OrderValuePrior::new(100.0, 2.0, 2.0).unwrap(),
                1.0,
            )
            .unwrap();
        let mut arms = Arms::with_arms(cfg, 5);
        arms.update(1, 3.0, 10.0).unwrap();
        arms.update_value(1, 10.0, 2.0, 300.0, 12.0).unwrap();
        arms.retire(3).unwrap();
        let mut rng = stream(5, &[]);
        let mut out = vec![0.0; 5];
        for mut p in all() {
            p.arms_changed(arms.view());
            for reward in [Reward::Rate, Reward::ValuePerClick, Reward::Roi] {
                for round in [1, 2, 1000] {
                    p.score(arms.view(), reward, round, &mut rng, &mut out);
                    assert!(out[3].is_infinite() && out[3] < 0.0, "{}", p.name());
                    assert!(out.iter().all(|x| !x.is_nan()), "{}: {out:?}", p.name());
                    let c = argmax(&out).unwrap();
                    assert_ne!(c, 3);
                }
            }
        }
    }

    #[test]
    fn builtin_serde_round_trips_with_state() {
        let mut arms = Arms::with_arms(
            ArmsConfig::new(BetaPrior::UNIFORM, Forgetting::Never).unwrap(),
            3,
        );
        let arms = arms.view();
        for mut p in all() {
            p.arms_changed(arms);
            p.learn(
                arms,
                &[ArmFeedback {
                    arm: 1,
                    reward: 1.0,
                }],
            )
            .unwrap();
            let j = serde_json::to_string(&p).unwrap();
            let q: BuiltinPolicy = serde_json::from_str(&j).unwrap();
            assert_eq!(q.name(), p.name());
            if let (BuiltinPolicy::Exp3(a), BuiltinPolicy::Exp3(b)) = (&p, &q) {
                let (pa, pb) = (a.probabilities(), b.probabilities());
                assert!(pa.iter().zip(&pb).all(|(x, y)| (x - y).abs() < 1e-12));
                assert!(pa[1] > pa[0]);
            } else {
                assert_eq!(p, q);
            }
        }
        for bad in [
            r#"{"kind":"ucb1","c":-1,"scale":1}"#,
            r#"{"kind":"bayes_ucb","c":-0.5}"#,
            r#"{"kind":"epsilon_greedy","epsilon":0.1,"decay":0}"#,
            r#"{"kind":"exp3","gamma":1.5}"#,
            r#"{"kind":"exp3","gamma":0.1,"log_weights":[0.0,1.0]}"#,
            r#"{"kind":"nope"}"#,
        ] {
            assert!(serde_json::from_str::<BuiltinPolicy>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exp3_rejects_bad_feedback() {
        let mut arms = Arms::with_arms(
            ArmsConfig::new(BetaPrior::UNIFORM, Forgetting::Never).unwrap(),
            2,
        );
        let arms = arms.view();
        let mut e = Exp3::new(0.2).unwrap();
        assert!(
            e.learn(
                arms,
                &[ArmFeedback {
                    arm: 5,
                    reward: 0.5
                }]
            )
            .is_err()
        );
        assert!(
            e.learn(
                arms,
                &[ArmFeedback {
                    arm: 0,
                    reward: f64::NAN
                }]
            )
            .is_err()
        );
        assert!(
            e.learn(
                arms,
                &[ArmFeedback {
                    arm: 0,
                    reward: 2.0
                }]
            )
            .is_err()
        );
    }

    #[test]
    fn value_thompson_prefers_the_richer_arm() {
        let cfg = ArmsConfig::new(BetaPrior::UNIFORM, Forgetting::Never)
            .unwrap()
            .with_value_priors(
                BetaPrior::UNIFORM,
                OrderValuePrior::new(100.0, 1.0, 2.0).unwrap(),
                1.0,
            )
            .unwrap();
        let mut arms = Arms::with_arms(cfg, 2);
        // Same CVR, arm 1 has twice the order value and the same cpc.
        arms.update_value(0, 2000.0, 100.0, 100.0 * 50.0, 2000.0)
            .unwrap();
        arms.update_value(1, 2000.0, 100.0, 100.0 * 100.0, 2000.0)
            .unwrap();
        let mut rng = stream(8, &[]);
        let mut s = Vec::new();
        let mut wins = 0;
        for r in 1..=200 {
            if choose_one(
                &Thompson::new(),
                arms.view(),
                Reward::Roi,
                r,
                &mut rng,
                &mut s,
            ) == Some(1)
            {
                wins += 1;
            }
        }
        assert!(wins > 190, "{wins}");
        // Draws are on the right scale: ROI about 5 for arm 1.
        let roi = arms.view().means(Reward::Roi)[1];
        assert!((roi - 5.0).abs() < 0.3, "{roi}");
    }
}
