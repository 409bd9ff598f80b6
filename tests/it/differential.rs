//! Differential property test: random small programs over random small datasets, evaluated by
//! the DataFusion engine (`engine::lower::evaluate`) and by the reference per-record evaluator
//! (`explain::evaluate`); every membership, tier and score must be the same.
//!
//! The rules are generated as segl *text* and go through the whole checker, so the test also
//! covers parsing and typing of what it generates. Cases the checker rejects are skipped and
//! counted; most cases must check cleanly.
//!
//! Runs 48 cases with a fixed seed by default. `SEGL_DIFF_CASES=500` runs more cases and
//! `SEGL_DIFF_RANDOM=1` draws a fresh seed (for exploring; failures print everything needed to
//! reproduce them by hand).

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, ListBuilder,
    StringArray, StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::arrow::util::pretty::pretty_format_batches;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use segl::check::{ProjectInput, RawFile, check_project};
use segl::engine::lower::{Request, evaluate};
use segl::engine::types::arrow_type;
use segl::engine::{AsOf, Dataset, Membership, RunSettings, Table};
use segl::ir::{EntityId, Program, Type};

pub(crate) const SCHEMA: &str = r#"
entity customer {
  key id: text
  region: one of EMEA, NA, APAC
  plan: one of free, pro, enterprise optional
  seats: integer
  arr: decimal
  ratio: number
  nps: integer optional
  signup_date: date
  birthday: date optional
  last_login: timestamp optional
  opted_in: boolean
  email: text optional
  tags: list of text
  company_id: text optional
  orders: many order by customer_id dated by placed_on
  visits: many visit by customer_id dated by at
  company: one company by company_id
}

entity order {
  key id: text
  customer_id: text
  amount: decimal
  placed_on: date
  status: one of paid, refunded, pending
  channel: text optional
  gift: boolean optional
}

entity visit {
  key id: text
  customer_id: text
  at: timestamp
  pages: integer
  mobile: boolean optional
}

entity company {
  key id: text
  country: text optional
  employees: integer optional
  renewal_on: date optional
  contacts: many customer by company_id
}
"#;

// ---------------------------------------------------------------------------------------------
// Data

const AS_OF: &[&str] = &[
    "2024-02-29",
    "2024-03-31",
    "2026-01-31",
    "2026-11-20",
    "2024-12-31",
    "2026-03-29", // Berlin moves to summer time
    "2025-10-26", // and back
    "2025-01-01",
];
const ZONES: &[&str] = &["Europe/Berlin", "UTC"];

/// A day: relative to the as-of date (window edges) or a fixed interesting date.
#[derive(Clone, Debug)]
enum Day {
    Rel(i32),
    Abs(&'static str),
}

const REL_DAYS: &[i32] = &[
    0, -1, 1, -6, -7, -8, -13, -14, -29, -30, -31, -59, -60, -89, -90, -91, -92, -180, -364, -365,
    -366, -367, -730, 2, 6, 7, 13, 14, 15, 30, 31, 60, 90, 364, 365, 366,
];
const ABS_DAYS: &[&str] = &[
    "2024-02-28",
    "2024-02-29",
    "2024-03-01",
    "2024-01-31",
    "2024-03-31",
    "2023-02-28",
    "2025-02-28",
    "2025-03-01",
    "2025-12-31",
    "2026-01-01",
    "2026-01-31",
    "2025-11-20",
    "2020-02-29",
    "2026-06-30",
    "2026-07-01",
    "2026-09-30",
    "2026-10-01",
];

fn day() -> impl Strategy<Value = Day> {
    prop_oneof![
        3 => select(REL_DAYS).prop_map(Day::Rel),
        2 => select(ABS_DAYS).prop_map(Day::Abs),
    ]
}

/// A moment: a day, a wall-clock time, and whether the time is local or UTC.
#[derive(Clone, Debug)]
struct Moment {
    day: Day,
    time: &'static str,
    utc: bool,
}

const TIMES: &[&str] = &[
    "00:00:00",
    "00:00:00.000001",
    "00:30:00",
    "01:00:00",
    "02:30:00",
    "12:00:00",
    "22:59:59",
    "23:00:00",
    "23:30:00",
    "23:59:59.999999",
];

fn moment() -> impl Strategy<Value = Moment> {
    (day(), select(TIMES), prop::bool::weighted(0.3)).prop_map(|(day, time, utc)| Moment {
        day,
        time,
        utc,
    })
}

#[derive(Clone, Debug)]
struct Customer {
    region: &'static str,
    plan: Option<&'static str>,
    seats: i64,
    arr_cents: i128,
    ratio: f64,
    nps: Option<i64>,
    signup: Day,
    birthday: Option<Day>,
    last_login: Option<Moment>,
    opted_in: bool,
    email: Option<&'static str>,
    tags: Vec<&'static str>,
    company: Option<usize>,
}

#[derive(Clone, Debug)]
struct Order {
    customer: usize,
    amount_cents: i128,
    placed_on: Day,
    status: &'static str,
    channel: Option<&'static str>,
    gift: Option<bool>,
}

#[derive(Clone, Debug)]
struct Visit {
    customer: usize,
    at: Moment,
    pages: i64,
    mobile: Option<bool>,
}

#[derive(Clone, Debug)]
struct Company {
    country: Option<&'static str>,
    employees: Option<i64>,
    renewal_on: Option<Day>,
}

#[derive(Clone, Debug)]
pub(crate) struct Data {
    pub(crate) as_of: &'static str,
    pub(crate) zone: &'static str,
    customers: Vec<Customer>,
    orders: Vec<Order>,
    visits: Vec<Visit>,
    companies: Vec<Company>,
}

const EMAILS: &[&str] = &[
    "anna@example.com",
    "Bob@Example.COM",
    "test.user@gmail.com",
    "",
    "ÄRGER@web.de",
    "x",
    "carl@yahoo.com",
];
const TAGS: &[&str] = &["vip", "VIP", "beta", "", "new", "churn risk"];
const COUNTRIES: &[&str] = &["DE", "de", "FR", "US", "NA", ""];
const CHANNELS: &[&str] = &["web", "Web", "sales", "app"];

fn opt<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
    known: f64,
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(known, s)
}

