//! [`BuiltinPolicy`]: the built-in policies as one serde-tagged enum (static dispatch, and
//! snapshots without trait-object registries).

use serde::{Deserialize, Serialize};

use super::{
    ArmFeedback, BayesUcb, EpsilonGreedy, Exp3, Policy, PosteriorView, Reward, ScoreKind, Softmax,
    Thompson, Ucb1,
};
use crate::error::Result;
use crate::rng::SimRng;

/// Any built-in policy. Serialised as `{"kind": "thompson"}`, `{"kind": "ucb1", "c": 2.0,
/// "scale": 1.0}` and so on; each variant validates its parameters on deserialisation.
///
/// ```
/// use adbandit::policy::{BuiltinPolicy, Policy};
/// let p: BuiltinPolicy = serde_json::from_str(r#"{"kind":"softmax","temperature":0.1}"#)?;
/// assert_eq!(p.name(), "softmax");
/// assert!(serde_json::from_str::<BuiltinPolicy>(r#"{"kind":"softmax","temperature":0}"#).is_err());
/// assert!(serde_json::from_str::<BuiltinPolicy>(r#"{"kind":"epsilon_greedy","epsilon":2}"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BuiltinPolicy {
    /// [`Thompson`] sampling.
    Thompson(Thompson),
    /// [`Ucb1`].
    Ucb1(Ucb1),
    /// [`BayesUcb`].
    BayesUcb(BayesUcb),
    /// [`EpsilonGreedy`].
    EpsilonGreedy(EpsilonGreedy),
    /// [`Softmax`].
    Softmax(Softmax),
    /// [`Exp3`].
    Exp3(Exp3),
}

impl Default for BuiltinPolicy {
    fn default() -> Self {
        BuiltinPolicy::Thompson(Thompson::new())
    }
}

impl BuiltinPolicy {
    /// Thompson sampling (the recommended default).
    pub fn thompson() -> Self {
        BuiltinPolicy::Thompson(Thompson::new())
    }
    /// UCB1 with `c = 2` for rewards in [0, 1].
    pub fn ucb1() -> Self {
        BuiltinPolicy::Ucb1(Ucb1::default())
    }
    /// Bayes-UCB with `c = 0`.
    pub fn bayes_ucb() -> Self {
        BuiltinPolicy::BayesUcb(BayesUcb::default())
    }

    fn inner(&self) -> &dyn Policy {
        match self {
            BuiltinPolicy::Thompson(p) => p,
            BuiltinPolicy::Ucb1(p) => p,
            BuiltinPolicy::BayesUcb(p) => p,
            BuiltinPolicy::EpsilonGreedy(p) => p,
            BuiltinPolicy::Softmax(p) => p,
            BuiltinPolicy::Exp3(p) => p,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn Policy {
        match self {
            BuiltinPolicy::Thompson(p) => p,
            BuiltinPolicy::Ucb1(p) => p,
            BuiltinPolicy::BayesUcb(p) => p,
            BuiltinPolicy::EpsilonGreedy(p) => p,
            BuiltinPolicy::Softmax(p) => p,
            BuiltinPolicy::Exp3(p) => p,
        }
    }
}

impl Policy for BuiltinPolicy {
    fn name(&self) -> &'static str {
        self.inner().name()
    }
    fn score_kind(&self) -> ScoreKind {
        self.inner().score_kind()
    }
    #[inline]
    fn score(
        &self,
        arms: &dyn PosteriorView,
        reward: Reward,
        round: u64,
        rng: &mut SimRng,
        out: &mut [f64],
    ) {
        // One indirect call per decision (not per arm): negligible next to K draws.
        self.inner().score(arms, reward, round, rng, out)
    }
    fn learn(&mut self, arms: &dyn PosteriorView, feedback: &[ArmFeedback]) -> Result<()> {
        self.inner_mut().learn(arms, feedback)
    }
    fn arms_changed(&mut self, arms: &dyn PosteriorView) {
        self.inner_mut().arms_changed(arms)
    }
}

macro_rules! from_variant {
    ($($t:ident),*) => {$(
        impl From<$t> for BuiltinPolicy {
            fn from(p: $t) -> Self {
                BuiltinPolicy::$t(p)
            }
        }
    )*};
}
from_variant!(Thompson, Ucb1, BayesUcb, EpsilonGreedy, Softmax, Exp3);
