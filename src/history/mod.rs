//! `segl run --history FILE.parquet`: membership over time as intervals.
//!
//! A history holds one row per interval in which a record had one value for one rule: a segment
//! membership (`value` is `true`; records outside a segment have no row), a tier (the tier's
//! name) or a score (the number as text). `valid_from` is the as-of date of the run that first
//! saw the value; `valid_to` is the as-of date of the first run that saw something else (the
//! interval is `valid_from <= day < valid_to`), or null while the value is current. A run that
//! sees the same values as the open intervals changes nothing.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Date32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Date32Type, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use jiff::civil::Date;

use crate::diff::snapshot::Snapshot;

/// One interval of one record's value for one rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    pub entity: String,
    pub rule: String,
    pub key: String,
    /// `segment`, `tiers` or `score`.
    pub kind: String,
    pub valid_from: Date,
    pub value: String,
    pub valid_to: Option<Date>,
    /// The rules the value came from: a git commit (with `-dirty` when the project had changes
    /// not committed) or a hash of the rule files.
    pub rules_version: String,
    /// A hash of the data files the run read.
    pub data_fingerprint: String,
}

/// The columns of a history file, in order.
pub const COLUMNS: [&str; 9] = [
    "entity",
    "key",
    "rule",
    "kind",
    "value",
    "valid_from",
    "valid_to",
    "rules_version",
    "data_fingerprint",
];

/// What one run did to a history.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Update {
    pub intervals: Vec<Interval>,
    pub opened: usize,
    pub closed: usize,
}

impl Update {
    #[must_use]
    pub fn changed(&self) -> bool {
        self.opened + self.closed > 0
    }
}

/// Why a history cannot be updated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryError {
    /// The file is not a history (not Parquet, or other columns).
    NotAHistory(String),
    /// The run's as-of date is before the last run recorded.
    Earlier { as_of: Date, latest: Date },
}

/// A run's identity, stored with the intervals it opens.
pub struct RunInfo<'a> {
    pub as_of: Date,
    pub rules_version: &'a str,
    pub data_fingerprint: &'a str,
    /// Whether every rule of the project was evaluated: then open intervals of rules the run
    /// does not have (removed rules) are closed. With `--segment`, other rules are left alone.
    pub complete: bool,
}

type Slot = (String, String, String, String);

