//! Time windows as constant bounds: every window is relative to the pinned as-of date, so its
//! ends are computed once here and the plan only compares columns with constants.

use jiff::civil::Date;

use crate::engine::AsOf;
use crate::ir::{Duration, DurationUnit, PeriodRelative, PeriodUnit, Window};

use super::udf::{local_midnight, span_of};

/// A window as a range of local calendar days (both ends included; `None` is open).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayRange {
    pub first: Option<Date>,
    pub last: Option<Date>,
}

/// A window as a range of instants in UTC microseconds: `from` included, `until` excluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstantRange {
    pub from: Option<i64>,
    pub until: Option<i64>,
}

fn shift(date: Date, d: Duration, sign: i64) -> Option<Date> {
    let span = span_of(d.amount.checked_mul(sign)?, d.unit)?;
    date.checked_add(span).ok()
}

fn day_after(date: Date) -> Option<Date> {
    date.tomorrow().ok()
}

fn day_before(date: Date) -> Option<Date> {
    date.yesterday().ok()
}

/// True when the window is measured in hours or minutes (on instants, not calendar days).
fn by_the_clock(w: &Window) -> bool {
    let clock = |d: &Duration| matches!(d.unit, DurationUnit::Hour | DurationUnit::Minute);
    match w {
        Window::Last(d) | Window::Next(d) | Window::MoreThanAgo(d) | Window::LessThanAgo(d) => {
            clock(d)
        }
        Window::BetweenAgo { near, far } => clock(near) || clock(far),
        Window::Period { .. } => false,
    }
}

/// The first and last day of the calendar period containing `date`.
fn period(date: Date, unit: PeriodUnit) -> Option<(Date, Date)> {
    let first = match unit {
        PeriodUnit::Week => {
            let back = i64::from(date.weekday().to_monday_zero_offset());
            date.checked_sub(jiff::Span::new().days(back)).ok()?
        }
        PeriodUnit::Month => date.first_of_month(),
        PeriodUnit::Quarter => {
            let month = (date.month() - 1) / 3 * 3 + 1;
            Date::new(date.year(), month, 1).ok()?
        }
        PeriodUnit::Year => Date::new(date.year(), 1, 1).ok()?,
    };
    let length = match unit {
        PeriodUnit::Week => jiff::Span::new().weeks(1),
        PeriodUnit::Month => jiff::Span::new().months(1),
        PeriodUnit::Quarter => jiff::Span::new().months(3),
        PeriodUnit::Year => jiff::Span::new().years(1),
    };
    let next = first.checked_add(length).ok()?;
    Some((first, day_before(next)?))
}

/// The window in calendar days of the project time zone.
///
/// # Errors
/// `None` when a bound falls outside the supported calendar.
pub fn day_range(w: &Window, as_of: Date) -> Option<DayRange> {
    Some(match w {
        Window::Last(d) => DayRange {
            first: Some(shift(as_of, *d, -1)?),
            last: Some(as_of),
        },
        Window::Next(d) => DayRange {
            first: Some(as_of),
            last: Some(shift(as_of, *d, 1)?),
        },
        Window::MoreThanAgo(d) => DayRange {
            first: None,
            last: Some(day_before(shift(as_of, *d, -1)?)?),
        },
        Window::LessThanAgo(d) => DayRange {
            first: Some(day_after(shift(as_of, *d, -1)?)?),
            last: Some(as_of),
        },
        Window::BetweenAgo { near, far } => DayRange {
            first: Some(shift(as_of, *far, -1)?),
            last: Some(shift(as_of, *near, -1)?),
        },
        Window::Period { relative, unit } => {
            let (first, last) = period(as_of, *unit)?;
            let (first, last) = match relative {
                PeriodRelative::This => (first, last),
                PeriodRelative::Last => period(day_before(first)?, *unit)?,
                PeriodRelative::Next => period(day_after(last)?, *unit)?,
            };
            DayRange {
                first: Some(first),
                last: Some(last),
            }
        }
    })
}

