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
    // Totals that disagree reject the file by default, naming both figures and the way out.
    let err = ingest::read_path(fixture("google_campaign.csv"), &Options::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Parse { line: 6, reason, .. }
            if reason.contains("200.00") && reason.contains("210.00") && reason.contains("--lenient")),
        "{err}"
    );
    let lenient = Options {
        mode: Mode::Lenient,
        ..Options::default()
    };
    let r = ingest::read_path(fixture("google_campaign.csv"), &lenient).unwrap();
    // `$` is read as USD, and the reader says it assumed so.
    assert_eq!(r.currency.as_deref(), Some("USD"));
    assert!(r.warnings.iter().any(|w| w.to_string().contains("`$`")));
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
    assert!(r.totals[0].matched, "{:?}", r.warnings);
    assert!(
        !r.warnings
            .iter()
            .any(|w| matches!(w, Warning::TotalsMismatch { .. }))
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
            reason:
                "\"abc\" is not a count (lenient mode, `--lenient`, skips such rows and lists them)"
                    .into()
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
    // Line 4 (20 clicks on 10 impressions) is Google's quirk: read, counted, not skipped.
    assert_eq!(skipped, [(3, "Clicks"), (5, "Day"), (6, "Cost")]);
    assert_eq!(r.report.rows().len(), 2);
    assert_eq!(r.keywords.len(), 2, "skipped rows leave no keyword behind");
    let socks = row(&r, d(2020, 2, 1), "A", Some("A|broad|socks"));
    assert_eq!(counts(socks), (20, 20, 0, 1_000_000, 0));
    assert!(r.warnings.iter().any(|w| matches!(w,
        Warning::Rows { code, count: 1, lines, .. } if code == "clicks_above_impressions" && lines == &[4])));
    assert!(
        r.warnings.iter().any(|w| matches!(w,
        Warning::Rows { code, count: 3, lines, .. } if code == "bad_value" && lines == &[3, 5, 6]))
    );
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
    // One period of 7 days, not one day: the row keeps what the file says.
    assert_eq!(r.report.rows()[0].date, d(2020, 2, 1));
    assert_eq!(r.report.rows()[0].days, 7);
    assert_eq!(r.report.date_range(), Some((d(2020, 2, 1), d(2020, 2, 7))));
    assert!(r.warnings.iter().any(|w| w.to_string().contains("7 days")));
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

// ---- Real exports read right (issue 15): fixtures in tests/fixtures/reports/ ----

fn report_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reports")
        .join(name)
}

fn lenient() -> Options {
    Options {
        mode: Mode::Lenient,
        ..Options::default()
    }
}

fn rows_note<'a>(r: &'a ingest::Ingested, code: &str) -> Option<(usize, &'a [usize])> {
    r.warnings.iter().find_map(|w| match w {
        Warning::Rows {
            code: c,
            count,
            lines,
            ..
        } if c == code => Some((*count, lines.as_slice())),
        _ => None,
    })
}

#[test]
fn google_week_without_day_segment_is_one_period_and_has_no_revenue() {
    let r = ingest::read_path(
        report_fixture("google_keywords_week_no_day_no_revenue.csv"),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(r.layout, Layout::GoogleAdsKeyword);
    assert_eq!(r.period, Some((d(2024, 2, 1), d(2024, 2, 7))));
    assert!(
        r.report
            .rows()
            .iter()
            .all(|x| x.days == 7 && x.date == d(2024, 2, 1))
    );
    assert_eq!(r.report.date_range(), Some((d(2024, 2, 1), d(2024, 2, 7))));
    let x = row(
        &r,
        d(2024, 2, 1),
        "Solar Leads",
        Some("Solar Leads|broad|solar panel cost"),
    );
    // 11.50 conversions round to 12 in Stats; the exact figure stays in the extras.
    assert_eq!(counts(x), (12_044, 388, 12, 651_200_000, 0));
    assert_eq!(extra(&r, x).conversions_millionths, 11_500_000);
    assert!(r.has_conversions() && !r.has_revenue());
    assert!(
        r.warnings
            .iter()
            .any(|w| w.to_string().contains("no revenue"))
    );
    assert!(r.totals[0].matched);
    // No currency column and no symbol: unknown, never a default.
    assert_eq!(r.currency, None);
    // Strict mode refuses a file without revenue and says which mode reads it.
    let strict = Options {
        mode: Mode::Strict,
        ..Options::default()
    };
    let err = ingest::read_path(
        report_fixture("google_keywords_week_no_day_no_revenue.csv"),
        &strict,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Parse { line: 3, column, reason, .. }
        if column == "revenue" && reason.contains("default mode")),
        "{err}"
    );
}

