//! Property tests: no input panics; the canonical CSV reads back what was written.

use adbandit::ingest::{self, Mode, Options};
use adbandit::{Date, Error, KeywordId, Money, PlanId, Report, ReportRow, Stats};
use proptest::prelude::*;

fn fixtures() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ingest");
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    out.sort();
    out
}

fn both_modes(bytes: &[u8]) {
    for mode in [Mode::Strict, Mode::Lenient] {
        let opts = Options {
            mode,
            date: Some(Date::from_ymd(2020, 1, 1).unwrap()),
            ..Options::default()
        };
        match ingest::read_bytes(bytes, "prop.csv", &opts) {
            Ok(r) => {
                assert_eq!(r.extras.len(), r.report.rows().len());
                for x in r.report.rows() {
                    assert!(x.stats.conversions() <= x.stats.clicks());
                    assert!(x.stats.clicks() <= x.stats.impressions());
                }
            }
            Err(Error::Parse { .. }) => {}
            Err(e) => panic!("untyped failure: {e:?}"),
        }
    }
}

const TOKENS: &[&str] = &[
    ",",
    ",",
    ",",
    "\t",
    "\n",
    "\n",
    "\"",
    "Total: x",
    "合计",
    "--",
    "-",
    "< 10%",
    "1,234",
    "Rs. 5",
    "₹3.5",
    "$",
    "￥",
    "1e9",
    "1.2.3",
    "99999999999999999999",
    "2020-02-30",
    "Feb 1, 2020",
    "43862",
    "[kw]",
    "\"kw\"",
    "+a +b",
    "Clicks",
    "Impr.",
    "Cost",
    "Campaign",
    "Keyword",
    "Day",
    "Conversions",
    "Search term",
    "0",
    "7",
    "0.5",
    "12.3400000001",
    "\u{feff}",
    "\r\n",
    "7 Day Total Sales",
    "点击量",
    "展现量",
    "花费",
    "计划名称",
    "Match type",
    "Exact",
    "Hour",
    "25",
    "Budget",
    "Max. CPC",
];

fn csvish() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..200)
        .prop_map(|v| v.concat().into_bytes())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            prop::sample::select(b",\t\n\"%-.0123456789 ".to_vec())
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn stats() -> impl Strategy<Value = Stats> {
    (
        0u64..1_000_000,
        0u64..=100,
        0u64..=100,
        0i64..1_000_000_000_000,
        0i64..1_000_000_000_000,
    )
        .prop_map(|(imp, c_pct, v_pct, cost, rev)| {
            let clicks = imp * c_pct / 100;
            let conv = clicks * v_pct / 100;
            Stats::new(
                imp,
                clicks,
                conv,
                Money::from_micros(cost),
                Money::from_micros(rev),
            )
            .unwrap()
        })
}

fn report() -> impl Strategy<Value = Report> {
    let row = (
        18_000i32..20_000,
        prop::option::of(0u8..24),
        "[a-z0-9_]{1,6}",
        prop::option::of("[a-zA-Z0-9|, \"]{1,10}"),
        stats(),
    )
        .prop_map(|(day, hour, plan, kw, stats)| ReportRow {
            date: Date::from_days(day),
            hour,
            days: 1,
            plan: PlanId::new(plan),
            keyword: kw.filter(|k| !k.trim().is_empty()).map(KeywordId::new),
            stats,
        });
    prop::collection::vec(row, 0..40).prop_map(|rows| Report::from_rows_summed(rows).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        both_modes(&bytes);
    }

    #[test]
    fn csv_like_text_never_panics(bytes in csvish()) {
        both_modes(&bytes);
    }

    #[test]
    fn mutated_fixtures_never_panic(which in any::<prop::sample::Index>(),
                                    muts in prop::collection::vec(mutation(), 1..8)) {
        let all = fixtures();
        let mut b = all[which.index(all.len())].clone();
        for m in muts {
            let n = b.len().max(1);
            match m {
                Mutation::Flip(i, x) => { if !b.is_empty() { let i = i % n; b[i] ^= x; } }
                Mutation::Insert(i, x) => b.insert(i % (b.len() + 1), x),
                Mutation::Delete(i) => { if !b.is_empty() { b.remove(i % n); } }
                Mutation::Truncate(i) => b.truncate(i % n),
            }
        }
        both_modes(&b);
    }

    #[test]
    fn canonical_round_trip(rep in report()) {
        let mut out = Vec::new();
        ingest::write_canonical(&mut out, &rep).unwrap();
        let back = ingest::read_bytes(&out, "rt.csv", &Options::default()).unwrap();
        prop_assert_eq!(&back.report, &rep);
        prop_assert!(back.warnings.is_empty() && back.skipped.is_empty());
    }
}