fn customer(companies: usize) -> impl Strategy<Value = Customer> {
    (
        (
            select(&["EMEA", "NA", "APAC"][..]),
            opt(select(&["free", "pro", "enterprise"][..]), 0.8),
            select(&[0_i64, 1, 5, 10, 10, 50, 100][..]),
            select(&[0_i128, 100, 99_999, 500_000, 500_000, 1_000_050, 2_000_000][..]),
            select(&[0.0, 0.5, 0.25, 1.5, -0.75, 2.0][..]),
            opt(select(&[0_i64, 3, 6, 7, 9, 10][..]), 0.7),
            day(),
        ),
        (
            opt(day(), 0.7),
            opt(moment(), 0.75),
            any::<bool>(),
            opt(select(EMAILS), 0.8),
            prop::collection::vec(select(TAGS), 0..=3),
            opt(0..companies.max(1), 0.7).prop_map(move |c| c.filter(|_| companies > 0)),
        ),
    )
        .prop_map(
            |(
                (region, plan, seats, arr_cents, ratio, nps, signup),
                (birthday, last_login, opted_in, email, tags, company),
            )| Customer {
                region,
                plan,
                seats,
                arr_cents,
                ratio,
                nps,
                signup,
                birthday,
                last_login,
                opted_in,
                email,
                tags,
                company,
            },
        )
}

pub(crate) fn data() -> impl Strategy<Value = Data> {
    (select(AS_OF), select(ZONES), 0_usize..=4, 0_usize..=30)
        .prop_flat_map(|(as_of, zone, ncompanies, ncustomers)| {
            let company = (
                opt(select(COUNTRIES), 0.8),
                opt(select(&[1_i64, 10, 10, 500, 5000][..]), 0.7),
                opt(day(), 0.7),
            )
                .prop_map(|(country, employees, renewal_on)| Company {
                    country,
                    employees,
                    renewal_on,
                });
            let order = (
                0..ncustomers.max(1),
                select(&[0_i128, 1000, 1050, 9999, 10_000, 25_000, -500][..]),
                day(),
                select(&["paid", "refunded", "pending"][..]),
                opt(select(CHANNELS), 0.7),
                opt(any::<bool>(), 0.6),
            )
                .prop_map(
                    |(customer, amount_cents, placed_on, status, channel, gift)| Order {
                        customer,
                        amount_cents,
                        placed_on,
                        status,
                        channel,
                        gift,
                    },
                );
            let visit = (
                0..ncustomers.max(1),
                moment(),
                0_i64..4,
                opt(any::<bool>(), 0.6),
            )
                .prop_map(|(customer, at, pages, mobile)| Visit {
                    customer,
                    at,
                    pages,
                    mobile,
                });
            let with_related = if ncustomers == 0 { 0 } else { 1 };
            (
                Just(as_of),
                Just(zone),
                prop::collection::vec(customer(ncompanies), ncustomers),
                prop::collection::vec(order, 0..=(80 * with_related)),
                prop::collection::vec(visit, 0..=(40 * with_related)),
                prop::collection::vec(company, ncompanies),
            )
        })
        .prop_map(|(as_of, zone, customers, orders, visits, companies)| Data {
            as_of,
            zone,
            customers,
            orders,
            visits,
            companies,
        })
}

fn parse_date(text: &str) -> jiff::civil::Date {
    text.parse().unwrap()
}

fn resolve(d: &Day, as_of: jiff::civil::Date) -> jiff::civil::Date {
    match d {
        Day::Rel(n) => as_of.checked_add(jiff::Span::new().days(*n)).unwrap(),
        Day::Abs(t) => parse_date(t),
    }
}

fn resolve_moment(m: &Moment, as_of: jiff::civil::Date, tz: &jiff::tz::TimeZone) -> i64 {
    let date = resolve(&m.day, as_of);
    let time: jiff::civil::Time = m.time.parse().unwrap();
    let dt = date.to_datetime(time);
    let zone = if m.utc {
        jiff::tz::TimeZone::UTC
    } else {
        tz.clone()
    };
    zone.to_timestamp(dt).unwrap().as_microsecond()
}

fn days_since_epoch(d: jiff::civil::Date) -> i32 {
    d.since(jiff::civil::date(1970, 1, 1)).unwrap().get_days()
}

