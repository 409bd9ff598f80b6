//! The syntax tree: what the user wrote, with a span on every node and every comment kept.
//!
//! Nothing here is checked yet: names are plain text and literals keep their source spelling, so
//! the checker can report invalid dates or units with the exact span, and the formatter can print
//! the file back.

use crate::source::{FileId, Span};

/// A name as written: plain (`arr`) or quoted with backticks (`` `Chiffre d'affaires` ``).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The name without backticks.
    pub name: String,
    pub span: Span,
    /// Written with backticks.
    pub quoted: bool,
}

/// A text literal: `value` is unescaped, `span` covers the quotes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextLit {
    pub value: String,
    pub span: Span,
}

/// A `#` comment; `text` excludes the `#`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// One parsed `.segl` file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub file: FileId,
    pub items: Vec<Item>,
    /// Every comment in the file, in source order.
    pub comments: Vec<Comment>,
    /// Items that did not parse (already reported): their names are kept so that later stages
    /// do not report every use of them as unknown.
    pub broken: Vec<BrokenItem>,
}

/// What is known of an item that did not parse: the word it starts with and, when it could be
/// read, its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenItem {
    /// `entity`, `segment`, `define`, `param`, `tiers`, `score` or `test`.
    pub keyword: String,
    pub name: Option<Ident>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Entity(Entity),
    Segment(Segment),
    Define(Define),
    Param(Param),
    Tiers(Tiers),
    Score(Score),
    Test(Test),
}