#[test]
fn all_time_needs_a_period_and_total_search_terms_are_data() {
    let f = report_fixture("google_search_terms_all_time.csv");
    let err = ingest::read_path(&f, &Options::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Parse { reason, .. }
        if reason.contains("All time") && reason.contains("Day segment") && reason.contains("--period")),
        "{err}"
    );
    let opts = Options {
        period: Some((d(2024, 1, 1), d(2024, 3, 31))),
        ..Options::default()
    };
    let r = ingest::read_path(&f, &opts).unwrap();
    assert!(r.report.rows().iter().all(|x| x.days == 91));
    // One keyword, whatever the search terms' match types; the term starting with "total"
    // is data, not a totals row.
    let kw = row(
        &r,
        d(2024, 1, 1),
        "Solar Leads",
        Some("Solar Leads|broad|solar panel cost"),
    );
    assert_eq!(counts(kw), (910, 47, 3, 89_300_000, 0));
    assert_eq!(r.report.rows().len(), 2);
    assert_eq!(r.search_terms.len(), 4);
    assert!(
        r.search_terms
            .iter()
            .any(|t| t.search_term.starts_with("total cost"))
    );
    // Google's clicks above impressions: read in the default mode, counted with its line.
    assert_eq!(
        rows_note(&r, "clicks_above_impressions"),
        Some((1, &[7][..]))
    );
    let inst = row(
        &r,
        d(2024, 1, 1),
        "Solar Leads",
        Some("Solar Leads|exact|solar panel installers"),
    );
    assert_eq!(counts(inst), (5, 5, 1, 9_500_000, 0));
    // The totals compare with what the file wrote (913 impressions, not 915).
    assert!(r.totals[0].matched, "{:?}", r.warnings);
    let strict = Options {
        mode: Mode::Strict,
        ..opts
    };
    let err = ingest::read_path(&f, &strict).unwrap_err();
    assert!(
        matches!(&err, Error::Parse { line: 7, reason, .. } if reason.contains("default mode")),
        "{err}"
    );
}

#[test]
fn amazon_summary_rows_cover_their_start_to_end_dates() {
    let r = ingest::read_path(
        report_fixture("amazon_sp_campaign_week.csv"),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(r.layout, Layout::AmazonSpCampaign);
    assert_eq!(r.currency.as_deref(), Some("USD"));
    assert!(
        r.report
            .rows()
            .iter()
            .all(|x| x.days == 7 && x.date == d(2024, 3, 1))
    );
    let tea = row(&r, d(2024, 3, 1), "SP - Teapots - Broad", None);
    // 5 orders on 3 clicks: 3 in the conversion rate, 2 view-through, and a counted note.
    assert_eq!(counts(tea), (2_104, 3, 3, 2_710_000, 149_750_000));
    assert_eq!(extra(&r, tea).view_through, 2);
    assert_eq!(rows_note(&r, "orders_above_clicks"), Some((1, &[4][..])));
    assert_eq!(r.plans[0].budget, Some(m(60_000_000)));
}

#[test]
fn a_cut_file_is_an_error_or_a_counted_skip() {
    let f = report_fixture("google_keywords_truncated.csv");
    let err = ingest::read_path(&f, &Options::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Parse { line: 6, reason, .. }
        if reason.contains("cut") && reason.contains("--lenient")),
        "{err}"
    );
    let r = ingest::read_path(&f, &lenient()).unwrap();
    assert_eq!(r.report.rows().len(), 2);
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(rows_note(&r, "cut_line"), Some((1, &[6][..])));
    // Cut inside the campaign name: fewer fields than the header.
    let text = std::fs::read_to_string(&f).unwrap();
    let cut = &text[..text.rfind("Dresses,Maxi").unwrap()];
    let err = ingest::read_bytes(
        format!("{cut}\n").as_bytes(),
        "cut.csv",
        &Options::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Parse { line: 6, reason, .. } if reason.contains("fields")),
        "{err}"
    );
}

