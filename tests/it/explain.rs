//! The reference evaluator: memberships, tiers and scores for every construct on tiny hand-built
//! datasets, and snapshots of `segl why` explanations.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array,
    ListBuilder, StringArray, StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use segl::check::{ProjectInput, RawFile, check_project};
use segl::engine::{AsOf, Dataset, RunSettings, Table, types::arrow_type};
use segl::explain::{self, EvalError};
use segl::ir::{Decimal, EntityId, Program, SegmentId, Type, Value};

const SCHEMA: &str = include_str!("../fixtures/explain/schema.segl");

fn program(rules: &str) -> Program {
    let input = ProjectInput {
        name: "t".into(),
        config: None,
        rules: vec![
            RawFile::new("schema.segl", SCHEMA),
            RawFile::new("rules.segl", rules),
        ],
    };
    let report = check_project(&input);
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == segl::diagnostics::Severity::Error)
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    report.program.unwrap()
}

fn entity(p: &Program, name: &str) -> EntityId {
    EntityId::from_index(p.entities.iter().position(|e| e.name == name).unwrap())
}

fn date(text: &str) -> jiff::civil::Date {
    text.parse().unwrap()
}

/// Days since 1970-01-01.
fn days(text: &str) -> i32 {
    let d = date(text);
    let epoch = jiff::civil::date(1970, 1, 1);
    d.since(epoch).unwrap().get_days()
}

/// One column of `ty` from cell texts; an empty cell is unknown.
fn opt<'a>(c: &&'a str) -> Option<&'a str> {
    (!c.is_empty()).then_some(*c)
}

fn column(ty: &Type, cells: &[&str]) -> ArrayRef {
    match ty {
        Type::Text | Type::Enum(_) => Arc::new(StringArray::from(
            cells.iter().map(|c| opt(c)).collect::<Vec<_>>(),
        )),
        Type::Integer => Arc::new(Int64Array::from(
            cells
                .iter()
                .map(|c| opt(c).map(|c| c.parse::<i64>().unwrap()))
                .collect::<Vec<_>>(),
        )),
        Type::Number => Arc::new(Float64Array::from(
            cells
                .iter()
                .map(|c| opt(c).map(|c| c.parse::<f64>().unwrap()))
                .collect::<Vec<_>>(),
        )),
        Type::Bool => Arc::new(BooleanArray::from(
            cells
                .iter()
                .map(|c| opt(c).map(|c| c == "true"))
                .collect::<Vec<_>>(),
        )),
        Type::Decimal => {
            let parsed: Vec<Option<Decimal>> = cells
                .iter()
                .map(|c| opt(c).map(|c| Decimal::parse(c).unwrap()))
                .collect();
            let scale = parsed.iter().flatten().map(|d| d.scale).max().unwrap_or(2);
            let values: Vec<Option<i128>> = parsed
                .iter()
                .map(|d| d.map(|d| d.mantissa * 10_i128.pow(scale - d.scale)))
                .collect();
            Arc::new(
                Decimal128Array::from(values)
                    .with_precision_and_scale(38, i8::try_from(scale).unwrap())
                    .unwrap(),
            )
        }
        Type::Date => Arc::new(Date32Array::from(
            cells.iter().map(|c| opt(c).map(days)).collect::<Vec<_>>(),
        )),
        Type::Timestamp => Arc::new(
            TimestampMicrosecondArray::from(
                cells
                    .iter()
                    .map(|c| opt(c).map(|c| c.parse::<jiff::Timestamp>().unwrap().as_microsecond()))
                    .collect::<Vec<_>>(),
            )
            .with_timezone("UTC"),
        ),
        Type::List(_) => {
            let mut b = ListBuilder::new(StringBuilder::new());
            for c in cells {
                for item in c.split('|').filter(|s| !s.is_empty()) {
                    b.values().append_value(item);
                }
                b.append(true);
            }
            Arc::new(b.finish())
        }
        other => panic!("no test column for {other:?}"),
    }
}

