//! Report ingestion against fixtures in every layout, with the quirks of real exports.

use std::path::PathBuf;

use adbandit::ingest::{
    self, AccountDefaults, ColumnMapping, Format, Layout, Mode, Options, TextEncoding, Warning,
};
use adbandit::{Date, Error, KeywordId, MatchType, Money, PlanId, ReportRow};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ingest")
        .join(name)
}

fn d(y: i32, m: u32, day: u32) -> Date {
    Date::from_ymd(y, m, day).unwrap()
}

fn m(micros: i64) -> Money {
    Money::from_micros(micros)
}

/// Writes the encoded fixture if `UPDATE_FIXTURES` is set or it is missing, then checks that
/// the committed bytes are exactly what encoding_rs makes of the UTF-8 source.
fn encoded_fixture(name: &str, bytes: Vec<u8>) -> PathBuf {
    let p = fixture(name);
    if std::env::var_os("UPDATE_FIXTURES").is_some() || !p.exists() {
        std::fs::write(&p, &bytes).unwrap();
    }
    assert_eq!(std::fs::read(&p).unwrap(), bytes, "{name} is stale");
    p
}

fn row<'a>(r: &'a ingest::Ingested, date: Date, plan: &str, kw: Option<&str>) -> &'a ReportRow {
    r.report
        .rows()
        .iter()
        .find(|x| {
            x.date == date
                && x.plan.as_str() == plan
                && x.keyword.as_ref().map(KeywordId::as_str) == kw
        })
        .unwrap_or_else(|| panic!("no row {date} {plan} {kw:?} in {:#?}", r.report.rows()))
}

fn extra(r: &ingest::Ingested, x: &ReportRow) -> ingest::RowExtra {
    let i = r.report.rows().iter().position(|y| y == x).unwrap();
    r.extras[i]
}

fn counts(x: &ReportRow) -> (u64, u64, u64, i64, i64) {
    let s = &x.stats;
    (
        s.impressions(),
        s.clicks(),
        s.conversions(),
        s.cost().micros(),
        s.revenue().micros(),
    )
}

const GOOGLE_KEYWORD: &str = "Search keyword report\n\
February 1, 2020 - February 2, 2020\n\
Day\tKeyword\tMatch type\tCampaign\tCampaign ID\tAd group\tDevice\tMax. CPC\tCurrency code\tImpr.\tInteractions\tClicks \tCost \tConversions\tConv. value\tView-through conv.\tSearch impr. share\n\
Feb 1, 2020\t[Red Dress]\tExact match\tDresses\t111\tAG1\tMobile phones\t1.50\tINR\t1,200\t130\t100\t₹1,234.56\t5.5\t2,500.00\t1\t< 10%\n\
Feb 1, 2020\t[Red Dress]\tExact match\tDresses\t111\tAG1\tComputers\t1.50\tINR\t300\t45\t20\t₹200.44\t1\t400.00\t0\t12.5%\n\
Feb 1, 2020\t\"long dress\"\tPhrase match\tDresses\t111\tAG1\tMobile phones\t--\tINR\t500\t10\t0\t0.00\t2\t300.00\t--\t--\n\
Feb 2, 2020\t+summer +dress\tBroad match\tDresses\t111\tAG2\tTablets\t0.80\tINR\t800\t40\t40\t32.123456789\t0.333333333\t99.99\t0\t10%\n\
Feb 2, 2020\tshoes\tBroad match\tShoes\t222\tAG3\tComputers\t1.00\tINR\t0\t0\t0\t0\t0\t0\t0\t--\n\
Total: Account\t\t\t\t\t\t\t\t\t2,800\t225\t160\t1,467.12\t8.83\t3,299.99\t1\t\n\
Total: Search\t\t\t\t\t\t\t\t\t2,800\t225\t160\t1,467.12\t8.83\t3,299.99\t1\t\n";

