//! End-to-end analysis of a 30,000-row Google Ads search-terms export (UTF-16LE, tabs):
//! ingest + posteriors + intervals + rankings + the engine's recommendation.
//!
//! Run: `cargo bench --bench analysis -- --warm-up-time 1 --measurement-time 3`

use std::fmt::Write as _;
use std::hint::black_box;

use adbandit::analysis::{AnalysisOptions, analyze};
use adbandit::ingest::{self, Options};
use criterion::{Criterion, criterion_group, criterion_main};

/// 30,000 rows over 500 keywords in 20 campaigns, 28 days, 3 devices.
fn export(rows: usize) -> Vec<u8> {
    let mut s = String::from("Search terms report\nFebruary 1, 2020 - February 28, 2020\n");
    s.push_str("Search term\tMatch type\tCampaign\tAd group\tKeyword\tDay\tDevice\tCurrency code\tImpr.\tClicks\tCost\tConversions\tConv. value\n");
    let devices = ["Mobile phones", "Computers", "Tablets"];
    for i in 0..rows {
        let kw = i % 500;
        let imp = 100 + (i * 7919) % 3_000;
        let clicks = imp / (15 + kw % 20);
        let conv = clicks / (8 + kw % 13);
        let _ = writeln!(
            s,
            "search term {i}\tExact match\tCampaign {}\tAd group {}\t[keyword {kw}]\tFeb {}, 2020\t{}\tUSD\t{imp}\t{clicks}\t{}.{:02}\t{conv}\t{}.00",
            kw % 20,
            kw % 60,
            1 + i % 28,
            devices[i % 3],
            clicks / 2,
            i % 100,
            conv * (30 + kw % 50),
        );
    }
    let mut out = vec![0xFF, 0xFE];
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

fn bench(c: &mut Criterion) {
    let bytes = export(30_000);
    let opts = AnalysisOptions::default();
    let mut g = c.benchmark_group("analysis");
    g.sample_size(10);
    g.bench_function("search_terms_30k_end_to_end", |b| {
        b.iter(|| {
            let got =
                ingest::read_bytes(black_box(&bytes), "terms.csv", &Options::default()).unwrap();
            black_box(analyze(&got, &opts).unwrap())
        })
    });
    let got = ingest::read_bytes(&bytes, "terms.csv", &Options::default()).unwrap();
    g.bench_function("search_terms_30k_analysis_only", |b| {
        b.iter(|| black_box(analyze(black_box(&got), &opts).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
