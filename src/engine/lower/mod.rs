//! Lowering of the typed IR to DataFusion plans, and their execution.
//!
//! Each entity with rules becomes one plan: a scan of its records, one grouped aggregation per
//! relation (every aggregate over that relation shares the scan, each with its own `FILTER`), one
//! join per `one` relation that is looked through, a window step for each population function,
//! and projections for definitions, segments, tiers and scores. Every column name is unique
//! within a run (`c0`, `c1`, ...), so joins never clash.

mod dense;
mod population;
pub mod streaming;
pub mod time;
pub mod udf;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::MemTable;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::functions::expr_fn as f;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::functions_nested::expr_fn as nested;
use datafusion::logical_expr::{cast, lit, not, when};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{Expr as Df, SessionConfig, SessionContext, ident};

use crate::engine::{Dataset, Membership, RunSettings, types};
use crate::ir::{
    AggFunc, ArithOp, Builtin, CompareOp, DefinitionId, DurationUnit, EntityId, Expr, ExprKind,
    FieldId, FieldRef, PopFunc, Program, RelationKind, RelationRef, ScoreId, SegmentId, TextOp,
    TierSetId, Type, Value, dump_expr,
};

use crate::ir::usage::Usage;
use time::{date_range, instant_range};
use udf::{KnownTrue, Udfs, date_to_days, unit_code};

/// Which rules to evaluate, and which extra values to report.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The segments, tier sets and scores to compute; `None` for all of them.
    pub rules: Option<Vec<Rule>>,
    /// Extra output columns (a field or definition per entity), named as given.
    pub columns: Vec<ExtraColumn>,
}

impl Request {
    /// The entities and fields the requested rules and columns read (what loading must
    /// decode).
    #[must_use]
    pub fn usage(&self, program: &Program) -> Usage {
        let mut segments = Vec::new();
        let mut tier_sets = Vec::new();
        let mut scores = Vec::new();
        match &self.rules {
            None => {
                segments.extend((0..program.segments.len()).map(SegmentId::from_index));
                tier_sets.extend((0..program.tier_sets.len()).map(TierSetId::from_index));
                scores.extend((0..program.scores.len()).map(ScoreId::from_index));
            }
            Some(rules) => {
                for r in rules {
                    match r {
                        Rule::Segment(id) => segments.push(*id),
                        Rule::TierSet(id) => tier_sets.push(*id),
                        Rule::Score(id) => scores.push(*id),
                    }
                }
            }
        }
        let extra: Vec<(EntityId, &Expr)> =
            self.columns.iter().map(|c| (c.entity, &c.value)).collect();
        Usage::of(program, &segments, &tier_sets, &scores, &extra)
    }
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
    /// Warnings about files read piece by piece during evaluation (errors stop the run with
    /// [`EngineError::Data`]).
    pub diagnostics: Vec<crate::diagnostics::Diagnostic>,
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
    /// A file read piece by piece during evaluation has problems (at least one error); the
    /// results are not given.
    Data(Vec<crate::diagnostics::Diagnostic>),
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
            EngineError::Data(found) => write!(
                f,
                "the data has {} problem{}",
                found.len(),
                if found.len() == 1 { "" } else { "s" }
            ),
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
        runtime,
        udfs: Udfs::new(&settings.as_of.time_zone, settings.as_of.date),
        next: 0,
        tables: HashMap::new(),
        links: HashMap::new(),
        computed: HashMap::new(),
        found: Vec::new(),
    };
    let mut evaluation = Evaluation {
        memberships: Vec::new(),
        unknown_excluded: BTreeMap::new(),
        diagnostics: Vec::new(),
    };
    for (entity, outputs) in outputs_by_entity(program, request) {
        let (batch, counts) = if data.streamed(entity).is_some() {
            planner.entity_pieces(entity, &outputs)?
        } else {
            let (df, unknown_cols) = planner.entity_plan(entity, &outputs)?;
            // The plan's schema, so an entity without records still has its columns.
            let batch = planner.run(df)?;
            let batch = planner.in_key_order(entity, &batch)?;
            split_unknown_counts(&batch, &unknown_cols)?
        };
        let rules = outputs
            .iter()
            .filter(|o| !matches!(o, Output::Extra(..)))
            .count();
        let batch = never_unknown(&batch, rules)?;
        evaluation.unknown_excluded.extend(counts);
        evaluation.memberships.push(Membership { entity, batch });
    }
    evaluation.diagnostics = std::mem::take(&mut planner.found);
    Ok(evaluation)
}

/// Marks the rule columns of a membership (after the key, `rules` of them) as never unknown,
/// as the membership contract says; an unknown value there is an internal error.
fn never_unknown(batch: &RecordBatch, rules: usize) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(schema.fields().len());
    for (i, (field, column)) in schema.fields().iter().zip(batch.columns()).enumerate() {
        let rule = i >= 1 && i <= rules;
        if rule && column.null_count() > 0 {
            return Err(EngineError::Engine(format!(
                "internal: `{}` has unknown values",
                field.name()
            )));
        }
        fields.push(
            field
                .as_ref()
                .clone()
                .with_nullable(!rule && field.is_nullable()),
        );
    }
    let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(fields));
    Ok(RecordBatch::try_new(schema, batch.columns().to_vec())?)
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
    runtime: tokio::runtime::Runtime,
    udfs: Udfs,
    next: usize,
    tables: HashMap<EntityId, Arc<MemTable>>,
    /// (child, linking field, parent) to the parent row of each child row.
    links: HashMap<(EntityId, FieldId, EntityId), Arc<UInt32Array>>,
    /// Values computed in an earlier step, one per row of their entity, by entity and
    /// expression text: aggregates over related records, values of a related record and
    /// population functions. A frame takes them by row number.
    computed: HashMap<(EntityId, String), ArrayRef>,
    /// Problems found in files read piece by piece during evaluation.
    found: Vec<crate::diagnostics::Diagnostic>,
}

/// The column of an entity's table holding each record's row number.
const ROW: &str = "#row";

/// One entity's records with the columns computed so far.
struct Frame {
    entity: EntityId,
    df: Option<DataFrame>,
    /// The column of each schema field.
    fields: Vec<String>,
    /// The column holding the row number of each record in its entity's table.
    row: String,
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

impl<'a> Planner<'a> {
    /// The file of a streamed entity, opened to be read `per_piece` records at a time.
    fn open_stream(
        &self,
        entity: EntityId,
        per_piece: usize,
    ) -> Result<(
        crate::engine::load::stream::Streamed,
        crate::engine::load::stream::Stream<'a>,
    )> {
        let Some(spec) = self.data.streamed(entity).cloned() else {
            return Err(EngineError::Engine("internal: no file to read".into()));
        };
        let stream = crate::engine::load::stream::Stream::open(
            self.program,
            &spec,
            &self.settings.as_of.time_zone,
            per_piece,
        )
        .map_err(EngineError::Data)?;
        Ok((spec, stream))
    }
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
        if u32::try_from(table.batch.num_rows()).is_err() {
            return Err(EngineError::Unsupported(format!(
                "`{}` has more records than segl can evaluate in one run",
                table.origin
            )));
        }
        let mem = memtable(&table.batch, self.partitions())?;
        self.tables.insert(entity, Arc::clone(&mem));
        Ok(mem)
    }