#[test]
fn google_keyword_report_utf16_tabs() {
    let p = encoded_fixture(
        "google_keyword_utf16.csv",
        ingest::decode::to_utf16le_bom(GOOGLE_KEYWORD),
    );
    let r = ingest::read_path(&p, &Options::default()).unwrap();
    assert_eq!(r.layout, Layout::GoogleAdsKeyword);
    assert_eq!(r.encoding, TextEncoding::Utf16Le);
    assert_eq!(r.period, Some((d(2020, 2, 1), d(2020, 2, 2))));
    assert_eq!(r.currency.as_deref(), Some("INR"));
    assert_eq!(r.report.rows().len(), 4);

    // Two device rows summed; fractional conversions rounded half up; view-through apart.
    let red = row(&r, d(2020, 2, 1), "111", Some("111|exact|red dress"));
    assert_eq!(counts(red), (1_500, 120, 7, 1_435_000_000, 2_900_000_000));
    let e = extra(&r, red);
    assert_eq!((e.conversions_millionths, e.view_through), (7_500_000, 1));

    // Conversions on a row with no clicks: all view-through, CVR undefined, never > 1.
    let long = row(&r, d(2020, 2, 1), "111", Some("111|phrase|long dress"));
    assert_eq!(counts(long), (500, 0, 0, 0, 300_000_000));
    assert_eq!(long.stats.cvr(), None);
    assert_eq!(extra(&r, long).view_through, 2);

    // Modified broad notation; unrounded float cost rounded on its text to the micro.
    let summer = row(&r, d(2020, 2, 2), "111", Some("111|broad|summer dress"));
    assert_eq!(counts(summer), (800, 40, 0, 32_123_457, 99_990_000));
    assert_eq!(extra(&r, summer).conversions_millionths, 333_333);
    let shoes = row(&r, d(2020, 2, 2), "222", Some("222|broad|shoes"));
    assert_eq!(counts(shoes), (0, 0, 0, 0, 0));

    // Entities: names, match types, bids ("--" is no bid).
    let kw = |id: &str| r.keywords.iter().find(|k| k.id.as_str() == id).unwrap();
    assert_eq!(kw("111|exact|red dress").text, "Red Dress");
    assert_eq!(kw("111|exact|red dress").bid, Some(m(1_500_000)));
    assert_eq!(kw("111|phrase|long dress").bid, None);
    assert_eq!(kw("111|broad|summer dress").match_type, MatchType::Broad);
    assert_eq!(r.plans[0].name, "Dresses");

    // Totals add up (cost within a cent of the printed total); capped share noted.
    assert_eq!(r.totals.len(), 2);
    assert!(r.totals.iter().all(|t| t.matched), "{:?}", r.totals);
    assert!(
        !r.warnings
            .iter()
            .any(|w| matches!(w, Warning::TotalsMismatch { .. }))
    );

    let acct = r
        .to_account(&AccountDefaults {
            name: "Shop".into(),
            currency: "USD".into(),
            daily_budget: m(100_000_000),
            bid: m(1_000_000),
            min_bid: m(100_000),
            max_bid: m(1_000_000),
        })
        .unwrap();
    assert_eq!(acct.currency(), "INR");
    assert_eq!(acct.keyword_count(), 4);
    let (plan, k) = acct
        .keyword(&KeywordId::new("111|exact|red dress"))
        .unwrap();
    assert_eq!((k.bid, plan.max_bid), (m(1_500_000), m(1_500_000)));
    assert_eq!(
        acct.plan(&PlanId::new("222")).unwrap().daily_budget,
        m(100_000_000)
    );
}

#[test]
fn google_campaign_report_totals_mismatch_and_title_date() {
    let r = ingest::read_path(fixture("google_campaign.csv"), &Options::default()).unwrap();
    assert_eq!(r.layout, Layout::GoogleAdsCampaign);
    assert_eq!(r.encoding, TextEncoding::Utf8);
    let day = d(2020, 3, 3);
    assert_eq!(r.period, Some((day, day)));
    let dresses = row(&r, day, "111", None);
    assert_eq!(
        counts(dresses),
        (12_345, 400, 10, 200_000_000, 1_500_000_000)
    );
    assert_eq!(counts(row(&r, day, "222", None)), (0, 0, 0, 0, 0));
    assert_eq!(r.plans[0].budget, Some(m(1_000_000_000)));
    assert_eq!(r.plans[1].budget, Some(m(50_000_000)));
    assert_eq!(r.totals.len(), 1);
    assert!(!r.totals[0].matched);
    let mismatch: Vec<_> = r
        .warnings
        .iter()
        .filter(|w| matches!(w, Warning::TotalsMismatch { .. }))
        .collect();
    assert_eq!(
        mismatch,
        [&Warning::TotalsMismatch {
            line: 6,
            label: "Total: Account".into(),
            metric: "cost".into(),
            rows_sum: "200.00".into(),
            file_total: "210.00".into(),
        }]
    );
}