/// Cells of one column, typed by the schema field.
enum Col {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Dec(Vec<Option<i128>>),
    Num(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Date(Vec<Option<jiff::civil::Date>>),
    Ts(Vec<Option<i64>>),
    List(Vec<Vec<String>>),
}

const SCALE: i8 = 2;

fn array(ty: &Type, col: Col) -> ArrayRef {
    let array: ArrayRef = match col {
        Col::Text(v) => Arc::new(StringArray::from(v)),
        Col::Int(v) => Arc::new(Int64Array::from(v)),
        Col::Dec(v) => Arc::new(
            Decimal128Array::from(v)
                .with_precision_and_scale(38, SCALE)
                .unwrap(),
        ),
        Col::Num(v) => Arc::new(Float64Array::from(v)),
        Col::Bool(v) => Arc::new(BooleanArray::from(v)),
        Col::Date(v) => Arc::new(Date32Array::from(
            v.into_iter()
                .map(|d| d.map(days_since_epoch))
                .collect::<Vec<_>>(),
        )),
        Col::Ts(v) => Arc::new(TimestampMicrosecondArray::from(v).with_timezone("UTC")),
        Col::List(v) => {
            let mut b = ListBuilder::new(StringBuilder::new());
            for items in v {
                for item in items {
                    b.values().append_value(item);
                }
                b.append(true);
            }
            Arc::new(b.finish())
        }
    };
    assert_eq!(array.data_type(), &arrow_type(ty, SCALE), "{ty:?}");
    array
}

fn entity_id(p: &Program, name: &str) -> EntityId {
    EntityId::from_index(p.entities.iter().position(|e| e.name == name).unwrap())
}

fn table(p: &Program, name: &str, mut columns: Vec<(&str, Col)>) -> Table {
    let id = entity_id(p, name);
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for f in &p.entity(id).fields {
        let i = columns
            .iter()
            .position(|(n, _)| *n == f.name)
            .unwrap_or_else(|| panic!("no column {name}.{}", f.name));
        let (_, col) = columns.swap_remove(i);
        let a = array(&f.ty, col);
        fields.push(Field::new(&f.name, a.data_type().clone(), f.optional));
        arrays.push(a);
    }
    assert!(columns.is_empty());
    Table {
        entity: id,
        batch: RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap(),
        origin: format!("{name} (generated)"),
    }
}

fn key(prefix: &str, i: usize) -> String {
    format!("{prefix}{i:03}")
}

pub(crate) fn dataset(p: &Program, d: &Data) -> (Dataset, RunSettings) {
    let as_of = parse_date(d.as_of);
    let tz = jiff::tz::TimeZone::get(d.zone).unwrap();
    let cs = &d.customers;
    let t = |v: Option<&str>| v.map(str::to_owned);
    let customers = table(
        p,
        "customer",
        vec![
            (
                "id",
                Col::Text((0..cs.len()).map(|i| Some(key("c", i))).collect()),
            ),
            (
                "region",
                Col::Text(cs.iter().map(|c| t(Some(c.region))).collect()),
            ),
            ("plan", Col::Text(cs.iter().map(|c| t(c.plan)).collect())),
            (
                "seats",
                Col::Int(cs.iter().map(|c| Some(c.seats)).collect()),
            ),
            (
                "arr",
                Col::Dec(cs.iter().map(|c| Some(c.arr_cents)).collect()),
            ),
            (
                "ratio",
                Col::Num(cs.iter().map(|c| Some(c.ratio)).collect()),
            ),
            ("nps", Col::Int(cs.iter().map(|c| c.nps).collect())),
            (
                "signup_date",
                Col::Date(cs.iter().map(|c| Some(resolve(&c.signup, as_of))).collect()),
            ),
            (
                "birthday",
                Col::Date(
                    cs.iter()
                        .map(|c| c.birthday.as_ref().map(|b| resolve(b, as_of)))
                        .collect(),
                ),
            ),
            (
                "last_login",
                Col::Ts(
                    cs.iter()
                        .map(|c| c.last_login.as_ref().map(|m| resolve_moment(m, as_of, &tz)))
                        .collect(),
                ),
            ),
            (
                "opted_in",
                Col::Bool(cs.iter().map(|c| Some(c.opted_in)).collect()),
            ),
            ("email", Col::Text(cs.iter().map(|c| t(c.email)).collect())),
            (
                "tags",
                Col::List(
                    cs.iter()
                        .map(|c| c.tags.iter().map(|s| (*s).to_owned()).collect())
                        .collect(),
                ),
            ),
            (
                "company_id",
                Col::Text(cs.iter().map(|c| c.company.map(|i| key("k", i))).collect()),
            ),
        ],
    );
    let os = &d.orders;
    let orders = table(
        p,
        "order",
        vec![
            (
                "id",
                Col::Text((0..os.len()).map(|i| Some(key("o", i))).collect()),
            ),
            (
                "customer_id",
                Col::Text(os.iter().map(|o| Some(key("c", o.customer))).collect()),
            ),
            (
                "amount",
                Col::Dec(os.iter().map(|o| Some(o.amount_cents)).collect()),
            ),
            (
                "placed_on",
                Col::Date(
                    os.iter()
                        .map(|o| Some(resolve(&o.placed_on, as_of)))
                        .collect(),
                ),
            ),
            (
                "status",
                Col::Text(os.iter().map(|o| t(Some(o.status))).collect()),
            ),
            (
                "channel",
                Col::Text(os.iter().map(|o| t(o.channel)).collect()),
            ),
            ("gift", Col::Bool(os.iter().map(|o| o.gift).collect())),
        ],
    );
    let vs = &d.visits;
    let visits = table(
        p,
        "visit",
        vec![
            (
                "id",
                Col::Text((0..vs.len()).map(|i| Some(key("v", i))).collect()),
            ),
            (
                "customer_id",
                Col::Text(vs.iter().map(|v| Some(key("c", v.customer))).collect()),
            ),
            (
                "at",
                Col::Ts(
                    vs.iter()
                        .map(|v| Some(resolve_moment(&v.at, as_of, &tz)))
                        .collect(),
                ),
            ),
            (
                "pages",
                Col::Int(vs.iter().map(|v| Some(v.pages)).collect()),
            ),
            ("mobile", Col::Bool(vs.iter().map(|v| v.mobile).collect())),
        ],
    );
    let ks = &d.companies;
    let companies = table(
        p,
        "company",
        vec![
            (
                "id",
                Col::Text((0..ks.len()).map(|i| Some(key("k", i))).collect()),
            ),
            (
                "country",
                Col::Text(ks.iter().map(|k| t(k.country)).collect()),
            ),
            (
                "employees",
                Col::Int(ks.iter().map(|k| k.employees).collect()),
            ),
            (
                "renewal_on",
                Col::Date(
                    ks.iter()
                        .map(|k| k.renewal_on.as_ref().map(|r| resolve(r, as_of)))
                        .collect(),
                ),
            ),
        ],
    );
    let mut data = Dataset::new();
    for t in [customers, orders, visits, companies] {
        data.insert(t);
    }
    let settings = RunSettings {
        as_of: AsOf::end_of_day(as_of, tz).unwrap(),
        params: Default::default(),
    };
    (data, settings)
}

// ---------------------------------------------------------------------------------------------
// Rules

type S = BoxedStrategy<String>;

fn pick(options: &'static [&'static str]) -> S {
    select(options).prop_map(str::to_owned).boxed()
}

fn fmt2(a: S, b: S, f: fn(&str, &str) -> String) -> S {
    (a, b).prop_map(move |(a, b)| f(&a, &b)).boxed()
}

fn int_lit() -> S {
    pick(&[
        "0", "1", "2", "3", "5", "7", "9", "10", "30", "100", "1_000", "5_000",
    ])
}

fn num_lit() -> S {
    prop_oneof![
        3 => int_lit(),
        2 => pick(&["0.5", "2.5", "10.50", "100.00", "99.99", "5_000.00", "0.25"]),
    ]
    .boxed()
}

fn pct_lit() -> S {
    pick(&[
        "0%", "10%", "20%", "25%", "33.3%", "40%", "50%", "60%", "75%", "80%", "100%",
    ])
}

fn cmp_op() -> S {
    pick(&["=", "!=", "<", "<=", ">", ">=", "is", "is not"])
}

fn duration() -> S {
    prop_oneof![
        4 => pick(&["0 days", "1 day", "7 days", "14 days", "30 days", "31 days", "90 days", "365 days"]),
        1 => pick(&["1 week", "2 weeks"]),
        2 => pick(&["1 month", "3 months", "12 months"]),
        1 => pick(&["1 year", "2 years"]),
    ]
    .boxed()
}

fn period() -> S {
    (
        pick(&["this", "last", "next"]),
        pick(&["week", "month", "quarter", "year"]),
    )
        .prop_map(|(r, u)| format!("in {r} {u}"))
        .boxed()
}

/// A time window, without the value it applies to.
fn window() -> S {
    prop_oneof![
        duration().prop_map(|d| format!("in last {d}")),
        duration().prop_map(|d| format!("in next {d}")),
        duration().prop_map(|d| format!("is more than {d} ago")),
        duration().prop_map(|d| format!("is less than {d} ago")),
        (
            pick(&["0", "1", "7", "30"]),
            pick(&["7 days", "30 days", "90 days", "2 months", "1 year"])
        )
            .prop_map(|(a, b)| format!("is between {a} and {b} ago")),
        period(),
    ]
    .boxed()
}

