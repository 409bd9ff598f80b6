//! The schema: entities, their fields, keys and relations, checked before any rule is.
//!
//! Input is every `entity` item of the project; output is the entities and enums of the typed
//! program plus diagnostics for malformed schemas (unknown relation targets, missing keys,
//! duplicate fields, ...).

use std::collections::HashMap;

use crate::diagnostics::suggest::{self, Candidate};
use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{
    EntityDef, EntityId, EnumDef, EnumId, FieldDef, FieldId, FieldRef, RelationDef, RelationKind,
    Type,
};
use crate::syntax::ast;

/// The checked schema.
#[derive(Debug, Default)]
pub struct Schema {
    pub entities: Vec<EntityDef>,
    pub enums: Vec<EnumDef>,
    pub by_name: HashMap<String, EntityId>,
}

/// The type names a field can have.
pub const TYPE_NAMES: [&str; 8] = [
    "text",
    "integer",
    "decimal",
    "number",
    "boolean",
    "date",
    "timestamp",
    "duration",
];

/// Type names users often write, mapped to ours, for suggestions.
const TYPE_ALIASES: [(&str, &str); 12] = [
    ("string", "text"),
    ("str", "text"),
    ("varchar", "text"),
    ("int", "integer"),
    ("bigint", "integer"),
    ("float", "number"),
    ("double", "number"),
    ("money", "decimal"),
    ("numeric", "decimal"),
    ("bool", "boolean"),
    ("datetime", "timestamp"),
    ("time", "timestamp"),
];

/// Checks all entity declarations together.
/// `broken` names entities that did not parse; relations to them are not reported.
pub fn check(
    entities: &[&ast::Entity],
    broken: &std::collections::HashSet<String>,
    diags: &mut Vec<Diagnostic>,
) -> Schema {
    let mut schema = Schema::default();
    let mut kept: Vec<&ast::Entity> = Vec::new();
    let mut first_span: HashMap<&str, &ast::Entity> = HashMap::new();
    for e in entities {
        if let Some(first) = first_span.get(e.name.name.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::E0206,
                    e.name.span,
                    format!("the entity `{}` is declared twice", e.name.name),
                )
                .label("declared again here")
                .secondary(first.name.span, "first declared here")
                .help("keep one declaration and move all fields into it, or rename one entity"),
            );
            continue;
        }
        first_span.insert(e.name.name.as_str(), e);
        schema
            .by_name
            .insert(e.name.name.clone(), EntityId::from_index(kept.len()));
        kept.push(e);
    }

    // Fields first, so relations can refer to fields of any entity.
    for e in &kept {
        let def = fields_of(e, &mut schema.enums, diags);
        schema.entities.push(def);
    }
    for (i, e) in kept.iter().enumerate() {
        let relations = relations_of(EntityId::from_index(i), e, &schema, broken, diags);
        schema.entities[i].relations = relations;
    }
    schema
}

fn fields_of(e: &ast::Entity, enums: &mut Vec<EnumDef>, diags: &mut Vec<Diagnostic>) -> EntityDef {
    let mut fields: Vec<FieldDef> = Vec::new();
    let mut seen: HashMap<&str, crate::source::Span> = HashMap::new();
    let mut keys: Vec<(FieldId, &ast::FieldDecl)> = Vec::new();
    for member in &e.members {
        let (name, is_field) = match member {
            ast::Member::Field(f) => (&f.name, true),
            ast::Member::Relation(r) => (&r.name, false),
        };
        if let Some(first) = seen.get(name.name.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::E0203,
                    name.span,
                    format!(
                        "`{}` is declared twice in the entity `{}`",
                        name.name, e.name.name
                    ),
                )
                .label("declared again here")
                .secondary(*first, "first declared here")
                .help("remove one of them, or give one a different name"),
            );
            continue;
        }
        seen.insert(name.name.as_str(), name.span);
        if !is_field {
            continue;
        }
        let ast::Member::Field(f) = member else {
            continue;
        };
        let origin = format!("{}.{}", e.name.name, f.name.name);
        let ty = resolve_type(&f.ty, &origin, enums, diags);
        if f.is_key {
            keys.push((FieldId::from_index(fields.len()), f));
            if let Some(opt) = f.optional {
                diags.push(
                    Diagnostic::new(
                        Code::E0209,
                        opt,
                        format!("the key `{}` cannot be optional", f.name.name),
                    )
                    .label("a key must always be known")
                    .help("remove `optional`: every record needs a key to be told apart")
                    .fix(opt, ""),
                );
            }
            if matches!(ty, Type::List(_)) {
                diags.push(
                    Diagnostic::new(
                        Code::E0209,
                        f.ty.span(),
                        format!("the key `{}` cannot be a list", f.name.name),
                    )
                    .label("a key is one value per record")
                    .help("use a `text` or `integer` key"),
                );
            }
        }
        fields.push(FieldDef {
            name: f.name.name.clone(),
            ty,
            optional: f.optional.is_some() && !f.is_key,
            label: f.label.as_ref().map(|l| l.value.clone()),
            synonyms: f.synonyms.iter().map(|s| s.name.clone()).collect(),
            span: f.name.span,
        });
    }
    let key = match keys.as_slice() {
        [] => {
            diags.push(
                Diagnostic::new(
                    Code::E0201,
                    e.name.span,
                    format!("the entity `{}` has no key", e.name.name),
                )
                .label("no field here is marked `key`")
                .help("mark the field that identifies each record, for example `key id: text`"),
            );
            FieldId(0)
        }
        [(id, _)] => *id,
        [(id, first), rest @ ..] => {
            for (_, other) in rest {
                diags.push(
                    Diagnostic::new(
                        Code::E0202,
                        other.name.span,
                        format!("the entity `{}` has more than one key", e.name.name),
                    )
                    .label("a second key")
                    .secondary(first.name.span, "the first key")
                    .help(format!(
                        "keep `key` on one field only; `{}` can stay an ordinary field",
                        other.name.name
                    )),
                );
            }
            *id
        }
    };
    EntityDef {
        name: e.name.name.clone(),
        key,
        fields,
        relations: Vec::new(),
        span: e.name.span,
    }
}