#[test]
fn google_search_terms_aggregate_per_keyword() {
    let r = ingest::read_path(fixture("google_search_terms.csv"), &Options::default()).unwrap();
    assert_eq!(r.layout, Layout::GoogleAdsSearchTerms);
    let day = d(2020, 2, 1);
    assert_eq!(r.report.rows().len(), 2);
    let exact = row(&r, day, "Dresses", Some("Dresses|exact|red dress"));
    assert_eq!(counts(exact), (190, 19, 1, 9_500_000, 50_000_000));
    let phrase = row(&r, day, "Dresses", Some("Dresses|phrase|red dress"));
    assert_eq!(counts(phrase), (30, 3, 1, 1_500_000, 20_000_000));
    let terms: Vec<(&str, u64, i64)> = r
        .search_terms
        .iter()
        .map(|t| {
            (
                t.search_term.as_str(),
                t.stats.impressions(),
                t.stats.cost().micros(),
            )
        })
        .collect();
    assert_eq!(
        terms,
        [
            ("red dress", 150, 7_500_000),
            ("red dresses", 40, 2_000_000),
            ("cheap red dress", 30, 1_500_000)
        ]
    );
    assert!(
        r.totals[0].matched && r.warnings.is_empty(),
        "{:?}",
        r.warnings
    );
}

#[test]
fn amazon_search_terms_rupees_and_view_through() {
    let r = ingest::read_path(fixture("amazon_sp_search_terms.csv"), &Options::default()).unwrap();
    assert_eq!(r.layout, Layout::AmazonSpSearchTerms);
    assert_eq!(r.attribution_window.as_deref(), Some("7 day"));
    assert_eq!(r.currency.as_deref(), Some("INR"));
    let day = d(2020, 2, 1);
    let broad = row(&r, day, "SP Kurta", Some("SP Kurta|broad|kurta for women"));
    assert_eq!(counts(broad), (2_000, 30, 2, 135_000_000, 3_997_000_000));
    assert_eq!(extra(&r, broad).view_through, 1);
    assert!(broad.stats.cvr().unwrap() <= 1.0);
    let exact = row(&r, day, "SP Kurta", Some("SP Kurta|exact|kurta"));
    assert_eq!(counts(exact), (200, 10, 0, 20_000_000, 0));
    let auto = row(
        &r,
        d(2020, 2, 2),
        "SP Auto",
        Some("SP Auto|broad|close-match"),
    );
    assert_eq!(counts(auto), (100, 1, 0, 3_000_000, 0));
    assert_eq!(r.search_terms.len(), 4);
    assert!(r.totals.is_empty());
}

#[test]
fn amazon_campaign_serial_dates_fractional_orders() {
    let r = ingest::read_path(fixture("amazon_sp_campaign.csv"), &Options::default()).unwrap();
    assert_eq!(r.layout, Layout::AmazonSpCampaign);
    let day = d(2020, 2, 1);
    let k = row(&r, day, "Kitchen", None);
    assert_eq!(counts(k), (10_000, 120, 12, 60_000_000, 480_000_000));
    let g = row(&r, day, "Garden", None);
    assert_eq!(counts(g), (800, 4, 1, 2_400_000, 20_000_000));
    assert_eq!(extra(&r, g).conversions_millionths, 500_000);
    assert_eq!(r.plans[1].budget, Some(m(25_000_000)));
}

const TAOBAO_KEYWORD: &str = "直通车关键词报表\n\
统计日期：2020-11-01 至 2020-11-01\n\
日期,计划名称,推广单元,关键词,匹配方式,出价,终端,展现量,点击量,点击率,花费,平均点击花费,点击转化率,总成交金额,总成交笔数,投入产出比\n\
2020-11-01,女装连衣裙,单元A,连衣裙 夏,广泛匹配,￥1.20,PC,\"2,000\",80,4.00%,￥96.00,￥1.20,5.00%,\"￥1,200.00\",4,12.5\n\
2020-11-01,女装连衣裙,单元A,连衣裙 夏,广泛匹配,￥1.20,无线,\"3,000\",120,4.00%,￥150.00,￥1.25,5.00%,￥800.00,6,5.33\n\
2020-11-01,女装连衣裙,单元A,红色连衣裙,精准匹配,￥2.50,无线,500,20,4%,￥50.00,￥2.50,-,0,0,0\n\
合计,,,,,,,\"5,500\",220,,￥296.00,,,\"￥2,000.00\",10,\n";