/// Adds a run's values to a history.
///
/// # Errors
/// When the run is dated before the latest run in the history.
pub fn update(
    existing: Vec<Interval>,
    snapshot: &Snapshot,
    run: &RunInfo<'_>,
) -> Result<Update, HistoryError> {
    let latest = existing
        .iter()
        .flat_map(|i| [Some(i.valid_from), i.valid_to])
        .flatten()
        .max();
    if let Some(latest) = latest.filter(|l| *l > run.as_of) {
        return Err(HistoryError::Earlier {
            as_of: run.as_of,
            latest,
        });
    }
    // The run's values, by entity, rule, kind and key.
    let mut now: HashMap<Slot, String> = HashMap::new();
    let mut evaluated: std::collections::HashSet<(String, String, String)> =
        std::collections::HashSet::new();
    for e in &snapshot.entities {
        for r in &e.rules {
            let kind = r.kind.word().to_owned();
            evaluated.insert((e.entity.clone(), r.name.clone(), kind.clone()));
            for (row, key) in e.keys.iter().enumerate() {
                if let Some(value) = r.value_text(row) {
                    now.insert(
                        (e.entity.clone(), r.name.clone(), kind.clone(), key.clone()),
                        value,
                    );
                }
            }
        }
    }
    let mut out = Vec::with_capacity(existing.len());
    let mut opened: usize = 0;
    let mut closed: usize = 0;
    let mut closed_by_this_run: std::collections::HashSet<usize> = std::collections::HashSet::new();
    // Intervals closed on this very day, by slot and value: a later run on the same day that sees
    // the value again reopens them instead of starting a new one.
    let mut closed_today: HashMap<(Slot, String), usize> = HashMap::new();
    let mut open_slots: HashMap<Slot, ()> = HashMap::new();
    for mut i in existing {
        let slot = (
            i.entity.clone(),
            i.rule.clone(),
            i.kind.clone(),
            i.key.clone(),
        );
        if i.valid_to.is_none() {
            let in_scope = run.complete
                || evaluated.contains(&(i.entity.clone(), i.rule.clone(), i.kind.clone()));
            match now.get(&slot) {
                _ if !in_scope => {}
                Some(v) if *v == i.value => {
                    open_slots.insert(slot.clone(), ());
                }
                _ if i.valid_from == run.as_of => {
                    // Opened by an earlier run on the same day, superseded: the day's last run wins.
                    closed += 1;
                    continue;
                }
                _ => {
                    i.valid_to = Some(run.as_of);
                    closed += 1;
                    closed_by_this_run.insert(out.len());
                }
            }
        }
        if i.valid_to == Some(run.as_of) {
            closed_today.insert((slot, i.value.clone()), out.len());
        }
        out.push(i);
    }
    let mut slots: Vec<(Slot, String)> = now
        .into_iter()
        .filter(|(s, _)| !open_slots.contains_key(s))
        .collect();
    slots.sort();
    for (slot, value) in slots {
        if let Some(at) = closed_today.get(&(slot.clone(), value.clone())).copied()
            && let Some(i) = out.get_mut(at)
        {
            i.valid_to = None;
            if closed_by_this_run.contains(&at) {
                closed = closed.saturating_sub(1);
            } else {
                opened += 1;
            }
            continue;
        }
        let (entity, rule, kind, key) = slot;
        out.push(Interval {
            entity,
            rule,
            key,
            kind,
            valid_from: run.as_of,
            value,
            valid_to: None,
            rules_version: run.rules_version.to_owned(),
            data_fingerprint: run.data_fingerprint.to_owned(),
        });
        opened += 1;
    }
    out.sort();
    Ok(Update {
        intervals: out,
        opened,
        closed,
    })
}

fn days(d: Date) -> i32 {
    let epoch = jiff::civil::date(1970, 1, 1);
    (d - epoch).get_days()
}

fn from_days(n: i32) -> Option<Date> {
    jiff::civil::date(1970, 1, 1)
        .checked_add(jiff::Span::new().days(i64::from(n)))
        .ok()
}

