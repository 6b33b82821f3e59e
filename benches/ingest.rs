//! Ingestion throughput: the canonical CSV and a Google Ads search-terms export.
//!
//! Run: `cargo bench --bench ingest -- --warm-up-time 1 --measurement-time 3`

use std::fmt::Write as _;
use std::hint::black_box;

use adbandit::ingest::{self, Options};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// `rows` canonical rows: 50 plans x 200 keywords per day, as many days as needed.
fn canonical(rows: usize) -> String {
    let mut s = String::from(
        "date,hour,plan_id,plan_name,keyword_id,keyword,match_type,impressions,clicks,conversions,view_through_conversions,cost,revenue\n",
    );
    for i in 0..rows {
        let day = i / 10_000;
        let plan = (i / 200) % 50;
        let kw = i % 200;
        let imp = 1_000 + (i * 7919) % 5_000;
        let clicks = imp / 20;
        let conv = clicks / 10;
        let _ = writeln!(
            s,
            "2020-{:02}-{:02},,p{plan},Plan {plan},p{plan}k{kw},keyword {kw},exact,{imp},{clicks},{conv},0,{}.{:02},{}.{:06}",
            1 + day / 28,
            1 + day % 28,
            clicks / 3,
            i % 100,
            conv * 45,
            i % 1_000_000
        );
    }
    s
}

/// A Google Ads search-terms export as downloaded: UTF-16LE, tabs, title lines, device
/// segments, money with separators, totals rows.
fn search_terms(rows: usize) -> Vec<u8> {
    let mut s = String::from("Search terms report\nFebruary 1, 2020 - February 29, 2020\n");
    s.push_str("Search term\tMatch type\tAdded/Excluded\tCampaign\tAd group\tKeyword\tDay\tDevice\tCurrency code\tImpr.\tInteractions\tClicks\tCost\tConversions\tConv. value\n");
    let devices = ["Mobile phones", "Computers", "Tablets"];
    for i in 0..rows {
        let kw = i % 500;
        let notation = match kw % 3 {
            0 => format!("[keyword {kw}]"),
            1 => format!("\"keyword {kw}\""),
            _ => format!("+keyword +{kw}"),
        };
        let imp = 100 + (i * 7919) % 3_000;
        let clicks = imp / 25;
        let _ = writeln!(
            s,
            "search term {i} for keyword {kw}\tExact match (close variant)\tNone\tCampaign {}\tAd group {}\t{notation}\tFeb {}, 2020\t{}\tUSD\t{}\t{}\t{clicks}\t{}.{:02}\t{}.50\t{}.00",
            kw % 20,
            kw % 60,
            1 + i % 28,
            devices[i % 3],
            thousands(imp),
            clicks + 3,
            clicks / 2,
            i % 100,
            clicks / 20,
            clicks * 3
        );
    }
    s.push_str("Total: Account\t\t\t\t\t\t\t\t\t--\t--\t--\t--\t--\t--\n");
    ingest::decode::to_utf16le_bom(&s)
}

fn thousands(n: usize) -> String {
    if n >= 1000 {
        format!("\"{},{:03}\"", n / 1000, n % 1000)
    } else {
        n.to_string()
    }
}

fn bench(c: &mut Criterion) {
    let opts = Options::default();
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);

    let n = 200_000;
    let text = canonical(n);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("canonical_200k_rows", |b| {
        b.iter(|| ingest::read_bytes(black_box(text.as_bytes()), "c.csv", &opts).unwrap())
    });

    let n = 30_000;
    let bytes = search_terms(n);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("google_search_terms_30k_rows_utf16", |b| {
        b.iter(|| ingest::read_bytes(black_box(&bytes), "st.csv", &opts).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
