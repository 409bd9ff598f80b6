//! The typed IR: a checked program where every name is bound, every node has a type and an
//! optionality, and every coercion is an explicit node. Backends (the engine, SQL emission, the
//! explainer) read only this; they never look names up or convert types themselves.

mod dump;
pub mod usage;
mod value;

pub use dump::{dump, dump_expr};
pub use value::{Decimal, Duration, DurationUnit, TimestampValue, Value};

use crate::source::Span;

macro_rules! id_type {
    ($($name:ident),*) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            #[must_use]
            pub fn index(self) -> usize { self.0 as usize }
            #[must_use]
            pub fn from_index(i: usize) -> Self { $name(u32::try_from(i).unwrap_or(u32::MAX)) }
        }
    )*};
}

id_type!(
    EntityId,
    FieldId,
    RelationId,
    EnumId,
    ParamId,
    DefinitionId,
    SegmentId,
    TierSetId,
    ScoreId
);

/// A field of an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldRef {
    pub entity: EntityId,
    pub field: FieldId,
}

/// A relation of an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelationRef {
    pub entity: EntityId,
    pub relation: RelationId,
}

/// The type of a value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// yes/no: conditions are expressions of this type
    Bool,
    Integer,
    /// exact decimal (money)
    Decimal,
    /// floating point
    Number,
    Text,
    Date,
    Timestamp,
    Duration,
    /// a share, such as a percentile (`80%`)
    Percent,
    Enum(EnumId),
    List(Box<Type>),
    /// The type of something that already failed to check; never reported again.
    Error,
}

impl Type {
    #[must_use]
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Integer | Type::Decimal | Type::Number)
    }

    #[must_use]
    pub fn is_temporal(&self) -> bool {
        matches!(self, Type::Date | Type::Timestamp)
    }

    /// Values that can be put in order (`<`, `between`, `max`, percentiles).
    #[must_use]
    pub fn is_orderable(&self) -> bool {
        self.is_numeric()
            || self.is_temporal()
            || matches!(
                self,
                Type::Duration | Type::Percent | Type::Text | Type::Error
            )
    }
}