    /// How many partitions a table is cut into (one per thread).
    fn partitions(&self) -> usize {
        self.ctx.state().config().target_partitions().max(1)
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
        let row = self.fresh();
        exprs.push(ident(ROW).alias(row.clone()));
        Ok(Frame {
            entity,
            df: Some(df.select(exprs)?),
            fields,
            row,
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
        self.prefetch_populations(entity, wanted)?;
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
    /// records (grouped by the row of the record they belong to), and adds them to the frame by
    /// row number. Aggregates an earlier step computed are reused.
    fn join_aggregates(
        &mut self,
        frame: &mut Frame,
        relation: RelationRef,
        aggs: &[(String, Expr)],
    ) -> Result<()> {
        let entity = frame.entity;
        let todo: Vec<(String, Expr)> = aggs
            .iter()
            .filter(|(key, _)| !self.computed.contains_key(&(entity, key.clone())))
            .cloned()
            .collect();
        if !todo.is_empty() {
            self.compute_aggregates(entity, relation, &todo)?;
        }
        for (key, _) in aggs {
            self.take_computed(frame, key)?;
        }
        Ok(())
    }

    /// Adds a value computed earlier for the frame's entity to the frame, by row number.
    fn take_computed(&mut self, frame: &mut Frame, key: &str) -> Result<String> {
        if let Some(c) = frame.memo.get(key) {
            return Ok(c.clone());
        }
        let array = self
            .computed
            .get(&(frame.entity, key.to_owned()))
            .cloned()
            .ok_or_else(|| EngineError::Engine(format!("internal: `{key}` was not computed")))?;
        let name = self.fresh();
        let gathered = self.gather(array, ident(frame.row.clone()));
        frame.df = Some(frame.df()?.with_column(&name, gathered)?);
        frame.memo.insert(key.to_owned(), name.clone());
        Ok(name)
    }

    /// `array` (one value per row of some entity) taken at the row numbers `rows`.
    fn gather(&mut self, array: ArrayRef, rows: Df) -> Df {
        let name = format!("segl_take_{}", self.next);
        self.next += 1;
        udf::gather(&name, array).call(vec![rows])
    }

    /// Runs a plan and hands its batches to `each` as they come.
    fn stream_into(
        &self,
        df: DataFrame,
        mut each: impl FnMut(&RecordBatch) -> Result<()>,
    ) -> Result<()> {
        use futures::StreamExt as _;
        self.runtime.block_on(async {
            let mut stream = df.execute_stream().await?;
            while let Some(batch) = stream.next().await {
                each(&batch?)?;
            }
            Ok(())
        })
    }

    /// Runs a plan and returns its rows as one batch.
    fn run(&self, df: DataFrame) -> Result<RecordBatch> {
        // The plan's schema, so a plan without rows still has its columns.
        let schema = Arc::new(df.schema().as_arrow().clone());
        let batches = self.runtime.block_on(df.collect())?;
        Ok(concat_batches(&schema, &batches)?)
    }

    /// The rows of an entity's result (with its `#row` column) in the order of their keys,
    /// without the `#row` column.
    fn in_key_order(&mut self, entity: EntityId, batch: &RecordBatch) -> Result<RecordBatch> {
        let Some(at) = batch.schema().index_of(ROW).ok() else {
            return Err(EngineError::Engine(
                "internal: a result without row numbers".into(),
            ));
        };
        let rows = batch
            .column(at)
            .as_primitive::<datafusion::arrow::datatypes::UInt32Type>();
        // Where each table row is in the batch.
        let mut position = vec![0u32; rows.len()];
        for (i, r) in rows.values().iter().enumerate() {
            if let Some(p) = position.get_mut(*r as usize) {
                *p = u32::try_from(i).unwrap_or(u32::MAX);
            }
        }
        let order: Vec<u32> = match self.data.table(entity) {
            Some(t) if t.batch.num_rows() == rows.len() => {
                let keys = t.batch.column(self.program.entity(entity).key.index());
                let sorted = key_order(keys)?;
                sorted
                    .values()
                    .iter()
                    .map(|r| position.get(*r as usize).copied().unwrap_or(0))
                    .collect()
            }
            _ => (0..u32::try_from(rows.len()).unwrap_or(u32::MAX)).collect(),
        };
        let keep: Vec<usize> = (0..batch.num_columns()).filter(|&i| i != at).collect();
        reordered(batch.project(&keep)?, &UInt32Array::from(order))
    }

    /// The rules of an entity whose file is read piece by piece: each piece evaluated on its
    /// own (its rules look at each record alone), the results put in key order.
    fn entity_pieces(
        &mut self,
        entity: EntityId,
        outputs: &[Output],
    ) -> Result<(RecordBatch, Vec<(SegmentId, u64)>)> {
        let p = self.program;
        let (spec, stream) =
            self.open_stream(entity, crate::engine::load::stream::RECORDS_PER_PIECE)?;
        let mut results: Vec<RecordBatch> = Vec::new();
        let mut counts: BTreeMap<SegmentId, u64> = BTreeMap::new();
        let mut broken = false;
        let empty = if spec.rows == 0 {
            Some(empty_piece(p, entity)?)
        } else {
            None
        };
        // The plan is made once, for the first piece, and then reads each further piece in
        // its place: planning anew for every piece would cost more than evaluating some.
        let mut made: Option<PiecePlan> = None;
        let mut each = |planner: &mut Self, piece: RecordBatch| -> Result<()> {
            let split = partitioned(&piece, planner.partitions())?;
            let reused = match &made {
                Some(plan) => plan.reading(&split)?,
                None => None,
            };
            let (plan, unknown_cols) = match (reused, &made) {
                (Some(physical), Some(first)) => (physical, first.unknown_cols.clone()),
                _ => {
                    let table = Arc::new(MemTable::try_new(split.0.clone(), split.1.clone())?);
                    planner.tables.insert(entity, table);
                    let (df, unknown_cols) = planner.entity_plan(entity, outputs)?;
                    let task = Arc::new(df.task_ctx());
                    let physical = planner.runtime.block_on(df.create_physical_plan())?;
                    made = Some(PiecePlan {
                        physical: physical.clone(),
                        schema: split.0.clone(),
                        parts: split.1.len(),
                        task,
                        unknown_cols: unknown_cols.clone(),
                    });
                    (physical, unknown_cols)
                }
            };
            let Some(first) = &made else {
                return Err(EngineError::Engine("internal: no plan".into()));
            };
            let schema = plan.schema();
            // Partition by partition, each in the order it was read: the piece's records stay
            // in file order, so a file written in key order needs no sort at the end.
            let batches =
                planner
                    .runtime
                    .block_on(datafusion::physical_plan::collect_partitioned(
                        plan,
                        first.task.clone(),
                    ))?;
            let batch = concat_batches(&schema, batches.iter().flatten())?;
            let batch = in_file_order(&batch)?;
            let keep: Vec<usize> = (0..batch.num_columns())
                .filter(|i| batch.schema().field(*i).name() != ROW)
                .collect();
            let batch = batch.project(&keep)?;
            let (batch, piece_counts) = split_unknown_counts(&batch, &unknown_cols)?;
            for (segment, n) in piece_counts {
                *counts.entry(segment).or_insert(0) += n;
            }
            results.push(batch);
            Ok(())
        };
        if let Some(piece) = empty {
            each(self, piece)?;
        }
        let read = streaming::read_ahead(
            stream,
            |_| (),
            |piece, errors| match piece {
                Err(d) => {
                    self.found.push(d);
                    broken = true;
                    Ok(false)
                }
                // With an error found, the results cannot be used.
                Ok(_) if errors => Ok(true),
                Ok((piece, ())) => each(self, piece).map(|()| true),
            },
        )?;
        self.tables.remove(&entity);
        let errors = broken || read.errors;
        self.found.extend(read.problems);
        if errors {
            return Err(EngineError::Data(std::mem::take(&mut self.found)));
        }
        let Some(first) = results.first() else {
            return Err(EngineError::Engine("internal: no results".into()));
        };
        let whole = concat_batches(&first.schema(), &results)?;
        drop(results);
        // In key order (the key is the first column).
        let order = key_order(whole.column(0))?;
        Ok((reordered(whole, &order)?, counts.into_iter().collect()))
    }

    /// How many records an entity has.
    fn rows_of(&mut self, entity: EntityId, needed_by: &str) -> Result<usize> {
        match self.data.table(entity) {
            Some(t) => Ok(t.batch.num_rows()),
            None => Err(EngineError::NoData {
                entity: self.program.entity(entity).name.clone(),
                needed_by: needed_by.to_owned(),
            }),
        }
    }

    /// The row of `parent` that each record of `child` links to through `field`.
    fn link(
        &mut self,
        child: EntityId,
        field: FieldId,
        parent: EntityId,
        needed_by: &str,
    ) -> Result<Arc<UInt32Array>> {
        if let Some(l) = self.links.get(&(child, field, parent)) {
            return Ok(Arc::clone(l));
        }
        let resolved = match self.data.link(child, field, parent) {
            Some(l) => Arc::clone(l),
            None => {
                let missing = |e: EntityId| EngineError::NoData {
                    entity: self.program.entity(e).name.clone(),
                    needed_by: needed_by.to_owned(),
                };
                let child_table = self.data.table(child).ok_or_else(|| missing(child))?;
                let parent_table = self.data.table(parent).ok_or_else(|| missing(parent))?;
                let key = self.program.entity(parent).key;
                let keys = parent_table.batch.column(key.index());
                let links = child_table.batch.column(field.index());
                let resolved = crate::engine::keys::KeyIndex::new(keys)
                    .and_then(|index| index.resolve(links))
                    .ok_or_else(|| {
                        EngineError::Engine(format!(
                            "internal: the links of `{needed_by}` cannot be compared with their keys"
                        ))
                    })?;
                Arc::new(resolved)
            }
        };
        self.links
            .insert((child, field, parent), Arc::clone(&resolved));
        Ok(resolved)
    }

    /// Computes aggregates of `entity` over one `many` relation and keeps them in `computed`.
    fn compute_aggregates(
        &mut self,
        entity: EntityId,
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
        let parents = self.rows_of(entity, &needed_by)?;
        let plan = AggregatePlan {
            aggs,
            wanted: &wanted,
            slots: &slots,
            child,
            via: rel.via.field,
            parent: entity,
            needed_by: &needed_by,
        };
        let columns = if self.data.streamed(child).is_some() {
            self.aggregate_pieces(&plan, relation, parents)?
        } else {
            let plans = self.grouped(&plan, None)?;
            let mut columns: HashMap<String, ArrayRef> = HashMap::new();
            for (i, pairs) in plans.distinct {
                let batch = self.run(count_pairs(pairs, i)?)?;
                columns.extend(spread(&batch, PARENT, parents)?);
            }
            if let Some(grouped) = plans.grouped {
                let batch = self.run(grouped)?;
                columns.extend(spread(&batch, PARENT, parents)?);
            }
            if let Some((df, specs)) = plans.dense {
                let mut sums = dense::Aggregates::new(specs, parents);
                self.stream_into(df, |batch| sums.take(batch, PARENT))?;
                columns.extend(sums.finish()?);
            }
            columns
        };
        // Over no related records: count and sum are 0, any is false, every is true.
        for (i, ((key, e), _)) in aggs.iter().zip(&slots).enumerate() {
            let ExprKind::Aggregate { func, .. } = &e.kind else {
                continue;
            };
            let column = |n: &str| {
                columns.get(n).cloned().ok_or_else(|| {
                    EngineError::Engine(format!("internal: the aggregate `{n}` is missing"))
                })
            };
            let first = column(&part(i))?;
            let finished = match func {
                AggFunc::Count | AggFunc::CountDistinct | AggFunc::Sum => fill_zero(&first)?,
                AggFunc::Any => compare_zero(&fill_zero(&first)?, false)?,
                AggFunc::Every => compare_zero(&fill_zero(&first)?, true)?,
                // The sum divided by the count, once.
                AggFunc::Avg => {
                    let counted = column(&count_part(i))?;
                    let sum = datafusion::arrow::compute::cast(&first, &DataType::Float64)?;
                    let counted = datafusion::arrow::compute::cast(&counted, &DataType::Float64)?;
                    datafusion::arrow::compute::kernels::numeric::div(&sum, &counted)?
                }
                AggFunc::Min | AggFunc::Max => first,
            };
            self.computed.insert((entity, key.clone()), finished);
        }
        Ok(())
    }

    /// The grouped plan of some aggregates over the related records (the whole table, or the
    /// piece of a file registered for the child), one row per parent row (column [`PARENT`],
    /// aggregates named by [`part`] and [`count_part`]); and for each distinct count, the plan
    /// of its distinct (parent, value) pairs. `links` are the parent rows of the records (worked
    /// out when not given).
    #[allow(clippy::too_many_lines)]
    fn grouped(
        &mut self,
        plan: &AggregatePlan<'_>,
        links: Option<Arc<UInt32Array>>,
    ) -> Result<Grouped> {
        let (mut child_frame, cols) = self.frame(plan.child, plan.wanted, plan.needed_by)?;
        // The row of the record each related record belongs to.
        let links = match links {
            Some(l) => l,
            None => self.link(plan.child, plan.via, plan.parent, plan.needed_by)?,
        };
        let linked = self.gather(links, ident(child_frame.row.clone()));
        let linked_df = child_frame.df()?.with_column(PARENT, linked)?;
        // Records without a parent count for nobody (the dense sums skip them themselves).
        let child_df = linked_df.clone().filter(ident(PARENT).is_not_null())?;
        let mut agg_exprs = Vec::new();
        let mut distinct: Vec<(usize, DataFrame)> = Vec::new();
        let mut specs: Vec<dense::Spec> = Vec::new();
        let mut dense_cols: Vec<(usize, String)> = Vec::new();
        for (i, ((_, e), (w, filt, v))) in plan.aggs.iter().zip(plan.slots).enumerate() {
            let ExprKind::Aggregate { func, value, .. } = &e.kind else {
                continue;
            };
            if dense::handles(*func, value.as_deref().map(|x| &x.ty)) {
                // Named by their position among the wanted values, so that every piece of a
                // file read piece by piece names them alike.
                let name = |k: &Option<usize>| k.map(|k| format!("#c{k}"));
                for k in [w, filt, v].into_iter().flatten() {
                    if !dense_cols.iter().any(|(at, _)| at == k) {
                        dense_cols.push((*k, cols[*k].clone()));
                    }
                }
                specs.push(dense::Spec {
                    index: i,
                    func: *func,
                    window: name(w),
                    filter: name(filt),
                    value: name(v),
                });
                continue;
            }
            let w = w.map(|k| ident(cols[k].clone()));
            let filt = filt.map(|k| ident(cols[k].clone()));
            let v = v.map(|k| ident(cols[k].clone()));
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
                let rows = match both(w, filt) {
                    Some(pred) => child_df.clone().filter(pred)?,
                    None => child_df.clone(),
                };
                let pairs = rows.aggregate(
                    vec![ident(PARENT), v.unwrap_or_else(one).alias(ITEM)],
                    vec![],
                )?;
                distinct.push((i, pairs));
                continue;
            }
            let expr = match func {
                AggFunc::Count | AggFunc::CountDistinct => {
                    agg::count(only(both(w, filt), v.unwrap_or_else(one))?)
                }
                AggFunc::Sum => agg::sum(only(both(w, filt), v.unwrap_or_else(one))?),
                // An average is the sum divided by the count, once: for whole numbers and exact
                // decimals the sum is exact, so the average does not depend on the order of the
                // records in the data file (250.00 could otherwise become 250.00000000000003).
                AggFunc::Avg => {
                    let value = v.unwrap_or_else(one);
                    let value = if exact_avg(e) {
                        value
                    } else {
                        cast(value, DataType::Float64)
                    };
                    agg_exprs.push(
                        agg::count(only(both(w.clone(), filt.clone()), value.clone())?)
                            .alias(count_part(i)),
                    );
                    agg::sum(only(both(w, filt), value)?)
                }
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
            agg_exprs.push(expr.alias(part(i)));
        }
        let grouped = if agg_exprs.is_empty() {
            None
        } else {
            Some(child_df.clone().aggregate(vec![ident(PARENT)], agg_exprs)?)
        };
        let dense = if specs.is_empty() {
            None
        } else {
            let mut select = vec![ident(PARENT)];
            select.extend(
                dense_cols
                    .iter()
                    .map(|(k, c)| ident(c.clone()).alias(format!("#c{k}"))),
            );
            Some((linked_df.select(select)?, specs))
        };
        Ok(Grouped {
            dense,
            grouped,
            distinct,
        })
    }

    /// Aggregates over a relation whose records are read piece by piece: each piece is grouped
    /// by parent row, and the pieces' results are added up per parent row.
    #[allow(clippy::too_many_lines)]
    fn aggregate_pieces(
        &mut self,
        plan: &AggregatePlan<'_>,
        relation: RelationRef,
        parents: usize,
    ) -> Result<HashMap<String, ArrayRef>> {
        let p = self.program;
        let (spec, stream) =
            self.open_stream(plan.child, crate::engine::load::stream::RELATED_PER_PIECE)?;
        let parent_table = self
            .data
            .table(plan.parent)
            .ok_or_else(|| EngineError::NoData {
                entity: p.entity(plan.parent).name.clone(),
                needed_by: plan.needed_by.to_owned(),
            })?;
        let keys = parent_table.batch.column(p.entity(plan.parent).key.index());
        let index = crate::engine::keys::KeyIndex::new(keys).ok_or_else(|| {
            EngineError::Unsupported(format!(
                "`{}` has more records than segl can evaluate in one run",
                parent_table.origin
            ))
        })?;
        let parent_origin = parent_table.origin.clone();
        let mut dense: HashMap<String, streaming::Dense> = HashMap::new();
        let mut added: Option<dense::Aggregates> = None;
        let mut pairs: BTreeMap<usize, Vec<RecordBatch>> = BTreeMap::new();
        let mut missing = streaming::Missing::default();
        let mut offset = 0usize;
        let mut broken = false;
        let mut each =
            |planner: &mut Self, piece: RecordBatch, resolved: Option<UInt32Array>| -> Result<()> {
                let rows = piece.num_rows();
                let links = piece.column(plan.via.index());
                let resolved = resolved.ok_or_else(|| {
                    EngineError::Engine(format!(
                        "internal: the links of `{}` cannot be compared with their keys",
                        plan.needed_by
                    ))
                })?;
                missing.note(links, &resolved, offset);
                offset += rows;
                planner
                    .tables
                    .insert(plan.child, memtable(&piece, planner.partitions())?);
                let plans = planner.grouped(plan, Some(Arc::new(resolved)))?;
                for (i, df) in plans.distinct {
                    let batch = planner.run(df)?;
                    pairs.entry(i).or_default().push(batch);
                }
                if let Some((df, specs)) = plans.dense {
                    let sums = added.get_or_insert_with(|| dense::Aggregates::new(specs, parents));
                    planner.stream_into(df, |batch| sums.take(batch, PARENT))?;
                }
                if let Some(grouped) = plans.grouped {
                    let batch = planner.run(grouped)?;
                    let rows_of = batch
                        .column_by_name(PARENT)
                        .ok_or_else(|| EngineError::Engine("internal: no parent rows".into()))?
                        .as_primitive::<datafusion::arrow::datatypes::UInt32Type>()
                        .clone();
                    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                        if field.name() == PARENT {
                            continue;
                        }
                        let merge = merge_of(plan, field.name());
                        let acc = dense.entry(field.name().clone()).or_insert_with(|| {
                            streaming::Dense::new(merge, column.data_type(), parents)
                        });
                        acc.take(&rows_of, column)?;
                    }
                }
                Ok(())
            };
        // A file without records still gives each aggregate its type: one empty piece.
        if spec.rows == 0 {
            let piece = empty_piece(p, plan.child)?;
            let resolved = index.resolve(piece.column(plan.via.index()));
            each(self, piece, resolved)?;
        }
        // Links are resolved on the reading thread.
        let via = plan.via.index();
        let read = streaming::read_ahead(
            stream,
            |piece| index.resolve(piece.column(via)),
            |piece, errors| match piece {
                Err(d) => {
                    self.found.push(d);
                    broken = true;
                    Ok(false)
                }
                // With an error found, the results cannot be used.
                Ok(_) if errors => Ok(true),
                Ok((piece, resolved)) => each(self, piece, resolved).map(|()| true),
            },
        )?;
        self.tables.remove(&plan.child);
        let errors = broken || read.errors;
        self.found.extend(read.problems);
        if errors {
            return Err(EngineError::Data(std::mem::take(&mut self.found)));
        }
        if let Some((row, value)) = missing.first.clone() {
            let rel = p.relation(relation);
            let child_def = p.entity(plan.child);
            let via_def = &child_def.fields[plan.via.index()];
            self.found.push(crate::engine::load::missing_parent_warning(
                &crate::engine::load::MissingParents {
                    program: p,
                    relation: (relation.entity.index(), rel),
                    child: child_def,
                    parent: p.entity(plan.parent),
                    via: via_def,
                    child_origin: &spec.source.shown,
                    parent_origin: &parent_origin,
                    missing: missing.count,
                    distinct: missing.distinct(),
                    example: (value, crate::engine::load::RowRef { row, line: None }),
                    span: via_def.span,
                },
            ));
        }
        let mut columns: HashMap<String, ArrayRef> = HashMap::new();
        for (name, acc) in dense {
            columns.insert(name, acc.finish()?);
        }
        if let Some(sums) = added {
            columns.extend(sums.finish()?);
        }
        // Aggregates no piece had values for (an empty file, say) are unknown everywhere.
        for (i, ((_, e), _)) in plan.aggs.iter().zip(plan.slots).enumerate() {
            if let ExprKind::Aggregate { func, .. } = &e.kind {
                let names = match func {
                    AggFunc::Avg => vec![part(i), count_part(i)],
                    _ => vec![part(i)],
                };
                for n in names {
                    columns.entry(n).or_insert_with(|| {
                        datafusion::arrow::array::new_null_array(&DataType::Int64, parents)
                    });
                }
            }
        }
        for (i, batches) in pairs {
            let Some(first) = batches.first() else {
                continue;
            };
            let schema = first.schema();
            // The pieces' pairs as they are, shared out over the partitions (not copied into
            // one batch first: there can be tens of millions of them).
            let parts = self.partitions().max(1);
            let mut partitions: Vec<Vec<RecordBatch>> = vec![Vec::new(); parts];
            for (k, b) in batches.into_iter().enumerate() {
                partitions[k % parts].push(b);
            }
            partitions.retain(|p| !p.is_empty());
            let table = Arc::new(MemTable::try_new(schema, partitions)?);
            let df = self.ctx.read_table(table)?;
            // The same pair can come from several pieces: distinct again, then count.
            let df = df.aggregate(vec![ident(PARENT), ident(ITEM)], vec![])?;
            let batch = self.run(count_pairs(df, i)?)?;
            columns.extend(spread(&batch, PARENT, parents)?);
        }
        Ok(columns)
    }

    /// Adds the values of the related record of a `one` relation to the frame, by row number.
    fn join_lookups(
        &mut self,
        frame: &mut Frame,
        relation: RelationRef,
        lookups: &[(String, Expr)],
    ) -> Result<()> {
        let p = self.program;
        let entity = frame.entity;
        let todo: Vec<(String, Expr)> = lookups
            .iter()
            .filter(|(key, _)| !self.computed.contains_key(&(entity, key.clone())))
            .cloned()
            .collect();
        if !todo.is_empty() {
            let rel = p.relation(relation);
            let wanted: Vec<Expr> = todo.iter().map(|(_, e)| e.clone()).collect();
            let needed_by = format!("{}.{}", p.entity(relation.entity).name, rel.name);
            let targets = self.rows_of(rel.target, &needed_by)?;
            let links = self.link(entity, rel.via.field, rel.target, &needed_by)?;
            let (mut target, cols) = self.frame(rel.target, &wanted, &needed_by)?;
            let mut select = vec![ident(target.row.clone())];
            let mut unique: Vec<&String> = Vec::new();
            for c in &cols {
                if !unique.contains(&c) {
                    unique.push(c);
                    select.push(ident(c.clone()));
                }
            }
            let batch = self.run(target.df()?.select(select)?)?;
            let by_row = spread(&batch, &target.row, targets)?;
            for ((key, inner), col) in todo.iter().zip(cols) {
                let values = by_row.get(&col).cloned().ok_or_else(|| {
                    EngineError::Engine(format!("internal: the value `{col}` is missing"))
                })?;
                // The related record's value for each record of this entity.
                let mine = datafusion::arrow::compute::take(values.as_ref(), links.as_ref(), None)?;
                // An aggregate seen through a missing related record ranges over no records:
                // count and sum are 0, any is false, every is true (as for an empty relation).
                let finished = match &inner.kind {
                    ExprKind::Aggregate { func, .. } => match func {
                        AggFunc::Count | AggFunc::CountDistinct | AggFunc::Sum => fill_zero(&mine)?,
                        AggFunc::Any => fill_bool(&mine, false)?,
                        AggFunc::Every => fill_bool(&mine, true)?,
                        AggFunc::Avg | AggFunc::Min | AggFunc::Max => mine,
                    },
                    _ => mine,
                };
                self.computed.insert((entity, key.clone()), finished);
            }
        }
        for (key, _) in lookups {
            self.take_computed(frame, key)?;
        }
        Ok(())
    }

    /// The texts of a value known when the plan is made (a text or enum literal, a list of
    /// them, or a parameter holding one), for list tests.
    fn constant_texts(&self, e: &Expr) -> Option<Vec<String>> {
        let text = |v: &Value| -> Option<String> {
            match self.scalar(v, &e.ty).ok()? {
                ScalarValue::Utf8(Some(t)) => Some(t),
                _ => None,
            }
        };
        let value = match &e.kind {
            ExprKind::Literal(v) => v.clone(),
            ExprKind::Param(id) => {
                let def = &self.program.params[id.index()];
                self.settings.params.get(id).unwrap_or(&def.default).clone()
            }
            ExprKind::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend(self.constant_texts(item)?);
                }
                return Some(out);
            }
            ExprKind::Coerce(x) if matches!(x.ty, Type::Enum(_)) => {
                return self.constant_texts(x);
            }
            _ => return None,
        };
        match &value {
            Value::List(items) => {
                let inner = match &e.ty {
                    Type::List(t) => t.as_ref().clone(),
                    t => t.clone(),
                };
                items
                    .iter()
                    .map(|v| match self.scalar(v, &inner).ok()? {
                        ScalarValue::Utf8(Some(t)) => Some(t),
                        _ => None,
                    })
                    .collect()
            }
            v => Some(vec![text(v)?]),
        }
    }

