//! What the generated records look like: companies, customers and their orders, tickets and
//! events, as plain rows built from integer draws of [`Rng`].
//!
//! Every customer is generated from its own random stream (`seed`, customer number), together
//! with its orders, tickets and events, so a chunk of customers never depends on another chunk.
//! Hidden traits (how active someone is, how they buy) tie the fields of one customer together
//! the way real data is tied: active users log in recently and produce many events, heavy buyers
//! have many orders, detractors open more tickets.

use super::calendar::{days_from_civil, days_in_month, is_leap, month_end};
use super::rng::Rng;

const STREAM_COMPANY: u64 = 1;
const STREAM_CUSTOMER: u64 = 2;

const DAY_MICROS: i64 = 86_400_000_000;
const SECOND_MICROS: i64 = 1_000_000;

pub struct CompanyRow {
    pub id: String,
    pub name: String,
    pub industry: &'static str,
    pub employees: i64,
    pub country: &'static str,
    pub region: &'static str,
    pub arr_cents: i128,
    pub renewal_date: Option<i32>,
    /// Hidden: 0 quiet, 1 normal, 2 everybody uses the product.
    engagement: u8,
}

pub struct CustomerRow {
    pub id: String,
    pub email: String,
    pub first_name: Option<&'static str>,
    pub country: &'static str,
    pub region: &'static str,
    pub city: Option<&'static str>,
    pub birthday: Option<i32>,
    pub plan: &'static str,
    pub arr_cents: i128,
    pub seats: i64,
    pub signup_date: i32,
    pub last_login: Option<i64>,
    pub nps: Option<i64>,
    pub email_opt_in: bool,
    pub interests: Vec<&'static str>,
    pub primary_device: &'static str,
    pub apps: Vec<&'static str>,
    pub features_used: Vec<&'static str>,
    pub job_role: Option<&'static str>,
    pub channel: &'static str,
    pub tags: Vec<&'static str>,
    pub company_id: Option<String>,
}

pub struct OrderRow {
    pub id: String,
    pub customer_id: String,
    pub placed_on: i32,
    pub amount_cents: i128,
    pub status: &'static str,
    pub channel: &'static str,
    pub category: &'static str,
    pub items: i64,
}

pub struct TicketRow {
    pub id: String,
    pub customer_id: String,
    pub opened_at: i64,
    pub priority: &'static str,
    pub status: &'static str,
    pub category: &'static str,
    pub csat: Option<i64>,
}

pub struct EventRow {
    pub id: String,
    pub customer_id: String,
    pub occurred_at: i64,
    pub kind: &'static str,
    pub feature: Option<&'static str>,
}

/// One customer with everything that belongs to them.
pub struct CustomerBundle {
    pub customer: CustomerRow,
    pub orders: Vec<OrderRow>,
    pub tickets: Vec<TicketRow>,
    pub events: Vec<EventRow>,
}

/// Running numbers for the ids of related records (`O00000001`, `T…`, `E…`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    pub orders: u64,
    pub tickets: u64,
    pub events: u64,
}

// --- Places --------------------------------------------------------------------------------

struct Country {
    code: &'static str,
    weight: u32,
    cities: &'static [(&'static str, u32)],
    suffix: &'static str,
}

