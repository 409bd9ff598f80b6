//! The lints themselves, over the typed program. Each finding is a W07xx diagnostic.

use std::collections::{BTreeSet, HashMap};

use crate::diagnostics::{Code, Diagnostic, thousands};
use crate::engine::Dataset;
use crate::ir::{Expr, ExprKind, Metadata, Program, TierSetDef};
use crate::source::Span;
use crate::syntax::ast;

use super::domain::{Domain, Formula, Sat};

/// Where a condition is, for messages.
#[derive(Clone, Copy)]
enum Place<'a> {
    Segment(&'a str),
    Definition(&'a str),
    TierRow {
        tiers: &'a str,
        row: &'a str,
    },
    ScoreRow(&'a str),
    /// The `where` of an aggregate inside another place.
    Filter(&'a Place<'a>),
}

impl Place<'_> {
    fn describe(&self) -> String {
        match self {
            Place::Segment(n) => format!("the condition of segment `{n}`"),
            Place::Definition(n) => format!("definition `{n}`"),
            Place::TierRow { tiers, row } => format!("the condition of tier `{row}` in `{tiers}`"),
            Place::ScoreRow(n) => format!("the condition of this row of score `{n}`"),
            Place::Filter(outer) => format!("the `where` of an aggregate in {}", outer.describe()),
        }
    }
}

struct Checker<'p> {
    p: &'p Program,
    data: Option<&'p Dataset>,
    out: Vec<Diagnostic>,
}

pub fn run(program: &Program, files: &[ast::File], data: Option<&Dataset>) -> Vec<Diagnostic> {
    let mut c = Checker {
        p: program,
        data,
        out: Vec::new(),
    };
    for s in &program.segments {
        c.root(&s.condition, &Place::Segment(&s.name));
    }
    for d in &program.definitions {
        let place = Place::Definition(&d.name);
        if d.value.ty == crate::ir::Type::Bool {
            c.root(&d.value, &place);
        } else {
            c.filters(&d.value, &place);
        }
    }
    for t in &program.tier_sets {
        let mut never = Vec::new();
        for row in &t.rows {
            if let Some(cond) = &row.condition {
                let before = c.out.len();
                c.root(
                    cond,
                    &Place::TierRow {
                        tiers: &t.name,
                        row: &row.name,
                    },
                );
                never.push(
                    c.out[before..]
                        .iter()
                        .any(|d| d.code == Code::W0700 && d.primary.span == cond.span),
                );
            }
        }
        c.tiers(t, &never);
    }
    for s in &program.scores {
        for rule in &s.rules {
            c.root(&rule.condition, &Place::ScoreRow(&s.name));
        }
    }
    let names = name_spans(files);
    c.unused(&names);
    c.metadata(&names);
    c.out
}

/// The span of each item's name, by name (names are unique across a project).
fn name_spans(files: &[ast::File]) -> HashMap<&str, Span> {
    let mut out = HashMap::new();
    for f in files {
        for item in &f.items {
            let ident = match item {
                ast::Item::Segment(s) => &s.name,
                ast::Item::Define(d) => &d.name,
                ast::Item::Param(p) => &p.name,
                ast::Item::Tiers(t) => &t.name,
                ast::Item::Score(s) => &s.name,
                ast::Item::Entity(_) | ast::Item::Test(_) => continue,
            };
            out.entry(ident.name.as_str()).or_insert(ident.span);
        }
    }
    out
}

impl<'p> Checker<'p> {
    /// Every lint about one condition, and about the `where` of each aggregate inside it.
    fn root(&mut self, e: &'p Expr, place: &Place<'_>) {
        self.verdicts(e, place, true);
        self.duplicates(e);
        self.negations(e, &BTreeSet::new());
        self.filters(e, place);
    }

    /// The conditions of aggregates (`count(orders where ...)`) anywhere inside `e`.
    fn filters(&mut self, e: &'p Expr, place: &Place<'_>) {
        if let ExprKind::Aggregate { source, value, .. } = &e.kind {
            if let Some(filter) = &source.filter {
                self.root(filter, &Place::Filter(place));
            }
            if let Some(v) = value {
                self.filters(v, place);
            }
            return;
        }
        for child in children(e) {
            self.filters(child, place);
        }
    }