/// Reads a history file.
///
/// # Errors
/// When the bytes are not a Parquet file with a history's columns.
pub fn read(bytes: Vec<u8>) -> Result<Vec<Interval>, HistoryError> {
    let bad = |m: String| HistoryError::NotAHistory(m);
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .map_err(|e| bad(format!("it is not a Parquet file ({e})")))?;
    let names: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    if names != COLUMNS {
        let mut shown: Vec<String> = names.iter().take(5).map(|n| format!("`{n}`")).collect();
        if names.len() > 5 {
            shown.push(format!("… ({} columns)", names.len()));
        }
        return Err(bad(format!("its columns are {}", shown.join(", "))));
    }
    let reader = builder.build().map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(e.to_string()))?;
        let text = |i: usize| {
            batch
                .columns()
                .get(i)
                .and_then(|c| c.as_string_opt::<i32>())
                .ok_or_else(|| {
                    bad(format!(
                        "the column `{}` is not text",
                        COLUMNS.get(i).copied().unwrap_or("")
                    ))
                })
        };
        let date = |i: usize| {
            batch
                .columns()
                .get(i)
                .and_then(|c| c.as_primitive_opt::<Date32Type>())
                .ok_or_else(|| {
                    bad(format!(
                        "the column `{}` is not a date",
                        COLUMNS.get(i).copied().unwrap_or("")
                    ))
                })
        };
        let (entity, key, rule, kind, value) = (text(0)?, text(1)?, text(2)?, text(3)?, text(4)?);
        let (from, to) = (date(5)?, date(6)?);
        let (version, fingerprint) = (text(7)?, text(8)?);
        for row in 0..batch.num_rows() {
            let missing = || bad(format!("row {} lacks a value that must be there", row + 1));
            let s = |a: &datafusion::arrow::array::StringArray| -> Option<String> {
                (!a.is_null(row)).then(|| a.value(row).to_owned())
            };
            out.push(Interval {
                entity: s(entity).ok_or_else(missing)?,
                key: s(key).ok_or_else(missing)?,
                rule: s(rule).ok_or_else(missing)?,
                kind: s(kind).ok_or_else(missing)?,
                value: s(value).ok_or_else(missing)?,
                valid_from: (!from.is_null(row))
                    .then(|| from.value(row))
                    .and_then(from_days)
                    .ok_or_else(missing)?,
                valid_to: (!to.is_null(row))
                    .then(|| to.value(row))
                    .and_then(from_days),
                rules_version: s(version).unwrap_or_default(),
                data_fingerprint: s(fingerprint).unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

/// Writes intervals as a history file.
///
/// # Errors
/// When the writer fails.
pub fn write<W: Write + Send>(intervals: &[Interval], out: W) -> Result<(), String> {
    let text = |f: fn(&Interval) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(intervals.iter().map(f)))
    };
    let columns: Vec<ArrayRef> = vec![
        text(|i| &i.entity),
        text(|i| &i.key),
        text(|i| &i.rule),
        text(|i| &i.kind),
        text(|i| &i.value),
        Arc::new(Date32Array::from_iter_values(
            intervals.iter().map(|i| days(i.valid_from)),
        )),
        Arc::new(
            intervals
                .iter()
                .map(|i| i.valid_to.map(days))
                .collect::<Date32Array>(),
        ),
        text(|i| &i.rules_version),
        text(|i| &i.data_fingerprint),
    ];
    let fields: Vec<Field> = COLUMNS
        .iter()
        .map(|name| match *name {
            "valid_from" => Field::new(*name, DataType::Date32, false),
            "valid_to" => Field::new(*name, DataType::Date32, true),
            _ => Field::new(*name, DataType::Utf8, false),
        })
        .collect();
    let batch =
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut w =
        ArrowWriter::try_new(out, batch.schema(), Some(props)).map_err(|e| e.to_string())?;
    w.write(&batch).map_err(|e| e.to_string())?;
    w.close().map_err(|e| e.to_string())?;
    Ok(())
}

/// A stable 64-bit FNV-1a hash over named byte strings, as 16 hex digits. Used for data
/// fingerprints and rule versions: the same bytes give the same text on every platform and
/// segl version.
#[must_use]
pub fn fingerprint<'a>(parts: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut f = Fingerprint::new();
    for (name, bytes) in parts {
        f.add(name, bytes);
    }
    f.finish()
}

/// [`fingerprint`] one part at a time, so that each file's bytes can be dropped before the next
/// is read.
#[derive(Clone, Debug)]
pub struct Fingerprint {
    hash: u64,
}

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint::new()
    }
}

impl Fingerprint {
    #[must_use]
    pub fn new() -> Fingerprint {
        Fingerprint {
            hash: 0xcbf2_9ce4_8422_2325,
        }
    }

