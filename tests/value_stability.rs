//! Pins drawn values per seed: a change to the generator, the stream derivation or a sampler
//! changes every simulation result, so it must show up here as a failing test.

use adbandit::estimate::{BetaSampler, GammaSampler};
use adbandit::rng::{from_seed, stream, stream_seed};
use rand::RngExt;

#[test]
fn stream_seeds_are_pinned() {
    assert_eq!(stream_seed(0, &[]), PINNED_SEEDS[0]);
    assert_eq!(stream_seed(42, &[1, 2, 3]), PINNED_SEEDS[1]);
    assert_eq!(stream_seed(u64::MAX, &[0]), PINNED_SEEDS[2]);
}

#[test]
fn generator_output_is_pinned() {
    let mut r = stream(42, &[7]);
    let xs: [u64; 3] = [r.random(), r.random(), r.random()];
    assert_eq!(xs, PINNED_U64);
    let mut r = from_seed(1);
    assert_eq!(r.random::<u64>(), PINNED_FROM_SEED);
}

#[test]
fn samplers_are_pinned() {
    let mut r = stream(3, &[]);
    let g = GammaSampler::new(2.5);
    let b = BetaSampler::new(3.0, 7.0);
    let got = [
        g.sample(&mut r),
        g.sample(&mut r),
        b.sample(&mut r),
        b.sample(&mut r),
    ];
    for (x, want) in got.iter().zip(PINNED_DRAWS) {
        assert!((x - want).abs() < 1e-12, "{got:?}");
    }
}

const PINNED_SEEDS: [u64; 3] = [
    8406433272451270120,
    1113330480546764874,
    4518527529047716931,
];
const PINNED_U64: [u64; 3] = [
    9518446684741499749,
    18260106672427941898,
    15468470335233372542,
];
const PINNED_FROM_SEED: u64 = 14971601782005023387;
const PINNED_DRAWS: [f64; 4] = [
    2.4450344982445893,
    3.1993408699490122,
    0.18070870335766603,
    0.2654018208347504,
];