    /// W0700 and W0701 on the largest part of a condition that is never or always true.
    fn verdicts(&mut self, e: &'p Expr, place: &Place<'_>, top: bool) {
        let mut d = Domain::new(self.p);
        let f = d.formula(e);
        let what = if top {
            place.describe()
        } else {
            format!("this part of {}", place.describe())
        };
        if d.sat(&f) == Sat::No {
            self.out.push(
                Diagnostic::new(Code::W0700, e.span, format!("{what} is never true"))
                    .label("no record can meet this")
                    .help("look for an `and` where `or` was meant, or a bound the wrong way round")
                    .note("a test on a value that is unknown is false, so it never helps a record meet a condition"),
            );
            return;
        }
        if d.sat(&f.negated()) == Sat::No {
            self.out.push(
                Diagnostic::new(Code::W0701, e.span, format!("{what} is true for every record"))
                    .label("always true")
                    .help("remove it, or check the values: a condition that everyone meets selects nothing in particular"),
            );
            return;
        }
        match &e.kind {
            ExprKind::And(xs) | ExprKind::Or(xs) => {
                for x in xs {
                    self.verdicts(x, place, false);
                }
            }
            ExprKind::Not(x) if matches!(x.kind, ExprKind::And(_) | ExprKind::Or(_)) => {
                self.verdicts(x, place, false);
            }
            _ => {}
        }
    }

    /// W0708: two parts of one `and` or `or` that hold for exactly the same records.
    fn duplicates(&mut self, e: &'p Expr) {
        match &e.kind {
            ExprKind::And(xs) | ExprKind::Or(xs) => {
                let mut d = Domain::new(self.p);
                let fs: Vec<Formula> = xs.iter().map(|x| d.formula(x)).collect();
                for j in 1..xs.len() {
                    let earlier = (0..j).find(|&i| {
                        let (a, b) = (&fs[i], &fs[j]);
                        d.sat(&Formula::And(vec![a.clone(), b.clone().negated()])) == Sat::No
                            && d.sat(&Formula::And(vec![b.clone(), a.clone().negated()])) == Sat::No
                    });
                    if let Some(i) = earlier {
                        let joined = if matches!(e.kind, ExprKind::And(_)) {
                            "and"
                        } else {
                            "or"
                        };
                        self.out.push(
                            Diagnostic::new(
                                Code::W0708,
                                xs[j].span,
                                format!("this condition repeats an earlier one in the same `{joined}`"),
                            )
                            .label("the same records as the earlier condition")
                            .secondary(xs[i].span, "the earlier condition")
                            .help("remove one of them, or change the one that was meant to test something else"),
                        );
                    }
                }
                for x in xs {
                    self.duplicates(x);
                }
            }
            ExprKind::Not(x) => self.duplicates(x),
            _ => {}
        }
    }

    /// W0705: a negated test on a value that can be unknown, where nothing around it says
    /// whether records with an unknown value are wanted.
    fn negations(&mut self, e: &'p Expr, guarded: &BTreeSet<String>) {
        match &e.kind {
            ExprKind::And(xs) | ExprKind::Or(xs) => {
                let is_and = matches!(e.kind, ExprKind::And(_));
                for (i, x) in xs.iter().enumerate() {
                    let mut inner = guarded.clone();
                    for (k, sibling) in xs.iter().enumerate() {
                        if k == i {
                            continue;
                        }
                        let key = if is_and {
                            self.requires_known(sibling)
                        } else {
                            self.tests_unknown(sibling)
                        };
                        inner.extend(key);
                    }
                    self.negations(x, &inner);
                }
            }
            ExprKind::Not(x) => {
                if let Some(value) = tested_value(x)
                    && let Some(name) = optional_name(self.p, value)
                {
                    let key = crate::ir::dump_expr(self.p, value);
                    if !guarded.contains(&key) {
                        let mut d = Diagnostic::new(
                            Code::W0705,
                            e.span,
                            format!("this test also holds for records whose `{name}` is unknown"),
                        )
                        .label(format!("true when `{name}` is unknown"))
                        .help(format!("if records without `{name}` should be left out, add `{name} is known and` before the test; if they belong here, say so with `# segl: allow W0705 because ...`"));
                        if let Some(note) = self.unknown_count(value, &name) {
                            d = d.note(note);
                        }
                        self.out.push(d);
                    }
                }
                self.negations(x, guarded);
            }
            _ => {}
        }
    }

