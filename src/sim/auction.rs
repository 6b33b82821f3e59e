//! The generalised second-price auction with quality score, and the competitor bid landscape.
//!
//! [`run_auction`] is the reference auction over an explicit list of bidders (used by tests and
//! to check the market's fast path). [`CompetitorLandscape`] holds a keyword's competitor score
//! distribution as a quantile table, so the market draws a competitor with one `u64` and a lerp.

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// The rules of one auction: how many slots, the reserve price and the bid increment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionRules {
    /// Number of ad slots sold per query.
    pub slots: usize,
    /// The lowest bid admitted and the lowest price charged.
    pub reserve: Money,
    /// Added to the price that would just keep the rank.
    pub increment: Money,
}

/// One bidder in [`run_auction`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bidder {
    /// The most the bidder pays for a click.
    pub bid: Money,
    /// Its quality score (> 0); rank score = bid x quality.
    pub quality: f64,
}

/// Who got which slot, at what price per click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Index of the bidder in the input.
    pub bidder: usize,
    /// Slot, 0 = top.
    pub slot: usize,
    /// Price per click (charged only if clicked).
    pub price: Money,
}

/// The GSP price for a winner with `bid` and `quality` whose next-ranked eligible rival has
/// rank score `next_score` (bid micros x quality), or none.
///
/// Price = max(reserve, ceil(next_score / quality) + increment), never above the bid.
#[inline]
pub fn gsp_price(
    bid_micros: i64,
    quality: f64,
    next_score: Option<f64>,
    reserve: i64,
    increment: i64,
) -> i64 {
    let p = match next_score {
        Some(s) => {
            let keep = ceil(s / quality);
            // Saturating: an absurd ratio prices at the bid, which caps it anyway.
            if keep < i64::MAX as f64 / 2.0 {
                (keep as i64).saturating_add(increment)
            } else {
                i64::MAX
            }
        }
        None => reserve,
    };
    p.max(reserve).min(bid_micros)
}

/// `x.ceil()` without the library call where truncation is exact (|x| < 2^52): the same
/// value, except that a zero result may carry the other sign (which a cast to an integer
/// ignores).
#[inline]
fn ceil(x: f64) -> f64 {
    if x.abs() < 4_503_599_627_370_496.0 {
        let t = x as i64 as f64;
        if t < x { t + 1.0 } else { t }
    } else {
        x.ceil()
    }
}

/// Runs one generalised second-price auction.
///
/// Bidders whose bid is below the reserve, or whose quality is not positive, do not enter.
/// The rest are ranked by bid x quality, highest first; ties go to the earlier bidder. The
/// first `rules.slots` win, in rank order; each pays [`gsp_price`] against the next-ranked
/// entrant (the reserve if there is none), never more than its bid.
pub fn run_auction(bidders: &[Bidder], rules: &AuctionRules) -> Vec<Placement> {
    let mut ranked: Vec<(usize, f64)> = bidders
        .iter()
        .enumerate()
        .filter(|(_, b)| b.bid >= rules.reserve && b.quality > 0.0 && b.quality.is_finite())
        .map(|(i, b)| (i, b.bid.micros() as f64 * b.quality))
        .collect();
    // Stable sort keeps the earlier bidder first on ties.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked
        .iter()
        .take(rules.slots)
        .enumerate()
        .map(|(slot, &(i, _))| {
            let next = ranked.get(slot + 1).map(|&(_, s)| s);
            Placement {
                bidder: i,
                slot,
                price: Money::from_micros(gsp_price(
                    bidders[i].bid.micros(),
                    bidders[i].quality,
                    next,
                    rules.reserve.micros(),
                    rules.increment.micros(),
                )),
            }
        })
        .collect()
}

/// Number of segments of a competitor quantile table.
pub const TABLE_SEGMENTS: usize = 64;
/// Lowest and highest probability kept from the log-normal (the tails beyond are cut).
pub const TABLE_TAIL: f64 = 0.002;

/// A keyword's competitors: `count` rivals per query, each with rank score
/// bid x quality where bid ~ LogNormal(ln median, sigma).
///
/// The distribution is stored as a piecewise-linear quantile function over
/// [`TABLE_SEGMENTS`] equal-probability segments between the [`TABLE_TAIL`] and
/// `1 - TABLE_TAIL` quantiles. This table *is* the model's competitor distribution: the exact
/// market draws from it and the fast market and the oracle integrate over it, so both agree.
#[derive(Debug, Clone, PartialEq)]
pub struct CompetitorLandscape {
    /// Rivals per query.
    pub count: u32,
    /// Their common quality score.
    pub quality: f64,
    /// Rank-score quantiles (micros x quality) at probabilities i / TABLE_SEGMENTS (tails cut).
    table: [f64; TABLE_SEGMENTS + 1],
}