/// The window as instants, for timestamp values.
pub fn instant_range(w: &Window, as_of: &AsOf) -> Option<InstantRange> {
    if by_the_clock(w) {
        let now = as_of.instant;
        let back = |d: &Duration| {
            now.checked_sub(span_of(d.amount, d.unit)?)
                .ok()
                .map(|t| t.as_microsecond())
        };
        let ahead = |d: &Duration| {
            now.checked_add(span_of(d.amount, d.unit)?)
                .ok()
                .map(|t| t.as_microsecond())
        };
        let now_us = now.as_microsecond();
        return Some(match w {
            Window::Last(d) => InstantRange {
                from: Some(back(d)?),
                until: Some(now_us + 1),
            },
            Window::Next(d) => InstantRange {
                from: Some(now_us),
                until: Some(ahead(d)? + 1),
            },
            Window::MoreThanAgo(d) => InstantRange {
                from: None,
                until: Some(back(d)?),
            },
            Window::LessThanAgo(d) => InstantRange {
                from: Some(back(d)? + 1),
                until: Some(now_us + 1),
            },
            Window::BetweenAgo { near, far } => InstantRange {
                from: Some(back(far)?),
                until: Some(back(near)? + 1),
            },
            Window::Period { .. } => return None,
        });
    }
    let days = day_range(w, as_of.date)?;
    let tz = &as_of.time_zone;
    Some(InstantRange {
        from: match days.first {
            Some(d) => Some(local_midnight(d, tz)?),
            None => None,
        },
        until: match days.last {
            Some(d) => Some(local_midnight(day_after(d)?, tz)?),
            None => None,
        },
    })
}

/// The window as days, for date values. For windows by the clock, a date counts as the instant
/// its day begins.
pub fn date_range(w: &Window, as_of: &AsOf) -> Option<DayRange> {
    if !by_the_clock(w) {
        return day_range(w, as_of.date);
    }
    let instants = instant_range(w, as_of)?;
    let tz = &as_of.time_zone;
    // The first date whose midnight is at or after `from`; the last date whose midnight is before
    // `until`.
    let first = match instants.from {
        None => None,
        Some(from) => {
            let d = super::udf::local_date(from, tz)?;
            Some(if local_midnight(d, tz)? >= from {
                d
            } else {
                day_after(d)?
            })
        }
    };
    let last = match instants.until {
        None => None,
        Some(until) => {
            let d = super::udf::local_date(until, tz)?;
            Some(if local_midnight(d, tz)? < until {
                d
            } else {
                day_before(d)?
            })
        }
    };
    Some(DayRange { first, last })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn days(amount: i64) -> Duration {
        Duration {
            amount,
            unit: DurationUnit::Day,
        }
    }

    #[test]
    fn rolling_windows_include_both_end_days() {
        let as_of = date(2026, 3, 31);
        assert_eq!(
            day_range(&Window::Last(days(30)), as_of),
            Some(DayRange {
                first: Some(date(2026, 3, 1)),
                last: Some(as_of)
            })
        );
        assert_eq!(
            day_range(&Window::MoreThanAgo(days(30)), as_of),
            Some(DayRange {
                first: None,
                last: Some(date(2026, 2, 28))
            })
        );
        let month = Duration {
            amount: 1,
            unit: DurationUnit::Month,
        };
        // March 31 minus one month is the last day of February.
        assert_eq!(
            day_range(&Window::Last(month), as_of).and_then(|r| r.first),
            Some(date(2026, 2, 28))
        );
    }

    #[test]
    fn calendar_periods() {
        let as_of = date(2026, 11, 20);
        let last_quarter = Window::Period {
            relative: PeriodRelative::Last,
            unit: PeriodUnit::Quarter,
        };
        assert_eq!(
            day_range(&last_quarter, as_of),
            Some(DayRange {
                first: Some(date(2026, 7, 1)),
                last: Some(date(2026, 9, 30))
            })
        );
        let this_week = Window::Period {
            relative: PeriodRelative::This,
            unit: PeriodUnit::Week,
        };
        // 2026-11-20 is a Friday; weeks start on Monday.
        assert_eq!(
            day_range(&this_week, as_of),
            Some(DayRange {
                first: Some(date(2026, 11, 16)),
                last: Some(date(2026, 11, 22))
            })
        );
    }
}