const EMEA: &[Country] = &[
    Country {
        code: "DE",
        weight: 26,
        suffix: "GmbH",
        cities: &[
            ("Berlin", 20),
            ("Hamburg", 10),
            ("München", 8),
            ("Munich", 4),
            ("Muenchen", 2),
            ("münchen", 1),
            ("Köln", 6),
            ("Frankfurt am Main", 6),
            ("Stuttgart", 4),
            ("Leipzig", 3),
        ],
    },
    Country {
        code: "GB",
        weight: 15,
        suffix: "Ltd",
        cities: &[
            ("London", 20),
            ("Manchester", 5),
            ("Edinburgh", 3),
            ("Bristol", 3),
        ],
    },
    Country {
        code: "FR",
        weight: 12,
        suffix: "SAS",
        cities: &[("Paris", 15), ("Lyon", 5), ("Toulouse", 3), ("Nantes", 2)],
    },
    Country {
        code: "NL",
        weight: 6,
        suffix: "B.V.",
        cities: &[("Amsterdam", 10), ("Rotterdam", 4), ("Utrecht", 3)],
    },
    Country {
        code: "AT",
        weight: 5,
        suffix: "GmbH",
        cities: &[("Wien", 10), ("Graz", 3), ("Salzburg", 2)],
    },
    Country {
        code: "CH",
        weight: 5,
        suffix: "AG",
        cities: &[("Zürich", 10), ("Genève", 4), ("Basel", 3)],
    },
    Country {
        code: "ES",
        weight: 6,
        suffix: "S.L.",
        cities: &[("Madrid", 10), ("Barcelona", 8), ("Valencia", 2)],
    },
    Country {
        code: "IT",
        weight: 5,
        suffix: "S.r.l.",
        cities: &[("Milano", 10), ("Roma", 6), ("Torino", 3)],
    },
    Country {
        code: "SE",
        weight: 4,
        suffix: "AB",
        cities: &[("Stockholm", 10), ("Göteborg", 4), ("Malmö", 2)],
    },
    Country {
        code: "PL",
        weight: 4,
        suffix: "Sp. z o.o.",
        cities: &[("Warszawa", 10), ("Kraków", 5), ("Łódź", 2)],
    },
    Country {
        code: "IE",
        weight: 3,
        suffix: "Ltd",
        cities: &[("Dublin", 10), ("Cork", 2)],
    },
    Country {
        code: "AE",
        weight: 2,
        suffix: "FZ-LLC",
        cities: &[("Dubai", 10), ("Abu Dhabi", 4)],
    },
    Country {
        code: "ZA",
        weight: 2,
        suffix: "(Pty) Ltd",
        cities: &[("Cape Town", 6), ("Johannesburg", 6)],
    },
    // Namibia's ISO code is `NA`: a real value, not a missing marker.
    Country {
        code: "NA",
        weight: 1,
        suffix: "(Pty) Ltd",
        cities: &[("Windhoek", 10), ("Swakopmund", 2)],
    },
];
const NORTH_AMERICA: &[Country] = &[
    Country {
        code: "US",
        weight: 80,
        suffix: "Inc.",
        cities: &[
            ("New York", 15),
            ("San Francisco", 10),
            ("Austin", 6),
            ("Chicago", 8),
            ("Seattle", 6),
            ("Washington, D.C.", 4),
            ("Munich", 1),
        ],
    },
    Country {
        code: "CA",
        weight: 20,
        suffix: "Inc.",
        cities: &[("Toronto", 10), ("Montréal", 6), ("Vancouver", 6)],
    },
];
const LATAM: &[Country] = &[
    Country {
        code: "BR",
        weight: 40,
        suffix: "Ltda.",
        cities: &[("São Paulo", 15), ("Rio de Janeiro", 8), ("Curitiba", 3)],
    },
    Country {
        code: "MX",
        weight: 30,
        suffix: "S.A. de C.V.",
        cities: &[
            ("Ciudad de México", 12),
            ("Guadalajara", 5),
            ("Monterrey", 4),
        ],
    },
    Country {
        code: "AR",
        weight: 10,
        suffix: "S.A.",
        cities: &[("Buenos Aires", 10), ("Córdoba", 3)],
    },
    Country {
        code: "CO",
        weight: 10,
        suffix: "S.A.S.",
        cities: &[("Bogotá", 10), ("Medellín", 5)],
    },
    Country {
        code: "CL",
        weight: 10,
        suffix: "SpA",
        cities: &[("Santiago", 10), ("Valparaíso", 2)],
    },
];
const APAC: &[Country] = &[
    Country {
        code: "AU",
        weight: 20,
        suffix: "Pty Ltd",
        cities: &[("Sydney", 10), ("Melbourne", 8), ("Brisbane", 3)],
    },
    Country {
        code: "JP",
        weight: 18,
        suffix: "K.K.",
        cities: &[("東京", 6), ("Tokyo", 10), ("Osaka", 5)],
    },
    Country {
        code: "IN",
        weight: 20,
        suffix: "Pvt. Ltd.",
        cities: &[
            ("Bengaluru", 10),
            ("Mumbai", 8),
            ("New Delhi", 6),
            ("Pune", 4),
        ],
    },
    Country {
        code: "SG",
        weight: 15,
        suffix: "Pte. Ltd.",
        cities: &[("Singapore", 10)],
    },
    Country {
        code: "NZ",
        weight: 5,
        suffix: "Ltd",
        cities: &[("Auckland", 10), ("Wellington", 4)],
    },
    Country {
        code: "KR",
        weight: 10,
        suffix: "Co., Ltd.",
        cities: &[("Seoul", 10), ("Busan", 3)],
    },
    Country {
        code: "ID",
        weight: 8,
        suffix: "PT",
        cities: &[("Jakarta", 10), ("Surabaya", 3)],
    },
];

const REGIONS: &[(&str, u32)] = &[("EMEA", 45), ("NA", 30), ("APAC", 15), ("LATAM", 10)];

fn countries_of(region: &str) -> &'static [Country] {
    match region {
        "NA" => NORTH_AMERICA,
        "LATAM" => LATAM,
        "APAC" => APAC,
        _ => EMEA,
    }
}

fn pick_country(rng: &mut Rng, region: &str) -> &'static Country {
    let list = countries_of(region);
    let weights: Vec<u32> = list.iter().map(|c| c.weight).collect();
    let i = rng.weighted(&weights);
    &list[i.min(list.len() - 1)]
}