impl CompetitorLandscape {
    /// The landscape for `count` rivals with bid median `median_micros`, log-sd `sigma`,
    /// and quality `quality`. Inputs are validated by the scenario.
    pub fn new(count: u32, median_micros: f64, sigma: f64, quality: f64) -> Self {
        let mut table = [0.0; TABLE_SEGMENTS + 1];
        for (i, t) in table.iter_mut().enumerate() {
            let p = (i as f64 / TABLE_SEGMENTS as f64).clamp(TABLE_TAIL, 1.0 - TABLE_TAIL);
            *t = median_micros * (sigma * inverse_normal_cdf(p)).exp() * quality;
        }
        CompetitorLandscape {
            count,
            quality,
            table,
        }
    }

    /// One rival's rank score from 64 random bits (6 bits pick the segment, 32 the point).
    #[inline]
    pub fn draw(&self, bits: u64) -> f64 {
        let seg = (bits >> 58) as usize;
        let frac = ((bits >> 26) & 0xffff_ffff) as f64 * (1.0 / 4_294_967_296.0);
        let a = self.table[seg];
        a + (self.table[seg + 1] - a) * frac
    }

    /// The rank score at probability `p` in [0, 1].
    #[inline]
    pub fn quantile(&self, p: f64) -> f64 {
        let x = p.clamp(0.0, 1.0) * TABLE_SEGMENTS as f64;
        let seg = (x as usize).min(TABLE_SEGMENTS - 1);
        let frac = x - seg as f64;
        let a = self.table[seg];
        a + (self.table[seg + 1] - a) * frac
    }

    /// P(rival score < x).
    pub fn cdf(&self, x: f64) -> f64 {
        let t = &self.table;
        if !(x > t[0]) {
            return 0.0;
        }
        if x >= t[TABLE_SEGMENTS] {
            return 1.0;
        }
        // First index with t[i] >= x; the segment is [i-1, i].
        let i = t.partition_point(|&v| v < x);
        let (a, b) = (t[i - 1], t[i]);
        let frac = if b > a { (x - a) / (b - a) } else { 1.0 };
        ((i - 1) as f64 + frac) / TABLE_SEGMENTS as f64
    }

    /// The median rival score.
    pub fn median_score(&self) -> f64 {
        self.table[TABLE_SEGMENTS / 2]
    }
}

/// Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let lo = 0.02425;
    if p < lo {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - lo {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

/// Our ad's outcome in one query's auction against freshly drawn rivals.
///
/// `score` is our bid micros x quality divided by the day's competitor factor `f` (rival
/// tables are in base units), `floor` = reserve x rival quality / f (rivals below it do not
/// enter). `next_score` yields each rival's score (the market draws them from a
/// [`CompetitorLandscape`]); it is called exactly `rivals` times. Returns
/// `(slot, price_micros)` or `None` without a slot. Ties go to the rival.
#[inline]
pub fn our_auction(
    rivals: u32,
    score: f64,
    floor: f64,
    mut next_score: impl FnMut() -> f64,
    slots: usize,
    price: impl Fn(Option<f64>) -> i64,
) -> Option<(usize, i64)> {
    let mut above = 0usize;
    let mut next = f64::NEG_INFINITY;
    for _ in 0..rivals {
        let c = next_score();
        // Without branches (the comparisons are coin flips to a predictor): a rival at or
        // above the floor either beats our score or may be the next score below it.
        let in_range = c >= floor;
        let beats = in_range & (c >= score);
        above += usize::from(beats);
        let below = if in_range & !beats {
            c
        } else {
            f64::NEG_INFINITY
        };
        next = if below > next { below } else { next };
    }
    if above >= slots {
        return None;
    }
    let next = if next > f64::NEG_INFINITY {
        Some(next)
    } else {
        None
    };
    Some((above, price(next)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceil_is_the_library_ceil_up_to_the_sign_of_zero() {
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            1.000_000_000_000_000_2,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        use rand::Rng;
        let mut r = crate::rng::stream(5, &[]);
        for _ in 0..100_000 {
            let u = (r.next_u64() >> 11) as f64 / 9_007_199_254_740_992.0;
            xs.extend([u * 3e7, -u * 1e5, (u * 64.0).floor() / 4.0]);
        }
        for x in xs {
            // Adding +0 maps -0 to +0: equal bits up to the sign of zero.
            assert_eq!((ceil(x) + 0.0).to_bits(), (x.ceil() + 0.0).to_bits(), "{x}");
            assert_eq!(ceil(x) as i64, x.ceil() as i64);
        }
        assert!(ceil(f64::NAN).is_nan());
    }

    fn y(micros: i64) -> Money {
        Money::from_micros(micros)
    }

    fn rules(slots: usize) -> AuctionRules {
        AuctionRules {
            slots,
            reserve: y(100_000),
            increment: y(10_000),
        }
    }

    #[test]
    fn hand_computed_three_bidders_two_slots() {
        // scores: A 2.0*1.0 = 2.0, B 1.5*2.0 = 3.0, C 1.0*1.0 = 1.0 (yuan x quality)
        let b = [
            Bidder {
                bid: y(2_000_000),
                quality: 1.0,
            },
            Bidder {
                bid: y(1_500_000),
                quality: 2.0,
            },
            Bidder {
                bid: y(1_000_000),
                quality: 1.0,
            },
        ];
        let r = run_auction(&b, &rules(2));
        // B first, pays A's score / own quality + inc = 2.0/2 + 0.01 = 1.01
        // A second, pays C's score / 1 + inc = 1.01
        assert_eq!(
            r,
            vec![
                Placement {
                    bidder: 1,
                    slot: 0,
                    price: y(1_010_000)
                },
                Placement {
                    bidder: 0,
                    slot: 1,
                    price: y(1_010_000)
                },
            ]
        );
    }

    #[test]
    fn ties_single_bidder_and_reserve() {
        let same = Bidder {
            bid: y(1_000_000),
            quality: 1.0,
        };
        // A tie: the earlier bidder ranks first and pays at most its bid.
        let r = run_auction(&[same, same], &rules(2));
        assert_eq!(r[0].bidder, 0);
        assert_eq!(r[0].price, y(1_000_000));
        assert_eq!(r[1].bidder, 1);
        assert_eq!(r[1].price, y(100_000)); // no one below: reserve
        // A single bidder pays the reserve.
        let r = run_auction(&[same], &rules(3));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].price, y(100_000));
        // A bid below the reserve does not enter; the other pays the reserve.
        let low = Bidder {
            bid: y(99_999),
            quality: 5.0,
        };
        let r = run_auction(&[low, same], &rules(2));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].bidder, 1);
        assert_eq!(r[0].price, y(100_000));
        // A bid below every rival's score with one slot gets nothing.
        let r = run_auction(
            &[
                same,
                Bidder {
                    bid: y(500_000),
                    quality: 1.0,
                },
            ],
            &rules(1),
        );
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].bidder, 0);
        assert_eq!(r[0].price, y(510_000));
    }

    #[test]
    fn price_never_exceeds_bid() {
        // Next score just below: price would be bid + increment, capped at the bid.
        assert_eq!(
            gsp_price(1_000_000, 1.0, Some(999_999.0), 0, 10_000),
            1_000_000
        );
        assert_eq!(gsp_price(1_000_000, 2.0, Some(1_000_001.0), 0, 0), 500_001);
        assert_eq!(gsp_price(50_000, 1.0, None, 100_000, 0), 50_000);
    }

    #[test]
    fn landscape_table_round_trips() {
        let l = CompetitorLandscape::new(5, 1_000_000.0, 0.5, 1.2);
        assert!((l.median_score() - 1_200_000.0).abs() < 1.0);
        for &p in &[0.01, 0.2, 0.5, 0.77, 0.99] {
            let x = l.quantile(p);
            assert!((l.cdf(x) - p).abs() < 1e-9, "{p}");
        }
        assert!(l.cdf(0.0).abs() < 1e-12);
        assert!((l.cdf(1e12) - 1.0).abs() < 1e-12);
        assert!(inverse_normal_cdf(0.975) - 1.959_964 < 1e-5);
    }

    #[test]
    fn fast_path_matches_reference_auction() {
        use rand::Rng;
        let l = CompetitorLandscape::new(6, 800_000.0, 0.6, 1.0);
        let mut rng = crate::rng::stream(1, &[]);
        let r = rules(3);
        for _ in 0..2000 {
            let bits: Vec<u64> = (0..6).map(|_| rng.next_u64()).collect();
            let our = Bidder {
                bid: y(900_000),
                quality: 1.3,
            };
            let mut bidders: Vec<Bidder> = bits
                .iter()
                .map(|&b| Bidder {
                    bid: Money::from_micros((l.draw(b) / l.quality).round() as i64),
                    quality: l.quality,
                })
                .collect();
            // Rebuild drawn scores from rounded bids, so both paths see the same numbers.
            let scores: Vec<f64> = bidders
                .iter()
                .map(|b| b.bid.micros() as f64 * b.quality)
                .collect();
            bidders.push(our);
            let reference = run_auction(&bidders, &r)
                .into_iter()
                .find(|p| p.bidder == 6)
                .map(|p| (p.slot, p.price.micros()));
            let mut it = scores.iter();
            let fast = our_auction(
                6,
                900_000.0 * 1.3,
                100_000.0 * l.quality,
                || *it.next().unwrap(),
                3,
                |next| gsp_price(900_000, 1.3, next, 100_000, 10_000),
            );
            assert_eq!(reference, fast);
        }
    }
}