    /// A list test against texts known now; true or false, never unknown (an unknown list
    /// holds nothing).
    fn list_match_constant(&mut self, list: Df, wanted: &[String], all: bool, ci: bool) -> Df {
        let name = format!("segl_list_match_{}", self.next);
        self.next += 1;
        udf::list_match_constant(&name, wanted, all, ci)
            .call(vec![list])
            .known_true()
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
        Ok(if e.nullable { x.known_true() } else { x })
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
            ExprKind::And(xs) | ExprKind::Or(xs) => {
                let and = matches!(e.kind, ExprKind::And(_));
                let mut cs = xs
                    .iter()
                    .map(|x| self.condition(frame, x))
                    .collect::<Result<Vec<_>>>()?;
                match cs.len() {
                    0 => lit(and),
                    1 => cs.remove(0),
                    _ if and => self.udfs.all(cs),
                    _ => self.udfs.any(cs),
                }
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
                x.known_true()
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
                x.known_true()
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
                v.in_list(opts, false).known_true()
            }
            ExprKind::Between { value, low, high } => {
                let v = self.compile(frame, value)?;
                let lo = self.compile(frame, low)?;
                let hi = self.compile(frame, high)?;
                v.clone().gt_eq(lo).and(v.lt_eq(hi)).known_true()
            }
            ExprKind::IsEmpty(x) => {
                let v = self.compile(frame, x)?;
                let len = if matches!(x.ty, Type::List(_)) {
                    nested::cardinality(v)
                } else {
                    cast(f::character_length(v), DataType::UInt64)
                };
                len.eq(lit(0_u64)).known_true()
            }
            ExprKind::ListContains {
                list,
                element,
                ignore_case,
            } => {
                let l = self.compile(frame, list)?;
                if let Some(wanted) = self.constant_texts(element) {
                    self.list_match_constant(l, &wanted, false, *ignore_case)
                } else {
                    let el = self.compile(frame, element)?;
                    self.udfs
                        .list_match(l, nested::make_array(vec![el]), false, *ignore_case)
                        .known_true()
                }
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
                if let Some(wanted) = self.constant_texts(elements) {
                    self.list_match_constant(l, &wanted, all, *ignore_case)
                } else {
                    let els = self.compile(frame, elements)?;
                    self.udfs.list_match(l, els, all, *ignore_case).known_true()
                }
            }
            ExprKind::InWindow { value, window } => {
                let v = self.compile(frame, value)?;
                self.in_window(v, &value.ty, window)?.known_true()
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
            } => ident(self.population(frame, &key, *func, value, within.as_deref())?),
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

    /// Computes a population function over all records of the frame's entity (a narrow plan of
    /// row number, value and group, ranked in one sort) and adds it to the frame by row number.
    fn population(
        &mut self,
        frame: &mut Frame,
        key: &str,
        func: PopFunc,
        value: &Expr,
        within: Option<&Expr>,
    ) -> Result<String> {
        let entity = frame.entity;
        if !self.computed.contains_key(&(entity, key.to_owned())) {
            let p = self.program;
            let mut wanted = vec![value.clone()];
            if let Some(w) = within {
                wanted.push(w.clone());
            }
            let name = &p.entity(entity).name;
            let rows = self.rows_of(entity, name)?;
            let (mut narrow, cols) = self.frame(entity, &wanted, name)?;
            let mut select = vec![ident(narrow.row.clone()), ident(cols[0].clone()).alias("v")];
            if let Some(w) = cols.get(1) {
                select.push(ident(w.clone()).alias("w"));
            }
            let batch = self.run(narrow.df()?.select(select)?)?;
            let mut by_row = spread(&batch, &narrow.row, rows)?;
            let v = by_row
                .remove("v")
                .ok_or_else(|| EngineError::Engine("internal: no ranked value".into()))?;
            let w = by_row.remove("w");
            let result = population::compute(func, &v, w.as_ref())?;
            self.computed.insert((entity, key.to_owned()), result);
        }
        self.take_computed(frame, key)
    }

    /// Computes, before the entity's plan is built, every population function its rules use
    /// whose value and group use no other population function: their values and groups come
    /// from one plan, and the functions are ranked side by side on all CPUs.
    fn prefetch_populations(&mut self, entity: EntityId, roots: &[Expr]) -> Result<()> {
        let mut found: Vec<(String, PopFunc, Expr, Option<Expr>)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for r in roots {
            self.leaf_populations(entity, r, &mut found, &mut seen);
        }
        found.retain(|(key, ..)| !self.computed.contains_key(&(entity, key.clone())));
        if found.len() < 2 {
            return Ok(());
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .max(1);
        // As many at a time as there are CPUs, so that memory holds only their columns, and
        // no more than fit their sort buffers (some 40 bytes a record each) in RANK_MEMORY.
        let rows = self.rows_of(entity, &self.program.entity(entity).name)?;
        let fit = RANK_MEMORY / rows.saturating_mul(40).max(1);
        for batch in found.chunks(fit.clamp(1, threads)) {
            self.rank_together(entity, batch)?;
        }
        Ok(())
    }

    /// Computes some population functions of `entity` at once: their values and groups from one
    /// plan, each function ranked on a thread of its own.
    fn rank_together(
        &mut self,
        entity: EntityId,
        found: &[(String, PopFunc, Expr, Option<Expr>)],
    ) -> Result<()> {
        let p = self.program;
        let mut wanted = Vec::new();
        for (_, _, v, w) in found {
            wanted.push(v.clone());
            if let Some(w) = w {
                wanted.push(w.clone());
            }
        }
        let name = &p.entity(entity).name;
        let rows = self.rows_of(entity, name)?;
        let (mut narrow, cols) = self.frame(entity, &wanted, name)?;
        let mut select = vec![ident(narrow.row.clone())];
        let mut at = 0;
        for (i, (_, _, _, w)) in found.iter().enumerate() {
            select.push(ident(cols[at].clone()).alias(format!("v{i}")));
            at += 1;
            if w.is_some() {
                select.push(ident(cols[at].clone()).alias(format!("w{i}")));
                at += 1;
            }
        }
        let batch = self.run(narrow.df()?.select(select)?)?;
        let mut by_row = spread(&batch, &narrow.row, rows)?;
        drop(batch);
        let mut work = Vec::new();
        for (i, (key, func, _, _)) in found.iter().enumerate() {
            let v = by_row
                .remove(&format!("v{i}"))
                .ok_or_else(|| EngineError::Engine("internal: no ranked value".into()))?;
            let w = by_row.remove(&format!("w{i}"));
            work.push((key.clone(), *func, v, w));
        }
        let results: Vec<Result<(String, ArrayRef)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = work
                .iter()
                .map(|(key, func, v, w)| {
                    scope.spawn(move || {
                        population::compute(*func, v, w.as_ref()).map(|r| (key.clone(), r))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(EngineError::Engine("ranking failed unexpectedly".into()))
                    })
                })
                .collect()
        });
        for r in results {
            let (key, array) = r?;
            self.computed.insert((entity, key), array);
        }
        Ok(())
    }