#[test]
fn taobao_keyword_report_gbk() {
    let p = encoded_fixture(
        "taobao_keyword_gbk.csv",
        ingest::decode::to_gbk(TAOBAO_KEYWORD),
    );
    let r = ingest::read_path(&p, &Options::default()).unwrap();
    assert_eq!(r.layout, Layout::TaobaoKeyword);
    assert_eq!(r.encoding, TextEncoding::Gbk);
    let day = d(2020, 11, 1);
    assert_eq!(r.period, Some((day, day)));
    let broad = row(&r, day, "女装连衣裙", Some("女装连衣裙|broad|连 衣 裙 夏"));
    assert_eq!(counts(broad), (5_000, 200, 10, 246_000_000, 2_000_000_000));
    let exact = row(
        &r,
        day,
        "女装连衣裙",
        Some("女装连衣裙|exact|红 色 连 衣 裙"),
    );
    assert_eq!(counts(exact), (500, 20, 0, 50_000_000, 0));
    let bids: Vec<_> = r.keywords.iter().map(|k| (k.match_type, k.bid)).collect();
    assert!(bids.contains(&(MatchType::Broad, Some(m(1_200_000)))));
    assert!(bids.contains(&(MatchType::Exact, Some(m(2_500_000)))));
    assert!(r.totals[0].matched, "{:?}", r.warnings);
}

#[test]
fn taobao_plan_report_needs_a_date_and_derives_conversions() {
    let p = fixture("taobao_plan.csv");
    let err = ingest::read_path(&p, &Options::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Parse { line: 1, column, .. } if column == "date"),
        "{err}"
    );
    let day = d(2020, 11, 11);
    let opts = Options {
        date: Some(day),
        ..Options::default()
    };
    let r = ingest::read_path(&p, &opts).unwrap();
    assert_eq!(r.layout, Layout::TaobaoPlan);
    let a = row(&r, day, "女装连衣裙", None);
    // 300 clicks x 2.50% = 7.5 conversions, rounded half up.
    assert_eq!(counts(a), (10_000, 300, 8, 330_000_000, 3_000_000_000));
    assert_eq!(extra(&r, a).conversions_millionths, 7_500_000);
    // "< 1%" is capped: read as 1%.
    let b = row(&r, day, "男装T恤", None);
    assert_eq!(counts(b), (5_000, 100, 1, 90_000_000, 0));
    assert_eq!(
        r.plans
            .iter()
            .find(|p| p.name == "女装连衣裙")
            .unwrap()
            .budget,
        Some(m(500_000_000))
    );
    let notes: Vec<String> = r.warnings.iter().map(ToString::to_string).collect();
    assert!(notes.iter().any(|n| n.contains("capped")), "{notes:?}");
    assert!(
        notes.iter().any(|n| n.contains("conversion rate")),
        "{notes:?}"
    );
}

#[test]
fn user_mapping_reads_a_new_platform() {
    let mapping =
        ColumnMapping::from_json(&std::fs::read_to_string(fixture("bing_mapping.json")).unwrap())
            .unwrap();
    let opts = Options {
        mapping: Some(mapping),
        ..Options::default()
    };
    let r = ingest::read_path(fixture("bing_mapped.csv"), &opts).unwrap();
    assert_eq!(r.layout, Layout::Mapped);
    let x = row(
        &r,
        d(2020, 2, 1),
        "Brand",
        Some("Brand|broad|running shoes"),
    );
    assert_eq!(counts(x), (150, 15, 1, 7_500_000, 80_000_000));
    assert!(r.totals[0].matched);
    // A mapping without clicks is rejected when it is read.
    let bad = r#"{"columns":{"plan":"C","impressions":"I","cost":"S"}}"#;
    assert!(ColumnMapping::from_json(bad).is_err());
    let unknown = r#"{"columns":{"plan":"C","impressions":"I","clicks":"K","cost":"S","foo":"x"}}"#;
    assert!(ColumnMapping::from_json(unknown).is_err());
}

#[test]
fn canonical_reads_and_round_trips() {
    let r = ingest::read_path(fixture("canonical.csv"), &Options::default()).unwrap();
    assert_eq!(r.layout, Layout::Canonical);
    let k = row(&r, d(2020, 2, 1), "p1", Some("k1"));
    assert_eq!(counts(k), (1_000, 50, 5, 40_500_000, 500_123_456));
    assert_eq!(extra(&r, k).view_through, 1);
    let hourly = r.report.rows().iter().find(|x| x.hour == Some(13)).unwrap();
    assert_eq!(counts(hourly), (10, 1, 0, 300_000, 0));
    let mut out = Vec::new();
    r.write_canonical(&mut out).unwrap();
    let again = ingest::read_bytes(&out, "again.csv", &Options::default()).unwrap();
    assert_eq!(again.report, r.report);
    assert_eq!(again.extras, r.extras);
    assert_eq!(again.keywords, r.keywords);
    let mut out2 = Vec::new();
    again.write_canonical(&mut out2).unwrap();
    assert_eq!(out, out2);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        std::fs::read_to_string(fixture("canonical.csv")).unwrap()
    );
}