/// One declared enum: the values of an `one of` field or of a tier set.
#[derive(Clone, Debug, PartialEq)]
pub struct EnumDef {
    /// Where it comes from, for messages: `customer.region`, or a tier set's name.
    pub origin: String,
    pub values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub ty: Type,
    pub optional: bool,
    pub label: Option<String>,
    pub synonyms: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelationKind {
    /// One-to-many: the target's `via` field holds this entity's key.
    Many,
    /// Many-to-one: this entity's `via` field holds the target's key.
    One,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RelationDef {
    pub name: String,
    pub kind: RelationKind,
    pub target: EntityId,
    /// The linking field: on the target for `Many`, on this entity for `One`.
    pub via: FieldRef,
    /// The target's date field used by time windows (`Many` only).
    pub dated_by: Option<FieldRef>,
    pub label: Option<String>,
    pub synonyms: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EntityDef {
    pub name: String,
    pub key: FieldId,
    pub fields: Vec<FieldDef>,
    pub relations: Vec<RelationDef>,
    pub span: Span,
}

/// Title, description, owner and tags of a segment, tier set or score.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Metadata {
    pub title: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParamDef {
    pub name: String,
    pub ty: Type,
    pub default: Value,
    pub span: Span,
}

/// `define NAME = EXPR`: a computed attribute of an entity.
#[derive(Clone, Debug, PartialEq)]
pub struct DefinitionDef {
    pub name: String,
    pub entity: EntityId,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SegmentDef {
    pub name: String,
    pub entity: EntityId,
    pub meta: Metadata,
    pub condition: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TierRow {
    pub name: String,
    /// `None` for the `otherwise` row.
    pub condition: Option<Expr>,
    pub span: Span,
}

/// An ordered first-match classification; its values form the enum `enum_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct TierSetDef {
    pub name: String,
    pub entity: EntityId,
    pub meta: Metadata,
    pub enum_id: EnumId,
    pub rows: Vec<TierRow>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScoreRule {
    pub points: i64,
    pub condition: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScoreDef {
    pub name: String,
    pub entity: EntityId,
    pub meta: Metadata,
    pub rules: Vec<ScoreRule>,
    pub span: Span,
}

/// A record written inside a test.
#[derive(Clone, Debug, PartialEq)]
pub struct TestRecord {
    pub entity: EntityId,
    pub key: Value,
    /// Fields given; the others are unknown.
    pub fields: Vec<(FieldId, Value)>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expectation {
    Member {
        record: usize,
        segment: SegmentId,
        expected: bool,
    },
    Tier {
        record: usize,
        tier_set: TierSetId,
        value: u32,
    },
    Score {
        record: usize,
        score: ScoreId,
        value: i64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct TestDef {
    pub name: String,
    pub as_of: Value,
    pub records: Vec<TestRecord>,
    /// `data ENTITY from "PATH"` fixture files, paths as written (relative to the rule file).
    pub data_files: Vec<(EntityId, String, Span)>,
    /// Keys of records that expectations name but the test does not write out: they must come
    /// from `data_files`. An expectation's `record` index past `records` points into this list
    /// (`records.len() + i`).
    pub file_keys: Vec<String>,
    pub params: Vec<(ParamId, Value)>,
    pub expectations: Vec<(Expectation, Span)>,
    pub span: Span,
}

/// A whole checked project.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Program {
    pub entities: Vec<EntityDef>,
    pub enums: Vec<EnumDef>,
    /// What segments are about when they do not say `of ENTITY`.
    pub primary: Option<EntityId>,
    pub params: Vec<ParamDef>,
    pub definitions: Vec<DefinitionDef>,
    pub segments: Vec<SegmentDef>,
    pub tier_sets: Vec<TierSetDef>,
    pub scores: Vec<ScoreDef>,
    pub tests: Vec<TestDef>,
}

impl Program {
    #[must_use]
    pub fn entity(&self, id: EntityId) -> &EntityDef {
        &self.entities[id.index()]
    }

    #[must_use]
    pub fn field(&self, r: FieldRef) -> &FieldDef {
        &self.entities[r.entity.index()].fields[r.field.index()]
    }

    #[must_use]
    pub fn relation(&self, r: RelationRef) -> &RelationDef {
        &self.entities[r.entity.index()].relations[r.relation.index()]
    }

    /// A type in the words users know: "a date", "a whole number", "one of EMEA, NA, ...".
    #[must_use]
    pub fn describe_type(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "a yes/no condition".into(),
            Type::Integer => "a whole number".into(),
            Type::Decimal => "a decimal number".into(),
            Type::Number => "a number".into(),
            Type::Text => "a text".into(),
            Type::Date => "a date".into(),
            Type::Timestamp => "a date and time".into(),
            Type::Duration => "a duration".into(),
            Type::Percent => "a percentage".into(),
            Type::Enum(id) => match self.enums.get(id.index()) {
                Some(e) => format!("one of {}", list_values(&e.values)),
                None => "a choice".into(),
            },
            Type::List(inner) => format!("a list of {}", self.describe_plural(inner)),
            Type::Error => "something that could not be checked".into(),
        }
    }

    fn describe_plural(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "yes/no values".into(),
            Type::Integer => "whole numbers".into(),
            Type::Decimal => "decimal numbers".into(),
            Type::Number => "numbers".into(),
            Type::Text => "texts".into(),
            Type::Date => "dates".into(),
            Type::Timestamp => "dates and times".into(),
            Type::Duration => "durations".into(),
            Type::Percent => "percentages".into(),
            Type::Enum(id) => match self.enums.get(id.index()) {
                Some(e) => format!("values from {}", list_values(&e.values)),
                None => "choices".into(),
            },
            Type::List(inner) => format!("lists of {}", self.describe_plural(inner)),
            Type::Error => "values".into(),
        }
    }

    /// The short type name used in dumps: `integer`, `enum customer.region`, `list<text>`.
    #[must_use]
    pub fn type_name(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "bool".into(),
            Type::Integer => "integer".into(),
            Type::Decimal => "decimal".into(),
            Type::Number => "number".into(),
            Type::Text => "text".into(),
            Type::Date => "date".into(),
            Type::Timestamp => "timestamp".into(),
            Type::Duration => "duration".into(),
            Type::Percent => "percent".into(),
            Type::Enum(id) => match self.enums.get(id.index()) {
                Some(e) => format!("enum {}", e.origin),
                None => "enum ?".into(),
            },
            Type::List(inner) => format!("list<{}>", self.type_name(inner)),
            Type::Error => "error".into(),
        }
    }
}

/// `EMEA, NA, LATAM or APAC` (at most eight values, then "and N more").
#[must_use]
pub fn list_values(values: &[String]) -> String {
    const SHOWN: usize = 8;
    let shown: Vec<&str> = values.iter().take(SHOWN).map(String::as_str).collect();
    let mut text = match shown.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    if values.len() > SHOWN {
        text = format!("{}, ... ({} more)", shown.join(", "), values.len() - SHOWN);
    }
    text
}

/// A typed expression. Conditions have type [`Type::Bool`] and are never unknown: a test on an
/// unknown value is false (closed world).
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    /// True when the value can be unknown (an optional field, `avg` over no records, ...).
    pub nullable: bool,
    pub span: Span,
}

impl Expr {
    /// The direct operands evaluated on the same record. Aggregate filters and values, and
    /// looked-up values, belong to other records and are not included.
    #[must_use]
    pub fn operands(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Literal(_)
            | ExprKind::Field(_)
            | ExprKind::Param(_)
            | ExprKind::Definition(_)
            | ExprKind::Segment(_)
            | ExprKind::Tier(_)
            | ExprKind::Score(_)
            | ExprKind::Today
            | ExprKind::Now
            | ExprKind::Error
            | ExprKind::Lookup { .. }
            | ExprKind::Aggregate { .. } => Vec::new(),
            ExprKind::Not(x)
            | ExprKind::Neg(x)
            | ExprKind::IsKnown(x)
            | ExprKind::IsEmpty(x)
            | ExprKind::DaysSince(x)
            | ExprKind::Anniversary(x)
            | ExprKind::Coerce(x) => vec![x],
            ExprKind::And(xs) | ExprKind::Or(xs) | ExprKind::List(xs) => xs.iter().collect(),
            ExprKind::Call { args, .. } => args.iter().collect(),
            ExprKind::Arith { lhs, rhs, .. } | ExprKind::Compare { lhs, rhs, .. } => vec![lhs, rhs],
            ExprKind::Text { value, pattern, .. } => vec![value, pattern],
            ExprKind::InList { value, options, .. } => {
                let mut v: Vec<&Expr> = vec![value];
                v.extend(options.iter());
                v
            }
            ExprKind::Between { value, low, high } => vec![value, low, high],
            ExprKind::ListContains {
                list,
                element: other,
                ..
            }
            | ExprKind::ListContainsAny {
                list,
                elements: other,
                ..
            }
            | ExprKind::ListContainsAll {
                list,
                elements: other,
                ..
            } => vec![list, other],
            ExprKind::InWindow { value, .. } => vec![value],
            ExprKind::Population { value, within, .. } => {
                let mut v: Vec<&Expr> = vec![value];
                if let Some(w) = within {
                    v.push(w);
                }
                v
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// `!=` and `is not` are written as `Not(Eq)` so that they include unknown values.
pub enum CompareOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextOp {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
    /// A regular expression (linear time), already validated.
    Matches,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodUnit {
    Week,
    Month,
    Quarter,
    Year,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodRelative {
    This,
    Last,
    Next,
}

/// A time window relative to the as-of date. All windows include both end days.
#[derive(Clone, Debug, PartialEq)]
pub enum Window {
    /// From as-of minus the duration up to the as-of date.
    Last(Duration),
    /// From the as-of date up to as-of plus the duration.
    Next(Duration),
    /// Strictly before as-of minus the duration.
    MoreThanAgo(Duration),
    /// After as-of minus the duration, up to the as-of date.
    LessThanAgo(Duration),
    /// Between as-of minus `far` and as-of minus `near`.
    BetweenAgo { near: Duration, far: Duration },
    /// A whole calendar period relative to the as-of date.
    Period {
        relative: PeriodRelative,
        unit: PeriodUnit,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFunc {
    /// Counts records (no value) or known values.
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    /// At least one record meets the condition.
    Any,
    /// Every record meets the condition (true over no records).
    Every,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PopFunc {
    Percentile,
    Rank,
    Ntile(u32),
    ShareOfTotal,
    CumulativeShare,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Lower,
    Upper,
    Length,
    Abs,
    Round,
    Year,
    Month,
    Day,
    Coalesce,
}

impl Builtin {
    pub const ALL: [(Builtin, &'static str); 9] = [
        (Builtin::Lower, "lower"),
        (Builtin::Upper, "upper"),
        (Builtin::Length, "length"),
        (Builtin::Abs, "abs"),
        (Builtin::Round, "round"),
        (Builtin::Year, "year"),
        (Builtin::Month, "month"),
        (Builtin::Day, "day"),
        (Builtin::Coalesce, "coalesce"),
    ];

    #[must_use]
    pub fn name(self) -> &'static str {
        Builtin::ALL
            .iter()
            .find(|(b, _)| *b == self)
            .map_or("?", |(_, n)| n)
    }
}

/// The records an aggregate ranges over: a path of relations from the current entity.
#[derive(Clone, Debug, PartialEq)]
pub struct AggSource {
    /// The relations walked, in order; exactly one of them is `Many`.
    pub path: Vec<RelationRef>,
    /// The entity of the records aggregated.
    pub entity: EntityId,
    /// Restricts records by their `dated by` field.
    pub window: Option<(Window, FieldRef)>,
    /// Keeps only records meeting this condition (for `any`/`every`, the condition tested).
    pub filter: Option<Box<Expr>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Literal(Value),
    /// A field of the current record.
    Field(FieldRef),
    /// The value of `value` evaluated on the record reached through a `one` relation; unknown when
    /// there is no such record.
    Lookup {
        relation: RelationRef,
        value: Box<Expr>,
    },
    Param(ParamId),
    Definition(DefinitionId),
    /// Membership of the current record in a segment.
    Segment(SegmentId),
    /// The tier of the current record.
    Tier(TierSetId),
    /// The score of the current record.
    Score(ScoreId),
    Today,
    Now,
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Neg(Box<Expr>),
    Arith {
        op: ArithOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// Both sides have the same type; false when either is unknown.
    Compare {
        op: CompareOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// Text tests; `ignore_case` compares case-insensitively.
    Text {
        op: TextOp,
        value: Box<Expr>,
        pattern: Box<Expr>,
        ignore_case: bool,
    },
    IsKnown(Box<Expr>),
    /// `value` equals one of `options` (all of the value's type).
    InList {
        value: Box<Expr>,
        options: Vec<Expr>,
        ignore_case: bool,
    },
    Between {
        value: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    /// A list or text with no elements.
    IsEmpty(Box<Expr>),
    ListContains {
        list: Box<Expr>,
        element: Box<Expr>,
        ignore_case: bool,
    },
    ListContainsAny {
        list: Box<Expr>,
        elements: Box<Expr>,
        ignore_case: bool,
    },
    ListContainsAll {
        list: Box<Expr>,
        elements: Box<Expr>,
        ignore_case: bool,
    },
    /// The date or timestamp lies in the window.
    InWindow {
        value: Box<Expr>,
        window: Window,
    },
    /// Whole days from the date or timestamp to the as-of date.
    DaysSince(Box<Expr>),
    /// The next yearly recurrence of a date on or after the as-of date.
    Anniversary(Box<Expr>),
    Aggregate {
        func: AggFunc,
        source: AggSource,
        /// The value aggregated, evaluated on each related record; `None` counts records.
        value: Option<Box<Expr>>,
    },
    Population {
        func: PopFunc,
        entity: EntityId,
        value: Box<Expr>,
        within: Option<Box<Expr>>,
    },
    Call {
        func: Builtin,
        args: Vec<Expr>,
    },
    /// A list of values (in `is any of`, `contains any of`).
    List(Vec<Expr>),
    /// An explicit conversion to `ty` of the outer node (integer to decimal, date to timestamp...).
    Coerce(Box<Expr>),
    /// Something that failed to check (already reported).
    Error,
}