/// Resolves a written type; enums are added to `enums` with `origin` as their name.
pub fn resolve_type(
    ty: &ast::TypeExpr,
    origin: &str,
    enums: &mut Vec<EnumDef>,
    diags: &mut Vec<Diagnostic>,
) -> Type {
    match ty {
        ast::TypeExpr::Named(name) => match name.name.as_str() {
            "text" => Type::Text,
            "integer" => Type::Integer,
            "decimal" => Type::Decimal,
            "number" => Type::Number,
            "boolean" => Type::Bool,
            "date" => Type::Date,
            "timestamp" => Type::Timestamp,
            "duration" => Type::Duration,
            other => {
                let alias = TYPE_ALIASES
                    .iter()
                    .find(|(a, _)| a.eq_ignore_ascii_case(other))
                    .map(|(_, t)| *t);
                let cands: Vec<Candidate> =
                    TYPE_NAMES.iter().map(|t| Candidate::plain(t)).collect();
                let near = alias.map_or_else(|| suggest::nearest(other, &cands), |a| vec![a]);
                let mut d = Diagnostic::new(
                    Code::E0210,
                    name.span,
                    format!("`{other}` is not a type segl knows"),
                )
                .label("unknown type")
                .note(format!(
                    "the types are {}, `one of A, B, C` and `list of TYPE`",
                    TYPE_NAMES.map(|t| format!("`{t}`")).join(", ")
                ));
                if let Some(help) = suggest::did_you_mean(&near) {
                    d = d.help(help);
                }
                if let [only] = near.as_slice() {
                    d = d.fix(name.span, *only);
                }
                diags.push(d);
                Type::Error
            }
        },
        ast::TypeExpr::Enum { values, .. } => {
            let mut names: Vec<String> = Vec::new();
            let mut first: HashMap<&str, crate::source::Span> = HashMap::new();
            for v in values {
                if let Some(prev) = first.get(v.name.as_str()) {
                    diags.push(
                        Diagnostic::new(
                            Code::E0207,
                            v.span,
                            format!("the value `{}` is listed twice", v.name),
                        )
                        .label("listed again here")
                        .secondary(*prev, "first listed here")
                        .help("remove the second one"),
                    );
                    continue;
                }
                first.insert(v.name.as_str(), v.span);
                names.push(v.name.clone());
            }
            enums.push(EnumDef {
                origin: origin.to_owned(),
                values: names,
            });
            Type::Enum(EnumId::from_index(enums.len() - 1))
        }
        ast::TypeExpr::List { element, .. } => {
            let inner = resolve_type(element, origin, enums, diags);
            if inner == Type::Error {
                Type::Error
            } else {
                Type::List(Box::new(inner))
            }
        }
    }
}

fn field_candidates(e: &EntityDef) -> Vec<Candidate<'_>> {
    e.fields
        .iter()
        .map(|f| Candidate {
            name: &f.name,
            aliases: f.synonyms.iter().map(String::as_str).collect(),
        })
        .collect()
}

fn find_field(e: &EntityDef, name: &str) -> Option<FieldId> {
    e.fields
        .iter()
        .position(|f| f.name == name)
        .map(FieldId::from_index)
}

fn unknown_field(entity: &EntityDef, name: &ast::Ident, what: &str, diags: &mut Vec<Diagnostic>) {
    let cands = field_candidates(entity);
    let near = suggest::nearest(&name.name, &cands);
    let mut d = Diagnostic::new(
        Code::E0204,
        name.span,
        format!("the entity `{}` has no field `{}`", entity.name, name.name),
    )
    .label(what.to_owned());
    if let Some(help) = suggest::did_you_mean(&near) {
        d = d.help(help);
    }
    if let [only] = near.as_slice() {
        d = d.fix(name.span, *only);
    }
    diags.push(d);
}