#[test]
fn crlf_line_numbers_are_right() {
    let f = report_fixture("google_campaign_crlf.csv");
    assert!(std::fs::read_to_string(&f).unwrap().contains("\r\n"));
    let err = ingest::read_path(&f, &Options::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Parse { line: 6, column, .. } if column == "Clicks"),
        "{err}"
    );
    let r = ingest::read_path(&f, &lenient()).unwrap();
    assert_eq!(r.skipped[0].line, 6);
    assert_eq!(
        counts(row(&r, d(2024, 3, 2), "9002", None)),
        (1_051, 131, 11, 26_200_000, 880_000_000)
    );
}

#[test]
fn a_duplicated_row_is_not_summed() {
    let f = report_fixture("amazon_sp_search_terms_duplicated.csv");
    let err = ingest::read_path(&f, &Options::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Parse { line: 4, reason, .. } if reason.contains("duplicated")),
        "{err}"
    );
    let r = ingest::read_path(&f, &lenient()).unwrap();
    assert_eq!(rows_note(&r, "duplicate_row"), Some((1, &[4][..])));
    let k = row(
        &r,
        d(2024, 3, 1),
        "SP - Kettles - Exact",
        Some("SP - Kettles - Exact|exact|electric kettle"),
    );
    // Counted once: 1,210 + 344 impressions, not 2,764.
    assert_eq!(counts(k), (1_554, 28, 2, 23_500_000, 119_960_000));
}

#[test]
fn a_renamed_conversions_column_is_said_not_read_as_zero() {
    let f = report_fixture("facebook_leads_renamed.csv");
    let r = ingest::read_path(&f, &Options::default()).unwrap();
    assert!(!r.has_conversions() && !r.has_revenue());
    assert!(r.warnings.iter().any(|w| {
        let s = w.to_string();
        s.contains("no conversions column") && s.contains("`Leads`") && s.contains("mapping")
    }));
    // Two ad sets of a campaign on a day are segments (summed), not duplicates.
    assert_eq!(
        counts(row(&r, d(2024, 3, 1), "Lead Gen - Solar", None)).0,
        21_432
    );
}

