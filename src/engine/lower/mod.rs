//! Lowering of the typed IR to DataFusion plans, and their execution.
//!
//! Each entity with rules becomes one plan: a scan of its records, one grouped aggregation per
//! relation (every aggregate over that relation shares the scan, each with its own `FILTER`), one
//! join per `one` relation that is looked through, a window step for each population function,
//! and projections for definitions, segments, tiers and scores. Every column name is unique
//! within a run (`c0`, `c1`, ...), so joins never clash.

pub mod time;
pub mod udf;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::MemTable;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::functions::expr_fn as f;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::functions_nested::expr_fn as nested;
use datafusion::functions_window::expr_fn as win;
use datafusion::logical_expr::{ExprFunctionExt, JoinType, SortExpr, cast, lit, not, when};
use datafusion::prelude::{Expr as Df, SessionConfig, SessionContext, ident};

use crate::engine::{Dataset, Membership, RunSettings, types};
use crate::ir::{
    AggFunc, ArithOp, Builtin, CompareOp, DefinitionId, DurationUnit, EntityId, Expr, ExprKind,
    FieldRef, PopFunc, Program, RelationKind, RelationRef, ScoreId, SegmentId, TextOp, TierSetId,
    Type, Value, dump_expr,
};

use time::{date_range, instant_range};
use udf::{Udfs, date_to_days, unit_code};

/// Which rules to evaluate, and which extra values to report.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The segments, tier sets and scores to compute; `None` for all of them.
    pub rules: Option<Vec<Rule>>,
    /// Extra output columns (a field or definition per entity), named as given.
    pub columns: Vec<ExtraColumn>,
}

/// A rule a run can be asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    Segment(SegmentId),
    TierSet(TierSetId),
    Score(ScoreId),
}

/// A value to add to the output, such as a field or a definition.
#[derive(Clone, Debug)]
pub struct ExtraColumn {
    pub entity: EntityId,
    pub name: String,
    pub value: Expr,
}

/// What a run computed.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub memberships: Vec<Membership>,
    /// For each segment: how many records are outside it while some value it tests was unknown.
    pub unknown_excluded: BTreeMap<SegmentId, u64>,
}

/// Why a run could not complete. Programs reaching the engine are checked, so these are either
/// missing data or internal problems.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// Rules need the records of an entity, but no data was given for it.
    NoData { entity: String, needed_by: String },
    /// The query engine failed; the text is its message.
    Engine(String),
    /// A value the engine cannot hold (a calendar duration compared as a length, say).
    Unsupported(String),
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::NoData { entity, needed_by } => write!(
                f,
                "there is no data for `{entity}`, which `{needed_by}` needs"
            ),
            EngineError::Engine(m) => write!(f, "the query engine failed: {m}"),
            EngineError::Unsupported(m) => f.write_str(m),
        }
    }
}

impl From<datafusion::error::DataFusionError> for EngineError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        EngineError::Engine(e.to_string())
    }
}

impl From<datafusion::arrow::error::ArrowError> for EngineError {
    fn from(e: datafusion::arrow::error::ArrowError) -> Self {
        EngineError::Engine(e.to_string())
    }
}

type Result<T> = std::result::Result<T, EngineError>;

/// A segment, its output column and the column flagging records with an unknown tested value.
type UnknownFlag = (SegmentId, String, String);

/// Evaluates the requested rules of `program` over `data`, one plan per entity.
///
/// # Errors
/// When data for a needed entity is missing or the query engine fails.
pub fn evaluate(
    program: &Program,
    data: &Dataset,
    settings: &RunSettings,
    request: &Request,
) -> Result<Evaluation> {
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .build()
        .map_err(|e| EngineError::Engine(e.to_string()))?;
    let mut config = SessionConfig::new()
        .with_target_partitions(threads)
        .with_batch_size(8192);
    // DataFusion's physical planner infers some filtered aggregates' inputs as nullable where its
    // logical planner does not, and refuses the plan; the values are the same either way.
    config
        .options_mut()
        .execution
        .skip_physical_aggregate_schema_check = true;
    let ctx = SessionContext::new_with_config(config);
    let mut planner = Planner {
        program,
        data,
        settings,
        ctx,
        udfs: Udfs::new(&settings.as_of.time_zone, settings.as_of.date),
        next: 0,
        tables: HashMap::new(),
    };
    let mut evaluation = Evaluation {
        memberships: Vec::new(),
        unknown_excluded: BTreeMap::new(),
    };
    for (entity, outputs) in outputs_by_entity(program, request) {
        let (df, unknown_cols) = planner.entity_plan(entity, &outputs)?;
        // The plan's schema, so an entity without records still has its columns.
        let schema = Arc::new(df.schema().as_arrow().clone());
        let batches = runtime.block_on(df.collect())?;
        let batch = concat_batches(&schema, &batches)?;
        let (batch, counts) = split_unknown_counts(&batch, &unknown_cols)?;
        evaluation.unknown_excluded.extend(counts);
        evaluation.memberships.push(Membership { entity, batch });
    }
    Ok(evaluation)
}

/// One output column of an entity's plan.
#[derive(Clone, Debug)]
enum Output {
    Segment(SegmentId),
    TierSet(TierSetId),
    Score(ScoreId),
    Extra(String, Expr),
}

fn outputs_by_entity(program: &Program, request: &Request) -> BTreeMap<EntityId, Vec<Output>> {
    let wanted = |r: Rule| request.rules.as_ref().is_none_or(|rs| rs.contains(&r));
    let mut by: BTreeMap<EntityId, Vec<Output>> = BTreeMap::new();
    for (i, s) in program.segments.iter().enumerate() {
        let id = SegmentId::from_index(i);
        if wanted(Rule::Segment(id)) {
            by.entry(s.entity).or_default().push(Output::Segment(id));
        }
    }
    for (i, t) in program.tier_sets.iter().enumerate() {
        let id = TierSetId::from_index(i);
        if wanted(Rule::TierSet(id)) {
            by.entry(t.entity).or_default().push(Output::TierSet(id));
        }
    }
    for (i, s) in program.scores.iter().enumerate() {
        let id = ScoreId::from_index(i);
        if wanted(Rule::Score(id)) {
            by.entry(s.entity).or_default().push(Output::Score(id));
        }
    }
    for c in &request.columns {
        by.entry(c.entity)
            .or_default()
            .push(Output::Extra(c.name.clone(), c.value.clone()));
    }
    by
}

/// Removes the helper columns that flag unknown values and counts, per segment, the records
/// outside it with an unknown value.
fn split_unknown_counts(
    batch: &RecordBatch,
    unknown_cols: &[UnknownFlag],
) -> Result<(RecordBatch, Vec<(SegmentId, u64)>)> {
    let mut counts = Vec::new();
    let mut drop: HashSet<&str> = HashSet::new();
    for (seg, member_col, flag_col) in unknown_cols {
        drop.insert(flag_col);
        let (Ok(member), Ok(flag)) = (
            batch.column_by_name(member_col).ok_or(()),
            batch.column_by_name(flag_col).ok_or(()),
        ) else {
            continue;
        };
        let (Some(member), Some(flag)) = (member.as_boolean_opt(), flag.as_boolean_opt()) else {
            continue;
        };
        let n = (0..batch.num_rows())
            .filter(|&i| !member.value(i) && flag.is_valid(i) && flag.value(i))
            .count();
        counts.push((*seg, n as u64));
    }
    let keep: Vec<usize> = batch
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| !drop.contains(f.name().as_str()))
        .map(|(i, _)| i)
        .collect();
    Ok((batch.project(&keep)?, counts))
}