/// A table from a header of field names and rows of cell texts; unnamed fields are unknown
/// (lists are empty).
fn table(p: &Program, name: &str, header: &[&str], rows: &[&[&str]]) -> Table {
    let id = entity(p, name);
    let def = p.entity(id);
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for f in &def.fields {
        let cells: Vec<&str> = match header.iter().position(|h| *h == f.name) {
            Some(i) => rows.iter().map(|r| r[i]).collect(),
            None => vec![""; rows.len()],
        };
        let col = column(&f.ty, &cells);
        fields.push(Field::new(&f.name, col.data_type().clone(), true));
        columns.push(col);
    }
    let _ = arrow_type;
    Table {
        entity: id,
        batch: RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap(),
        origin: format!("{name}.csv"),
    }
}

struct Run {
    program: Program,
    data: Dataset,
    settings: RunSettings,
}

impl Run {
    fn new(rules: &str) -> Run {
        Run {
            program: program(rules),
            data: Dataset::new(),
            settings: settings("2026-11-20", "Europe/Berlin"),
        }
    }

    fn with(mut self, name: &str, header: &[&str], rows: &[&[&str]]) -> Run {
        let t = table(&self.program, name, header, rows);
        self.data.insert(t);
        self
    }

    fn at(mut self, d: &str, tz: &str) -> Run {
        self.settings = settings(d, tz);
        self
    }

    fn param(mut self, name: &str, v: Value) -> Run {
        let i = self
            .program
            .params
            .iter()
            .position(|p| p.name == name)
            .unwrap();
        self.settings
            .params
            .insert(segl::ir::ParamId::from_index(i), v);
        self
    }

    fn column(&self, name: &str) -> (Vec<String>, ArrayRef) {
        let out = explain::evaluate(&self.program, &self.data, &self.settings).unwrap();
        for m in out {
            let schema = m.batch.schema();
            if let Ok(i) = schema.index_of(name) {
                let keys = m.batch.column(0);
                let keys: Vec<String> = (0..keys.len())
                    .map(|r| {
                        datafusion::arrow::util::display::array_value_to_string(keys, r).unwrap()
                    })
                    .collect();
                return (keys, Arc::clone(m.batch.column(i)));
            }
        }
        panic!("no column {name}");
    }

    /// The keys of the members of a segment.
    fn members(&self, segment: &str) -> Vec<String> {
        let (keys, col) = self.column(segment);
        let col = col.as_any().downcast_ref::<BooleanArray>().unwrap();
        assert_eq!(col.null_count(), 0);
        keys.into_iter()
            .enumerate()
            .filter(|(i, _)| col.value(*i))
            .map(|(_, k)| k)
            .collect()
    }

    /// `key=value` for every record of a tier or score column.
    fn values(&self, name: &str) -> Vec<String> {
        let (keys, col) = self.column(name);
        keys.iter()
            .enumerate()
            .map(|(i, k)| {
                format!(
                    "{k}={}",
                    datafusion::arrow::util::display::array_value_to_string(&col, i).unwrap()
                )
            })
            .collect()
    }

    fn why(&self, key: &str, segment: Option<&str>) -> Result<String, EvalError> {
        let seg = segment.map(|s| {
            SegmentId::from_index(
                self.program
                    .segments
                    .iter()
                    .position(|x| x.name == s)
                    .unwrap(),
            )
        });
        let e = explain::why(
            &self.program,
            &self.data,
            &self.settings,
            entity(&self.program, "customer"),
            key,
            seg,
        )?;
        Ok(explain::render(&e, &self.program))
    }
}

fn settings(d: &str, tz: &str) -> RunSettings {
    RunSettings {
        as_of: AsOf::end_of_day(date(d), jiff::tz::TimeZone::get(tz).unwrap()).unwrap(),
        params: HashMap::new(),
    }
}