    /// The population functions under `e` (in its own entity's rules) whose value and group use
    /// no population function.
    fn leaf_populations(
        &self,
        scope: EntityId,
        e: &Expr,
        found: &mut Vec<(String, PopFunc, Expr, Option<Expr>)>,
        seen: &mut HashSet<String>,
    ) {
        let p = self.program;
        let has_population = |x: &Expr| {
            fn any(p: &Program, x: &Expr, depth: usize) -> bool {
                if depth > 64 {
                    return true;
                }
                match &x.kind {
                    ExprKind::Population { .. } => true,
                    ExprKind::Definition(id) => any(p, &p.definitions[id.index()].value, depth + 1),
                    ExprKind::Segment(_) | ExprKind::Tier(_) | ExprKind::Score(_) => true,
                    ExprKind::Aggregate { .. } | ExprKind::Lookup { .. } => false,
                    _ => x.operands().into_iter().any(|c| any(p, c, depth + 1)),
                }
            }
            any(p, x, 0)
        };
        match &e.kind {
            ExprKind::Population {
                func,
                entity,
                value,
                within,
            } => {
                let key = self.key(e);
                if *entity != scope || !seen.insert(key.clone()) {
                    return;
                }
                if has_population(value) || within.as_deref().is_some_and(has_population) {
                    return;
                }
                found.push((
                    key,
                    *func,
                    value.as_ref().clone(),
                    within.as_deref().cloned(),
                ));
            }
            ExprKind::Aggregate { .. } | ExprKind::Lookup { .. } => {}
            ExprKind::Definition(id) => {
                if seen.insert(format!("definition {}", id.0)) {
                    self.leaf_populations(scope, &p.definitions[id.index()].value, found, seen);
                }
            }
            ExprKind::Segment(id) => {
                if seen.insert(format!("segment {}", id.0)) {
                    self.leaf_populations(scope, &p.segments[id.index()].condition, found, seen);
                }
            }
            ExprKind::Tier(id) => {
                if seen.insert(format!("tiers {}", id.0)) {
                    for row in &p.tier_sets[id.index()].rows {
                        if let Some(c) = &row.condition {
                            self.leaf_populations(scope, c, found, seen);
                        }
                    }
                }
            }
            ExprKind::Score(id) => {
                if seen.insert(format!("score {}", id.0)) {
                    for rule in &p.scores[id.index()].rules {
                        self.leaf_populations(scope, &rule.condition, found, seen);
                    }
                }
            }
            _ => {
                for c in e.operands() {
                    self.leaf_populations(scope, c, found, seen);
                }
            }
        }
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
        select.push(ident(frame.row.clone()).alias(ROW));
        let df = frame.df()?.select(select)?;
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

/// The columns of `batch` other than `rows`, each spread out to `len` values: the value of a
/// batch row goes to the position its `rows` value names; positions no row names are unknown.
fn spread(batch: &RecordBatch, rows: &str, len: usize) -> Result<HashMap<String, ArrayRef>> {
    let at = batch
        .column_by_name(rows)
        .ok_or_else(|| EngineError::Engine(format!("internal: no row numbers `{rows}`")))?;
    let at = datafusion::arrow::compute::cast(at, &DataType::UInt32)?;
    let at = at.as_primitive::<datafusion::arrow::datatypes::UInt32Type>();
    // For each position, the batch row whose value goes there.
    let mut source: Vec<Option<u32>> = vec![None; len];
    for (i, r) in at.iter().enumerate() {
        if let Some(slot) = r.and_then(|r| source.get_mut(r as usize)) {
            *slot = u32::try_from(i).ok();
        }
    }
    let source = UInt32Array::from(source);
    let mut out = HashMap::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if field.name() == rows {
            continue;
        }
        let spread = datafusion::arrow::compute::take(column.as_ref(), &source, None)?;
        out.insert(field.name().clone(), spread);
    }
    Ok(out)
}

/// The column of a grouped plan holding the parent row.
const PARENT: &str = "#parent";
/// The column of distinct pairs holding the value counted.
const ITEM: &str = "#item";

/// The name of aggregate `i`'s grouped column.
fn part(i: usize) -> String {
    format!("#a{i}")
}

/// The name of the count that average `i` is divided by.
fn count_part(i: usize) -> String {
    format!("#a{i}n")
}

/// Distinct (parent, value) pairs counted per parent, as aggregate `i`.
fn count_pairs(pairs: DataFrame, i: usize) -> Result<DataFrame> {
    Ok(pairs.aggregate(
        vec![ident(PARENT)],
        vec![agg::count(ident(ITEM)).alias(part(i))],
    )?)
}

/// The plans of some aggregates over related records.
struct Grouped {
    /// Aggregates added up per parent row (`dense`): the plan of what each related record
    /// contributes, with [`PARENT`], and the aggregates.
    dense: Option<(DataFrame, Vec<dense::Spec>)>,
    /// The query engine's grouped plan of the others (none when there are none).
    grouped: Option<DataFrame>,
    /// The plan of each distinct count's (parent, value) pairs, with the aggregate's position.
    distinct: Vec<(usize, DataFrame)>,
}

/// Some aggregates over one relation, and what they need from the related records.
struct AggregatePlan<'a> {
    aggs: &'a [(String, Expr)],
    /// The values each aggregate needs from the related records (window tests, filters,
    /// values), evaluated on those records.
    wanted: &'a [Expr],
    /// Per aggregate: the positions in `wanted` of its window test, filter and value.
    slots: &'a [(Option<usize>, Option<usize>, Option<usize>)],
    child: EntityId,
    /// The linking field of the related records.
    via: FieldId,
    parent: EntityId,
    needed_by: &'a str,
}

