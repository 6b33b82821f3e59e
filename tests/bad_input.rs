//! Regression tests for bad input found from outside (issue 17): each case is an error that
//! names what was wrong, never a panic and never a silently different reading.

use adbandit::{Account, Date, Error};

const PLAN: &str = r#"{"id":"p","name":"P","daily_budget":100000000,"min_bid":100000,"max_bid":5000000,
  "keywords":[{"id":"k","text":"red dress","match_type":"exact","bid":1000000}]}"#;

fn account_with_plan(plan: &str) -> String {
    format!(r#"{{"name":"Shop","currency":"CNY","plans":[{plan}]}}"#)
}

#[test]
fn a_valid_account_reads() {
    let a: Account = serde_json::from_str(&account_with_plan(PLAN)).unwrap();
    assert_eq!(a.plans().len(), 1);
    // And writes back to the same account.
    let b: Account = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_misspelt_field_inside_a_plan_is_an_error() {
    // `"stauts": "paused"` used to be ignored: the plan ran active.
    let plan = PLAN.replacen('{', r#"{"stauts":"paused","#, 1);
    let e = serde_json::from_str::<Account>(&account_with_plan(&plan)).unwrap_err();
    assert!(e.to_string().contains("stauts"), "{e}");
}

#[test]
fn unknown_fields_are_errors_at_every_level_of_an_account() {
    let cases = [
        account_with_plan(PLAN).replacen('{', r#"{"owner":"x","#, 1),
        account_with_plan(&PLAN.replace(r#""bid":1000000}"#, r#""bid":1000000,"bdi":2}"#)),
        account_with_plan(&PLAN.replace(
            r#""keywords""#,
            r#""negative_keywords":[{"text":"free","match_typ":"exact"}],"keywords""#,
        )),
        account_with_plan(&PLAN.replace(
            r#""keywords""#,
            r#""objective":{"kind":"target_roi","roi":3.0,"roii":4.0},"keywords""#,
        )),
    ];
    for json in cases {
        let e = serde_json::from_str::<Account>(&json);
        assert!(e.is_err(), "accepted: {json}");
        assert!(
            e.unwrap_err().to_string().contains("unknown field"),
            "{json}"
        );
    }
}

#[test]
fn an_account_is_still_validated_when_read() {
    let dup = account_with_plan(&format!("{PLAN},{PLAN}"));
    assert!(serde_json::from_str::<Account>(&dup).is_err());
    let negative =
        account_with_plan(&PLAN.replace(r#""daily_budget":100000000"#, r#""daily_budget":-1"#));
    assert!(serde_json::from_str::<Account>(&negative).is_err());
}

#[test]
fn every_date_can_be_written_and_read_back() {
    // `decide` on 10000-01-01 used to be accepted and leave a snapshot that could not be
    // restored: no date outside 1900..=9999 can be built any more.
    assert!(matches!(
        Date::from_ymd(10_000, 1, 1),
        Err(Error::InvalidValue { .. })
    ));
    let last = Date::MAX;
    for d in [
        last,
        last.add_days(1),
        Date::from_days(i32::MAX),
        Date::MIN.add_days(-1),
    ] {
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Date>(&json).unwrap(), d);
    }
    assert!(last.checked_add_days(1).is_err());
    assert!(Date::MIN.checked_add_days(i64::from(i32::MAX) + 1).is_err());
}