struct Planner<'a> {
    program: &'a Program,
    data: &'a Dataset,
    settings: &'a RunSettings,
    ctx: SessionContext,
    udfs: Udfs,
    next: usize,
    tables: HashMap<EntityId, Arc<MemTable>>,
}

/// One entity's records with the columns computed so far.
struct Frame {
    entity: EntityId,
    df: Option<DataFrame>,
    /// The column of each schema field.
    fields: Vec<String>,
    /// Columns already computed, by expression text (or a rule's id).
    memo: HashMap<String, String>,
}

impl Frame {
    fn df(&mut self) -> Result<DataFrame> {
        self.df
            .take()
            .ok_or_else(|| EngineError::Engine("a plan was used twice".into()))
    }
}

/// The aggregates and lookups an entity's expressions need, grouped by relation.
#[derive(Default)]
struct Needs {
    aggregates: BTreeMap<RelationRef, Vec<(String, Expr)>>,
    lookups: BTreeMap<RelationRef, Vec<(String, Expr)>>,
    seen: HashSet<String>,
}

impl Planner<'_> {
    fn fresh(&mut self) -> String {
        let name = format!("c{}", self.next);
        self.next += 1;
        name
    }

    fn key(&self, e: &Expr) -> String {
        dump_expr(self.program, e)
    }

    fn table(&mut self, entity: EntityId, needed_by: &str) -> Result<Arc<MemTable>> {
        if let Some(t) = self.tables.get(&entity) {
            return Ok(Arc::clone(t));
        }
        let Some(table) = self.data.table(entity) else {
            return Err(EngineError::NoData {
                entity: self.program.entity(entity).name.clone(),
                needed_by: needed_by.to_owned(),
            });
        };
        // Every column is declared nullable to DataFusion: some of its plan rewrites disagree
        // with themselves about the nullability of non-null inputs. Required fields still hold
        // no nulls (the loader checked that).
        let schema = table.batch.schema();
        let nullable = Arc::new(datafusion::arrow::datatypes::Schema::new(
            schema
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect::<Vec<_>>(),
        ));
        let batch = &RecordBatch::try_new(nullable, table.batch.columns().to_vec())?;
        let parts = self.ctx.state().config().target_partitions().max(1);
        let rows = batch.num_rows();
        let chunk = rows.div_ceil(parts).max(1);
        let mut partitions = Vec::new();
        let mut start = 0;
        while start < rows {
            let len = chunk.min(rows - start);
            partitions.push(vec![batch.slice(start, len)]);
            start += len;
        }
        if partitions.is_empty() {
            partitions.push(vec![batch.clone()]);
        }
        let mem = Arc::new(MemTable::try_new(batch.schema(), partitions)?);
        self.tables.insert(entity, Arc::clone(&mem));
        Ok(mem)
    }

    /// A fresh scan of an entity's records, every field renamed to a unique column.
    fn base(&mut self, entity: EntityId, needed_by: &str) -> Result<Frame> {
        let table = self.table(entity, needed_by)?;
        let df = self.ctx.read_table(table)?;
        let def = self.program.entity(entity);
        let mut fields = Vec::new();
        let mut exprs = Vec::new();
        for field in &def.fields {
            let name = self.fresh();
            exprs.push(ident(field.name.clone()).alias(name.clone()));
            fields.push(name);
        }
        Ok(Frame {
            entity,
            df: Some(df.select(exprs)?),
            fields,
            memo: HashMap::new(),
        })
    }

    /// An entity's records with one column per expression in `wanted` (named in the result).
    fn frame(
        &mut self,
        entity: EntityId,
        wanted: &[Expr],
        needed_by: &str,
    ) -> Result<(Frame, Vec<String>)> {
        let mut frame = self.base(entity, needed_by)?;
        let mut needs = Needs::default();
        for e in wanted {
            self.collect(e, &mut needs);
        }
        for (relation, aggs) in std::mem::take(&mut needs.aggregates) {
            self.join_aggregates(&mut frame, relation, &aggs)?;
        }
        for (relation, lookups) in std::mem::take(&mut needs.lookups) {
            self.join_lookups(&mut frame, relation, &lookups)?;
        }
        let mut names = Vec::new();
        for e in wanted {
            names.push(self.column(&mut frame, e)?);
        }
        Ok((frame, names))
    }

    /// Finds the aggregates and lookups reachable from `e` in its own entity's scope.
    fn collect(&self, e: &Expr, needs: &mut Needs) {
        let p = self.program;
        match &e.kind {
            ExprKind::Aggregate { source, .. } => {
                let key = self.key(e);
                if !needs.seen.insert(key.clone()) {
                    return;
                }
                let Some(first) = source.path.first() else {
                    return;
                };
                if p.relation(*first).kind == RelationKind::One {
                    // `company.contacts`: an aggregate seen through a lookup.
                    let mut inner = e.clone();
                    if let ExprKind::Aggregate { source, .. } = &mut inner.kind {
                        source.path.remove(0);
                    }
                    needs.lookups.entry(*first).or_default().push((key, inner));
                } else {
                    needs
                        .aggregates
                        .entry(*first)
                        .or_default()
                        .push((key, e.clone()));
                }
            }
            ExprKind::Lookup { relation, value } => {
                let key = self.key(e);
                if needs.seen.insert(key.clone()) {
                    needs
                        .lookups
                        .entry(*relation)
                        .or_default()
                        .push((key, value.as_ref().clone()));
                }
            }
            ExprKind::Definition(id) => {
                if needs.seen.insert(format!("definition {}", id.0)) {
                    self.collect(&p.definitions[id.index()].value, needs);
                }
            }
            ExprKind::Segment(id) => {
                if needs.seen.insert(format!("segment {}", id.0)) {
                    self.collect(&p.segments[id.index()].condition, needs);
                }
            }
            ExprKind::Tier(id) => {
                if needs.seen.insert(format!("tiers {}", id.0)) {
                    for row in &p.tier_sets[id.index()].rows {
                        if let Some(c) = &row.condition {
                            self.collect(c, needs);
                        }
                    }
                }
            }
            ExprKind::Score(id) => {
                if needs.seen.insert(format!("score {}", id.0)) {
                    for rule in &p.scores[id.index()].rules {
                        self.collect(&rule.condition, needs);
                    }
                }
            }
            _ => {
                for child in e.operands() {
                    self.collect(child, needs);
                }
            }
        }
    }

    /// Computes every aggregate over one `many` relation in a single grouped scan of the related
    /// records, and joins the results to the frame.
    fn join_aggregates(
        &mut self,
        frame: &mut Frame,
        relation: RelationRef,
        aggs: &[(String, Expr)],
    ) -> Result<()> {
        let p = self.program;
        let rel = p.relation(relation);
        let child = rel.target;
        // What each aggregate needs from the related records: window test, filter, value.
        let mut wanted: Vec<Expr> = Vec::new();
        let mut slots: Vec<(Option<usize>, Option<usize>, Option<usize>)> = Vec::new();
        for (_, e) in aggs {
            let ExprKind::Aggregate { source, value, .. } = &e.kind else {
                continue;
            };
            let mut push = |x: Expr| {
                wanted.push(x);
                wanted.len() - 1
            };
            let w = source
                .window
                .as_ref()
                .map(|(window, field)| push(window_test(p, *field, window.clone(), e.span)));
            let filt = source.filter.as_ref().map(|x| push(x.as_ref().clone()));
            let v = value.as_ref().map(|x| push(x.as_ref().clone()));
            slots.push((w, filt, v));
        }
        let needed_by = format!("{}.{}", p.entity(relation.entity).name, rel.name);
        let (mut child_frame, cols) = self.frame(child, &wanted, &needed_by)?;
        let key_name = self.fresh();
        let via = child_frame.fields[rel.via.field.index()].clone();
        let mut agg_exprs = Vec::new();
        let mut names = Vec::new();
        let mut distinct: Vec<(String, Option<Df>, Df)> = Vec::new();
        // Exact averages: the position of the sum in `names`, and the name of its count.
        let mut avg_counts: HashMap<usize, String> = HashMap::new();
        for ((_, e), (w, filt, v)) in aggs.iter().zip(&slots) {
            let ExprKind::Aggregate { func, .. } = &e.kind else {
                continue;
            };
            let w = w.map(|i| ident(cols[i].clone()));
            let filt = filt.map(|i| ident(cols[i].clone()));
            let v = v.map(|i| ident(cols[i].clone()));
            let both = |a: Option<Df>, b: Option<Df>| match (a, b) {
                (Some(a), Some(b)) => Some(a.and(b)),
                (a, b) => a.or(b),
            };
            // Records outside the window or filter contribute a null, which every aggregate
            // skips: `agg(CASE WHEN pred THEN value END)`. (DataFusion ignores `FILTER` on
            // distinct aggregates, and the same form works in every SQL dialect.)
            let only = |pred: Option<Df>, value: Df| -> Result<Df> {
                Ok(match pred {
                    Some(p) => when(p, value).end()?,
                    None => value,
                })
            };
            let one = || lit(1_i64);
            if *func == AggFunc::CountDistinct {
                // Counted in two steps (distinct pairs of parent and value, then a count per
                // parent): DataFusion's grouped `count(DISTINCT)` keeps a hash set per group,
                // which for text values and a million parents takes many gigabytes.
                let name = self.fresh();
                distinct.push((name.clone(), both(w, filt), v.unwrap_or_else(one)));
                names.push(name);
                continue;
            }
            let expr = match func {
                AggFunc::Count => agg::count(only(both(w, filt), v.unwrap_or_else(one))?),
                AggFunc::CountDistinct => {
                    agg::count_distinct(only(both(w, filt), v.unwrap_or_else(one))?)
                }
                AggFunc::Sum => agg::sum(only(both(w, filt), v.unwrap_or_else(one))?),
                // An average of whole numbers or exact decimals is their exact sum divided by
                // their count, once: a float running sum would depend on the order of the
                // records in the data file (250.00 could become 250.00000000000003).
                AggFunc::Avg if exact_avg(e) => {
                    let counted = self.fresh();
                    agg_exprs.push(
                        agg::count(only(
                            both(w.clone(), filt.clone()),
                            v.clone().unwrap_or_else(one),
                        )?)
                        .alias(counted.clone()),
                    );
                    avg_counts.insert(names.len(), counted);
                    agg::sum(only(both(w, filt), v.unwrap_or_else(one))?)
                }
                AggFunc::Avg => agg::avg(only(
                    both(w, filt),
                    cast(v.unwrap_or_else(one), DataType::Float64),
                )?),
                AggFunc::Min => agg::min(only(both(w, filt), v.unwrap_or_else(one))?),
                AggFunc::Max => agg::max(only(both(w, filt), v.unwrap_or_else(one))?),
                AggFunc::Any => agg::count(only(both(w, filt), one())?),
                // Every record meets a missing condition: nothing to count, so always true.
                // A record whose condition is unknown does not pass it (closed world), so it
                // counts against `every`: `IS NOT TRUE`, not `NOT`.
                AggFunc::Every => match filt {
                    Some(filt) => agg::count(only(both(w, Some(filt.is_not_true())), one())?),
                    None => agg::count(only(Some(lit(false)), one())?),
                },
            };
            let name = self.fresh();
            agg_exprs.push(expr.alias(name.clone()));
            names.push(name);
        }
        let child_df = child_frame.df()?;
        let key_col = frame.fields[p.entity(frame.entity).key.index()].clone();
        let mut df = frame.df()?;
        for (name, pred, value) in distinct {
            let rows = match pred {
                Some(pred) => child_df.clone().filter(pred)?,
                None => child_df.clone(),
            };
            let (parent, item, joined) = (self.fresh(), self.fresh(), self.fresh());
            let counted = rows
                .aggregate(
                    vec![
                        ident(via.clone()).alias(parent.clone()),
                        value.alias(item.clone()),
                    ],
                    vec![],
                )?
                .aggregate(
                    vec![ident(parent).alias(joined.clone())],
                    vec![agg::count(ident(item)).alias(name)],
                )?;
            df = df.join(counted, JoinType::Left, &[&key_col], &[&joined], None)?;
        }
        let grouped = child_df.aggregate(vec![ident(via).alias(key_name.clone())], agg_exprs)?;
        let schema = grouped.schema().clone();
        let mut df = df.join(grouped, JoinType::Left, &[&key_col], &[&key_name], None)?;
        // Over no related records: count and sum are 0, any is false, every is true.
        for (i, ((key, e), name)) in aggs.iter().zip(names).enumerate() {
            let ExprKind::Aggregate { func, .. } = &e.kind else {
                continue;
            };
            if let Some(counted) = avg_counts.get(&i) {
                let out = self.fresh();
                let avg = cast(ident(name), DataType::Float64)
                    / cast(ident(counted.clone()), DataType::Float64);
                df = df.with_column(&out, avg)?;
                frame.memo.insert(key.clone(), out);
                continue;
            }
            let column = ident(name.clone());
            let zero = || -> Result<Df> {
                // Distinct counts are not in the grouped schema; they are counts (Int64).
                match schema.qualified_field_with_unqualified_name(&name) {
                    Ok((_, field)) => Ok(lit(ScalarValue::new_zero(field.data_type())?)),
                    Err(_) => Ok(lit(0_i64)),
                }
            };
            let finished = match func {
                AggFunc::Count | AggFunc::CountDistinct | AggFunc::Sum => {
                    Some(f::coalesce(vec![column, zero()?]))
                }
                AggFunc::Any => Some(f::coalesce(vec![column, lit(0_i64)]).gt(lit(0_i64))),
                AggFunc::Every => Some(f::coalesce(vec![column, lit(0_i64)]).eq(lit(0_i64))),
                AggFunc::Avg | AggFunc::Min | AggFunc::Max => None,
            };
            let out = match finished {
                Some(x) => {
                    let out = self.fresh();
                    df = df.with_column(&out, x)?;
                    out
                }
                None => name,
            };
            frame.memo.insert(key.clone(), out);
        }
        frame.df = Some(df);
        Ok(())
    }

    /// Joins the related record of a `one` relation, with the values the frame needs from it.
    fn join_lookups(
        &mut self,
        frame: &mut Frame,
        relation: RelationRef,
        lookups: &[(String, Expr)],
    ) -> Result<()> {
        let p = self.program;
        let rel = p.relation(relation);
        let wanted: Vec<Expr> = lookups.iter().map(|(_, e)| e.clone()).collect();
        let needed_by = format!("{}.{}", p.entity(relation.entity).name, rel.name);
        let (target, cols) = self.frame(rel.target, &wanted, &needed_by)?;
        let mut target = target;
        let target_key = target.fields[p.entity(rel.target).key.index()].clone();
        let via = frame.fields[rel.via.field.index()].clone();
        let right = target.df()?;
        let df = frame
            .df()?
            .join(right, JoinType::Left, &[&via], &[&target_key], None)?;
        frame.df = Some(df);
        for ((key, inner), col) in lookups.iter().zip(cols) {
            // An aggregate seen through a missing related record ranges over no records: count
            // and sum are 0, any is false, every is true (as for an empty relation).
            let empty = match &inner.kind {
                ExprKind::Aggregate { func, .. } => match func {
                    AggFunc::Count | AggFunc::CountDistinct | AggFunc::Sum => {
                        let ty = types::arrow_type(&inner.ty, 0);
                        Some(lit(ScalarValue::new_zero(&ty)?))
                    }
                    AggFunc::Any => Some(lit(false)),
                    AggFunc::Every => Some(lit(true)),
                    AggFunc::Avg | AggFunc::Min | AggFunc::Max => None,
                },
                _ => None,
            };
            let col = match empty {
                Some(zero) => {
                    let name = self.fresh();
                    let df = frame
                        .df()?
                        .with_column(&name, f::coalesce(vec![ident(col), zero]))?;
                    frame.df = Some(df);
                    name
                }
                None => col,
            };
            frame.memo.insert(key.clone(), col);
        }
        Ok(())
    }

    /// Makes sure `e` is a column of the frame and returns its name.
    fn column(&mut self, frame: &mut Frame, e: &Expr) -> Result<String> {
        let key = self.key(e);
        if let Some(c) = frame.memo.get(&key) {
            return Ok(c.clone());
        }
        if let ExprKind::Field(f) = &e.kind {
            return Ok(frame.fields[f.field.index()].clone());
        }
        let x = self.compile(frame, e)?;
        let name = self.fresh();
        let df = frame.df()?.with_column(&name, x)?;
        frame.df = Some(df);
        frame.memo.insert(key, name.clone());
        Ok(name)
    }

    fn rule_column(&mut self, frame: &mut Frame, key: String, x: Df) -> Result<String> {
        if let Some(c) = frame.memo.get(&key) {
            return Ok(c.clone());
        }
        let name = self.fresh();
        let df = frame.df()?.with_column(&name, x)?;
        frame.df = Some(df);
        frame.memo.insert(key, name.clone());
        Ok(name)
    }

    fn definition(&mut self, frame: &mut Frame, id: DefinitionId) -> Result<Df> {
        let value = &self.program.definitions[id.index()].value;
        Ok(ident(self.column(frame, value)?))
    }

    fn segment(&mut self, frame: &mut Frame, id: SegmentId) -> Result<Df> {
        let condition = &self.program.segments[id.index()].condition;
        let c = self.condition(frame, condition)?;
        Ok(ident(self.rule_column(
            frame,
            format!("segment {}", id.0),
            c,
        )?))
    }

    fn tier(&mut self, frame: &mut Frame, id: TierSetId) -> Result<Df> {
        let key = format!("tiers {}", id.0);
        if let Some(c) = frame.memo.get(&key) {
            return Ok(ident(c.clone()));
        }
        let t = &self.program.tier_sets[id.index()];
        let mut otherwise = None;
        let mut arms = Vec::new();
        for row in &t.rows {
            match &row.condition {
                Some(c) => arms.push((self.condition(frame, c)?, lit(row.name.clone()))),
                None => otherwise = Some(lit(row.name.clone())),
            }
        }
        let otherwise = otherwise.ok_or_else(|| {
            EngineError::Engine(format!("the tier set `{}` has no `otherwise` row", t.name))
        })?;
        let x = match arms.split_first() {
            None => otherwise,
            Some(((c, v), rest)) => {
                let mut case = when(c.clone(), v.clone());
                for (c, v) in rest {
                    case = case.when(c.clone(), v.clone());
                }
                case.otherwise(otherwise)?
            }
        };
        Ok(ident(self.rule_column(frame, key, x)?))
    }

    fn score(&mut self, frame: &mut Frame, id: ScoreId) -> Result<Df> {
        let key = format!("score {}", id.0);
        if let Some(c) = frame.memo.get(&key) {
            return Ok(ident(c.clone()));
        }
        let s = &self.program.scores[id.index()];
        let mut total = lit(0_i64);
        for rule in &s.rules {
            let c = self.condition(frame, &rule.condition)?;
            total = total + when(c, lit(rule.points)).otherwise(lit(0_i64))?;
        }
        Ok(ident(self.rule_column(frame, key, total)?))
    }

    /// A condition as a never-null boolean (closed world: unknown counts as false).
    fn condition(&mut self, frame: &mut Frame, e: &Expr) -> Result<Df> {
        let x = self.compile(frame, e)?;
        Ok(if e.nullable { x.is_true() } else { x })
    }

    fn value_lit(&self, v: &Value, ty: &Type) -> Result<Df> {
        Ok(lit(self.scalar(v, ty)?))
    }

    fn scalar(&self, v: &Value, ty: &Type) -> Result<ScalarValue> {
        let p = self.program;
        let tz = &self.settings.as_of.time_zone;
        Ok(match v {
            Value::Bool(b) => ScalarValue::Boolean(Some(*b)),
            Value::Integer(i) => ScalarValue::Int64(Some(*i)),
            Value::Decimal(d) => ScalarValue::Decimal128(
                Some(d.mantissa),
                38,
                i8::try_from(d.scale).map_err(|_| {
                    EngineError::Unsupported("a decimal with too many digits".into())
                })?,
            ),
            Value::Number(n) => ScalarValue::Float64(Some(*n)),
            Value::Text(t) => ScalarValue::Utf8(Some(t.clone())),
            Value::Date(d) => ScalarValue::Date32(Some(date_to_days(*d))),
            Value::Timestamp(t) => {
                let instant = match t.offset_seconds {
                    Some(secs) => {
                        let offset = jiff::tz::Offset::from_seconds(secs)
                            .map_err(|e| EngineError::Unsupported(e.to_string()))?;
                        offset
                            .to_timestamp(t.civil)
                            .map_err(|e| EngineError::Unsupported(e.to_string()))?
                    }
                    None => tz
                        .to_timestamp(t.civil)
                        .map_err(|e| EngineError::Unsupported(e.to_string()))?,
                };
                ScalarValue::TimestampMicrosecond(
                    Some(instant.as_microsecond()),
                    Some(types::UTC.into()),
                )
            }
            Value::Duration(d) => {
                // Compared as lengths, calendar units count as SQL intervals do: a month is 30
                // days, a quarter 90, a year 360.
                let day = 86_400_000_000_i64;
                let micros = match d.unit {
                    DurationUnit::Minute => Some(60_000_000_i64),
                    DurationUnit::Hour => Some(3_600_000_000),
                    DurationUnit::Day => Some(day),
                    DurationUnit::Week => Some(7 * day),
                    DurationUnit::Month => Some(30 * day),
                    DurationUnit::Quarter => Some(90 * day),
                    DurationUnit::Year => Some(360 * day),
                }
                .and_then(|m| m.checked_mul(d.amount))
                .ok_or_else(|| {
                    EngineError::Unsupported(format!(
                        "`{d}` has no fixed length, so it cannot be compared as a duration; use days or weeks"
                    ))
                })?;
                ScalarValue::DurationMicrosecond(Some(micros))
            }
            Value::Percent(d) => ScalarValue::Float64(Some(d.to_f64())),
            Value::Enum(id, i) => ScalarValue::Utf8(
                p.enums
                    .get(id.index())
                    .and_then(|e| e.values.get(*i as usize))
                    .cloned(),
            ),
            Value::List(items) => {
                let inner = match ty {
                    Type::List(inner) => inner.as_ref().clone(),
                    _ => Type::Text,
                };
                let scalars = items
                    .iter()
                    .map(|v| self.scalar(v, &inner))
                    .collect::<Result<Vec<_>>>()?;
                let dt = scalars
                    .first()
                    .map_or(DataType::Utf8, ScalarValue::data_type);
                ScalarValue::List(ScalarValue::new_list(&scalars, &dt, true))
            }
        })
    }

    fn param(&self, id: crate::ir::ParamId) -> Result<Df> {
        let def = &self.program.params[id.index()];
        let v = self.settings.params.get(&id).unwrap_or(&def.default);
        self.value_lit(v, &def.ty)
    }

    #[allow(clippy::too_many_lines)]
    fn compile(&mut self, frame: &mut Frame, e: &Expr) -> Result<Df> {
        let key = self.key(e);
        if let Some(c) = frame.memo.get(&key) {
            return Ok(ident(c.clone()));
        }
        let as_of = &self.settings.as_of;
        Ok(match &e.kind {
            ExprKind::Literal(v) => self.value_lit(v, &e.ty)?,
            ExprKind::Field(f) => ident(frame.fields[f.field.index()].clone()),
            ExprKind::Lookup { .. } | ExprKind::Aggregate { .. } => {
                return Err(EngineError::Engine(format!(
                    "internal: `{}` was not prepared",
                    key.lines().next().unwrap_or("")
                )));
            }
            ExprKind::Param(id) => self.param(*id)?,
            ExprKind::Definition(id) => self.definition(frame, *id)?,
            ExprKind::Segment(id) => self.segment(frame, *id)?,
            ExprKind::Tier(id) => self.tier(frame, *id)?,
            ExprKind::Score(id) => self.score(frame, *id)?,
            ExprKind::Today => lit(ScalarValue::Date32(Some(date_to_days(as_of.date)))),
            ExprKind::Now => lit(ScalarValue::TimestampMicrosecond(
                Some(as_of.instant.as_microsecond()),
                Some(types::UTC.into()),
            )),
            ExprKind::Not(x) => not(self.condition(frame, x)?),
            ExprKind::And(xs) => {
                let mut out: Option<Df> = None;
                for x in xs {
                    let c = self.condition(frame, x)?;
                    out = Some(match out {
                        Some(o) => o.and(c),
                        None => c,
                    });
                }
                out.unwrap_or_else(|| lit(true))
            }
            ExprKind::Or(xs) => {
                let mut out: Option<Df> = None;
                for x in xs {
                    let c = self.condition(frame, x)?;
                    out = Some(match out {
                        Some(o) => o.or(c),
                        None => c,
                    });
                }
                out.unwrap_or_else(|| lit(false))
            }
            ExprKind::Neg(x) => Df::Negative(Box::new(self.compile(frame, x)?)),
            ExprKind::Arith { op, lhs, rhs } => self.arith(frame, e, *op, lhs, rhs)?,
            ExprKind::Compare { op, lhs, rhs } => {
                let l = self.compile(frame, lhs)?;
                let r = self.compile(frame, rhs)?;
                let x = match op {
                    CompareOp::Eq => l.eq(r),
                    CompareOp::Lt => l.lt(r),
                    CompareOp::Le => l.lt_eq(r),
                    CompareOp::Gt => l.gt(r),
                    CompareOp::Ge => l.gt_eq(r),
                };
                x.is_true()
            }
            ExprKind::Text {
                op,
                value,
                pattern,
                ignore_case,
            } => {
                let mut v = self.compile(frame, value)?;
                let mut pat = self.compile(frame, pattern)?;
                if *ignore_case && *op != TextOp::Matches {
                    v = f::lower(v);
                    pat = f::lower(pat);
                }
                let x = match op {
                    TextOp::Equals => v.eq(pat),
                    TextOp::Contains => f::contains(v, pat),
                    TextOp::StartsWith => f::starts_with(v, pat),
                    TextOp::EndsWith => f::ends_with(v, pat),
                    TextOp::Matches => {
                        let flags = if *ignore_case { Some(lit("i")) } else { None };
                        f::regexp_like(v, pat, flags)
                    }
                };
                x.is_true()
            }
            ExprKind::IsKnown(x) => self.compile(frame, x)?.is_not_null(),
            ExprKind::InList {
                value,
                options,
                ignore_case,
            } => {
                let mut v = self.compile(frame, value)?;
                let mut opts = Vec::new();
                for o in options {
                    let o = self.compile(frame, o)?;
                    opts.push(if *ignore_case { f::lower(o) } else { o });
                }
                if *ignore_case {
                    v = f::lower(v);
                }
                v.in_list(opts, false).is_true()
            }
            ExprKind::Between { value, low, high } => {
                let v = self.compile(frame, value)?;
                let lo = self.compile(frame, low)?;
                let hi = self.compile(frame, high)?;
                v.clone().gt_eq(lo).and(v.lt_eq(hi)).is_true()
            }
            ExprKind::IsEmpty(x) => {
                let v = self.compile(frame, x)?;
                let len = if matches!(x.ty, Type::List(_)) {
                    nested::cardinality(v)
                } else {
                    cast(f::character_length(v), DataType::UInt64)
                };
                len.eq(lit(0_u64)).is_true()
            }
            ExprKind::ListContains {
                list,
                element,
                ignore_case,
            } => {
                let l = self.compile(frame, list)?;
                let el = self.compile(frame, element)?;
                self.udfs
                    .list_match(l, nested::make_array(vec![el]), false, *ignore_case)
                    .is_true()
            }
            ExprKind::ListContainsAny {
                list,
                elements,
                ignore_case,
            }
            | ExprKind::ListContainsAll {
                list,
                elements,
                ignore_case,
            } => {
                let all = matches!(e.kind, ExprKind::ListContainsAll { .. });
                let l = self.compile(frame, list)?;
                let els = self.compile(frame, elements)?;
                self.udfs.list_match(l, els, all, *ignore_case).is_true()
            }
            ExprKind::InWindow { value, window } => {
                let v = self.compile(frame, value)?;
                self.in_window(v, &value.ty, window)?.is_true()
            }
            ExprKind::DaysSince(x) => {
                let v = self.compile(frame, x)?;
                let day = if x.ty == Type::Timestamp {
                    self.udfs.local_date(v)
                } else {
                    v
                };
                let days = cast(cast(day, DataType::Int32), DataType::Int64);
                lit(i64::from(date_to_days(as_of.date))) - days
            }
            ExprKind::Anniversary(x) => {
                let v = self.compile(frame, x)?;
                self.udfs.anniversary(v)
            }
            ExprKind::Population {
                func,
                entity: _,
                value,
                within,
            } => {
                let name = self.population(frame, *func, value, within.as_deref())?;
                frame.memo.insert(key, name.clone());
                ident(name)
            }
            ExprKind::Call { func, args } => self.call(frame, *func, args)?,
            ExprKind::List(items) => {
                let mut xs = Vec::new();
                for i in items {
                    xs.push(self.compile(frame, i)?);
                }
                nested::make_array(xs)
            }
            ExprKind::Coerce(x) => {
                let v = self.compile(frame, x)?;
                match (&x.ty, &e.ty) {
                    (Type::Date, Type::Timestamp) => self.udfs.local_midnight(v),
                    (Type::Integer, Type::Decimal) => cast(v, DataType::Decimal128(38, 0)),
                    (Type::Enum(_), Type::Enum(_)) => v,
                    (_, to) => cast(v, types::arrow_type(to, 0)),
                }
            }
            ExprKind::Error => {
                return Err(EngineError::Engine(
                    "internal: a program with errors reached the engine".into(),
                ));
            }
        })
    }

    fn arith(
        &mut self,
        frame: &mut Frame,
        e: &Expr,
        op: ArithOp,
        lhs: &Expr,
        rhs: &Expr,
    ) -> Result<Df> {
        // A percentage literal times money stays exact.
        let exact_percent = |x: &Expr| -> Option<Df> {
            if let (ExprKind::Literal(Value::Percent(d)), Type::Decimal) = (&x.kind, &e.ty) {
                let scale = i8::try_from(d.scale).ok()?;
                Some(lit(ScalarValue::Decimal128(Some(d.mantissa), 38, scale)))
            } else {
                None
            }
        };
        let temporal = lhs.ty.is_temporal() || rhs.ty.is_temporal();
        if temporal && (lhs.ty == Type::Duration || rhs.ty == Type::Duration) {
            let (when_, dur) = if lhs.ty == Type::Duration {
                (rhs, lhs)
            } else {
                (lhs, rhs)
            };
            let v = self.compile(frame, when_)?;
            let sign = if op == ArithOp::Sub { -1 } else { 1 };
            // Constant durations keep calendar units (months, years).
            let constant = match &dur.kind {
                ExprKind::Literal(Value::Duration(d)) => Some(*d),
                ExprKind::Param(id) => match self
                    .settings
                    .params
                    .get(id)
                    .unwrap_or(&self.program.params[id.index()].default)
                {
                    Value::Duration(d) => Some(*d),
                    _ => None,
                },
                _ => None,
            };
            if let Some(d) = constant {
                let value = if e.ty == Type::Timestamp && when_.ty == Type::Date {
                    self.udfs.local_midnight(v)
                } else {
                    v
                };
                return Ok(self.udfs.add_span(
                    value,
                    e.ty == Type::Date,
                    lit(d.amount * sign),
                    lit(unit_code(d.unit)),
                ));
            }
            let d = self.compile(frame, dur)?;
            if e.ty == Type::Date && when_.ty == Type::Date {
                // A date moved by a computed length (`a + (b - a)`): by its whole days, rounded
                // down, as the reference evaluator does. DataFusion adds no durations to dates.
                let day = lit(86_400_000_000_i64);
                let micros = cast(d, DataType::Int64);
                let rem = ((micros.clone() % day.clone()) + day.clone()) % day.clone();
                let days = (micros - rem) / day;
                let days = if op == ArithOp::Sub {
                    lit(0_i64) - days
                } else {
                    days
                };
                let base = cast(cast(v, DataType::Int32), DataType::Int64);
                return Ok(cast(cast(base + days, DataType::Int32), DataType::Date32));
            }
            return Ok(if op == ArithOp::Sub { v - d } else { v + d });
        }
        if op == ArithOp::Mul && e.ty == Type::Duration {
            // A duration (its length in microseconds) times a whole number.
            let l = self.compile(frame, lhs)?;
            let r = self.compile(frame, rhs)?;
            let int = |x: Df, ty: &Type| {
                if *ty == Type::Duration {
                    cast(x, DataType::Int64)
                } else {
                    x
                }
            };
            return Ok(cast(
                int(l, &lhs.ty) * int(r, &rhs.ty),
                DataType::Duration(datafusion::arrow::datatypes::TimeUnit::Microsecond),
            ));
        }
        if op == ArithOp::Sub && lhs.ty == Type::Date && rhs.ty == Type::Date {
            let l = self.compile(frame, lhs)?;
            let r = self.compile(frame, rhs)?;
            return Ok(self.udfs.days_between(l, r));
        }
        let l = match exact_percent(lhs) {
            Some(x) => x,
            None => self.compile(frame, lhs)?,
        };
        let r = match exact_percent(rhs) {
            Some(x) => x,
            None => self.compile(frame, rhs)?,
        };
        Ok(match op {
            ArithOp::Add => l + r,
            ArithOp::Sub => l - r,
            ArithOp::Mul => l * r,
            // Division by zero is unknown.
            ArithOp::Div => l / unless_zero(r)?,
        })
    }

    fn in_window(&self, v: Df, ty: &Type, window: &crate::ir::Window) -> Result<Df> {
        let as_of = &self.settings.as_of;
        let out_of_range =
            || EngineError::Unsupported("a time window reaches outside the calendar".into());
        let mut parts: Vec<Df> = Vec::new();
        if *ty == Type::Timestamp {
            let r = instant_range(window, as_of).ok_or_else(out_of_range)?;
            let ts = |m: i64| {
                lit(ScalarValue::TimestampMicrosecond(
                    Some(m),
                    Some(types::UTC.into()),
                ))
            };
            if let Some(from) = r.from {
                parts.push(v.clone().gt_eq(ts(from)));
            }
            if let Some(until) = r.until {
                parts.push(v.clone().lt(ts(until)));
            }
        } else {
            let r = date_range(window, as_of).ok_or_else(out_of_range)?;
            let d = |x: jiff::civil::Date| lit(ScalarValue::Date32(Some(date_to_days(x))));
            if let Some(first) = r.first {
                parts.push(v.clone().gt_eq(d(first)));
            }
            if let Some(last) = r.last {
                parts.push(v.clone().lt_eq(d(last)));
            }
        }
        Ok(parts
            .into_iter()
            .reduce(Df::and)
            .unwrap_or_else(|| v.is_not_null()))
    }

    fn call(&mut self, frame: &mut Frame, func: Builtin, args: &[Expr]) -> Result<Df> {
        let mut xs = Vec::new();
        for a in args {
            xs.push(self.compile(frame, a)?);
        }
        let first_ty = args.first().map(|a| a.ty.clone()).unwrap_or(Type::Error);
        let first = xs
            .first()
            .cloned()
            .ok_or_else(|| EngineError::Engine("a function without arguments".into()))?;
        Ok(match func {
            Builtin::Lower => f::lower(first),
            Builtin::Upper => f::upper(first),
            Builtin::Length => {
                if matches!(first_ty, Type::List(_)) {
                    cast(nested::cardinality(first), DataType::Int64)
                } else {
                    cast(f::character_length(first), DataType::Int64)
                }
            }
            Builtin::Abs => f::abs(first),
            Builtin::Round => match first_ty {
                Type::Integer => first,
                Type::Decimal => self.udfs.round_decimal(first),
                _ => f::round(vec![first]),
            },
            Builtin::Year | Builtin::Month | Builtin::Day => {
                let date = if first_ty == Type::Timestamp {
                    self.udfs.local_date(first)
                } else {
                    first
                };
                let part = match func {
                    Builtin::Year => "year",
                    Builtin::Month => "month",
                    _ => "day",
                };
                cast(f::date_part(lit(part), date), DataType::Int64)
            }
            Builtin::Coalesce => f::coalesce(xs),
        })
    }

    /// Adds a window step computing a population function; returns the result column.
    fn population(
        &mut self,
        frame: &mut Frame,
        func: PopFunc,
        value: &Expr,
        within: Option<&Expr>,
    ) -> Result<String> {
        // The ranking runs in a narrow plan of its own (key, value, group) whose result is joined
        // back by key: a window step buffers and sorts all of its input, and the main frame can
        // be hundreds of columns wide. Only the value's own inputs are computed twice.
        let p = self.program;
        let entity = frame.entity;
        let mut wanted = vec![value.clone()];
        if let Some(w) = within {
            wanted.push(w.clone());
        }
        let (mut narrow, cols) = self.frame(entity, &wanted, &p.entity(entity).name)?;
        let key_index = p.entity(entity).key.index();
        let narrow_key = narrow.fields[key_index].clone();
        let v = cols[0].clone();
        let w = cols.get(1).cloned();
        let mut groups: Vec<Df> = w.iter().map(|w| ident(w.clone())).collect();
        let total_groups = groups.clone();
        // Unknown values take no part: they are ranked apart and get an unknown result.
        groups.push(ident(v.clone()).is_null());
        let asc = |v: &str| vec![SortExpr::new(ident(v.to_owned()), true, false)];
        let desc = |v: &str| vec![SortExpr::new(ident(v.to_owned()), false, false)];
        let value_col = ident(v.clone());
        let unknown_to_null = |x: Df| -> Result<Df> {
            Ok(when(value_col.clone().is_null(), lit(ScalarValue::Null)).otherwise(x)?)
        };
        let mut windowed: Vec<(String, Df)> = Vec::new();
        let result = match func {
            PopFunc::Percentile => {
                let pr = win::percent_rank()
                    .partition_by(groups)
                    .order_by(asc(&v))
                    .build()?;
                let name = self.fresh();
                windowed.push((name.clone(), pr));
                unknown_to_null(ident(name))?
            }
            // `floor(percentile * k) + 1` in whole numbers: `(r - 1) * k / (n - 1) + 1`, where
            // `r` is the rank from the smallest value and `n` the number of known values. In
            // floating point, 57 / 100 * 100 is 56.99999999999999 and would fall a group short.
            PopFunc::Ntile(k) => {
                let r = win::rank()
                    .partition_by(groups.clone())
                    .order_by(asc(&v))
                    .build()?;
                let n = window_count(lit(1_i64)).partition_by(groups).build()?;
                let (r_name, n_name) = (self.fresh(), self.fresh());
                windowed.push((r_name.clone(), r));
                windowed.push((n_name.clone(), n));
                let k = lit(i64::from(k));
                let r = cast(ident(r_name), DataType::Int64);
                let n = cast(ident(n_name), DataType::Int64);
                let group = when(n.clone().lt_eq(lit(1_i64)), lit(1_i64))
                    .otherwise((r - lit(1_i64)) * k.clone() / (n - lit(1_i64)) + lit(1_i64))?;
                unknown_to_null(f::least(vec![k, group]))?
            }
            PopFunc::Rank => {
                let r = win::rank()
                    .partition_by(groups)
                    .order_by(desc(&v))
                    .build()?;
                let name = self.fresh();
                windowed.push((name.clone(), r));
                unknown_to_null(cast(ident(name), DataType::Int64))?
            }
            PopFunc::ShareOfTotal | PopFunc::CumulativeShare => {
                let total = window_sum(ident(v.clone()))
                    .partition_by(total_groups)
                    .build()?;
                let total_name = self.fresh();
                windowed.push((total_name.clone(), total));
                let part = if func == PopFunc::CumulativeShare {
                    // RANGE, not ROWS: values equal to this one count in full, so ties get
                    // equal results (DataFusion's default frame with ORDER BY is ROWS here).
                    let running = window_sum(ident(v.clone()))
                        .partition_by(groups)
                        .order_by(desc(&v))
                        .window_frame(datafusion::logical_expr::WindowFrame::new(Some(false)))
                        .build()?;
                    let name = self.fresh();
                    windowed.push((name.clone(), running));
                    ident(name)
                } else {
                    ident(v.clone())
                };
                let denominator = unless_zero(cast(ident(total_name), DataType::Float64))?;
                unknown_to_null(cast(part, DataType::Float64) / denominator)?
            }
        };
        // One window step per expression: DataFusion requires the expressions of one step to
        // share their partition and order.
        // -0.0 and 0.0 are the same number (`=` says so) but sort apart in a window's order:
        // ranked values are taken with zero's sign dropped, so that they tie.
        let ranked_value = if value.ty == Type::Number {
            when(ident(v.clone()).eq(lit(0.0_f64)), lit(0.0_f64))
                .otherwise(ident(v.clone()))?
                .alias(v.clone())
        } else {
            ident(v.clone())
        };
        let mut df = narrow.df()?.select(
            std::iter::once(ident(narrow_key.clone()))
                .chain(std::iter::once(ranked_value))
                .chain(w.iter().map(|w| ident(w.clone())))
                .collect::<Vec<Df>>(),
        )?;
        for (n, x) in windowed {
            df = df.window(vec![x.alias(n)])?;
        }
        let name = self.fresh();
        let joined_key = self.fresh();
        let ranked = df.select(vec![
            ident(narrow_key).alias(joined_key.clone()),
            result.alias(name.clone()),
        ])?;
        let key_col = frame.fields[key_index].clone();
        frame.df =
            Some(
                frame
                    .df()?
                    .join(ranked, JoinType::Left, &[&key_col], &[&joined_key], None)?,
            );
        Ok(name)
    }

    /// The plan for one entity: key, outputs, and flags for the unknown-value counts.
    fn entity_plan(
        &mut self,
        entity: EntityId,
        outputs: &[Output],
    ) -> Result<(DataFrame, Vec<UnknownFlag>)> {
        let p = self.program;
        let def = p.entity(entity);
        let first_rule = outputs.first().map_or_else(String::new, |o| match o {
            Output::Segment(id) => p.segments[id.index()].name.clone(),
            Output::TierSet(id) => p.tier_sets[id.index()].name.clone(),
            Output::Score(id) => p.scores[id.index()].name.clone(),
            Output::Extra(n, _) => n.clone(),
        });
        // Everything the outputs need, as expressions of this entity.
        let mut roots: Vec<Expr> = Vec::new();
        let span = def.span;
        let rule_expr = |kind: ExprKind, ty: Type| Expr {
            kind,
            ty,
            nullable: false,
            span,
        };
        for o in outputs {
            roots.push(match o {
                Output::Segment(id) => rule_expr(ExprKind::Segment(*id), Type::Bool),
                Output::TierSet(id) => rule_expr(
                    ExprKind::Tier(*id),
                    Type::Enum(p.tier_sets[id.index()].enum_id),
                ),
                Output::Score(id) => rule_expr(ExprKind::Score(*id), Type::Integer),
                Output::Extra(_, e) => e.clone(),
            });
        }
        let (mut frame, cols) = self.frame(entity, &roots, &first_rule)?;
        let mut select = vec![
            ident(frame.fields[def.key.index()].clone()).alias(
                def.fields
                    .get(def.key.index())
                    .map_or_else(|| "key".to_owned(), |f| f.name.clone()),
            ),
        ];
        let mut unknown_cols = Vec::new();
        for (o, c) in outputs.iter().zip(&cols) {
            let name = match o {
                Output::Segment(id) => p.segments[id.index()].name.clone(),
                Output::TierSet(id) => p.tier_sets[id.index()].name.clone(),
                Output::Score(id) => p.scores[id.index()].name.clone(),
                Output::Extra(n, _) => n.clone(),
            };
            select.push(ident(c.clone()).alias(name.clone()));
            if let Output::Segment(id) = o {
                let condition = &p.segments[id.index()].condition;
                let mut flags = Vec::new();
                self.unknown_flags(&mut frame, condition, &mut flags)?;
                if let Some(any) = flags.into_iter().reduce(Df::or) {
                    let flag = self.fresh();
                    select.push(any.alias(flag.clone()));
                    unknown_cols.push((*id, name, flag));
                }
            }
        }
        let key_name = def
            .fields
            .get(def.key.index())
            .map_or_else(|| "key".to_owned(), |f| f.name.clone());
        let df =
            frame
                .df()?
                .select(select)?
                .sort(vec![SortExpr::new(ident(key_name), true, false)])?;
        Ok((df, unknown_cols))
    }

    /// `IS NULL` tests of the values a condition's tests look at (not through other rules).
    fn unknown_flags(&mut self, frame: &mut Frame, e: &Expr, out: &mut Vec<Df>) -> Result<()> {
        let operands: Vec<&Expr> = match &e.kind {
            ExprKind::Compare { lhs, rhs, .. } => vec![lhs, rhs],
            ExprKind::Text { value, pattern, .. } => vec![value, pattern],
            ExprKind::InList { value, .. } => vec![value],
            ExprKind::Between { value, low, high } => vec![value, low, high],
            ExprKind::InWindow { value, .. } => vec![value],
            ExprKind::IsEmpty(x) => vec![x],
            ExprKind::ListContains { list, .. }
            | ExprKind::ListContainsAny { list, .. }
            | ExprKind::ListContainsAll { list, .. } => vec![list],
            ExprKind::Not(x) => return self.unknown_flags(frame, x, out),
            ExprKind::And(xs) | ExprKind::Or(xs) => {
                for x in xs {
                    self.unknown_flags(frame, x, out)?;
                }
                return Ok(());
            }
            _ if e.ty == Type::Bool && e.nullable => vec![e],
            _ => Vec::new(),
        };
        for o in operands {
            if o.nullable && !matches!(o.kind, ExprKind::Literal(_)) {
                out.push(self.compile(frame, o)?.is_null());
            }
        }
        Ok(())
    }
}