fn keys(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

const NPS_RULES: &str = r"
segment detractors { where nps < 7 }
segment not_detractors { where not (nps < 7) }
segment not_nine { where nps != 9 }
segment promoters { where nps is any of [9, 10] }
segment not_promoters { where nps is none of [9, 10] }
segment nps_unknown { where nps is unknown }
segment nps_known { where nps is known }
segment neither { where not (nps < 7 or opted_in) }
segment neither_demorgan { where not (nps < 7) and not opted_in }
segment either { where nps < 7 or opted_in }
segment opted { where opted_in }
segment not_opted { where not opted_in }
";

fn nps_run() -> Run {
    Run::new(NPS_RULES).with(
        "customer",
        &["id", "plan", "nps", "opted_in"],
        &[
            &["a", "pro", "9", "true"],
            &["b", "pro", "3", "false"],
            &["c", "pro", "", ""],
            &["d", "pro", "10", "false"],
        ],
    )
}

#[test]
fn unknowns_are_false_in_tests_and_true_under_not() {
    let r = nps_run();
    assert_eq!(r.members("detractors"), keys(&["b"]));
    assert_eq!(r.members("not_detractors"), keys(&["a", "c", "d"]));
    assert_eq!(r.members("not_nine"), keys(&["b", "c", "d"]));
    assert_eq!(r.members("promoters"), keys(&["a", "d"]));
    assert_eq!(r.members("not_promoters"), keys(&["b", "c"]));
    assert_eq!(r.members("nps_unknown"), keys(&["c"]));
    assert_eq!(r.members("nps_known"), keys(&["a", "b", "d"]));
    assert_eq!(r.members("opted"), keys(&["a"]));
    assert_eq!(r.members("not_opted"), keys(&["b", "c", "d"]));
}

#[test]
fn de_morgan_holds_with_unknowns() {
    let r = nps_run();
    assert_eq!(r.members("neither"), r.members("neither_demorgan"));
    assert_eq!(r.members("neither"), keys(&["c", "d"]));
    assert_eq!(r.members("either"), keys(&["a", "b"]));
}

#[test]
fn lookups_without_a_related_record_are_unknown() {
    let r = Run::new(
        r#"
segment german { where company.country = "DE" }
segment not_german { where company.country != "DE" }
segment big_company { where company.employees >= 100 }
segment colleagues { where count(company.contacts) >= 2 }
"#,
    )
    .with(
        "customer",
        &["id", "plan", "company_id"],
        &[
            &["a", "pro", "acme"],
            &["b", "pro", "nowhere"],
            &["c", "pro", ""],
            &["d", "pro", "acme"],
        ],
    )
    .with(
        "company",
        &["id", "country", "employees"],
        &[&["acme", "DE", "120"]],
    );
    assert_eq!(r.members("german"), keys(&["a", "d"]));
    assert_eq!(r.members("not_german"), keys(&["b", "c"]));
    assert_eq!(r.members("big_company"), keys(&["a", "d"]));
    assert_eq!(r.members("colleagues"), keys(&["a", "d"]));
}

const ORDER_RULES: &str = r"
segment no_orders { where count(orders) = 0 }
segment two_paid { where count(orders where status is paid) = 2 }
segment sum_zero { where sum(orders.amount) = 0 }
segment sum_exact { where sum(orders.amount) = 20.00 }
segment avg_known { where avg(orders.amount) is known }
segment avg_over_ten { where avg(orders.amount) > 10 }
segment max_big { where max(orders.amount) >= 19.99 }
segment min_small { where min(orders.amount) < 1 }
segment any_refund { where any(orders where status is refunded) }
segment every_paid { where every(orders where status is paid) }
segment categories_two { where count distinct(orders.category) = 2 }
segment categories_known_three { where count(orders.category) = 3 }
segment recent { where count(orders in last 30 days) >= 1 }
segment recent_paid_window_after { where count(orders where status is paid in last 30 days) >= 1 }
";

fn order_run() -> Run {
    Run::new(ORDER_RULES)
        .with(
            "customer",
            &["id", "plan"],
            &[&["a", "pro"], &["b", "pro"], &["c", "pro"]],
        )
        .with(
            "order",
            &[
                "id",
                "customer_id",
                "placed_on",
                "amount",
                "status",
                "category",
            ],
            &[
                &["o1", "a", "2026-11-01", "19.99", "paid", "books"],
                &["o2", "a", "2026-10-01", "0.01", "paid", "books"],
                &["o3", "b", "2026-11-20", "5.00", "refunded", "toys"],
                &["o4", "b", "2026-05-01", "0.50", "paid", "games"],
                &["o5", "b", "2026-05-02", "7.00", "paid", ""],
                &["o6", "b", "2026-05-03", "7.00", "paid", "toys"],
            ],
        )
}

#[test]
fn aggregates_over_related_records() {
    let r = order_run();
    assert_eq!(r.members("no_orders"), keys(&["c"]));
    assert_eq!(r.members("two_paid"), keys(&["a"]));
    assert_eq!(r.members("sum_zero"), keys(&["c"]));
    assert_eq!(r.members("sum_exact"), keys(&["a"]));
    assert_eq!(r.members("avg_known"), keys(&["a", "b"]));
    assert_eq!(r.members("avg_over_ten"), vec![] as Vec<String>);
    assert_eq!(r.members("max_big"), keys(&["a"]));
    assert_eq!(r.members("min_small"), keys(&["a", "b"]));
    assert_eq!(r.members("any_refund"), keys(&["b"]));
    // every over no records is true
    assert_eq!(r.members("every_paid"), keys(&["a", "c"]));
    assert_eq!(r.members("categories_two"), keys(&["b"]));
    assert_eq!(r.members("categories_known_three"), keys(&["b"]));
    assert_eq!(r.members("recent"), keys(&["a", "b"]));
    assert_eq!(r.members("recent_paid_window_after"), keys(&["a"]));
}

#[test]
fn windows_include_both_end_days() {
    // as of 2026-11-20: 30 days back is 2026-10-21.
    let r = Run::new(
        r"
segment last30 { where signup_date in last 30 days }
segment more30 { where signup_date is more than 30 days ago }
segment less30 { where signup_date is less than 30 days ago }
segment between_ago { where signup_date is between 30 and 90 days ago }
segment next7 { where signup_date in next 7 days }
segment this_week { where signup_date in this week }
segment last_quarter { where signup_date in last quarter }
segment next_year { where signup_date in next year }
segment since31 { where days since signup_date = 31 }
",
    )
    .with(
        "customer",
        &["id", "plan", "signup_date"],
        &[
            &["d0820", "pro", "2026-08-20"],
            &["d0821", "pro", "2026-08-21"],
            &["d0822", "pro", "2026-08-22"],
            &["d1020", "pro", "2026-10-20"],
            &["d1021", "pro", "2026-10-21"],
            &["d1022", "pro", "2026-10-22"],
            &["d1116", "pro", "2026-11-16"],
            &["d1120", "pro", "2026-11-20"],
            &["d1122", "pro", "2026-11-22"],
            &["d1127", "pro", "2026-11-27"],
            &["d1128", "pro", "2026-11-28"],
            &["d0701", "pro", "2026-07-01"],
            &["d0930", "pro", "2026-09-30"],
            &["d2027", "pro", "2027-12-31"],
            &["dnone", "pro", ""],
        ],
    );
    assert_eq!(
        r.members("last30"),
        keys(&["d1021", "d1022", "d1116", "d1120"])
    );
    assert_eq!(
        r.members("more30"),
        keys(&["d0701", "d0820", "d0821", "d0822", "d0930", "d1020"])
    );
    assert_eq!(r.members("less30"), keys(&["d1022", "d1116", "d1120"]));
    assert_eq!(
        r.members("between_ago"),
        keys(&["d0822", "d0930", "d1020", "d1021"])
    );
    assert_eq!(r.members("next7"), keys(&["d1120", "d1122", "d1127"]));
    assert_eq!(r.members("this_week"), keys(&["d1116", "d1120", "d1122"]));
    assert_eq!(
        r.members("last_quarter"),
        keys(&["d0701", "d0820", "d0821", "d0822", "d0930"])
    );
    assert_eq!(r.members("next_year"), keys(&["d2027"]));
    assert_eq!(r.members("since31"), keys(&["d1020"]));
}

#[test]
fn calendar_months_at_month_ends_and_leap_days() {
    let rules = r"
segment last_month { where signup_date in last 1 month }
segment year_later_passed { where signup_date + 1 year <= today }
segment birthday_soon { where birthday anniversary in next 0 days }
";
    let rows: &[&[&str]] = &[
        &["feb27", "pro", "2024-02-27", "1990-03-31"],
        &["feb28", "pro", "2024-02-28", "1992-02-29"],
        &["feb29", "pro", "2024-02-29", "1990-02-28"],
        &["mar01", "pro", "2024-03-01", ""],
    ];
    let header = &["id", "plan", "signup_date", "birthday"];
    // 2025-03-31 minus one month is 2025-02-28.
    let r = Run::new(rules)
        .with("customer", header, rows)
        .at("2025-03-31", "UTC");
    assert_eq!(r.members("last_month"), vec![] as Vec<String>);
    // 2024-03-31 minus one month is 2024-02-29 (leap year).
    let r = Run::new(rules)
        .with("customer", header, rows)
        .at("2024-03-31", "UTC");
    assert_eq!(r.members("last_month"), keys(&["feb29", "mar01"]));
    // 2024-02-29 + 1 year is 2025-02-28.
    let r = Run::new(rules)
        .with("customer", header, rows)
        .at("2025-02-28", "UTC");
    assert_eq!(
        r.members("year_later_passed"),
        keys(&["feb27", "feb28", "feb29"])
    );
    // A 29 February birthday is on 28 February in 2025, as is a 28 February one.
    assert_eq!(r.members("birthday_soon"), keys(&["feb28", "feb29"]));
}

#[test]
fn timestamps_take_their_day_in_the_project_zone() {
    let r = Run::new(
        r"
segment today_local { where days since last_login = 0 }
segment yesterday_local { where days since last_login = 1 }
segment this_month { where last_login in this month }
segment recent_hours { where last_login >= now - 2 hours }
segment in_last_2_hours { where last_login in last 2 hours }
segment after_midnight { where last_login >= today }
",
    )
    .with(
        "customer",
        &["id", "plan", "last_login"],
        &[
            // 00:30 on 20 November in Berlin
            &["a", "pro", "2026-11-19T23:30:00Z"],
            // 23:59 on 19 November in Berlin
            &["b", "pro", "2026-11-19T22:59:00Z"],
            // 00:30 on 1 November in Berlin, 31 October in UTC
            &["c", "pro", "2026-10-31T23:30:00Z"],
            // 23:00 on 20 November in Berlin: within 2 hours of the end of the as-of day
            &["d", "pro", "2026-11-20T22:00:00Z"],
        ],
    );
    assert_eq!(r.members("today_local"), keys(&["a", "d"]));
    assert_eq!(r.members("yesterday_local"), keys(&["b"]));
    assert_eq!(r.members("this_month"), keys(&["a", "b", "c", "d"]));
    assert_eq!(r.members("recent_hours"), keys(&["d"]));
    assert_eq!(r.members("in_last_2_hours"), keys(&["d"]));
    assert_eq!(r.members("after_midnight"), keys(&["a", "d"]));
    let utc = Run::new("segment this_month { where last_login in this month }").with(
        "customer",
        &["id", "plan", "last_login"],
        &[&["c", "pro", "2026-10-31T23:30:00Z"]],
    );
    assert_eq!(utc.members("this_month"), keys(&["c"]));
    let utc = utc.at("2026-11-20", "UTC");
    assert_eq!(utc.members("this_month"), vec![] as Vec<String>);
}

const POP_RULES: &str = r"
segment pct0 { where percentile of arr = 0% }
segment pct_third { where percentile of arr >= 33% and percentile of arr < 34% }
segment pct100 { where percentile of arr = 100% }
segment pct_unknown { where not (percentile of arr >= 0%) }
segment rank1 { where rank of arr = 1 }
segment rank2 { where rank of arr = 2 }
segment rank4 { where rank of arr = 4 }
segment q1 { where quintile of arr = 1 }
segment q2 { where quintile of arr = 2 }
segment q5 { where quintile of arr = 5 }
segment share_big { where share of total arr > 44% and share of total arr < 45% }
segment share_mid { where share of total arr > 22% and share of total arr < 23% }
segment cum_core { where cumulative share of arr <= 89% }
segment cum_all { where cumulative share of arr = 100% }
segment top_in_region { where rank of arr within region = 1 }
segment lone_in_region { where percentile of arr within region = 0% }
";

#[test]
fn population_functions_with_ties() {
    // The worked example of the language guide: 10, 20, 20, 40 (total 90).
    let r = Run::new(POP_RULES).with(
        "customer",
        &["id", "plan", "arr", "region"],
        &[
            &["a", "pro", "40", "EMEA"],
            &["b", "pro", "20", "EMEA"],
            &["c", "pro", "20", "NA"],
            &["d", "pro", "10", ""],
            &["e", "pro", "", "EMEA"],
        ],
    );
    assert_eq!(r.members("pct0"), keys(&["d"]));
    assert_eq!(r.members("pct_third"), keys(&["b", "c"]));
    assert_eq!(r.members("pct100"), keys(&["a"]));
    assert_eq!(r.members("pct_unknown"), keys(&["e"]));
    assert_eq!(r.members("rank1"), keys(&["a"]));
    assert_eq!(r.members("rank2"), keys(&["b", "c"]));
    assert_eq!(r.members("rank4"), keys(&["d"]));
    assert_eq!(r.members("q1"), keys(&["d"]));
    assert_eq!(r.members("q2"), keys(&["b", "c"]));
    assert_eq!(r.members("q5"), keys(&["a"]));
    assert_eq!(r.members("share_big"), keys(&["a"]));
    assert_eq!(r.members("share_mid"), keys(&["b", "c"]));
    assert_eq!(r.members("cum_core"), keys(&["a", "b", "c"]));
    assert_eq!(r.members("cum_all"), keys(&["d"]));
    // within region: EMEA {a 40, b 20, e unknown}, NA {c}, unknown region {d}.
    assert_eq!(r.members("top_in_region"), keys(&["a", "c", "d"]));
    assert_eq!(r.members("lone_in_region"), keys(&["b", "c", "d"]));
}

#[test]
fn share_of_a_zero_total_is_unknown() {
    let r = Run::new("segment s { where share of total seats >= 0% }\nsegment n { where not (share of total seats >= 0%) }")
        .with(
            "customer",
            &["id", "plan", "seats"],
            &[&["a", "pro", "0"], &["b", "pro", "0"]],
        );
    assert_eq!(r.members("s"), vec![] as Vec<String>);
    assert_eq!(r.members("n"), keys(&["a", "b"]));
}

#[test]
fn numbers_divide_as_floats_and_overflow_to_unknown() {
    let r = Run::new(
        r"
segment per_seat { where arr / seats > 1000 }
segment no_per_seat { where not (arr / seats > 1000) and not (arr / seats <= 1000) }
segment exact_money { where arr + 0.01 = 20.00 }
segment overflow { where seats * seats > 0 }
segment overflow_not { where not (seats * seats > 0) }
segment ratio_third { where ratio = 1 / 3 }
segment rounded { where round(arr) = 20 }
",
    )
    .with(
        "customer",
        &["id", "plan", "arr", "seats", "ratio"],
        &[
            &["a", "pro", "19.99", "0", "0.3333333333333333"],
            &["b", "pro", "5000.00", "4", ""],
            &["c", "pro", "", "9223372036854775807", ""],
        ],
    );
    assert_eq!(r.members("per_seat"), keys(&["b"]));
    assert_eq!(r.members("no_per_seat"), keys(&["a", "c"]));
    assert_eq!(r.members("exact_money"), keys(&["a"]));
    assert_eq!(r.members("overflow"), keys(&["b"]));
    assert_eq!(r.members("overflow_not"), keys(&["a", "c"]));
    assert_eq!(r.members("ratio_third"), keys(&["a"]));
    assert_eq!(r.members("rounded"), keys(&["a"]));
}

#[test]
fn text_and_list_tests() {
    let r = Run::new(
        r#"
segment example { where email ends with "@example.com" }
segment example_ci { where email ends with "@EXAMPLE.com" ignoring case }
segment free_mail { where email matches "@(gmail|yahoo)[.]com$" ignoring case }
segment vip { where tags contains "vip" }
segment vip_ci { where tags contains "VIP" ignoring case }
segment any_tag { where tags contains any of ["a", "b"] }
segment all_tags { where tags contains all of ["a", "b"] }
segment no_tags { where tags is empty }
segment not_vip { where tags does not contain "vip" }
"#,
    )
    .with(
        "customer",
        &["id", "plan", "email", "tags"],
        &[
            &["a", "pro", "x@example.com", "vip|a|b"],
            &["b", "pro", "x@Example.COM", "a"],
            &["c", "pro", "x@GMail.com", ""],
            &["d", "pro", "", "VIP"],
        ],
    );
    assert_eq!(r.members("example"), keys(&["a"]));
    assert_eq!(r.members("example_ci"), keys(&["a", "b"]));
    assert_eq!(r.members("free_mail"), keys(&["c"]));
    assert_eq!(r.members("vip"), keys(&["a"]));
    assert_eq!(r.members("vip_ci"), keys(&["a", "d"]));
    assert_eq!(r.members("any_tag"), keys(&["a", "b"]));
    assert_eq!(r.members("all_tags"), keys(&["a"]));
    assert_eq!(r.members("no_tags"), keys(&["c"]));
    assert_eq!(r.members("not_vip"), keys(&["b", "c", "d"]));
}

const TIER_RULES: &str = r"
param big_seats: integer = 100

tiers seat_band {
  large  when seats >= big_seats
  medium when seats >= 10
  small  otherwise
}

score points {
  +20 when seats >= 10
  +5  when opted_in
  -25 when nps < 5
}

segment large_band { where seat_band is large }
segment many_points { where points >= 20 }
";

#[test]
fn tiers_take_the_first_row_and_scores_add_up() {
    let rows: &[&[&str]] = &[
        &["a", "pro", "150", "true", "9"],
        &["b", "pro", "50", "", "2"],
        &["c", "pro", "", "true", ""],
    ];
    let header = &["id", "plan", "seats", "opted_in", "nps"];
    let r = Run::new(TIER_RULES).with("customer", header, rows);
    assert_eq!(
        r.values("seat_band"),
        keys(&["a=large", "b=medium", "c=small"])
    );
    assert_eq!(r.values("points"), keys(&["a=25", "b=-5", "c=5"]));
    assert_eq!(r.members("large_band"), keys(&["a"]));
    assert_eq!(r.members("many_points"), keys(&["a"]));
    let r = Run::new(TIER_RULES)
        .with("customer", header, rows)
        .param("big_seats", Value::Integer(40));
    assert_eq!(
        r.values("seat_band"),
        keys(&["a=large", "b=large", "c=small"])
    );
}

#[test]
fn memberships_are_sorted_by_key_and_cover_entities_without_data() {
    let r = Run::new("segment all_companies of company { where employees is unknown }").with(
        "customer",
        &["id", "plan"],
        &[&["b", "pro"]],
    );
    let out = explain::evaluate(&r.program, &r.data, &r.settings).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].batch.num_rows(), 0);
    let r = Run::new("segment everyone { where plan is pro }").with(
        "customer",
        &["id", "plan"],
        &[&["b", "pro"], &["B", "pro"], &["a", "pro"], &["ä", "pro"]],
    );
    assert_eq!(r.members("everyone"), keys(&["B", "a", "b", "ä"]));
}