#[test]
fn taobao_week_without_daily_rows_is_one_period() {
    let r = ingest::read_path(
        report_fixture("taobao_keyword_week.csv"),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(r.layout, Layout::TaobaoKeyword);
    assert!(r.report.rows().iter().all(|x| x.days == 7));
    assert_eq!(r.currency.as_deref(), Some("CNY"));
    assert!(r.totals[0].matched);
}

#[test]
fn a_restated_day_reads_as_its_own_figures() {
    let a = ingest::read_path(
        report_fixture("google_keywords_day1.csv"),
        &Options::default(),
    )
    .unwrap();
    let b = ingest::read_path(
        report_fixture("google_keywords_day1_restated.csv"),
        &Options::default(),
    )
    .unwrap();
    let ka = row(
        &a,
        d(2024, 3, 1),
        "Spring Sale",
        Some("Spring Sale|exact|maxi dress"),
    );
    let kb = row(
        &b,
        d(2024, 3, 1),
        "Spring Sale",
        Some("Spring Sale|exact|maxi dress"),
    );
    // Same clicks and cost, later conversions: the same cells with new figures, which an
    // engine must replace, not add.
    assert_eq!(counts(ka), (2_481, 190, 9, 152_000_000, 612_000_000));
    assert_eq!(counts(kb), (2_481, 190, 12, 152_000_000, 801_000_000));
    assert_eq!(a.report.rows().len(), b.report.rows().len());
}

#[test]
fn unrecognised_layouts_list_headers_and_show_a_mapping() {
    let f = "Date,Campaign,Views,Taps,Spend\n2024-03-01,A,100,5,2.00\n";
    let err = ingest::read_bytes(f.as_bytes(), "x.csv", &Options::default()).unwrap_err();
    let s = err.to_string();
    assert!(
        s.contains("`Views`")
            && s.contains("`Taps`")
            && s.contains("--mapping")
            && s.contains("\"columns\""),
        "{s}"
    );
    // A mapping whose column is missing says which, not "no header row".
    let m = ColumnMapping::from_json(
        r#"{"name":"x","columns":{"date":"Date","plan":"Campaign","impressions":"Views","clicks":"Clicks","cost":"Spend"}}"#,
    )
    .unwrap();
    let opts = Options {
        mapping: Some(m),
        ..Options::default()
    };
    let err = ingest::read_bytes(f.as_bytes(), "x.csv", &opts).unwrap_err();
    let s = err.to_string();
    assert!(
        s.contains("`Clicks`") && s.contains("`Taps`") && !s.contains("no header row"),
        "{s}"
    );
}

#[test]
fn period_rows_round_trip_through_the_canonical_csv() {
    let r = ingest::read_path(
        report_fixture("amazon_sp_campaign_week.csv"),
        &Options::default(),
    )
    .unwrap();
    let mut out = Vec::new();
    r.write_canonical(&mut out).unwrap();
    assert!(
        String::from_utf8_lossy(&out)
            .lines()
            .next()
            .unwrap()
            .ends_with(",end_date")
    );
    let back = ingest::read_bytes(&out, "c.csv", &Options::default()).unwrap();
    assert_eq!(back.report, r.report);
}

// ---- Ad-level (creative) reports and channels --------------------------------------------

mod ads {
    use super::*;
    use adbandit::engine::{Engine, EngineConfig};
    use adbandit::model::CreativeId;

    fn defaults() -> AccountDefaults {
        AccountDefaults {
            name: "Shop".into(),
            currency: "CNY".into(),
            daily_budget: Money::from_units(100).unwrap(),
            bid: Money::from_units(1).unwrap(),
            min_bid: Money::from_micros(100_000),
            max_bid: Money::from_units(10).unwrap(),
        }
    }

    fn creative_stats(got: &ingest::Ingested, date: Date, id: &str) -> Option<adbandit::Stats> {
        got.report
            .creatives()
            .iter()
            .find(|c| c.date == date && c.creative.as_str() == id)
            .map(|c| c.stats)
    }

    #[test]
    fn google_ads_report_gives_creative_rows_and_no_plan_rows() {
        let got = ingest::read_path(fixture("google_ads.csv"), &Options::default()).unwrap();
        assert_eq!(got.layout, Layout::GoogleAdsAds);
        assert!(got.totals[0].matched, "{:?}", got.warnings);
        // The ads' traffic is the keyword report's too: it is not counted again for plans.
        assert!(got.report.rows().is_empty());
        assert!(!got.report.is_empty());
        assert_eq!(got.report.creatives().len(), 5);
        let s = creative_stats(&got, d(2026, 11, 1), "7002").unwrap();
        assert_eq!(
            (s.impressions(), s.clicks(), s.conversions()),
            (2_000, 64, 3)
        );
        assert_eq!(s.cost(), m(32_000_000));
        // One ad in two ad groups of a campaign is one creative: its segments are summed.
        let shoes = creative_stats(&got, d(2026, 11, 1), "8001").unwrap();
        assert_eq!((shoes.impressions(), shoes.clicks()), (1_000, 15));
        let names: Vec<(&str, &str, &str)> = got
            .creatives
            .iter()
            .map(|c| (c.id.as_str(), c.plan.as_str(), c.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("7001", "Dresses", "Summer dresses 30% off"),
                ("7002", "Dresses", "New summer collection"),
                ("8001", "Shoes", "Running shoes sale"),
            ]
        );
        // The account has the creatives, and the engine learns from the file.
        let account = got.to_account(&defaults()).unwrap();
        let dresses = account.plan(&PlanId::new("Dresses")).unwrap();
        assert_eq!(dresses.creatives.len(), 2);
        let mut e = Engine::new(account, EngineConfig::default(), 1).unwrap();
        e.observe(&got.report).unwrap();
        let dec = e.decide(d(2026, 11, 3)).unwrap();
        let t = dec.creatives_of(&PlanId::new("Dresses")).unwrap();
        // Ad 7002 has the better CTR on both days.
        assert!(
            t.weight_of(&CreativeId::new("7002")) > t.weight_of(&CreativeId::new("7001")),
            "{t:?}"
        );
    }

    #[test]
    fn taobao_and_amazon_creative_reports() {
        let tb = ingest::read_path(fixture("taobao_creative.csv"), &Options::default()).unwrap();
        assert_eq!(tb.layout, Layout::TaobaoCreative);
        assert_eq!(tb.report.creatives().len(), 4);
        let s = creative_stats(&tb, d(2026, 11, 2), "c-102").unwrap();
        assert_eq!(
            (s.impressions(), s.clicks(), s.conversions()),
            (9_500, 350, 8)
        );
        assert_eq!(s.revenue(), m(1_200_000_000));
        assert_eq!(tb.creatives[0].name, "连衣裙 夏季新款 显瘦");
        assert_eq!(tb.creatives[0].plan.as_str(), "女装连衣裙");

        let az = ingest::read_path(
            fixture("amazon_sp_advertised_product.csv"),
            &Options::default(),
        )
        .unwrap();
        assert_eq!(az.layout, Layout::AmazonSpAdvertisedProduct);
        let ids: Vec<&str> = az.creatives.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["B0KNIFE001", "B0KNIFE002"]);
        assert_eq!(az.creatives[0].name, "KN-01");
        let s = creative_stats(&az, d(2026, 11, 1), "B0KNIFE002").unwrap();
        assert_eq!((s.clicks(), s.conversions()), (45, 3));
    }

    #[test]
    fn a_mapping_reads_any_ad_report_and_channels_come_from_a_column_or_the_option() {
        let mapping = ColumnMapping::from_json(
            &std::fs::read_to_string(fixture("mapped_ads_mapping.json")).unwrap(),
        )
        .unwrap();
        let opts = Options {
            mapping: Some(mapping),
            ..Options::default()
        };
        let got = ingest::read_path(fixture("mapped_ads.csv"), &opts).unwrap();
        assert_eq!(got.layout, Layout::Mapped);
        assert_eq!(got.report.creatives().len(), 3);
        let channel = |g: &ingest::Ingested, plan: &str| {
            g.plans
                .iter()
                .find(|p| p.id.as_str() == plan)
                .and_then(|p| p.channel.clone())
        };
        assert_eq!(channel(&got, "Booth 1").as_deref(), Some("display"));
        assert_eq!(channel(&got, "Search 1").as_deref(), Some("search_engine"));
        let account = got.to_account(&defaults()).unwrap();
        assert_eq!(
            account
                .plan(&PlanId::new("Booth 1"))
                .unwrap()
                .channel_name(),
            "display"
        );
        // A file without a channel column takes the option's channel for all its plans.
        let tb = ingest::read_path(
            fixture("taobao_creative.csv"),
            &Options {
                channel: Some("marketplace_search".into()),
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(
            channel(&tb, "女装连衣裙").as_deref(),
            Some("marketplace_search")
        );
        // Without either, plans are in the default channel.
        let plain = ingest::read_path(
            fixture("taobao_plan.csv"),
            &Options {
                date: Some(d(2026, 11, 1)),
                ..Options::default()
            },
        )
        .unwrap();
        assert!(plain.plans.iter().all(|p| p.channel.is_none()));
    }

    #[test]
    fn a_bad_ad_row_names_its_column() {
        let csv = "Campaign,Ad ID,Day,Impr.,Clicks,Cost\nDresses,7001,2026-11-01,100,5,$1.00\nShoes,7001,2026-11-01,100,5,$1.00\n";
        let e = ingest::read_bytes(csv.as_bytes(), "ads.csv", &Options::default()).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("7001") && text.contains("Shoes"), "{text}");
        let lenient = Options {
            mode: Mode::Lenient,
            ..Options::default()
        };
        let got = ingest::read_bytes(csv.as_bytes(), "ads.csv", &lenient).unwrap();
        assert_eq!(got.skipped.len(), 1);
        assert_eq!(got.report.creatives().len(), 1);
    }
}