    /// "N of M records have no `name`", from the data when it is given.
    fn unknown_count(&self, value: &Expr, name: &str) -> Option<String> {
        let ExprKind::Field(f) = &strip(value).kind else {
            return None;
        };
        let table = self.data?.table(f.entity)?;
        let unknown = table.unknown_count(f.field)?;
        let total = table.batch.num_rows();
        let entity = &self.p.entities.get(f.entity.index())?.name;
        Some(format!(
            "in the data, {} of {} {entity} records have no `{name}`",
            thousands(unknown as u64),
            thousands(total as u64)
        ))
    }

    /// The value a condition needs to be known to hold (`x is known`, or a test on `x`).
    fn requires_known(&self, e: &Expr) -> Option<String> {
        let value = match &e.kind {
            ExprKind::IsKnown(v) => v,
            _ => tested_value(e)?,
        };
        Some(crate::ir::dump_expr(self.p, value))
    }

    /// The value a condition tests to be unknown (`x is unknown`).
    fn tests_unknown(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Not(x) => match &x.kind {
                ExprKind::IsKnown(v) => Some(crate::ir::dump_expr(self.p, v)),
                _ => None,
            },
            _ => None,
        }
    }

    /// W0702, W0703 and W0704 on the rows of one tier set. `never[i]` says that row `i` was
    /// already reported as never true.
    fn tiers(&mut self, t: &'p TierSetDef, never: &[bool]) {
        let mut d = Domain::new(self.p);
        let rows: Vec<(usize, Formula)> = t
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.condition.as_ref().map(|c| (i, d.formula(c))))
            .collect();
        // Unreachable rows: everything they describe is taken by an earlier row.
        for (k, (i, f)) in rows.iter().enumerate() {
            if k == 0 || never.get(k).copied().unwrap_or(false) {
                continue;
            }
            let mut parts = vec![f.clone()];
            parts.extend(rows[..k].iter().map(|(_, g)| g.clone().negated()));
            if d.sat(&Formula::And(parts)) == Sat::No {
                let Some(row) = t.rows.get(*i) else { continue };
                let mut diag = Diagnostic::new(
                    Code::W0702,
                    row.span,
                    format!("tier `{}` of `{}` is never chosen", row.name, t.name),
                )
                .label("every record this row describes is taken by a row above")
                .help("move this row above the rows that take its records, or narrow those rows")
                .note("rows are tried from top to bottom and the first one that holds wins");
                for (j, _) in &rows[..k] {
                    if let Some(r) = t.rows.get(*j) {
                        diag = diag.secondary(r.span, "tried first");
                    }
                }
                self.out.push(diag);
            }
        }
        let otherwise = t.rows.iter().find(|r| r.condition.is_none());
        if let Some(other) = otherwise
            && !rows.is_empty()
        {
            let rest = Formula::And(rows.iter().map(|(_, g)| g.clone().negated()).collect());
            if d.sat(&rest) == Sat::No {
                self.out.push(
                    Diagnostic::new(
                        Code::W0702,
                        other.span,
                        format!("tier `{}` of `{}` is never chosen", other.name, t.name),
                    )
                    .label("the rows above already take every record")
                    .help("turn the last row above into the `otherwise` row, so the tier set says plainly where the remaining records go"),
                );
            } else if let Some(diag) = self.unknown_to_otherwise(t, &mut d, &rows, other) {
                self.out.push(diag);
            }
        }
        // Overlapping bands on one value.
        for (k, (j, fj)) in rows.iter().enumerate() {
            for (i, fi) in rows[..k].iter() {
                let (Some(si), Some(sj)) = (d.only_subject(fi), d.only_subject(fj)) else {
                    continue;
                };
                if si != sj {
                    continue;
                }
                let both = Formula::And(vec![fi.clone(), fj.clone()]);
                let only_i = Formula::And(vec![fi.clone(), fj.clone().negated()]);
                let only_j = Formula::And(vec![fj.clone(), fi.clone().negated()]);
                if d.sat(&both) == Sat::Yes
                    && d.sat(&only_i) == Sat::Yes
                    && d.sat(&only_j) == Sat::Yes
                {
                    let (Some(ri), Some(rj)) = (t.rows.get(*i), t.rows.get(*j)) else {
                        continue;
                    };
                    self.out.push(
                        Diagnostic::new(
                            Code::W0703,
                            rj.span,
                            format!("tiers `{}` and `{}` of `{}` overlap", ri.name, rj.name, t.name),
                        )
                        .label(format!("some records meet this row and the row of `{}`", ri.name))
                        .secondary(ri.span, "these records go here, because this row comes first")
                        .help("make the ranges meet without overlapping, for example `< 7` in one row and `>= 7` in the next"),
                    );
                    break;
                }
            }
        }
    }

    /// W0704: every row needs one value to be known, so records where it is unknown all land in
    /// `otherwise`, together with records whose value is known.
    fn unknown_to_otherwise(
        &self,
        t: &TierSetDef,
        d: &mut Domain<'p>,
        rows: &[(usize, Formula)],
        other: &crate::ir::TierRow,
    ) -> Option<Diagnostic> {
        let (_, first) = rows.first()?;
        let mut atoms = BTreeSet::new();
        first.atoms(&mut atoms);
        let subjects: BTreeSet<usize> = atoms
            .iter()
            .filter_map(|a| d.atoms.get(*a).map(|a| a.subject))
            .collect();
        for s in subjects {
            let subject = d.subjects.get(s)?;
            if !subject.may_be_unknown {
                continue;
            }
            let expr = subject.expr;
            let Some(name) = optional_name(self.p, expr) else {
                continue;
            };
            let known = d.known(s);
            let every_row_needs_it = rows.iter().all(|(_, f)| {
                d.sat(&Formula::And(vec![f.clone(), known.clone().negated()])) == Sat::No
            });
            let mut rest: Vec<Formula> = rows.iter().map(|(_, g)| g.clone().negated()).collect();
            rest.push(known);
            if every_row_needs_it && d.sat(&Formula::And(rest)) == Sat::Yes {
                return Some(
                    Diagnostic::new(
                        Code::W0704,
                        other.span,
                        format!("records with no `{name}` are put in `{}`", other.name),
                    )
                    .label(format!("takes every record whose `{name}` is unknown"))
                    .help(format!("add a row such as `no_{field} when {name} is unknown` above `otherwise`, or say with `# segl: allow W0704 because ...` that `{}` is right for them", other.name, field = name.replace('.', "_")))
                    .note(format!("every row of `{}` tests `{name}`, and a test on an unknown value is false", t.name)),
                );
            }
        }
        None
    }

    /// W0706 and W0707: definitions and parameters no rule uses.
    fn unused(&mut self, names: &HashMap<&str, Span>) {
        let mut used_defs = BTreeSet::new();
        let mut used_params = BTreeSet::new();
        let mut roots: Vec<&Expr> = Vec::new();
        roots.extend(self.p.segments.iter().map(|s| &s.condition));
        roots.extend(self.p.definitions.iter().map(|d| &d.value));
        roots.extend(
            self.p
                .tier_sets
                .iter()
                .flat_map(|t| t.rows.iter().filter_map(|r| r.condition.as_ref())),
        );
        roots.extend(
            self.p
                .scores
                .iter()
                .flat_map(|s| s.rules.iter().map(|r| &r.condition)),
        );
        let mut stack = roots;
        while let Some(e) = stack.pop() {
            match &e.kind {
                ExprKind::Definition(id) => {
                    used_defs.insert(*id);
                }
                ExprKind::Param(id) => {
                    used_params.insert(*id);
                }
                _ => {}
            }
            stack.extend(children(e));
        }
        for (i, def) in self.p.definitions.iter().enumerate() {
            if !used_defs.contains(&crate::ir::DefinitionId::from_index(i)) {
                let span = names.get(def.name.as_str()).copied().unwrap_or(def.span);
                self.out.push(
                    Diagnostic::new(Code::W0706, span, format!("definition `{}` is not used by any rule", def.name))
                        .label("defined here, used nowhere")
                        .help("remove it, or use it in a segment, tier set or score; if it is only shown with `segl run --columns`, say so with `# segl: allow W0706 because ...`"),
                );
            }
        }
        for (i, param) in self.p.params.iter().enumerate() {
            if !used_params.contains(&crate::ir::ParamId::from_index(i)) {
                let span = names
                    .get(param.name.as_str())
                    .copied()
                    .unwrap_or(param.span);
                self.out.push(
                    Diagnostic::new(Code::W0707, span, format!("parameter `{}` is not used by any rule", param.name))
                        .label("declared here, used nowhere")
                        .help("remove it, or use it in a rule; changing it with `--param` has no effect while no rule uses it"),
                );
            }
        }
    }

    /// W0709 and W0710 (opt-in): segments, tier sets and scores without an owner or description.
    fn metadata(&mut self, names: &HashMap<&str, Span>) {
        let mut items: Vec<(&str, &str, &Metadata, Span)> = Vec::new();
        items.extend(
            self.p
                .segments
                .iter()
                .map(|s| ("segment", s.name.as_str(), &s.meta, s.span)),
        );
        items.extend(
            self.p
                .tier_sets
                .iter()
                .map(|t| ("tier set", t.name.as_str(), &t.meta, t.span)),
        );
        items.extend(
            self.p
                .scores
                .iter()
                .map(|s| ("score", s.name.as_str(), &s.meta, s.span)),
        );
        for (kind, name, meta, span) in items {
            let span = names.get(name).copied().unwrap_or(span);
            if meta.owner.is_none() {
                self.out.push(
                    Diagnostic::new(Code::W0709, span, format!("{kind} `{name}` has no owner"))
                        .label("no `owner`")
                        .help("add a line such as `owner \"cs-ops\"`: the team to ask about this rule"),
                );
            }
            if meta.description.is_none() {
                self.out.push(
                    Diagnostic::new(Code::W0710, span, format!("{kind} `{name}` has no description"))
                        .label("no `description`")
                        .help("add a line such as `description \"...\"` saying in plain words who this is about and why"),
                );
            }
        }
    }
}