fn find_country(region: &str, code: &str) -> &'static Country {
    let list = countries_of(region);
    list.iter().find(|c| c.code == code).unwrap_or(&list[0])
}

// --- Vocabulary ----------------------------------------------------------------------------

/// First names with an ASCII spelling for e-mail addresses.
const FIRST_NAMES: &[(&str, &str)] = &[
    ("Anna", "anna"),
    ("Lukas", "lukas"),
    ("Sophie", "sophie"),
    ("Jonas", "jonas"),
    ("Marie", "marie"),
    ("Leon", "leon"),
    ("Emma", "emma"),
    ("Noah", "noah"),
    ("Olivia", "olivia"),
    ("Liam", "liam"),
    ("Mia", "mia"),
    ("Elias", "elias"),
    ("Jürgen", "juergen"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("François", "francois"),
    ("Łukasz", "lukasz"),
    ("Søren", "soren"),
    ("Chen", "chen"),
    ("Wei", "wei"),
    ("Yuki", "yuki"),
    ("Haruto", "haruto"),
    ("Priya", "priya"),
    ("Arjun", "arjun"),
    ("Fatima", "fatima"),
    ("Omar", "omar"),
    ("Thandiwe", "thandiwe"),
    ("Sipho", "sipho"),
    ("Camila", "camila"),
    ("Mateo", "mateo"),
    ("Valentina", "valentina"),
    ("Santiago", "santiago"),
    ("Grace", "grace"),
    ("James", "james"),
    ("Emily", "emily"),
    ("Michael", "michael"),
    ("Sarah", "sarah"),
    ("David", "david"),
    ("Laura", "laura"),
    ("Daniel", "daniel"),
    ("Siobhán", "siobhan"),
    ("D'Arcy", "darcy"),
    ("Ana-Maria", "anamaria"),
    ("Björn", "bjorn"),
    ("Minh", "minh"),
    ("Ji-woo", "jiwoo"),
    ("Aroha", "aroha"),
    ("Na", "na"),
];
const PERSONAL_DOMAINS: &[(&str, u32)] = &[
    ("gmail.com", 30),
    ("googlemail.com", 3),
    ("yahoo.com", 8),
    ("hotmail.com", 6),
    ("outlook.com", 8),
    ("gmx.de", 5),
    ("web.de", 4),
    ("GMAIL.com", 1),
    ("icloud.com", 6),
    ("proton.me", 3),
    ("mail.ru", 1),
];
const INTERESTS: &[&str] = &[
    "analytics",
    "automation",
    "sustainability",
    "climate",
    "outdoors",
    "travel",
    "cooking",
    "fitness",
    "finance",
    "design",
    "gaming",
    "music",
    "fashion",
    "productivity",
    "security",
];
const APPS: &[(&str, u32)] = &[
    ("slack", 30),
    ("salesforce", 14),
    ("hubspot", 14),
    ("pipedrive", 5),
    ("zapier", 12),
    ("google_sheets", 15),
    ("teams", 10),
    ("jira", 8),
    ("shopify", 6),
];
const FEATURES: &[&str] = &[
    "reports",
    "dashboards",
    "automations",
    "exports",
    "forecasts",
    "segments",
    "alerts",
    "api",
    "workflows",
    "templates",
];
const TAGS: &[(&str, u32)] = &[
    ("vip", 10),
    ("beta", 12),
    ("newsletter", 8),
    ("partner-lead", 5),
    ("NA", 3),
    ("n/a", 2),
    ("at-risk", 6),
    ("churned", 4),
    ("Churned", 2),
    ("cancelling", 2),
    ("Cancelling", 1),
    ("canceling", 1),
    ("reference", 3),
];
const CATEGORIES: &[(&str, u32)] = &[
    ("Outdoor gear", 8),
    ("outdoor apparel", 3),
    ("Garden", 8),
    ("Kitchen", 10),
    ("Books", 10),
    ("Office", 8),
    ("Gifts", 7),
    ("Electronics", 9),
    ("Toys", 5),
    ("Sports", 6),
    ("Home & Living", 8),
    ("Beauty, Health", 4),
    ("Software licences", 4),
];
const TICKET_CATEGORIES: &[(&str, u32)] = &[
    ("how-to", 30),
    ("bug", 16),
    ("billing", 9),
    ("invoice", 5),
    ("refund", 4),
    ("integration", 10),
    ("account", 8),
    ("feature-request", 8),
    ("onboarding", 4),
    ("Onboarding - setup", 2),
    ("N/A", 2),
];
const INDUSTRIES: &[(&str, u32)] = &[
    ("software", 22),
    ("retail", 16),
    ("finance", 12),
    ("healthcare", 10),
    ("manufacturing", 14),
    ("education", 8),
    ("media", 8),
    ("other", 10),
];
const COMPANY_WORDS: &[&str] = &[
    "Acme",
    "Nordwind",
    "Blue Harbor",
    "Brightframe",
    "Gridline",
    "Sonnenschein",
    "Kite",
    "Maple",
    "Andes",
    "Sakura",
    "Baobab",
    "Polaris",
    "Fjord",
    "Copperleaf",
    "Redwood",
    "Lumen",
    "Atlas",
    "Granite",
    "Helix",
    "Orchard",
    "Quartz",
    "Riverstone",
    "Tidewater",
    "Vertex",
    "Zephyr",
    "Ironbark",
    "Juniper",
    "Kestrel",
    "Meridian",
    "Nimbus",
];
const COMPANY_KINDS: &[&str] = &[
    "Software",
    "Systems",
    "Retail",
    "Bank",
    "Health",
    "Industries",
    "Learning",
    "Media",
    "Logistics",
    "Labs",
    "Partners",
    "Group",
];

/// Picks `n` distinct items (fewer when the list is shorter), keeping the list's order.
fn pick_distinct(rng: &mut Rng, items: &[&'static str], n: usize) -> Vec<&'static str> {
    let mut chosen = vec![false; items.len()];
    let mut left = n.min(items.len());
    while left > 0 {
        let i = rng.below(items.len() as u64) as usize;
        if let Some(slot) = chosen.get_mut(i)
            && !*slot
        {
            *slot = true;
            left -= 1;
        }
    }
    items
        .iter()
        .zip(chosen)
        .filter_map(|(item, c)| c.then_some(*item))
        .collect()
}

fn pick_distinct_weighted(
    rng: &mut Rng,
    items: &[(&'static str, u32)],
    n: usize,
) -> Vec<&'static str> {
    let mut chosen = vec![false; items.len()];
    let mut left = n.min(items.len());
    let mut tries = 0;
    while left > 0 && tries < 200 {
        tries += 1;
        let weights: Vec<u32> = items.iter().map(|(_, w)| *w).collect();
        let i = rng.weighted(&weights);
        if let Some(slot) = chosen.get_mut(i)
            && !*slot
        {
            *slot = true;
            left -= 1;
        }
    }
    items
        .iter()
        .zip(chosen)
        .filter_map(|(item, c)| c.then_some(item.0))
        .collect()
}

fn money(units: i64) -> i128 {
    i128::from(units) * 100
}

// --- Companies -----------------------------------------------------------------------------

/// How many companies go with `customers` customers: one per ten, at least five.
#[must_use]
pub fn company_count(customers: usize) -> usize {
    (customers / 10).max(5)
}

#[must_use]
pub fn company(seed: u64, index: usize, as_of: i32) -> CompanyRow {
    let mut rng = Rng::for_item(seed, STREAM_COMPANY, index as u64);
    let region = *rng.pick(REGIONS);
    let country = pick_country(&mut rng, region);
    let industry = *rng.pick(INDUSTRIES);
    let word = *rng.choose(COMPANY_WORDS);
    let name = match rng.below(20) {
        0 => format!("{word}, {} & Partners", rng.choose(COMPANY_WORDS)),
        1 => format!("Café \"{word}\" {}", country.suffix),
        2..=9 => format!("{word} {} {}", rng.choose(COMPANY_KINDS), country.suffix),
        _ => format!("{word} {}", country.suffix),
    };
    // Headcount: a long tail from 3 to 120,000, often round.
    let raw = match rng.below(10) {
        0..=4 => rng.range(3, 99),
        5..=7 => rng.range(100, 999),
        8 => rng.range(1_000, 9_999),
        _ => rng.pareto(10_000, 120_000),
    };
    let employees = if rng.chance(400) && raw >= 100 {
        raw / 50 * 50
    } else {
        raw
    };
    // Account ARR grows with headcount; a few accounts pay nothing (pilots, lapsed).
    let arr_units = if rng.chance(70) {
        0
    } else {
        let base = match employees {
            0..=99 => rng.pareto(2_000, 60_000),
            100..=999 => rng.pareto(10_000, 250_000),
            1_000..=9_999 => rng.pareto(40_000, 900_000),
            _ => rng.pareto(120_000, 3_000_000),
        };
        if rng.chance(700) {
            base / 1_000 * 1_000
        } else {
            base
        }
    };
    let renewal_date = if rng.chance(150) {
        None
    } else {
        Some(as_of + rng.range(-45, 365) as i32)
    };
    let engagement = rng.weighted(&[25, 55, 20]) as u8;
    CompanyRow {
        id: format!("CO{:06}", index + 1),
        name,
        industry,
        employees,
        country: country.code,
        region,
        arr_cents: money(arr_units),
        renewal_date,
        engagement,
    }
}

/// Cumulative weights for choosing a customer's company: bigger companies get more contacts.
#[must_use]
pub fn company_weights(companies: &[CompanyRow]) -> Vec<u64> {
    let mut total = 0u64;
    companies
        .iter()
        .map(|c| {
            let w = match c.employees {
                0..=19 => 2,
                20..=99 => 4,
                100..=999 => 8,
                1_000..=9_999 => 14,
                _ => 20,
            };
            total += w;
            total
        })
        .collect()
}

fn pick_company(rng: &mut Rng, cumulative: &[u64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0);
    let pick = rng.below(total);
    cumulative.partition_point(|&c| c <= pick)
}

// --- Customers -----------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Activity {
    Never,
    /// Logged in during the last week.
    Active,
    /// 8 to 30 days ago.
    Recent,
    /// 31 to 60 days ago.
    Lapsing,
    /// More than 60 days ago.
    Inactive,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Buying {
    None,
    Occasional,
    Regular,
    Heavy,
    Whale,
}

/// Generates customer `index` (0-based) with its related records.
#[must_use]
pub fn customer(
    seed: u64,
    index: usize,
    as_of: i32,
    companies: &[CompanyRow],
    cumulative: &[u64],
    counters: &mut Counters,
) -> CustomerBundle {
    let mut rng = Rng::for_item(seed, STREAM_CUSTOMER, index as u64);
    let id = format!("C{:07}", index + 1);

    // Business contact or consumer.
    let company = if rng.chance(450) && !companies.is_empty() {
        companies.get(pick_company(&mut rng, cumulative))
    } else {
        None
    };
    let (region, country) = match company {
        Some(c) if rng.chance(880) => (c.region, find_country(c.region, c.country)),
        _ => {
            let region = *rng.pick(REGIONS);
            (region, pick_country(&mut rng, region))
        }
    };
    let city = if rng.chance(90) {
        None
    } else {
        Some(*rng.pick(country.cities))
    };

    let plan = if company.is_some() {
        *rng.pick(&[
            ("free", 25),
            ("starter", 25),
            ("pro", 33),
            ("enterprise", 17),
        ])
    } else {
        *rng.pick(&[
            ("free", 66),
            ("starter", 21),
            ("pro", 11),
            ("enterprise", 2),
        ])
    };
    let arr_units: i64 = match plan {
        "starter" => *rng.pick(&[
            (600, 20),
            (1_200, 30),
            (1_800, 10),
            (2_400, 12),
            (3_000, 8),
            (3_600, 6),
            (1_188, 8),
            (4_800, 6),
        ]),
        "pro" => {
            let v = rng.pareto(4_000, 60_000);
            if rng.chance(750) { v / 500 * 500 } else { v }
        }
        "enterprise" => {
            let v = rng.pareto(20_000, 600_000);
            if rng.chance(750) {
                v / 5_000 * 5_000
            } else {
                v
            }
        }
        _ => 0,
    };
    // A few odd cents, as in real billing data (monthly prices times twelve, discounts).
    let arr_cents = if arr_units > 0 && rng.chance(80) {
        money(arr_units) + i128::from(rng.range(1, 99))
    } else {
        money(arr_units)
    };
    let seats = match plan {
        "free" => rng.skewed(1, 3, 3),
        "starter" => *rng.pick(&[(1, 20), (2, 25), (3, 20), (4, 20), (5, 15)]),
        "pro" => rng.range(3, 25),
        _ => rng.pareto(20, 2_000),
    };

    // Signed up over the last six years, more of them recently (the business grows).
    let span = 6 * 365;
    let back = rng.skewed(0, span, 2) as i32;
    let signup_date = as_of - back;
    let tenure = back;

    let activity = if tenure <= 30 && rng.chance(250) {
        Activity::Never
    } else {
        match rng.weighted(&[6, 36, 20, 10, 28]) {
            0 => Activity::Never,
            1 => Activity::Active,
            2 => Activity::Recent,
            3 => Activity::Lapsing,
            _ => Activity::Inactive,
        }
    };
    // Contacts at an engaged company mostly use the product; at a quiet one, mostly not.
    let activity = match (company.map(|c| c.engagement), activity) {
        (Some(2), Activity::Never | Activity::Lapsing | Activity::Inactive) if rng.chance(850) => {
            Activity::Active
        }
        (Some(0), Activity::Active | Activity::Recent) if rng.chance(500) => Activity::Inactive,
        (_, a) => a,
    };
    let login_days_ago: Option<i32> = match activity {
        Activity::Never => None,
        Activity::Active => Some(rng.skewed(0, 6, 2) as i32),
        Activity::Recent => Some(rng.range(7, 30) as i32),
        Activity::Lapsing => Some(rng.range(31, 60) as i32),
        Activity::Inactive => Some(rng.range(61, 900) as i32),
    }
    .map(|d| d.min(tenure));
    let last_login = login_days_ago.map(|d| {
        i64::from(as_of - d) * DAY_MICROS + rng.range(6 * 3600, 20 * 3600 + 3599) * SECOND_MICROS
    });

    let nps = if rng.chance(580) {
        None
    } else {
        let detractor_bias = if matches!(activity, Activity::Inactive | Activity::Never) {
            2
        } else {
            0
        };
        Some(match rng.weighted(&[3 + detractor_bias, 3, 4]) {
            0 => rng.range(0, 6),
            1 => rng.range(7, 8),
            _ => rng.range(9, 10),
        })
    };
    let email_opt_in = rng.chance(620);

    let (first_name, slug) = {
        let (name, slug) = *rng.choose(FIRST_NAMES);
        if rng.chance(80) {
            (None, slug)
        } else {
            (Some(name), slug)
        }
    };
    let email = match company {
        Some(c) if rng.chance(850) => {
            let domain: String = c
                .name
                .split(|ch: char| !ch.is_ascii_alphanumeric())
                .find(|w| !w.is_empty())
                .unwrap_or("company")
                .to_ascii_lowercase();
            let tld = match c.country {
                "DE" => "de",
                "GB" => "co.uk",
                "FR" => "fr",
                "US" => "com",
                _ => "io",
            };
            format!("{slug}.{}@{domain}.{tld}", index + 1)
        }
        _ => {
            let domain = rng.pick(PERSONAL_DOMAINS);
            if rng.chance(50) {
                format!("{}{}@{domain}", slug.to_ascii_uppercase(), index + 1)
            } else {
                format!("{slug}{}@{domain}", index + 1)
            }
        }
    };

    // Birthdays: ages 18 to 80, a few on 29 February.
    let birthday = if rng.chance(220) {
        None
    } else {
        let age = 18 + rng.skewed(0, 62, 2) as i32;
        let year = as_of_year(as_of) - age;
        if rng.chance(4) {
            let leap = (year..).find(|y| is_leap(*y)).unwrap_or(year);
            Some(days_from_civil(leap, 2, 29))
        } else {
            let month = rng.range(1, 12) as u32;
            let day = rng.range(1, i64::from(days_in_month(year, month))) as u32;
            Some(days_from_civil(year, month, day))
        }
    };

    let interests = if rng.chance(250) {
        Vec::new()
    } else {
        let n = rng.range(1, 4) as usize;
        pick_distinct(&mut rng, INTERESTS, n)
    };
    let primary_device = *rng.pick(&[("desktop", 55), ("ios", 25), ("android", 20)]);
    let apps = if rng.chance(if plan == "free" { 700 } else { 350 }) {
        Vec::new()
    } else {
        let n = rng.skewed(1, 4, 2) as usize;
        pick_distinct_weighted(&mut rng, APPS, n)
    };
    let features_used = if rng.chance(200) || activity == Activity::Never {
        Vec::new()
    } else {
        let n = rng.range(1, 6) as usize;
        pick_distinct(&mut rng, FEATURES, n)
    };
    let job_role = if company.is_some() {
        rng.pick(&[
            (Some("decision_maker"), 20),
            (Some("manager"), 28),
            (Some("user"), 35),
            (Some("billing"), 10),
            (None, 7),
        ])
        .to_owned()
    } else {
        rng.pick(&[
            (None, 65),
            (Some("user"), 25),
            (Some("manager"), 5),
            (Some("decision_maker"), 3),
            (Some("billing"), 2),
        ])
        .to_owned()
    };
    let channel = if plan == "enterprise" && rng.chance(500) {
        "sales"
    } else {
        *rng.pick(&[
            ("organic", 35),
            ("paid_search", 20),
            ("social", 15),
            ("referral", 12),
            ("partner", 8),
            ("sales", 10),
        ])
    };
    let tags = if rng.chance(if activity == Activity::Inactive {
        500
    } else {
        800
    }) {
        Vec::new()
    } else {
        let n = rng.skewed(1, 3, 2) as usize;
        pick_distinct_weighted(&mut rng, TAGS, n)
    };

    let customer = CustomerRow {
        id,
        email,
        first_name,
        country: country.code,
        region,
        city,
        birthday,
        plan,
        arr_cents,
        seats,
        signup_date,
        last_login,
        nps,
        email_opt_in,
        interests,
        primary_device,
        apps,
        features_used,
        job_role,
        channel,
        tags,
        company_id: company.map(|c| c.id.clone()),
    };
    let orders = orders(&mut rng, &customer, as_of, counters);
    let tickets = tickets(&mut rng, &customer, activity, as_of, counters);
    let events = events(&mut rng, &customer, counters);
    CustomerBundle {
        customer,
        orders,
        tickets,
        events,
    }
}

fn as_of_year(as_of: i32) -> i32 {
    super::calendar::civil_from_days(as_of).0
}

// --- Orders --------------------------------------------------------------------------------

/// Month weights for order dates: the holiday season and summer sell more.
const MONTH_WEIGHT: [u64; 12] = [7, 5, 6, 6, 7, 9, 9, 8, 6, 7, 13, 16];

fn orders(rng: &mut Rng, c: &CustomerRow, as_of: i32, counters: &mut Counters) -> Vec<OrderRow> {
    let buying = match rng.weighted(&[376, 290, 210, 120, 4]) {
        0 => Buying::None,
        1 => Buying::Occasional,
        2 => Buying::Regular,
        3 => Buying::Heavy,
        _ => Buying::Whale,
    };
    let n = match buying {
        Buying::None => 0,
        Buying::Occasional => rng.range(1, 2),
        Buying::Regular => rng.range(3, 9),
        Buying::Heavy => rng.range(10, 40),
        Buying::Whale => rng.range(30, 60),
    };
    if n == 0 {
        return Vec::new();
    }
    // When this customer bought: from signup until today, or until they stopped buying.
    let start = c.signup_date;
    let still_buying = rng.chance(620);
    let end = if still_buying || start >= as_of {
        as_of
    } else {
        start + rng.range(0, i64::from(as_of - start)) as i32
    };
    // Heavy buyers who still buy concentrate on the last year or two.
    let start = if still_buying && matches!(buying, Buying::Heavy | Buying::Whale) {
        start.max(end - rng.range(120, 700) as i32)
    } else {
        start
    };
    let spend: i64 = match buying {
        Buying::Whale => rng.range(900, 3_000),
        _ => *rng.pick(&[(15, 15), (30, 25), (60, 25), (120, 18), (250, 10), (400, 7)]),
    };
    let basket_big = rng.chance(120);
    let app_only = rng.chance(if c.primary_device == "desktop" {
        40
    } else {
        220
    });
    let refunder = rng.chance(40);
    let favourite = *rng.pick(CATEGORIES);

    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let placed_on = order_day(rng, start, end);
        let amount_units = spend * rng.range(50, 200) / 100;
        let amount_cents = match rng.below(4) {
            0 => money(amount_units.max(1)) - 1,  // 49.99
            1 => money(amount_units.max(1)) - 10, // 49.90
            _ => money(amount_units.max(1)),      // 50.00
        };
        let status = if refunder {
            *rng.pick(&[("paid", 55), ("refunded", 40), ("cancelled", 5)])
        } else {
            *rng.pick(&[("paid", 88), ("refunded", 7), ("cancelled", 5)])
        };
        let channel = if app_only {
            "app"
        } else {
            *rng.pick(&[("web", 55), ("app", 20), ("store", 15), ("sales", 10)])
        };
        let category = if rng.chance(500) {
            favourite
        } else {
            *rng.pick(CATEGORIES)
        };
        let items = if basket_big {
            rng.range(4, 14)
        } else {
            rng.skewed(1, 6, 2)
        };
        out.push(OrderRow {
            id: String::new(),
            customer_id: c.id.clone(),
            placed_on,
            amount_cents,
            status,
            channel,
            category,
            items,
        });
    }
    out.sort_by_key(|o| o.placed_on);
    for o in &mut out {
        counters.orders += 1;
        o.id = format!("O{:08}", counters.orders);
    }
    out
}

/// A day in `start..=end`, weighted by season, sometimes the last day of its month.
fn order_day(rng: &mut Rng, start: i32, end: i32) -> i32 {
    let mut day = end;
    for _ in 0..8 {
        day = start + rng.range(0, i64::from(end - start)) as i32;
        let month = super::calendar::civil_from_days(day).1;
        let w = MONTH_WEIGHT[(month as usize).saturating_sub(1).min(11)];
        if rng.below(16) < w {
            break;
        }
    }
    if rng.chance(50) {
        let last = month_end(day);
        if last <= end {
            return last;
        }
    }
    day
}

// --- Tickets -------------------------------------------------------------------------------

fn tickets(
    rng: &mut Rng,
    c: &CustomerRow,
    activity: Activity,
    as_of: i32,
    counters: &mut Counters,
) -> Vec<TicketRow> {
    let detractor = c.nps.is_some_and(|n| n <= 6);
    let new = as_of - c.signup_date <= 30;
    let n = match rng.weighted(&[
        if activity == Activity::Never { 80 } else { 58 },
        28,
        if detractor { 20 } else { 10 },
        4,
    ]) {
        0 => 0,
        1 => rng.range(1, 2),
        2 => rng.range(3, 6),
        _ => rng.range(7, 12),
    };
    let unhappy = rng.chance(if detractor { 350 } else { 80 });
    // Busy support customers are busy now: their tickets are mostly recent.
    let window = if n >= 3 { 120 } else { as_of - c.signup_date };
    let mut out = Vec::with_capacity(n as usize);
    for k in 0..n {
        let back = rng.skewed(0, i64::from(window.min(as_of - c.signup_date).max(0)), 2);
        let day = as_of - back as i32;
        let opened_at =
            i64::from(day) * DAY_MICROS + rng.range(7 * 3600, 19 * 3600) * SECOND_MICROS;
        let category = if new && k == 0 && rng.chance(500) {
            if rng.chance(500) {
                "onboarding"
            } else {
                "Onboarding - setup"
            }
        } else {
            *rng.pick(TICKET_CATEGORIES)
        };
        let priority = *rng.pick(&[("low", 30), ("normal", 45), ("high", 18), ("urgent", 7)]);
        let status = if back > 14 {
            *rng.pick(&[("solved", 95), ("pending", 4), ("open", 1)])
        } else {
            *rng.pick(&[("solved", 45), ("pending", 25), ("open", 30)])
        };
        let csat = if status == "solved" && rng.chance(600) {
            Some(if unhappy {
                rng.range(1, 3)
            } else {
                *rng.pick(&[(1, 3), (2, 4), (3, 10), (4, 30), (5, 53)])
            })
        } else {
            None
        };
        out.push(TicketRow {
            id: String::new(),
            customer_id: c.id.clone(),
            opened_at,
            priority,
            status,
            category,
            csat,
        });
    }
    out.sort_by_key(|t| t.opened_at);
    for t in &mut out {
        counters.tickets += 1;
        t.id = format!("T{:08}", counters.tickets);
    }
    out
}

// --- Events --------------------------------------------------------------------------------

fn events(rng: &mut Rng, c: &CustomerRow, counters: &mut Counters) -> Vec<EventRow> {
    let Some(last_login) = c.last_login else {
        return Vec::new();
    };
    // Events in the 30 days before the last login; before that, an eighth of the pace.
    let per_month = match rng.weighted(&[45, 33, 15, 7]) {
        0 => rng.range(1, 4),
        1 => rng.range(4, 15),
        2 => rng.range(15, 50),
        _ => rng.range(50, 130),
    };
    let login_day = last_login.div_euclid(DAY_MICROS) as i32;
    let tenure = i64::from((login_day - c.signup_date).max(0));
    // How far back this customer's activity reaches (short for people who just came back).
    let span = i64::from(*rng.pick(&[(7, 4), (14, 5), (30, 12), (90, 35), (180, 24), (365, 20)]))
        .min(tenure + 1);
    let api_user = rng.chance(if c.apps.is_empty() { 50 } else { 180 });
    // Some integrations call the API all day long.
    let per_month = if api_user && rng.chance(200) {
        per_month + rng.range(50, 90)
    } else {
        per_month
    };
    let recent = per_month * span.min(30) / 30;
    let older = per_month * (span - 30).max(0) / 240;
    let n = (recent + older).clamp(1, 400);
    let mut out = Vec::with_capacity(n as usize);
    // The last login itself.
    out.push((last_login, "login", None));
    for _ in 1..n {
        // Most of them in the 30 days before the last login.
        let back_days = if rng.range(0, recent + older - 1) < recent {
            rng.range(0, span.min(30) - 1)
        } else {
            rng.range(30, span - 1)
        };
        let back = back_days * DAY_MICROS + rng.range(0, 10 * 3600) * SECOND_MICROS;
        let kind = if api_user {
            *rng.pick(&[
                ("api_call", 70),
                ("login", 10),
                ("feature_use", 15),
                ("export", 5),
            ])
        } else {
            *rng.pick(&[
                ("login", 35),
                ("feature_use", 47),
                ("export", 6),
                ("invite", 4),
                ("api_call", 8),
            ])
        };
        let feature = match kind {
            "feature_use" => Some(if !c.features_used.is_empty() && rng.chance(700) {
                *rng.choose(&c.features_used)
            } else {
                *rng.choose(FEATURES)
            }),
            "export" if rng.chance(500) => Some("exports"),
            _ => None,
        };
        // Never before the day of signup (nor after the last login).
        let at = (last_login - back)
            .max(i64::from(c.signup_date) * DAY_MICROS)
            .min(last_login);
        out.push((at, kind, feature));
    }
    out.sort_by_key(|e| e.0);
    out.into_iter()
        .map(|(occurred_at, kind, feature)| {
            counters.events += 1;
            EventRow {
                id: format!("E{:09}", counters.events),
                customer_id: c.id.clone(),
                occurred_at,
                kind,
                feature,
            }
        })
        .collect()
}