/// How the partial results of a grouped column combine over pieces.
fn merge_of(plan: &AggregatePlan<'_>, column: &str) -> dense::Op {
    let index = column
        .trim_start_matches("#a")
        .trim_end_matches('n')
        .parse::<usize>()
        .ok();
    let func = index
        .and_then(|i| plan.aggs.get(i))
        .and_then(|(_, e)| match &e.kind {
            ExprKind::Aggregate { func, .. } => Some(*func),
            _ => None,
        });
    match func {
        Some(AggFunc::Min) if !column.ends_with('n') => dense::Op::Min,
        Some(AggFunc::Max) if !column.ends_with('n') => dense::Op::Max,
        _ => dense::Op::Sum,
    }
}

/// A piece of no records with an entity's columns.
fn empty_piece(p: &Program, entity: EntityId) -> Result<RecordBatch> {
    let def = p.entity(entity);
    let columns = def
        .fields
        .iter()
        .map(|f| datafusion::arrow::array::new_empty_array(&types::arrow_type(&f.ty, 0)))
        .collect();
    crate::engine::load::batch(def, columns)
        .ok_or_else(|| EngineError::Engine("internal: an empty piece".into()))
}

/// The memory that population functions ranked at the same time may use for their sort
/// buffers; beyond it they are ranked one after the other.
const RANK_MEMORY: usize = 256 << 20;