// ---------------------------------------------------------------------------------------------
// Explanations

const WHY_RULES: &str = r#"
param quiet_days: integer = 30

define total_paid = sum(orders.amount where status is paid)

segment quiet_paying {
  title "Quiet paying customers"
  where all of {
    plan is any of [pro, enterprise]
    any of {
      last_login is more than quiet_days days ago
      last_login is unknown
    }
    none of {
      tags contains "managed"
      nps >= 9
    }
  }
}

segment big_spender { where total_paid > 100 and count(orders in last 90 days) >= 1 }
segment top_arr { where percentile of arr within region >= 50% }
segment detractor { where nps < 7 }
segment not_detractor { where not in segment detractor }
segment german_company { where company.country = "DE" }
segment all_paid { where every(orders where status is paid) }

tiers value_band {
  high when arr >= 1000
  mid  when arr >= 100
  low  otherwise
}

score health {
  +20 when last_login in last 7 days
  +10 when count(orders in last 30 days) >= 1
  -25 when last_login is more than 60 days ago
}
"#;

fn why_run() -> Run {
    Run::new(&WHY_RULES.replace("quiet_days days", "30 days"))
        .with(
            "customer",
            &[
                "id",
                "plan",
                "region",
                "arr",
                "nps",
                "last_login",
                "tags",
                "company_id",
            ],
            &[
                &[
                    "c1",
                    "pro",
                    "EMEA",
                    "1200.00",
                    "",
                    "2026-11-18T08:00:00Z",
                    "",
                    "acme",
                ],
                &[
                    "c2",
                    "enterprise",
                    "EMEA",
                    "300.00",
                    "3",
                    "2026-09-01T10:00:00Z",
                    "managed",
                    "",
                ],
                &["c3", "free", "NA", "", "10", "", "", "nowhere"],
            ],
        )
        .with(
            "order",
            &["id", "customer_id", "placed_on", "amount", "status"],
            &[
                &["o1", "c1", "2026-11-01", "99.99", "paid"],
                &["o2", "c1", "2026-06-01", "0.02", "paid"],
                &["o3", "c1", "2026-11-19", "50.00", "refunded"],
                &["o4", "c2", "2026-01-01", "500.00", "paid"],
            ],
        )
        .with("company", &["id", "country"], &[&["acme", "DE"]])
}

#[test]
fn why_explains_every_segment_tier_and_score() {
    let r = why_run();
    for key in ["c1", "c2", "c3"] {
        insta::assert_snapshot!(format!("why_{key}"), r.why(key, None).unwrap());
    }
}

#[test]
fn why_one_segment() {
    let r = why_run();
    insta::assert_snapshot!(
        "why_one_segment",
        r.why("c2", Some("not_detractor")).unwrap()
    );
}

#[test]
fn why_reports_missing_records_with_similar_keys() {
    let r = why_run();
    let err = r.why("c4", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "there is no customer with the key \"c4\"; keys that look similar: \"c1\", \"c2\", \"c3\""
    );
    let r = Run::new("segment s { where plan is pro }");
    assert_eq!(
        r.why("x", None).unwrap_err(),
        EvalError::NoData {
            entity: "customer".into()
        }
    );
}