const BAD: &str = "Day,Campaign,Keyword,Impressions,Clicks,Cost\n\
2020-02-01,A,shoes,100,10,1.00\n\
2020-02-01,A,boots,100,abc,1.00\n\
2020-02-01,A,socks,10,20,1.00\n\
2020-02-31,A,hats,10,2,1.00\n\
2020-02-01,A,belts,10,2,-1.00\n";

#[test]
fn strict_rejects_lenient_skips_with_reasons() {
    let err = ingest::read_bytes(BAD.as_bytes(), "bad.csv", &Options::default()).unwrap_err();
    assert_eq!(
        err,
        Error::Parse {
            file: "bad.csv".into(),
            line: 3,
            column: "Clicks".into(),
            reason: "\"abc\" is not a count".into()
        }
    );
    let opts = Options {
        mode: Mode::Lenient,
        ..Options::default()
    };
    let r = ingest::read_bytes(BAD.as_bytes(), "bad.csv", &opts).unwrap();
    let skipped: Vec<(usize, &str)> = r
        .skipped
        .iter()
        .map(|s| (s.line, s.column.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [(3, "Clicks"), (4, "Clicks"), (5, "Day"), (6, "Cost")]
    );
    assert_eq!(r.report.rows().len(), 1);
    assert_eq!(r.keywords.len(), 1, "skipped rows leave no keyword behind");
}

#[test]
fn interactions_are_not_clicks_and_no_header_is_an_error() {
    let f = "Campaign,Day,Impr.,Interactions,Cost\nA,2020-02-01,10,5,1.00\n";
    let err = ingest::read_bytes(f.as_bytes(), "x.csv", &Options::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Parse { line: 1, column, reason, .. }
            if column == "clicks" && reason.contains("Interactions")),
        "{err}"
    );
    let err = ingest::read_bytes(b"hello\nworld\n", "x.csv", &Options::default()).unwrap_err();
    assert!(matches!(err, Error::Parse { .. }));
    let err = ingest::read_bytes(b"PK\x03\x04junk", "x.xlsx", &Options::default()).unwrap_err();
    assert!(matches!(err, Error::Parse { .. }));
}

#[test]
fn forced_layout_and_date_fallback() {
    let f = "Campaign,Impressions,Clicks,Cost\nA,10,1,0.50\n";
    let opts = Options {
        format: Format::Layout(Layout::GoogleAdsCampaign),
        date: Some(d(2021, 1, 1)),
        ..Options::default()
    };
    let r = ingest::read_bytes(f.as_bytes(), "x.csv", &opts).unwrap();
    assert_eq!(r.layout, Layout::GoogleAdsCampaign);
    assert_eq!(
        counts(row(&r, d(2021, 1, 1), "A", None)),
        (10, 1, 0, 500_000, 0)
    );
}

#[test]
fn multi_day_title_range_dates_rows_by_first_day() {
    let f =
        "Campaign report\n\"Feb 1, 2020 - Feb 7, 2020\"\nCampaign,Impr.,Clicks,Cost\nA,70,7,3.50\n";
    let r = ingest::read_bytes(f.as_bytes(), "x.csv", &Options::default()).unwrap();
    assert_eq!(r.period, Some((d(2020, 2, 1), d(2020, 2, 7))));
    assert_eq!(r.report.rows()[0].date, d(2020, 2, 1));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.to_string().contains("first day"))
    );
}

/// Found by the canonical round-trip property: ids that read like "no value" in a platform
/// export ("NA", "-", "N/A") are verbatim ids in the canonical format.
#[test]
fn canonical_ids_are_verbatim() {
    use adbandit::{Date, KeywordId, PlanId, Report, ReportRow, Stats};
    let rows = ["NA", "-", "N/A"]
        .iter()
        .map(|k| ReportRow {
            date: Date::from_ymd(2026, 1, 1).unwrap(),
            hour: None,
            days: 1,
            plan: PlanId::new("--"),
            keyword: Some(KeywordId::new(*k)),
            stats: Stats::default(),
        })
        .collect();
    let rep = Report::new(rows).unwrap();
    let mut out = Vec::new();
    ingest::write_canonical(&mut out, &rep).unwrap();
    let back = ingest::read_bytes(&out, "ids.csv", &Options::default()).unwrap();
    assert_eq!(back.report, rep);
}