/// `batch` with its rows in the order of its row-number column (the order they had in the
/// piece of the file they came from), unchanged when they are in that order already or it has
/// no such column.
fn in_file_order(batch: &RecordBatch) -> Result<RecordBatch> {
    let Ok(at) = batch.schema().index_of(ROW) else {
        return Ok(batch.clone());
    };
    let order = key_order(batch.column(at))?;
    reordered(batch.clone(), &order)
}

/// The rows of `batch` in `order` (positions); the batch itself when the order is its own.
fn reordered(batch: RecordBatch, order: &UInt32Array) -> Result<RecordBatch> {
    if order
        .values()
        .iter()
        .enumerate()
        .all(|(i, &o)| o as usize == i)
    {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .map(|c| datafusion::arrow::compute::take(c.as_ref(), order, None))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// The positions of `keys` in ascending order. Files are often written in key order already:
/// one comparison of each key with the next finds that out, and no sort is needed.
fn key_order(keys: &ArrayRef) -> Result<UInt32Array> {
    let n = keys.len();
    if n > 1 && keys.null_count() == 0 {
        let ascending = datafusion::arrow::compute::kernels::cmp::lt_eq(
            &keys.slice(0, n - 1),
            &keys.slice(1, n - 1),
        )?;
        if ascending.null_count() == 0 && ascending.true_count() == n - 1 {
            let n = u32::try_from(n).map_err(|_| {
                EngineError::Unsupported(
                    "a table has more records than segl can evaluate in one run".into(),
                )
            })?;
            return Ok(UInt32Array::from_iter_values(0..n));
        }
    }
    Ok(datafusion::arrow::compute::sort_to_indices(
        keys, None, None,
    )?)
}

/// The physical plan that evaluates an entity's rules over one piece of its records, kept to
/// evaluate the pieces after it.
struct PiecePlan {
    physical: Arc<dyn ExecutionPlan>,
    /// The schema of the piece the plan was made for, and its number of partitions.
    schema: datafusion::arrow::datatypes::SchemaRef,
    parts: usize,
    task: Arc<datafusion::execution::TaskContext>,
    unknown_cols: Vec<UnknownFlag>,
}

impl PiecePlan {
    /// The plan reading `table` where it read the first piece; `None` when the plan cannot be
    /// reused (the tables are split into different numbers of partitions, or the plan does not
    /// read the first piece the way segl expects), and a new plan is needed.
    fn reading(&self, piece: &Partitioned) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        use datafusion::common::tree_node::{Transformed, TreeNode};
        use datafusion::datasource::memory::MemorySourceConfig;
        use datafusion::datasource::source::DataSourceExec;
        let (schema, parts) = piece;
        let (old, old_parts) = (&self.schema, self.parts);
        if parts.len() != old_parts {
            return Ok(None);
        }
        let mut replaced = 0;
        let plan = self.physical.clone().transform_up(|node| {
            let Some(exec) = node.downcast_ref::<DataSourceExec>() else {
                return Ok(Transformed::no(node));
            };
            let Some(memory) = exec.data_source().downcast_ref::<MemorySourceConfig>() else {
                return Ok(Transformed::no(node));
            };
            if !Arc::ptr_eq(&memory.original_schema(), old)
                || memory.partitions().len() != old_parts
            {
                return Ok(Transformed::no(node));
            }
            replaced += 1;
            let source =
                MemorySourceConfig::try_new(parts, schema.clone(), memory.projection().clone())?
                    .with_limit(datafusion::datasource::source::DataSource::fetch(memory));
            let exec: Arc<dyn ExecutionPlan> = DataSourceExec::from_data_source(source);
            Ok(Transformed::yes(exec))
        })?;
        Ok((replaced > 0).then_some(plan.data))
    }
}

/// A query-engine table of a batch and its row numbers ([`ROW`]), in `parts` partitions.
fn memtable(batch: &RecordBatch, parts: usize) -> Result<Arc<MemTable>> {
    let (schema, partitions) = partitioned(batch, parts)?;
    Ok(Arc::new(MemTable::try_new(schema, partitions)?))
}

/// A batch with its `#row` column, cut into `parts` partitions of about the same size.
type Partitioned = (
    datafusion::arrow::datatypes::SchemaRef,
    Vec<Vec<RecordBatch>>,
);

fn partitioned(batch: &RecordBatch, parts: usize) -> Result<Partitioned> {
    let rows = u32::try_from(batch.num_rows()).map_err(|_| {
        EngineError::Unsupported(
            "a table has more records than segl can evaluate in one run".into(),
        )
    })?;
    // Every column is declared nullable to DataFusion: some of its plan rewrites disagree with
    // themselves about the nullability of non-null inputs. Required fields still hold no nulls
    // (the loader checked that).
    let mut fields: Vec<datafusion::arrow::datatypes::Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    fields.push(datafusion::arrow::datatypes::Field::new(
        ROW,
        DataType::UInt32,
        false,
    ));
    let mut columns = batch.columns().to_vec();
    columns.push(Arc::new(UInt32Array::from_iter_values(0..rows)));
    let batch = RecordBatch::try_new(
        Arc::new(datafusion::arrow::datatypes::Schema::new(fields)),
        columns,
    )?;
    let parts = parts.max(1);
    let n = batch.num_rows();
    let chunk = n.div_ceil(parts).max(1);
    let mut partitions = Vec::new();
    let mut start = 0;
    while start < n {
        let len = chunk.min(n - start);
        partitions.push(vec![batch.slice(start, len)]);
        start += len;
    }
    if partitions.is_empty() {
        partitions.push(vec![batch.clone()]);
    }
    Ok((batch.schema(), partitions))
}

/// `array` with its unknown values replaced by the zero of its type.
fn fill_zero(array: &ArrayRef) -> Result<ArrayRef> {
    // Whole numbers, exact decimals and floats: the values with zeros where unknown.
    fn zeroed<T: datafusion::arrow::datatypes::ArrowPrimitiveType>(
        array: &ArrayRef,
    ) -> Option<ArrayRef> {
        let a = array.as_primitive_opt::<T>()?;
        let values: Vec<T::Native> = (0..a.len())
            .map(|i| {
                if a.is_valid(i) {
                    a.value(i)
                } else {
                    T::Native::default()
                }
            })
            .collect();
        let out = datafusion::arrow::array::PrimitiveArray::<T>::new(values.into(), None)
            .with_data_type(array.data_type().clone());
        Some(Arc::new(out))
    }
    use datafusion::arrow::datatypes::{Decimal128Type, Float64Type, Int64Type};
    if array.null_count() == 0 {
        return Ok(Arc::clone(array));
    }
    let fast = match array.data_type() {
        DataType::Int64 => zeroed::<Int64Type>(array),
        DataType::Float64 => zeroed::<Float64Type>(array),
        DataType::Decimal128(..) => zeroed::<Decimal128Type>(array),
        _ => None,
    };
    if let Some(f) = fast {
        return Ok(f);
    }
    let zero = ScalarValue::new_zero(array.data_type())?.to_scalar()?;
    let known = datafusion::arrow::compute::is_not_null(array.as_ref())?;
    Ok(datafusion::arrow::compute::kernels::zip::zip(
        &known, array, &zero,
    )?)
}

/// `array` (yes/no values) with its unknown values replaced by `value`.
fn fill_bool(array: &ArrayRef, value: bool) -> Result<ArrayRef> {
    if array.null_count() == 0 {
        return Ok(Arc::clone(array));
    }
    let known = datafusion::arrow::compute::is_not_null(array.as_ref())?;
    let fill = ScalarValue::Boolean(Some(value)).to_scalar()?;
    Ok(datafusion::arrow::compute::kernels::zip::zip(
        &known, array, &fill,
    )?)
}

/// Whole counts compared with zero: `count > 0` (`equal` false) or `count = 0` (`equal` true).
fn compare_zero(counts: &ArrayRef, equal: bool) -> Result<ArrayRef> {
    let zero = datafusion::arrow::array::Int64Array::new_scalar(0);
    let out = if equal {
        datafusion::arrow::compute::kernels::cmp::eq(counts, &zero)?
    } else {
        datafusion::arrow::compute::kernels::cmp::gt(counts, &zero)?
    };
    Ok(Arc::new(out))
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
