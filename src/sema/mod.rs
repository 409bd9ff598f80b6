//! Name resolution and type checking: syntax trees plus the schema in, a typed program out.
//!
//! All names are bound and all coercions decided here. Errors never cascade: a node that failed
//! gets the type [`Type::Error`], and nothing built on it is reported again.

mod cycles;
mod expr;
mod items;
mod literal;
pub mod params;

use std::collections::{HashMap, HashSet};

use crate::diagnostics::suggest::Candidate;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{
    DefinitionDef, DefinitionId, EntityId, EnumDef, EnumId, Expr, ExprKind, FieldId, ParamId,
    Program, RelationId, ScoreId, SegmentId, TierSetId, Type,
};
use crate::schema;
use crate::source::Span;
use crate::syntax::ast;

/// Settings that come from the project rather than the rule files.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// `primary_entity` from `segl.toml`, with its span there.
    pub primary_entity: Option<(String, Span)>,
}

/// The result of checking: the typed program (complete when there are no errors) and every
/// diagnostic found.
#[derive(Clone, Debug)]
pub struct Checked {
    pub program: Program,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks a whole project: the schema first, then every rule against it.
#[must_use]
pub fn check(files: &[ast::File], options: &CheckOptions) -> Checked {
    let mut diags = Vec::new();
    let entities: Vec<&ast::Entity> = files
        .iter()
        .flat_map(|f| f.items.iter())
        .filter_map(|i| match i {
            ast::Item::Entity(e) => Some(e),
            _ => None,
        })
        .collect();
    let broken: Vec<&ast::BrokenItem> = files.iter().flat_map(|f| f.broken.iter()).collect();
    let broken_entities: HashSet<String> = broken
        .iter()
        .filter(|b| b.keyword == "entity")
        .filter_map(|b| b.name.as_ref().map(|n| n.name.clone()))
        .collect();
    let schema = schema::check(&entities, &broken_entities, &mut diags);
    let mut checker = Checker::new(schema, &mut diags);
    checker.poisoned = broken
        .iter()
        .filter(|b| b.keyword != "entity")
        .filter_map(|b| b.name.as_ref().map(|n| n.name.clone()))
        .collect();
    // An entity that did not parse leaves its fields unknown: checking rules against the rest of
    // the schema would report every use of them, so rules wait until the schema reads cleanly.
    let schema_broken = broken.iter().any(|b| b.keyword == "entity");
    if !schema_broken {
        checker.run(files, options);
    }
    let program = checker.finish();
    Checked {
        program,
        diagnostics: diags,
    }
}

/// What a name means on an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attr {
    Field(FieldId),
    Relation(RelationId),
    Definition(DefinitionId),
    Segment(SegmentId),
    Tier(TierSetId),
    Score(ScoreId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DefState {
    Pending,
    InProgress,
    Done,
}

struct Checker<'d, 'a> {
    program: Program,
    diags: &'d mut Vec<Diagnostic>,
    entity_names: HashMap<String, EntityId>,
    /// Attributes of each entity by name: fields, relations, definitions, segments, tiers, scores.
    attrs: Vec<HashMap<String, (Attr, Span)>>,
    params: HashMap<String, ParamId>,
    segments: HashMap<String, SegmentId>,
    tier_sets: HashMap<String, TierSetId>,
    scores: HashMap<String, ScoreId>,
    def_asts: Vec<&'a ast::Define>,
    def_state: Vec<DefState>,
    /// The rule being checked, and every reference from one rule to another (for cycles).
    current: Option<cycles::Node>,
    edges: Vec<(cycles::Node, cycles::Node, Span)>,
    /// Names of rules that did not parse: uses of them are not reported again.
    poisoned: HashSet<String>,
}

impl<'d, 'a> Checker<'d, 'a> {
    fn new(schema: schema::Schema, diags: &'d mut Vec<Diagnostic>) -> Self {
        let mut attrs = Vec::new();
        for e in &schema.entities {
            let mut map = HashMap::new();
            for (i, f) in e.fields.iter().enumerate() {
                map.insert(
                    f.name.clone(),
                    (Attr::Field(FieldId::from_index(i)), f.span),
                );
            }
            for (i, r) in e.relations.iter().enumerate() {
                map.insert(
                    r.name.clone(),
                    (Attr::Relation(RelationId::from_index(i)), r.span),
                );
            }
            attrs.push(map);
        }
        Checker {
            program: Program {
                entities: schema.entities,
                enums: schema.enums,
                ..Program::default()
            },
            diags,
            entity_names: schema.by_name,
            attrs,
            params: HashMap::new(),
            segments: HashMap::new(),
            tier_sets: HashMap::new(),
            scores: HashMap::new(),
            def_asts: Vec::new(),
            def_state: Vec::new(),
            current: None,
            edges: Vec::new(),
            poisoned: HashSet::new(),
        }
    }

    fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn finish(self) -> Program {
        self.program
    }

    fn run(&mut self, files: &'a [ast::File], options: &CheckOptions) {
        let items: Vec<&'a ast::Item> = files.iter().flat_map(|f| f.items.iter()).collect();
        self.choose_primary(&items, options);
        let Some(primary) = self.program.primary else {
            return;
        };
        self.declare(&items, primary);
        // Definitions are typed on first use (their types feed other rules); the rest in order.
        for i in 0..self.def_asts.len() {
            self.ensure_definition(DefinitionId::from_index(i));
        }
        for item in &items {
            match item {
                ast::Item::Segment(s) => self.check_segment(s),
                ast::Item::Tiers(t) => self.check_tiers(t),
                ast::Item::Score(s) => self.check_score(s),
                _ => {}
            }
        }
        for item in &items {
            if let ast::Item::Test(t) = item {
                self.check_test(t);
            }
        }
        cycles::report(&self.program, &self.edges, self.diags);
    }

    fn choose_primary(&mut self, items: &[&'a ast::Item], options: &CheckOptions) {
        if let Some((name, span)) = &options.primary_entity {
            match self.entity_names.get(name) {
                Some(id) => {
                    self.program.primary = Some(*id);
                    return;
                }
                None => {
                    let d = self.unknown_entity_diag(name, *span, "set as `primary_entity`");
                    self.report(d);
                }
            }
        }
        if !self.program.entities.is_empty() {
            self.program.primary = Some(EntityId(0));
            return;
        }
        if let Some(first) = items.iter().find(|i| !matches!(i, ast::Item::Entity(_))) {
            let span = item_name_span(first);
            self.report(
                Diagnostic::new(Code::E0208, span, "there is no entity to write rules about")
                    .label("this rule needs a schema")
                    .help(
                        "declare the data your rules talk about, for example \
                         `entity customer { key id: text }`, usually in `schema.segl`",
                    ),
            );
        }
    }

    fn unknown_entity_diag(&self, name: &str, span: Span, what: &str) -> Diagnostic {
        let cands: Vec<Candidate> = self
            .program
            .entities
            .iter()
            .map(|e| Candidate::plain(&e.name))
            .collect();
        let near = crate::diagnostics::suggest::nearest(name, &cands);
        let mut d = Diagnostic::new(
            Code::E0306,
            span,
            format!("there is no entity called `{name}`"),
        )
        .label(format!("unknown entity {what}"));
        d = match crate::diagnostics::suggest::did_you_mean(&near) {
            Some(h) => d.help(h),
            None => d.help(format!(
                "the entities are {}",
                self.program
                    .entities
                    .iter()
                    .map(|e| format!("`{}`", e.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        if let [only] = near.as_slice() {
            d = d.fix(span, *only);
        }
        d
    }

    /// The entity named in `of ENTITY`, or the primary one.
    fn entity_of(&mut self, of: Option<&ast::Ident>, primary: EntityId) -> Option<EntityId> {
        match of {
            None => Some(primary),
            Some(name) => match self.entity_names.get(&name.name) {
                Some(id) => Some(*id),
                None => {
                    let d = self.unknown_entity_diag(&name.name, name.span, "after `of`");
                    self.report(d);
                    None
                }
            },
        }
    }

    /// Registers every rule name so that rules can refer to each other in any order.
    fn declare(&mut self, items: &[&'a ast::Item], primary: EntityId) {
        let mut global: HashMap<String, Span> = HashMap::new();
        for item in items {
            match item {
                ast::Item::Param(p) => {
                    if !self.claim_global(&p.name, &mut global) {
                        continue;
                    }
                    if let Some((entity, span)) = self.attribute_named(&p.name.name) {
                        let entity_name = self.program.entity(entity).name.clone();
                        self.report(
                            Diagnostic::new(
                                Code::E0307,
                                p.name.span,
                                format!(
                                    "the parameter `{}` has the same name as something in `{entity_name}`",
                                    p.name.name
                                ),
                            )
                            .label("this parameter")
                            .secondary(span, "the other one")
                            .help("rename the parameter, for example with a `min_` or `max_` prefix"),
                        );
                        continue;
                    }
                    let id = items::declare_param(self, p);
                    self.params.insert(p.name.name.clone(), id);
                }
                ast::Item::Define(d) => {
                    let Some(entity) = self.entity_of(d.entity.as_ref(), primary) else {
                        continue;
                    };
                    if !self.claim_attr(entity, &d.name, &mut global) {
                        continue;
                    }
                    let id = DefinitionId::from_index(self.program.definitions.len());
                    self.program.definitions.push(DefinitionDef {
                        name: d.name.name.clone(),
                        entity,
                        value: Expr {
                            kind: ExprKind::Error,
                            ty: Type::Error,
                            nullable: false,
                            span: d.value.span,
                        },
                        span: d.name.span,
                    });
                    self.def_asts.push(d);
                    self.def_state.push(DefState::Pending);
                    self.attrs[entity.index()]
                        .insert(d.name.name.clone(), (Attr::Definition(id), d.name.span));
                }
                ast::Item::Segment(s) => {
                    let Some(entity) = self.entity_of(s.entity.as_ref(), primary) else {
                        continue;
                    };
                    if !self.claim_attr(entity, &s.name, &mut global) {
                        continue;
                    }
                    let id = items::declare_segment(self, s, entity);
                    self.segments.insert(s.name.name.clone(), id);
                    self.attrs[entity.index()]
                        .insert(s.name.name.clone(), (Attr::Segment(id), s.name.span));
                }
                ast::Item::Tiers(t) => {
                    let Some(entity) = self.entity_of(t.entity.as_ref(), primary) else {
                        continue;
                    };
                    if !self.claim_attr(entity, &t.name, &mut global) {
                        continue;
                    }
                    let id = items::declare_tiers(self, t, entity);
                    self.tier_sets.insert(t.name.name.clone(), id);
                    self.attrs[entity.index()]
                        .insert(t.name.name.clone(), (Attr::Tier(id), t.name.span));
                }
                ast::Item::Score(s) => {
                    let Some(entity) = self.entity_of(s.entity.as_ref(), primary) else {
                        continue;
                    };
                    if !self.claim_attr(entity, &s.name, &mut global) {
                        continue;
                    }
                    let id = items::declare_score(self, s, entity);
                    self.scores.insert(s.name.name.clone(), id);
                    self.attrs[entity.index()]
                        .insert(s.name.name.clone(), (Attr::Score(id), s.name.span));
                }
                ast::Item::Entity(_) | ast::Item::Test(_) => {}
            }
        }
        self.check_test_names(items);
    }

    fn check_test_names(&mut self, items: &[&'a ast::Item]) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for item in items {
            if let ast::Item::Test(t) = item {
                if let Some(first) = seen.get(t.name.value.as_str()) {
                    self.report(
                        Diagnostic::new(
                            Code::E0307,
                            t.name.span,
                            format!("two tests are called {:?}", t.name.value),
                        )
                        .label("the second test")
                        .secondary(*first, "the first test")
                        .help("give each test its own name, so a failure says which one it was"),
                    );
                } else {
                    seen.insert(t.name.value.as_str(), t.name.span);
                }
            }
        }
    }

    /// A field, relation or rule of any entity with this name.
    fn attribute_named(&self, name: &str) -> Option<(EntityId, Span)> {
        self.attrs.iter().enumerate().find_map(|(i, m)| {
            m.get(name)
                .map(|(_, span)| (EntityId::from_index(i), *span))
        })
    }

    /// Reserves a rule name project-wide; reports a duplicate and returns false when taken.
    fn claim_global(&mut self, name: &ast::Ident, global: &mut HashMap<String, Span>) -> bool {
        if let Some(first) = global.get(&name.name) {
            self.report(
                Diagnostic::new(
                    Code::E0307,
                    name.span,
                    format!("the name `{}` is used twice", name.name),
                )
                .label("used again here")
                .secondary(*first, "first used here")
                .help(
                    "every segment, tier set, score, definition and parameter needs its own name",
                ),
            );
            return false;
        }
        global.insert(name.name.clone(), name.span);
        true
    }

    /// Reserves a rule name on an entity: it must differ from its fields and relations too.
    fn claim_attr(
        &mut self,
        entity: EntityId,
        name: &ast::Ident,
        global: &mut HashMap<String, Span>,
    ) -> bool {
        if let Some((attr, span)) = self.attrs[entity.index()].get(&name.name).copied()
            && matches!(attr, Attr::Field(_) | Attr::Relation(_))
        {
            let what = if matches!(attr, Attr::Field(_)) {
                "field"
            } else {
                "relation"
            };
            let entity_name = self.program.entity(entity).name.clone();
            self.report(
                Diagnostic::new(
                    Code::E0307,
                    name.span,
                    format!("`{}` is already a {what} of `{entity_name}`", name.name),
                )
                .label("this rule has the same name")
                .secondary(span, format!("the {what}"))
                .help("give the rule a name of its own, so every name means one thing"),
            );
            return false;
        }
        self.claim_global(name, global)
    }

    /// Checks a definition (once) and returns its type and optionality.
    fn ensure_definition(&mut self, id: DefinitionId) -> (Type, bool) {
        let i = id.index();
        match self.def_state[i] {
            DefState::Done => {
                let v = &self.program.definitions[i].value;
                (v.ty.clone(), v.nullable)
            }
            // A cycle: reported by the cycle pass, typed as an error here.
            DefState::InProgress => (Type::Error, false),
            DefState::Pending => {
                self.def_state[i] = DefState::InProgress;
                let ast_def = self.def_asts[i];
                let entity = self.program.definitions[i].entity;
                let outer = self.current.replace(cycles::Node::Definition(i));
                let value = self.value(&ast_def.value, entity, None);
                self.current = outer;
                let result = (value.ty.clone(), value.nullable);
                self.program.definitions[i].value = value;
                self.def_state[i] = DefState::Done;
                result
            }
        }
    }

    /// Notes that the rule being checked refers to `to` at `span`.
    fn depends_on(&mut self, to: cycles::Node, span: Span) {
        if let Some(from) = self.current {
            self.edges.push((from, to, span));
        }
    }

    fn new_enum(&mut self, origin: String, values: Vec<String>) -> EnumId {
        self.program.enums.push(EnumDef { origin, values });
        EnumId::from_index(self.program.enums.len() - 1)
    }
}

fn item_name_span(item: &ast::Item) -> Span {
    match item {
        ast::Item::Entity(x) => x.name.span,
        ast::Item::Segment(x) => x.name.span,
        ast::Item::Define(x) => x.name.span,
        ast::Item::Param(x) => x.name.span,
        ast::Item::Tiers(x) => x.name.span,
        ast::Item::Score(x) => x.name.span,
        ast::Item::Test(x) => x.name.span,
    }
}