/// The value a test looks at, when the test compares it with constants.
fn tested_value(e: &Expr) -> Option<&Expr> {
    let constant = |x: &Expr| matches!(strip(x).kind, ExprKind::Literal(_) | ExprKind::List(_));
    match &e.kind {
        ExprKind::Compare { lhs, rhs, .. } => {
            if constant(rhs) {
                Some(lhs)
            } else if constant(lhs) {
                Some(rhs)
            } else {
                None
            }
        }
        ExprKind::InList { value, .. }
        | ExprKind::Between { value, .. }
        | ExprKind::Text { value, .. }
        | ExprKind::InWindow { value, .. }
        | ExprKind::IsEmpty(value)
        | ExprKind::ListContains { list: value, .. }
        | ExprKind::ListContainsAny { list: value, .. }
        | ExprKind::ListContainsAll { list: value, .. } => Some(value),
        _ => None,
    }
}

fn strip(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Coerce(inner) => strip(inner),
        _ => e,
    }
}

/// The name of an optional field, or of a field reached through a `one` relation (unknown when
/// there is no related record), as written in rules: `nps`, `company.industry`.
fn optional_name(p: &Program, e: &Expr) -> Option<String> {
    match &strip(e).kind {
        ExprKind::Field(f) => {
            let def = p
                .entities
                .get(f.entity.index())?
                .fields
                .get(f.field.index())?;
            def.optional.then(|| def.name.clone())
        }
        ExprKind::Lookup { relation, value } => {
            let rel = p
                .entities
                .get(relation.entity.index())?
                .relations
                .get(relation.relation.index())?;
            let inner = match &strip(value).kind {
                ExprKind::Field(f) => p
                    .entities
                    .get(f.entity.index())?
                    .fields
                    .get(f.field.index())?
                    .name
                    .clone(),
                ExprKind::Lookup { .. } => {
                    optional_name(p, value).or_else(|| field_path(p, value))?
                }
                _ => return None,
            };
            Some(format!("{}.{inner}", rel.name))
        }
        _ => None,
    }
}

fn field_path(p: &Program, e: &Expr) -> Option<String> {
    match &strip(e).kind {
        ExprKind::Field(f) => Some(
            p.entities
                .get(f.entity.index())?
                .fields
                .get(f.field.index())?
                .name
                .clone(),
        ),
        ExprKind::Lookup { relation, value } => {
            let rel = p
                .entities
                .get(relation.entity.index())?
                .relations
                .get(relation.relation.index())?;
            Some(format!("{}.{}", rel.name, field_path(p, value)?))
        }
        _ => None,
    }
}

/// Every operand, looking through lookups and into aggregate filters and values too.
fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Lookup { value, .. } => vec![value],
        ExprKind::Aggregate { source, value, .. } => source
            .filter
            .as_deref()
            .into_iter()
            .chain(value.as_deref())
            .collect(),
        _ => e.operands(),
    }
}