impl Item {
    #[must_use]
    pub fn span(&self) -> Span {
        match self {
            Item::Entity(x) => x.span,
            Item::Segment(x) => x.span,
            Item::Define(x) => x.span,
            Item::Param(x) => x.span,
            Item::Tiers(x) => x.span,
            Item::Score(x) => x.span,
            Item::Test(x) => x.span,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Schema

#[derive(Clone, Debug, PartialEq)]
pub struct Entity {
    pub name: Ident,
    pub members: Vec<Member>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Member {
    Field(FieldDecl),
    Relation(RelationDecl),
}

/// A field: `arr: decimal optional label "ARR" synonyms revenue`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    pub name: Ident,
    /// Declared with `key`.
    pub is_key: bool,
    pub ty: TypeExpr,
    /// The span of the `optional` word, when present.
    pub optional: Option<Span>,
    pub label: Option<TextLit>,
    pub synonyms: Vec<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr {
    /// `text`, `integer`, ...: checked against the known type names by the schema checker.
    Named(Ident),
    /// `one of A, B, C`
    Enum { values: Vec<Ident>, span: Span },
    /// `list of T`
    List { element: Box<TypeExpr>, span: Span },
}

impl TypeExpr {
    #[must_use]
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(i) => i.span,
            TypeExpr::Enum { span, .. } | TypeExpr::List { span, .. } => *span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelationKind {
    /// `many ENTITY by FIELD`: the other entity's `FIELD` holds this entity's key.
    Many,
    /// `one ENTITY by FIELD`: this entity's `FIELD` holds the other entity's key.
    One,
}

/// A relation: `orders: many order by customer_id dated by placed_on`.
#[derive(Clone, Debug, PartialEq)]
pub struct RelationDecl {
    pub name: Ident,
    pub kind: RelationKind,
    pub target: Ident,
    pub by: Ident,
    pub dated_by: Option<Ident>,
    pub label: Option<TextLit>,
    pub synonyms: Vec<Ident>,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------------
// Rules

/// `title`, `description`, `owner` and `tags` lines of segments, tiers and scores.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Metadata {
    pub title: Option<TextLit>,
    pub description: Option<TextLit>,
    pub owner: Option<TextLit>,
    pub tags: Vec<TextLit>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub name: Ident,
    /// `of ENTITY`; the primary entity when absent.
    pub entity: Option<Ident>,
    pub meta: Metadata,
    /// The condition after `where`.
    pub condition: Expr,
    pub span: Span,
}

/// `define NAME [of ENTITY] = EXPR`
#[derive(Clone, Debug, PartialEq)]
pub struct Define {
    pub name: Ident,
    pub entity: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

/// `param NAME [: TYPE] = LITERAL`
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub default: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tiers {
    pub name: Ident,
    pub entity: Option<Ident>,
    pub meta: Metadata,
    pub rows: Vec<TierRow>,
    pub span: Span,
}

/// `large when CONDITION` or `small otherwise`.
#[derive(Clone, Debug, PartialEq)]
pub struct TierRow {
    pub name: Ident,
    /// `None` for `otherwise`.
    pub condition: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    pub name: Ident,
    pub entity: Option<Ident>,
    pub meta: Metadata,
    pub rules: Vec<ScoreRule>,
    pub span: Span,
}

/// `+10 when CONDITION`
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreRule {
    /// The signed points as written (`+10`, `-20`), unparsed.
    pub points: String,
    pub points_span: Span,
    pub condition: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    pub name: TextLit,
    pub steps: Vec<TestStep>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TestStep {
    /// `as of DATE-OR-TIMESTAMP`
    AsOf {
        value: Expr,
        span: Span,
    },
    /// `customer c1 { field: value, ... }`
    Record(RecordLit),
    /// `data order from "fixtures/orders.csv"`
    Data {
        entity: Ident,
        path: TextLit,
        span: Span,
    },
    /// `with min_arr = 40_000`
    With {
        param: Ident,
        value: Expr,
        span: Span,
    },
    Expect(Expect),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordLit {
    pub entity: Ident,
    /// The key: an identifier (meaning that text), a text or a number literal.
    pub key: Expr,
    pub fields: Vec<RecordField>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordField {
    pub name: Ident,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    /// The record the expectation is about (its key as written).
    pub record: Ident,
    pub kind: ExpectKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExpectKind {
    /// `expect c1 in seg` / `expect c1 not in seg`
    Member { negated: bool, segment: Ident },
    /// `expect c1.value_tier is large`, `expect c1.engagement = 10`
    Value { attribute: Ident, value: Expr },
}

// ---------------------------------------------------------------------------------------------
// Expressions (conditions are expressions of type yes/no)

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// A bare name: a field, definition, parameter, tier set or score.
    Name(Ident),
    /// `company.industry`, `orders.amount`: two or more names joined by dots.
    Path(Vec<Ident>),
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Compare {
        op: CompareOp,
        /// How the operator was written, so the formatter can keep `is` or `=`.
        spelling: CompareSpelling,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// A word test: `x is known`, `x contains "a"`, `x in last 30 days`, ...
    Test {
        subject: Box<Expr>,
        test: Test_,
        /// `is not ...`, `does not contain`, `is none of`: the negation of the positive test.
        negated: bool,
        /// `... ignoring case`
        ignoring_case: bool,
    },
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// `all of { ... }`, `any of { ... }`, `none of { ... }`
    Block {
        kind: BlockKind,
        items: Vec<Expr>,
    },
    /// `in segment x` / `not in segment x`
    InSegment {
        negated: bool,
        segment: Ident,
    },
    Today,
    Now,
    /// `days since x`
    DaysSince(Box<Expr>),
    /// `x anniversary`: the next yearly recurrence of a date on or after the as-of date.
    Anniversary(Box<Expr>),
    Aggregate {
        func: AggFunc,
        func_span: Span,
        source: AggSource,
    },
    Population {
        func: PopFunc,
        func_span: Span,
        value: Box<Expr>,
        /// `within region` (a name or path).
        within: Option<Box<Expr>>,
    },
    /// `lower(x)`, `coalesce(a, b)`: a named function applied to arguments.
    Call {
        func: Ident,
        args: Vec<Expr>,
    },
    /// `( ... )`, kept so the formatter can print what the user wrote.
    Paren(Box<Expr>),
}

/// The word tests. Named with a trailing underscore to keep `Test` for the test item.
#[allow(non_camel_case_types)]
#[derive(Clone, Debug, PartialEq)]
pub enum Test_ {
    /// `is between LOW and HIGH`
    Between {
        low: Box<Expr>,
        high: Box<Expr>,
    },
    /// `is any of LIST` (negated: `is none of LIST`); the list is usually an `ExprKind::List`.
    AnyOf(Box<Expr>),
    Known,
    /// `is unknown` (the checker treats it as the negation of `is known` but keeps the spelling).
    Unknown,
    Empty,
    Contains(Box<Expr>),
    ContainsAny(Box<Expr>),
    ContainsAll(Box<Expr>),
    StartsWith(Box<Expr>),
    EndsWith(Box<Expr>),
    Matches(Box<Expr>),
    Time(TimeTest),
}

/// A time test relative to the as-of date; also the window of an aggregate.
#[derive(Clone, Debug, PartialEq)]
pub enum TimeTest {
    /// `in last 90 days`
    InLast(DurationLit),
    /// `in next 14 days`
    InNext(DurationLit),
    /// `is more than 30 days ago`
    MoreThanAgo(DurationLit),
    /// `is less than 30 days ago`
    LessThanAgo(DurationLit),
    /// `is between 30 and 90 days ago`: `low` is the bare first number, `high` carries the unit.
    BetweenAgo {
        low: String,
        low_span: Span,
        high: DurationLit,
    },
    /// `in this month`, `in last quarter`, `in next year`
    Period {
        relative: PeriodRelative,
        unit: Ident,
        span: Span,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodRelative {
    This,
    Last,
    Next,
}

/// `90 days`: the amount and the unit as written; the checker validates the unit.
#[derive(Clone, Debug, PartialEq)]
pub struct DurationLit {
    pub amount: String,
    pub unit: Ident,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `50_000` (as written, underscores included)
    Integer(String),
    /// `19.99`
    Decimal(String),
    /// `80%` (the number before `%`)
    Percent(String),
    /// `"EMEA"` (unescaped)
    Text(String),
    Bool(bool),
    /// `2026-01-31`, not yet validated
    Date(String),
    /// `2026-01-31T09:30:00[Z|+02:00]`, not yet validated
    Timestamp(String),
    Duration(DurationLit),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    And,
    Or,
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareSpelling {
    /// `=`, `!=`, `<`, ...
    Symbol,
    /// `is`, `is not`
    Words,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    All,
    Any,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFunc {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    Any,
    Every,
}

/// `orders.amount in last 90 days where status is paid`
#[derive(Clone, Debug, PartialEq)]
pub struct AggSource {
    /// Relation names and at most one trailing field: `orders`, `orders.amount`,
    /// `company.contacts`, `company.contacts.ltv`.
    pub path: Vec<Ident>,
    pub window: Option<TimeTest>,
    pub filter: Option<Box<Expr>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PopFunc {
    Percentile,
    Rank,
    /// `ntile(5)`, `quintile` (5), `quartile` (4), `decile` (10): the group count as written.
    Ntile {
        groups: String,
        spelling: NtileSpelling,
    },
    ShareOfTotal,
    CumulativeShare,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NtileSpelling {
    Ntile,
    Quintile,
    Quartile,
    Decile,
}