    fn eat(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.hash ^= u64::from(*b);
            self.hash = self.hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Adds one named part.
    pub fn add(&mut self, name: &str, bytes: &[u8]) {
        self.eat(name.as_bytes());
        self.eat(&[0]);
        self.eat(&(bytes.len() as u64).to_le_bytes());
        self.eat(bytes);
    }

    #[must_use]
    pub fn finish(&self) -> String {
        format!("{:016x}", self.hash)
    }
}

/// The intervals open on `day` (`valid_from <= day` and `valid_to` null or after it), by
/// entity, rule and kind: the state a history says the records were in on that day.
#[must_use]
pub fn on_day(
    intervals: &[Interval],
    day: Date,
) -> BTreeMap<(String, String, String), Vec<&Interval>> {
    let mut out: BTreeMap<(String, String, String), Vec<&Interval>> = BTreeMap::new();
    for i in intervals {
        if i.valid_from <= day && i.valid_to.is_none_or(|t| t > day) {
            out.entry((i.entity.clone(), i.rule.clone(), i.kind.clone()))
                .or_default()
                .push(i);
        }
    }
    out
}

/// The days runs were recorded on (every `valid_from` and `valid_to`), earliest first.
#[must_use]
pub fn run_days(intervals: &[Interval]) -> Vec<Date> {
    let mut days: Vec<Date> = intervals
        .iter()
        .flat_map(|i| [Some(i.valid_from), i.valid_to])
        .flatten()
        .collect();
    days.sort_unstable();
    days.dedup();
    days
}

/// An entity's keys and its tier sets' open intervals on one day.
type EntityTiers<'a> = (
    std::collections::BTreeSet<&'a str>,
    Vec<(&'a str, Vec<&'a Interval>)>,
);