fn relations_of(
    this: EntityId,
    e: &ast::Entity,
    schema: &Schema,
    broken: &std::collections::HashSet<String>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<RelationDef> {
    let mut out = Vec::new();
    let mut seen: HashMap<&str, ()> = HashMap::new();
    for member in &e.members {
        let ast::Member::Relation(r) = member else {
            if let ast::Member::Field(f) = member {
                seen.insert(f.name.name.as_str(), ());
            }
            continue;
        };
        if seen.insert(r.name.name.as_str(), ()).is_some() {
            // Reported as a duplicate already.
            continue;
        }
        let Some(&target) = schema.by_name.get(&r.target.name) else {
            if broken.contains(&r.target.name) {
                continue;
            }
            let cands: Vec<Candidate> = schema
                .entities
                .iter()
                .map(|e| Candidate::plain(&e.name))
                .collect();
            let near = suggest::nearest(&r.target.name, &cands);
            let mut d = Diagnostic::new(
                Code::E0200,
                r.target.span,
                format!(
                    "the relation `{}` points to `{}`, but no entity has that name",
                    r.name.name, r.target.name
                ),
            )
            .label("unknown entity");
            d = match suggest::did_you_mean(&near) {
                Some(help) => d.help(help),
                None => d.help(format!(
                    "declare `entity {} {{ ... }}` or point the relation at one of: {}",
                    r.target.name,
                    schema
                        .entities
                        .iter()
                        .map(|e| format!("`{}`", e.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            if let [only] = near.as_slice() {
                d = d.fix(r.target.span, *only);
            }
            diags.push(d);
            continue;
        };
        let this_def = &schema.entities[this.index()];
        let target_def = &schema.entities[target.index()];
        let kind = match r.kind {
            ast::RelationKind::Many => RelationKind::Many,
            ast::RelationKind::One => RelationKind::One,
        };
        // Many: the target's field holds our key. One: our field holds the target's key.
        let (holder, holder_id, keyed) = match kind {
            RelationKind::Many => (target_def, target, this_def),
            RelationKind::One => (this_def, this, target_def),
        };
        let Some(via) = find_field(holder, &r.by.name) else {
            let what = match kind {
                RelationKind::Many => format!(
                    "`{}` records need a field holding the `{}` key",
                    target_def.name, this_def.name
                ),
                RelationKind::One => format!(
                    "this entity needs a field holding the `{}` key",
                    target_def.name
                ),
            };
            unknown_field(holder, &r.by, &what, diags);
            continue;
        };
        let via_ty = &holder.fields[via.index()].ty;
        let key_ty = keyed.fields.get(keyed.key.index()).map(|f| &f.ty);
        if let Some(key_ty) = key_ty
            && *via_ty != Type::Error
            && *key_ty != Type::Error
            && via_ty != key_ty
        {
            diags.push(
                Diagnostic::new(
                    Code::E0211,
                    r.by.span,
                    format!(
                        "`{}.{}` cannot link to `{}`: their types differ",
                        holder.name, r.by.name, keyed.name
                    ),
                )
                .label(format!("this field is {}", simple_type(via_ty)))
                .secondary(
                    keyed.fields[keyed.key.index()].span,
                    format!("the key of `{}` is {}", keyed.name, simple_type(key_ty)),
                )
                .help("declare both fields with the same type"),
            );
        }
        let mut dated_by = None;
        if let Some(d) = &r.dated_by {
            if kind == RelationKind::One {
                diags.push(
                    Diagnostic::new(
                        Code::E0205,
                        d.span,
                        "`dated by` only fits a `many` relation".to_owned(),
                    )
                    .label("this relation leads to a single record")
                    .help("remove `dated by`; time windows apply to lists of related records"),
                );
            } else if let Some(f) = find_field(target_def, &d.name) {
                let fty = &target_def.fields[f.index()].ty;
                if fty.is_temporal() || *fty == Type::Error {
                    dated_by = Some(FieldRef {
                        entity: target,
                        field: f,
                    });
                } else {
                    diags.push(
                        Diagnostic::new(
                            Code::E0205,
                            d.span,
                            format!(
                                "`{}.{}` is {}, but `dated by` needs a date or timestamp",
                                target_def.name,
                                d.name,
                                simple_type(fty)
                            ),
                        )
                        .label("not a date")
                        .help("name the field that says when each record happened"),
                    );
                }
            } else {
                unknown_field(target_def, d, "no such field to date the records by", diags);
            }
        }
        out.push(RelationDef {
            name: r.name.name.clone(),
            kind,
            target,
            via: FieldRef {
                entity: holder_id,
                field: via,
            },
            dated_by,
            label: r.label.as_ref().map(|l| l.value.clone()),
            synonyms: r.synonyms.iter().map(|s| s.name.clone()).collect(),
            span: r.name.span,
        });
    }
    out
}

fn simple_type(ty: &Type) -> &'static str {
    match ty {
        Type::Bool => "a yes/no value",
        Type::Integer => "a whole number",
        Type::Decimal => "a decimal number",
        Type::Number => "a number",
        Type::Text => "a text",
        Type::Date => "a date",
        Type::Timestamp => "a date and time",
        Type::Duration => "a duration",
        Type::Percent => "a percentage",
        Type::Enum(_) => "a choice of values",
        Type::List(_) => "a list",
        Type::Error => "unknown",
    }
}