/// A time test on a date or timestamp value (as written after the value).
fn time_test() -> S {
    prop_oneof![
        4 => window(),
        1 => window().prop_map(|w| match w.strip_prefix("in ") {
            Some(rest) => format!("not in {rest}"),
            None => w.replacen("is ", "is not ", 1),
        }),
    ]
    .boxed()
}

fn order_cond() -> S {
    let leaf = prop_oneof![
        pick(&[
            "status is paid",
            "status is not refunded",
            "status is any of [paid, pending]",
            "channel is known",
            "channel is unknown",
            "channel = \"web\"",
            "channel starts with \"w\" ignoring case",
            "channel is any of [\"web\", \"app\"]",
            "gift",
            "not gift",
            "gift = false",
            "gift != true",
            "gift = true",
        ]),
        fmt2(pick(&["amount"]), num_lit(), |a, b| format!("{a} > {b}")),
        fmt2(cmp_op(), num_lit(), |o, b| format!("amount {o} {b}")),
        (num_lit(), num_lit()).prop_map(|(a, b)| format!("amount is between {a} and {b}")),
        time_test().prop_map(|t| format!("placed_on {t}")),
    ];
    leaf.prop_recursive(2, 4, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
    .boxed()
}

fn visit_cond() -> S {
    prop_oneof![
        fmt2(cmp_op(), int_lit(), |o, b| format!("pages {o} {b}")),
        time_test().prop_map(|t| format!("at {t}")),
        pick(&[
            "at >= now - 12 hours",
            "at < now - 1 day",
            "pages is between 1 and 2",
            "mobile",
            "not mobile",
            "mobile = true",
            "mobile != false",
        ]),
    ]
    .boxed()
}

/// `WINDOW`, `where COND`, both in either order, or nothing.
fn agg_tail(window: S, cond: S) -> S {
    prop_oneof![
        Just(String::new()),
        window.clone().prop_map(|w| format!(" {w}")),
        cond.clone().prop_map(|c| format!(" where {c}")),
        (window.clone(), cond.clone()).prop_map(|(w, c)| format!(" {w} where {c}")),
        // A window after the condition only reads as one when the condition ends with a test:
        // in `where not (x) in last 30 days` the window applies to `(x)`.
        // Nor when it ends with a yes/no field or value: `where mobile in last 7 days` puts
        // the window on `mobile`.
        (window, cond)
            .prop_filter("ends with a test", |(_, c)| !c.starts_with('(')
                && !c.starts_with("not ")
                && !["gift", "mobile", "true", "false"]
                    .iter()
                    .any(|w| c.ends_with(w)))
            .prop_map(|(w, c)| format!(" where {c} {w}")),
    ]
    .boxed()
}

fn order_agg_num() -> S {
    let tail = || agg_tail(window(), order_cond());
    prop_oneof![
        tail().prop_map(|t| format!("count(orders{t})")),
        (
            pick(&["count", "count distinct"]),
            pick(&["status", "channel", "amount", "placed_on"]),
            tail()
        )
            .prop_map(|(f, v, t)| format!("{f}(orders.{v}{t})")),
        (pick(&["sum", "avg", "min", "max"]), tail())
            .prop_map(|(f, t)| format!("{f}(orders.amount{t})")),
        agg_tail(window(), visit_cond()).prop_map(|t| format!("count(visits{t})")),
        (
            pick(&["sum", "max", "avg"]),
            agg_tail(window(), visit_cond())
        )
            .prop_map(|(f, t)| format!("{f}(visits.pages{t})")),
        // `contacts` has no `dated by`: no window.
        prop_oneof![
            Just(String::new()),
            pick(&[" where opted_in", " where seats > 5"])
        ]
        .prop_map(|t| format!("count(company.contacts{t})")),
    ]
    .boxed()
}

/// A date or timestamp expression of a customer.
fn customer_time() -> S {
    prop_oneof![
        4 => pick(&["signup_date", "birthday", "last_login", "company.renewal_on", "d_day"]),
        1 => pick(&[
            "signup_date + 1 month",
            "birthday - 1 year",
            "last_login + 12 hours",
            "coalesce(birthday, signup_date)",
            "today - 30 days",
        ]),
        1 => agg_tail(window(), order_cond()).prop_map(|t| format!("max(orders.placed_on{t})")),
        1 => agg_tail(window(), order_cond()).prop_map(|t| format!("min(orders.placed_on{t})")),
        1 => Just("max(visits.at)".to_owned()),
    ]
    .boxed()
}

fn date_lit() -> S {
    pick(&[
        "2024-02-29",
        "2024-03-01",
        "2025-02-28",
        "2026-01-31",
        "2026-11-20",
        "today",
        "2026-01-31T00:00:00",
        "2026-11-20T23:30:00Z",
        "2024-02-29T00:00:00+01:00",
        "now",
    ])
}

/// A numeric expression of a customer.
fn customer_num(defs: bool) -> S {
    let mut atoms = vec![
        pick(&["seats", "arr", "ratio", "nps", "company.employees"]),
        order_agg_num(),
        customer_time()
            .prop_map(|t| format!("days since ({t})"))
            .boxed(),
        pick(&[
            "length(email)",
            "year(signup_date)",
            "month(birthday)",
            "day(signup_date)",
            "abs(arr - 5_000)",
            "round(ratio)",
            "coalesce(nps, 5)",
            "coalesce(company.employees, seats)",
            "p_min",
            "p_amount",
        ]),
    ];
    if defs {
        atoms.push(pick(&["d_num"]));
    }
    let leaf = proptest::strategy::Union::new(atoms).boxed();
    leaf.prop_recursive(2, 4, 2, |inner| {
        prop_oneof![
            (inner.clone(), pick(&["+", "-", "*"]), inner.clone())
                .prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            // Divisors include floating-point values that can be a zero of either sign.
            (
                inner.clone(),
                pick(&[
                    "ratio",
                    "(-ratio)",
                    "(ratio * -0.75)",
                    "seats",
                    "nps",
                    "arr",
                    "count(orders)",
                    "(seats - 5)",
                    "company.employees",
                    "p_min"
                ])
            )
                .prop_map(|(a, b)| format!("({a} / {b})")),
            inner.clone().prop_map(|a| format!("(-{a})")),
            inner.prop_map(|a| format!("abs({a})")),
        ]
    })
    .boxed()
}

fn population() -> S {
    let of = prop_oneof![
        pick(&["arr", "seats", "nps", "ratio", "signup_date", "last_login"]),
        order_agg_num().prop_map(|a| format!("({a})")),
        pick(&["(arr / seats)", "(seats + 1)", "d_num"]),
    ]
    .boxed();
    let within = prop_oneof![
        3 => Just(String::new()),
        1 => pick(&[" within region", " within plan", " within opted_in", " within company_id", " within company.country"]),
    ];
    prop_oneof![
        (
            of.clone(),
            within.clone(),
            pick(&["<", "<=", ">", ">=", "="]),
            pct_lit()
        )
            .prop_map(|(x, w, o, p)| format!("percentile of {x}{w} {o} {p}")),
        (
            of.clone(),
            within.clone(),
            pick(&["<", "<=", "=", ">"]),
            int_lit()
        )
            .prop_map(|(x, w, o, n)| format!("rank of {x}{w} {o} {n}")),
        (
            pick(&["ntile(3)", "ntile(7)", "quintile", "quartile", "decile"]),
            of.clone(),
            within.clone(),
            pick(&["=", ">=", "<"]),
            pick(&["1", "2", "3", "4", "5"])
        )
            .prop_map(|(f, x, w, o, n)| format!("{f} of {x}{w} {o} {n}")),
        (
            pick(&["share of total", "cumulative share of"]),
            pick(&[
                "arr",
                "seats",
                "nps",
                "(sum(orders.amount))",
                "(count(orders))"
            ]),
            within,
            pick(&["<", "<=", ">", ">="]),
            pct_lit()
        )
            .prop_map(|(f, x, w, o, p)| format!("{f} {x}{w} {o} {p}")),
    ]
    .boxed()
}

fn text_test() -> S {
    let value = pick(&[
        "email",
        "company.country",
        "lower(email)",
        "upper(company.country)",
    ]);
    let needle = pick(&[
        "\"a\"",
        "\"@\"",
        "\"example.com\"",
        "\"ANNA\"",
        "\"\"",
        "\"de\"",
        "\"ä\"",
    ]);
    let ic = pick(&["", " ignoring case"]);
    prop_oneof![
        (
            value.clone(),
            pick(&[
                "contains",
                "does not contain",
                "starts with",
                "does not start with",
                "ends with",
                "does not end with"
            ]),
            needle.clone(),
            ic.clone()
        )
            .prop_map(|(v, o, n, i)| format!("{v} {o} {n}{i}")),
        (
            value.clone(),
            pick(&[
                "matches \"^[a-z]+@\"",
                "matches \"(gmail|yahoo)[.]com$\"",
                "does not match \"^.$\"",
                "matches \"\\\\.\"",
                "matches \"^$\""
            ]),
            ic.clone()
        )
            .prop_map(|(v, m, i)| format!("{v} {m}{i}")),
        (
            value.clone(),
            pick(&[
                "is any of [\"DE\", \"x\"]",
                "is none of [\"de\", \"\"]",
                "is any of [\"anna@example.com\", \"bob@example.com\"]"
            ]),
            ic
        )
            .prop_map(|(v, m, i)| format!("{v} {m}{i}")),
        (value.clone(), pick(&["=", "is not", "<", ">="]), needle)
            .prop_map(|(v, o, n)| format!("{v} {o} {n}")),
        (
            value.clone(),
            pick(&["is known", "is unknown", "is empty", "is not empty"])
        )
            .prop_map(|(v, t)| format!("{v} {t}")),
        (
            pick(&["length(email)", "length(company.country)"]),
            cmp_op(),
            int_lit()
        )
            .prop_map(|(v, o, n)| format!("{v} {o} {n}")),
        pick(&[
            "upper(company.country) != company.country",
            "lower(email) = email",
            "email < \"c\"",
            "email >= company.country"
        ]),
    ]
    .boxed()
}

fn list_test() -> S {
    let ic = pick(&["", " ignoring case"]);
    prop_oneof![
        (
            pick(&[
                "contains \"vip\"",
                "does not contain \"vip\"",
                "contains \"\"",
                "contains any of [\"vip\", \"beta\"]",
                "contains all of [\"vip\", \"new\"]",
                "does not contain any of [\"new\"]",
                "contains all of []"
            ]),
            ic
        )
            .prop_map(|(t, i)| format!("tags {t}{i}")),
        pick(&["tags is empty", "tags is not empty"]),
    ]
    .boxed()
}

/// A condition of a customer; `segments` earlier segments may be referred to.
fn customer_leaf(segments: usize, rules: bool) -> S {
    let mut arms: Vec<(u32, S)> = vec![
        (
            4,
            (customer_num(true), cmp_op(), num_lit())
                .prop_map(|(a, o, b)| format!("{a} {o} {b}"))
                .boxed(),
        ),
        (
            1,
            (
                customer_num(true),
                pick(&["<", "=", ">="]),
                customer_num(true),
            )
                .prop_map(|(a, o, b)| format!("{a} {o} {b}"))
                .boxed(),
        ),
        (
            1,
            (
                customer_num(true),
                num_lit(),
                num_lit(),
                pick(&["is", "is not"]),
            )
                .prop_map(|(a, l, h, i)| format!("{a} {i} between {l} and {h}"))
                .boxed(),
        ),
        (
            2,
            pick(&[
                "region is EMEA",
                "region is not NA",
                "region is any of [EMEA, APAC]",
                "plan is none of [free]",
                "plan is pro",
                "plan is known",
                "plan is unknown",
                "nps is any of [0, 9, 10]",
                "nps is none of [9, 10]",
                "nps is known",
                "birthday is unknown",
                "last_login is known",
                "company_id is known",
                "company.employees is unknown",
                "avg(orders.amount) is known",
                "opted_in",
                "not opted_in",
                "opted_in = false",
                "d_flag",
                "seats > nps",
                "arr >= seats",
                "signup_date < birthday",
                "last_login > signup_date",
                "company.renewal_on >= signup_date",
                "seats is any of [p_min, 5]",
            ]),
        ),
        (
            3,
            (customer_time(), time_test())
                .prop_map(|(v, t)| format!("{v} {t}"))
                .boxed(),
        ),
        (
            1,
            (
                customer_time(),
                pick(&["<", "<=", "=", ">", ">=", "is not"]),
                date_lit(),
            )
                .prop_map(|(v, o, d)| format!("{v} {o} {d}"))
                .boxed(),
        ),
        (
            1,
            (customer_time(), date_lit(), date_lit())
                .prop_map(|(v, a, b)| format!("{v} is between {a} and {b}"))
                .boxed(),
        ),
        (
            1,
            (
                pick(&["birthday", "signup_date", "company.renewal_on"]),
                pick(&[
                    "in next 0 days",
                    "in next 7 days",
                    "in next 30 days",
                    "in this month",
                    "= today",
                    "in next 1 year",
                ]),
            )
                .prop_map(|(v, w)| format!("{v} anniversary {w}"))
                .boxed(),
        ),
        (
            1,
            pick(&[
                "last_login >= now - 12 hours",
                "last_login in last 24 hours",
                "last_login < today",
                "signup_date = today",
                "days since last_login <= 1",
                "signup_date >= p_day",
            ]),
        ),
        (2, text_test()),
        (1, list_test()),
        (
            1,
            agg_tail(window(), order_cond())
                .prop_map(|t| format!("any(orders{t})"))
                .boxed(),
        ),
        (
            1,
            agg_tail(window(), visit_cond())
                .prop_map(|t| format!("any(visits{t})"))
                .boxed(),
        ),
        (
            1,
            agg_tail(window(), order_cond())
                .prop_map(|t| format!("every(orders{t})"))
                .boxed(),
        ),
        (
            1,
            agg_tail(window(), visit_cond())
                .prop_filter("has where", |t| t.contains(" where "))
                .prop_map(|t| format!("every(visits{t})"))
                .boxed(),
        ),
        (
            1,
            pick(&[
                "any(company.contacts where seats > 5)",
                "every(company.contacts where opted_in)",
            ]),
        ),
        (3, population()),
    ];
    if segments > 0 {
        let refs: Vec<String> = (0..segments)
            .flat_map(|i| [format!("in segment s{i}"), format!("not in segment s{i}")])
            .collect();
        arms.push((2, select(refs).boxed()));
    }
    if rules {
        arms.push((
            2,
            pick(&[
                "t0 is gold",
                "t0 is not bronze",
                "t0 is any of [gold, silver]",
                "sc0 >= 5",
                "sc0 < 0",
                "sc0 = 0",
            ]),
        ));
    }
    proptest::strategy::Union::new_weighted(arms).boxed()
}

#[derive(Clone, Debug)]
enum Cond {
    Leaf(String),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Block(&'static str, Vec<Cond>),
}

impl Cond {
    fn render(&self) -> String {
        match self {
            Cond::Leaf(s) => s.clone(),
            Cond::Not(c) => format!("not ({})", c.render()),
            Cond::And(cs) => format!(
                "({})",
                cs.iter()
                    .map(Cond::render)
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            Cond::Or(cs) => format!(
                "({})",
                cs.iter().map(Cond::render).collect::<Vec<_>>().join(" or ")
            ),
            Cond::Block(kind, cs) => format!(
                "{kind} of {{\n    {}\n  }}",
                cs.iter()
                    .map(Cond::render)
                    .collect::<Vec<_>>()
                    .join("\n    ")
            ),
        }
    }
}

fn cond(leaf: S) -> BoxedStrategy<Cond> {
    if std::env::var_os("SEGL_DIFF_LEAVES").is_some() {
        return leaf.prop_map(Cond::Leaf).boxed();
    }
    leaf.prop_map(Cond::Leaf)
        .prop_recursive(3, 8, 3, |inner| {
            let items = prop::collection::vec(inner.clone(), 1..=3);
            prop_oneof![
                inner.clone().prop_map(|c| Cond::Not(Box::new(c))),
                prop::collection::vec(inner.clone(), 2..=3).prop_map(Cond::And),
                prop::collection::vec(inner, 2..=3).prop_map(Cond::Or),
                (select(&["all", "any", "none"][..]), items).prop_map(|(k, cs)| Cond::Block(k, cs)),
            ]
        })
        .boxed()
}

#[derive(Clone, Debug)]
pub(crate) struct Rules {
    params: (String, String, String),
    d_num: String,
    d_flag: Cond,
    d_day: String,
    segments: Vec<Cond>,
    tiers: (Cond, Cond),
    score: Vec<(i64, Cond)>,
    last: Cond,
    company: Cond,
    order: String,
}

pub(crate) fn rules() -> impl Strategy<Value = Rules> {
    let segments = (0..3)
        .map(|i| cond(customer_leaf(i, false)))
        .collect::<Vec<_>>();
    (
        (
            (
                pick(&["0", "5", "10"]),
                pick(&["100.00", "0.01", "2_500"]),
                pick(&["2024-02-29", "2026-01-01"]),
            ),
            // Definitions may not refer to themselves: no `d_num` inside.
            customer_num(false).prop_filter("no definition", |s| !s.contains("d_")),
            cond(customer_leaf(0, false))
                .prop_filter("no definition", |c| !c.render().contains("d_")),
            customer_time().prop_filter("no definition", |s| !s.contains("d_")),
        ),
        segments,
        (cond(customer_leaf(3, false)), cond(customer_leaf(3, false))),
        prop::collection::vec(
            (
                select(&[10_i64, 5, -5, 3, -20][..]),
                cond(customer_leaf(3, false)),
            ),
            1..=3,
        ),
        cond(customer_leaf(3, true)),
        cond(company_leaf()),
        order_cond(),
    )
        .prop_map(
            |((params, d_num, d_flag, d_day), segments, tiers, score, last, company, order)| {
                Rules {
                    params,
                    d_num,
                    d_flag,
                    d_day,
                    segments,
                    tiers,
                    score,
                    last,
                    company,
                    order,
                }
            },
        )
}

fn company_leaf() -> S {
    prop_oneof![
        pick(&[
            "country is known",
            "country is any of [\"DE\"] ignoring case",
            "employees >= 10",
            "employees is unknown",
            "count(contacts) >= 2",
            "any(contacts where opted_in)",
            "every(contacts where seats > 0)",
            "sum(contacts.arr) > 1_000",
            "count distinct(contacts.region) >= 2",
            "avg(contacts.seats) > 5",
        ]),
        (pick(&["renewal_on"]), time_test()).prop_map(|(v, t)| format!("{v} {t}")),
        (
            pick(&[
                "percentile of employees",
                "percentile of (count(contacts))",
                "share of total employees",
                "share of total employees within country"
            ]),
            pick(&["<", ">="]),
            pct_lit()
        )
            .prop_map(|(p, o, n)| format!("{p} {o} {n}")),
        (
            pick(&[
                "rank of employees",
                "quartile of employees within country",
                "rank of renewal_on"
            ]),
            pick(&["<=", "="]),
            pick(&["1", "2", "3"])
        )
            .prop_map(|(p, o, n)| format!("{p} {o} {n}")),
    ]
    .boxed()
}

impl Rules {
    pub(crate) fn text(&self) -> String {
        let mut s = String::new();
        let (p_min, p_amount, p_day) = &self.params;
        writeln!(s, "param p_min: integer = {p_min}").unwrap();
        writeln!(s, "param p_amount: decimal = {p_amount}").unwrap();
        writeln!(s, "param p_day = {p_day}").unwrap();
        writeln!(s, "define d_num = {}", self.d_num).unwrap();
        writeln!(s, "define d_flag = {}", self.d_flag.render()).unwrap();
        writeln!(s, "define d_day = {}", self.d_day).unwrap();
        for (i, c) in self.segments.iter().enumerate() {
            writeln!(s, "segment s{i} {{\n  where {}\n}}", c.render()).unwrap();
        }
        writeln!(
            s,
            "tiers t0 {{\n  gold when {}\n  silver when {}\n  bronze otherwise\n}}",
            self.tiers.0.render(),
            self.tiers.1.render()
        )
        .unwrap();
        writeln!(s, "score sc0 {{").unwrap();
        for (points, c) in &self.score {
            writeln!(s, "  {points:+} when {}", c.render()).unwrap();
        }
        writeln!(s, "}}").unwrap();
        writeln!(s, "segment s_last {{\n  where {}\n}}", self.last.render()).unwrap();
        writeln!(
            s,
            "segment s_company of company {{\n  where {}\n}}",
            self.company.render()
        )
        .unwrap();
        writeln!(s, "segment s_order of order {{\n  where {}\n}}", self.order).unwrap();
        s
    }
}

// ---------------------------------------------------------------------------------------------
// The property

pub(crate) fn check(rules: &str) -> Result<Program, String> {
    let report = check_project(&ProjectInput {
        name: "prop".into(),
        config: None,
        rules: vec![
            RawFile::new("schema.segl", SCHEMA),
            RawFile::new("rules.segl", rules),
        ],
    });
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == segl::diagnostics::Severity::Error)
        .map(|d| {
            let (a, b) = (d.primary.span.start as usize, d.primary.span.end as usize);
            let at = rules.get(a..b).unwrap_or("?");
            format!("{}: {} at `{at}`", d.code, d.message)
        })
        .collect();
    if errors.is_empty() {
        report.program.ok_or_else(|| "no program".into())
    } else {
        Err(errors.join("\n"))
    }
}

/// Every cell of a membership table as text, column by column.
fn cells(batch: &RecordBatch) -> Vec<(String, Vec<String>)> {
    let schema = batch.schema();
    (0..batch.num_columns())
        .map(|c| {
            let col = batch.column(c);
            let values = (0..batch.num_rows())
                .map(|r| array_value_to_string(col, r).unwrap())
                .collect();
            (schema.field(c).name().clone(), values)
        })
        .collect()
}

/// The first differences between the two results, empty when they agree.
fn differences(program: &Program, engine: &[Membership], reference: &[Membership]) -> Vec<String> {
    let mut out = Vec::new();
    if engine.len() != reference.len() {
        out.push(format!(
            "engine gives {} tables, reference {}",
            engine.len(),
            reference.len()
        ));
        return out;
    }
    for (e, r) in engine.iter().zip(reference) {
        let entity = &program.entity(e.entity).name;
        let (ec, rc) = (cells(&e.batch), cells(&r.batch));
        let names =
            |c: &[(String, Vec<String>)]| c.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        if names(&ec) != names(&rc) || ec[0].1 != rc[0].1 {
            out.push(format!(
                "{entity}: columns or keys differ: {:?} / {:?}",
                names(&ec),
                names(&rc)
            ));
            continue;
        }
        let keys = &ec[0].1;
        for ((name, ev), (_, rv)) in ec.iter().zip(&rc) {
            for (i, (a, b)) in ev.iter().zip(rv).enumerate() {
                if a != b && out.len() < 8 {
                    out.push(format!(
                        "{entity}.{name} of {}: engine {a}, reference {b}",
                        keys[i]
                    ));
                }
            }
        }
    }
    out
}

static CHECKED: AtomicUsize = AtomicUsize::new(0);
static REJECTED: AtomicUsize = AtomicUsize::new(0);
/// Rule columns compared, and those whose values were not all the same (a rough check that the
/// generated rules split the generated records rather than being trivially true or false).
static COLUMNS: AtomicUsize = AtomicUsize::new(0);
static MIXED: AtomicUsize = AtomicUsize::new(0);

fn one_case(rules: &Rules, data: &Data) -> Result<(), TestCaseError> {
    let text = rules.text();
    let program = match check(&text) {
        Ok(p) => p,
        Err(errors) => {
            REJECTED.fetch_add(1, Ordering::Relaxed);
            if std::env::var_os("SEGL_DIFF_SHOW_REJECTED").is_some() {
                eprintln!("rejected:\n{text}\n{errors}\n");
            }
            return Ok(());
        }
    };
    CHECKED.fetch_add(1, Ordering::Relaxed);
    let (dataset, settings) = dataset(&program, data);
    let engine = evaluate(&program, &dataset, &settings, &Request::default());
    let reference = segl::explain::evaluate(&program, &dataset, &settings);
    let mut found = match (&engine, &reference) {
        (Ok(e), Ok(r)) => differences(&program, &e.memberships, r),
        (Err(e), Ok(_)) => vec![format!("the engine failed: {e}")],
        (Ok(_), Err(r)) => vec![format!("the reference evaluator failed: {r:?}")],
        (Err(_), Err(_)) => Vec::new(),
    };
    // The same data as Parquet files, the big ones read piece by piece, two records a piece.
    if let (true, Ok(r)) = (found.is_empty(), &reference)
        && let Some(streamed) = streamed(&program, &dataset, &settings)
    {
        found = match streamed {
            Ok(e) => differences(&program, &e.memberships, r)
                .into_iter()
                .map(|d| format!("read piece by piece: {d}"))
                .collect(),
            Err(e) => vec![format!("the engine failed reading piece by piece: {e}")],
        };
    }
    if found.is_empty() {
        if let Ok(e) = &engine {
            for m in &e.memberships {
                for (_, values) in cells(&m.batch).iter().skip(1) {
                    COLUMNS.fetch_add(1, Ordering::Relaxed);
                    if values.iter().any(|v| *v != values[0]) {
                        MIXED.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        return Ok(());
    }
    let mut msg = String::new();
    writeln!(msg, "as of {} in {}", data.as_of, data.zone).unwrap();
    writeln!(msg, "--- rules.segl\n{text}").unwrap();
    for t in dataset.tables() {
        if t.batch.num_rows() > 0 {
            writeln!(
                msg,
                "--- {}\n{}",
                program.entity(t.entity).name,
                pretty_format_batches(std::slice::from_ref(&t.batch)).unwrap()
            )
            .unwrap();
        }
    }
    writeln!(msg, "--- differences\n{}", found.join("\n")).unwrap();
    Err(TestCaseError::fail(msg))
}

static STREAMED: AtomicUsize = AtomicUsize::new(0);

/// Evaluates `program` over `dataset` written to Parquet files, with every entity the run can
/// read piece by piece read so, a few records at a time; `None` when no entity is.
fn streamed(
    program: &Program,
    dataset: &Dataset,
    settings: &RunSettings,
) -> Option<Result<segl::engine::lower::Evaluation, String>> {
    use segl::engine::load::stream::Streaming;
    use segl::engine::load::{DataSource, load_streaming};
    let request = Request::default();
    let entities = segl::engine::lower::streaming::streamable(program, &request);
    if entities.is_empty() {
        return None;
    }
    STREAMED.fetch_add(1, Ordering::Relaxed);
    static CASE: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "segl-streamed-{}-{}",
        std::process::id(),
        CASE.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut sources = Vec::new();
    for t in dataset.tables() {
        let path = dir.join(format!("{}.parquet", program.entity(t.entity).name));
        let file = std::fs::File::create(&path).unwrap();
        let mut writer =
            datafusion::parquet::arrow::ArrowWriter::try_new(file, t.batch.schema(), None).unwrap();
        writer.write(&t.batch).unwrap();
        writer.close().unwrap();
        let shown = path.display().to_string();
        sources.push(DataSource::new(t.entity, path, shown));
    }
    let usage = request.usage(program);
    let stream = Streaming {
        entities,
        piece_rows: Some(2),
    };
    let mut source_map = segl::source::SourceMap::new();
    let loaded = load_streaming(
        program,
        &sources,
        &usage,
        &stream,
        &settings.as_of.time_zone,
        &mut source_map,
    );
    let outcome = if loaded
        .diagnostics
        .iter()
        .any(segl::diagnostics::Diagnostic::is_error)
    {
        Err(format!("loading failed: {:?}", loaded.diagnostics))
    } else {
        evaluate(program, &loaded.dataset, settings, &request).map_err(|e| match e {
            segl::engine::lower::EngineError::Data(d) => format!("data problems: {d:?}"),
            e => e.to_string(),
        })
    };
    let _ = std::fs::remove_dir_all(&dir);
    Some(outcome)
}

#[test]
fn engine_and_reference_agree_on_random_programs() {
    let cases = std::env::var("SEGL_DIFF_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(48);
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    let mut runner = if std::env::var_os("SEGL_DIFF_RANDOM").is_some() {
        TestRunner::new(config)
    } else {
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
    };
    let collect = std::env::var_os("SEGL_DIFF_COLLECT").is_some();
    let result = runner.run(&(rules(), data()), |(rules, data)| {
        let outcome = one_case(&rules, &data);
        if collect {
            if let Err(e) = outcome {
                eprintln!("=== FAILING CASE\n{e}");
            }
            return Ok(());
        }
        outcome
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, _)) => panic!("minimal failing case:\n{reason}"),
        Err(e) => panic!("{e}"),
    }
    let (checked, rejected) = (
        CHECKED.load(Ordering::Relaxed),
        REJECTED.load(Ordering::Relaxed),
    );
    eprintln!(
        "{checked} programs checked, {rejected} rejected by the checker; {} of {} rule columns split the records; {} read piece by piece",
        MIXED.load(Ordering::Relaxed),
        COLUMNS.load(Ordering::Relaxed),
        STREAMED.load(Ordering::Relaxed)
    );
    assert!(
        rejected * 5 <= checked,
        "too many generated programs fail to check: {rejected} of {}",
        checked + rejected
    );
}

// ---------------------------------------------------------------------------------------------
// Minimal reproductions of the disagreements the property found, ignored until the engine is
// fixed (run them with `cargo test differential -- --ignored`).

fn plain(seats: i64, ratio: f64) -> Customer {
    Customer {
        region: "EMEA",
        plan: Some("pro"),
        seats,
        arr_cents: 0,
        ratio,
        nps: None,
        signup: Day::Abs("2024-02-29"),
        birthday: None,
        last_login: None,
        opted_in: true,
        email: None,
        tags: Vec::new(),
        company: None,
    }
}

fn small(customers: Vec<Customer>, orders: Vec<Order>) -> Data {
    Data {
        as_of: "2026-11-20",
        zone: "UTC",
        customers,
        orders,
        visits: Vec::new(),
        companies: Vec::new(),
    }
}

fn agree(rules: &str, data: &Data) {
    let program = check(rules).unwrap();
    let (dataset, settings) = dataset(&program, data);
    let engine = evaluate(&program, &dataset, &settings, &Request::default()).unwrap();
    let reference = segl::explain::evaluate(&program, &dataset, &settings).unwrap();
    let mut found = Vec::new();
    for (e, r) in engine.memberships.iter().zip(&reference) {
        let (ec, rc) = (cells(&e.batch), cells(&r.batch));
        if ec != rc {
            found.push(format!("engine {ec:?}\nreference {rc:?}"));
        }
    }
    if let Some(streamed) = streamed(&program, &dataset, &settings) {
        let streamed = streamed.unwrap();
        found.extend(differences(&program, &streamed.memberships, &reference));
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn cumulative_share_is_equal_for_equal_values() {
    // seats 10, 10, 5: both 10s hold 20 of 25 (80%), so neither is in `<= 50%`.
    let data = small(
        vec![plain(10, 0.0), plain(10, 0.0), plain(5, 0.0)],
        Vec::new(),
    );
    agree(
        "segment s { where cumulative share of seats <= 50% }",
        &data,
    );
}

#[test]
fn every_without_a_condition() {
    let order = Order {
        customer: 0,
        amount_cents: 100,
        placed_on: Day::Rel(-1),
        status: "paid",
        channel: None,
        gift: None,
    };
    agree(
        "segment s { where every(orders) }",
        &small(vec![plain(1, 0.0)], vec![order]),
    );
}

#[test]
fn division_by_negative_zero_is_unknown() {
    agree(
        "segment s { where 1 / (-ratio) < 0 }",
        &small(vec![plain(1, 0.0)], Vec::new()),
    );
}

#[test]
fn empty_membership_has_its_columns() {
    agree(
        "segment s { where seats > 1 }",
        &small(Vec::new(), Vec::new()),
    );
}

#[test]
fn negative_zero_ties_with_zero_in_rankings() {
    // -0.0 = 0.0, so both rank first; the engine's window order used to sort the sign.
    let data = small(
        vec![plain(1, -0.0), plain(1, 0.0), plain(1, -1.0)],
        Vec::new(),
    );
    agree(
        "segment s { where rank of ratio <= 1 }\nsegment t { where percentile of ratio >= 50% }",
        &data,
    );
}