/// The tiers of every record on `day`, as a snapshot (tier sets only). `order` gives a tier
/// set's tiers in declaration order when the rules still have it; otherwise the tiers seen are
/// sorted by name. A record without a tier in a set on that day gets `(unknown)`.
#[must_use]
pub fn tiers_on(
    intervals: &[Interval],
    day: Date,
    order: impl Fn(&str, &str) -> Option<Vec<String>>,
) -> Snapshot {
    use crate::diff::snapshot::{EntitySnapshot, RuleColumn, RuleKind, Values};
    let open = on_day(intervals, day);
    let mut entities: BTreeMap<&str, EntityTiers<'_>> = BTreeMap::new();
    for ((entity, rule, kind), rows) in &open {
        if kind != "tiers" {
            continue;
        }
        let slot = entities.entry(entity.as_str()).or_default();
        slot.0.extend(rows.iter().map(|i| i.key.as_str()));
        slot.1.push((rule.as_str(), rows.clone()));
    }
    let mut out = Snapshot::default();
    for (entity, (keys, rules)) in entities {
        let keys: Vec<String> = keys.into_iter().map(str::to_owned).collect();
        let index: HashMap<&str, usize> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let mut columns = Vec::new();
        for (rule, rows) in rules {
            let mut tiers = order(entity, rule).unwrap_or_else(|| {
                let mut seen: Vec<String> = rows.iter().map(|i| i.value.clone()).collect();
                seen.sort();
                seen.dedup();
                seen
            });
            for i in &rows {
                if !tiers.contains(&i.value) {
                    tiers.push(i.value.clone());
                }
            }
            let unknown = tiers.len();
            let mut chosen = vec![unknown; keys.len()];
            for i in &rows {
                if let (Some(row), Some(t)) = (
                    index.get(i.key.as_str()),
                    tiers.iter().position(|t| *t == i.value),
                ) && let Some(c) = chosen.get_mut(*row)
                {
                    *c = t;
                }
            }
            if chosen.contains(&unknown) {
                tiers.push("(unknown)".to_owned());
            }
            columns.push(RuleColumn {
                name: rule.to_owned(),
                kind: RuleKind::Tiers,
                title: None,
                values: Values::Tiers { tiers, chosen },
            });
        }
        out.entities.push(EntitySnapshot {
            entity: entity.to_owned(),
            keys,
            rules: columns,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::snapshot::{EntitySnapshot, RuleColumn, RuleKind, Values};

    fn snap(members: &[bool], tiers: &[usize]) -> Snapshot {
        Snapshot {
            entities: vec![EntitySnapshot {
                entity: "customer".into(),
                keys: vec!["a".into(), "b".into()],
                rules: vec![
                    RuleColumn {
                        name: "vip".into(),
                        kind: RuleKind::Segment,
                        title: None,
                        values: Values::Segment(members.to_vec()),
                    },
                    RuleColumn {
                        name: "size".into(),
                        kind: RuleKind::Tiers,
                        title: None,
                        values: Values::Tiers {
                            tiers: vec!["big".into(), "small".into()],
                            chosen: tiers.to_vec(),
                        },
                    },
                ],
            }],
        }
    }

    fn run(day: Date) -> RunInfo<'static> {
        RunInfo {
            as_of: day,
            rules_version: "r",
            data_fingerprint: "d",
            complete: true,
        }
    }

    #[test]
    fn intervals_open_close_and_repeat_runs_add_nothing() {
        let d1 = jiff::civil::date(2026, 1, 1);
        let d2 = jiff::civil::date(2026, 1, 8);
        let first = update(Vec::new(), &snap(&[true, false], &[0, 1]), &run(d1)).unwrap();
        assert_eq!((first.opened, first.closed), (3, 0));
        let again = update(
            first.intervals.clone(),
            &snap(&[true, false], &[0, 1]),
            &run(d1),
        )
        .unwrap();
        assert!(!again.changed());
        assert_eq!(again.intervals, first.intervals);
        let later = update(
            first.intervals.clone(),
            &snap(&[false, true], &[0, 0]),
            &run(d2),
        )
        .unwrap();
        assert_eq!((later.opened, later.closed), (2, 2));
        let a_vip: Vec<&Interval> = later
            .intervals
            .iter()
            .filter(|i| i.key == "a" && i.rule == "vip")
            .collect();
        assert_eq!(a_vip.len(), 1);
        assert_eq!(a_vip[0].valid_to, Some(d2));
        // Same-day rerun with the first state again: reopens, no zero-length intervals.
        let back = update(later.intervals, &snap(&[true, false], &[0, 1]), &run(d2)).unwrap();
        assert_eq!(back.intervals, first.intervals);
        assert_eq!(
            update(
                first.intervals,
                &snap(&[true, false], &[0, 1]),
                &run(jiff::civil::date(2025, 12, 1))
            ),
            Err(HistoryError::Earlier {
                as_of: jiff::civil::date(2025, 12, 1),
                latest: d1
            })
        );
    }

    #[test]
    fn fingerprints_are_stable_and_see_every_byte() {
        let a = fingerprint([("customer", &b"id\n1\n"[..]), ("order", &b"id\n"[..])]);
        assert_eq!(
            a,
            fingerprint([("customer", &b"id\n1\n"[..]), ("order", &b"id\n"[..])])
        );
        assert_ne!(
            a,
            fingerprint([("customer", &b"id\n2\n"[..]), ("order", &b"id\n"[..])])
        );
        // Where one part ends and the next begins counts too.
        assert_ne!(
            fingerprint([("a", &b"xy"[..]), ("b", &b""[..])]),
            fingerprint([("a", &b"x"[..]), ("b", &b"y"[..])])
        );
        assert_eq!(fingerprint([]), "cbf29ce484222325");
    }

    #[test]
    fn a_history_reads_back_as_written() {
        let d1 = jiff::civil::date(2026, 1, 1);
        let first = update(Vec::new(), &snap(&[true, true], &[0, 1]), &run(d1)).unwrap();
        let later = update(
            first.intervals,
            &snap(&[true, false], &[1, 1]),
            &run(jiff::civil::date(2026, 2, 1)),
        )
        .unwrap();
        let mut bytes = Vec::new();
        write(&later.intervals, &mut bytes).unwrap();
        assert_eq!(read(bytes).unwrap(), later.intervals);
        assert!(matches!(
            read(b"id,name\n".to_vec()),
            Err(HistoryError::NotAHistory(_))
        ));
    }
}