/// `x`, or unknown when it is zero (of either sign: `-0.0` too, which float equality in Arrow
/// tells apart from `0.0`).
fn unless_zero(x: Df) -> Result<Df> {
    Ok(when(
        f::abs(x.clone()).eq(lit(0.0_f64)),
        lit(ScalarValue::Float64(None)),
    )
    .otherwise(x)?)
}

/// `sum(x) OVER (...)`: the sum aggregate used as a window function.
fn window_count(x: Df) -> Df {
    Df::WindowFunction(Box::new(
        datafusion::logical_expr::expr::WindowFunction::new(
            datafusion::functions_aggregate::count::count_udaf(),
            vec![x],
        ),
    ))
}

fn window_sum(x: Df) -> Df {
    Df::WindowFunction(Box::new(
        datafusion::logical_expr::expr::WindowFunction::new(
            datafusion::functions_aggregate::sum::sum_udaf(),
            vec![x],
        ),
    ))
}

/// The window test on a related record's date field, as an IR condition.
fn window_test(
    p: &Program,
    field: FieldRef,
    window: crate::ir::Window,
    span: crate::source::Span,
) -> Expr {
    let def = p.field(field);
    Expr {
        kind: ExprKind::InWindow {
            value: Box::new(Expr {
                kind: ExprKind::Field(field),
                ty: def.ty.clone(),
                nullable: def.optional,
                span,
            }),
            window,
        },
        ty: Type::Bool,
        nullable: false,
        span,
    }
}

/// The expression for an extra output column: a field or definition of `entity` by name.
#[must_use]
pub fn column_expr(program: &Program, entity: EntityId, name: &str) -> Option<Expr> {
    let def = program.entity(entity);
    if let Some(i) = def.fields.iter().position(|f| f.name == name) {
        let f = &def.fields[i];
        return Some(Expr {
            kind: ExprKind::Field(FieldRef {
                entity,
                field: crate::ir::FieldId::from_index(i),
            }),
            ty: f.ty.clone(),
            nullable: f.optional,
            span: f.span,
        });
    }
    let (i, d) = program
        .definitions
        .iter()
        .enumerate()
        .find(|(_, d)| d.entity == entity && d.name == name)?;
    Some(Expr {
        kind: ExprKind::Definition(DefinitionId::from_index(i)),
        ty: d.value.ty.clone(),
        nullable: d.value.nullable,
        span: d.span,
    })
}

/// Whether an average is computed from an exact sum: over whole numbers and exact decimals.
fn exact_avg(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Aggregate { value: Some(v), .. } => matches!(v.ty, Type::Integer | Type::Decimal),
        _ => false,
    }
}
