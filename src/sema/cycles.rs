//! Rules that depend on themselves: cycles among definitions, segments, tier sets and scores.

use std::collections::HashMap;

use crate::diagnostics::{Code, Diagnostic};
use crate::ir::{Expr, ExprKind, Program};
use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Node {
    Definition(usize),
    Segment(usize),
    Tier(usize),
    Score(usize),
}

fn name(p: &Program, n: Node) -> (&str, Span) {
    match n {
        Node::Definition(i) => (&p.definitions[i].name, p.definitions[i].span),
        Node::Segment(i) => (&p.segments[i].name, p.segments[i].span),
        Node::Tier(i) => (&p.tier_sets[i].name, p.tier_sets[i].span),
        Node::Score(i) => (&p.scores[i].name, p.scores[i].span),
    }
}

/// Every rule a node refers to, with the span of the reference.
fn edges(p: &Program, n: Node) -> Vec<(Node, Span)> {
    let mut out = Vec::new();
    let mut visit = |e: &Expr| collect(e, &mut out);
    match n {
        Node::Definition(i) => visit(&p.definitions[i].value),
        Node::Segment(i) => visit(&p.segments[i].condition),
        Node::Tier(i) => {
            for row in &p.tier_sets[i].rows {
                if let Some(c) = &row.condition {
                    visit(c);
                }
            }
        }
        Node::Score(i) => {
            for rule in &p.scores[i].rules {
                visit(&rule.condition);
            }
        }
    }
    out
}

fn collect(e: &Expr, out: &mut Vec<(Node, Span)>) {
    match &e.kind {
        ExprKind::Definition(id) => out.push((Node::Definition(id.index()), e.span)),
        ExprKind::Segment(id) => out.push((Node::Segment(id.index()), e.span)),
        ExprKind::Tier(id) => out.push((Node::Tier(id.index()), e.span)),
        ExprKind::Score(id) => out.push((Node::Score(id.index()), e.span)),
        _ => {}
    }
    for child in children(e) {
        collect(child, out);
    }
}

/// The direct sub-expressions of an expression.
pub(crate) fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Literal(_)
        | ExprKind::Field(_)
        | ExprKind::Param(_)
        | ExprKind::Definition(_)
        | ExprKind::Segment(_)
        | ExprKind::Tier(_)
        | ExprKind::Score(_)
        | ExprKind::Today
        | ExprKind::Now
        | ExprKind::Error => Vec::new(),
        ExprKind::Lookup { value, .. } => vec![value],
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
        ExprKind::Aggregate { source, value, .. } => {
            let mut v: Vec<&Expr> = Vec::new();
            if let Some(x) = value {
                v.push(x);
            }
            if let Some(f) = &source.filter {
                v.push(f);
            }
            v
        }
        ExprKind::Population { value, within, .. } => {
            let mut v: Vec<&Expr> = vec![value];
            if let Some(w) = within {
                v.push(w);
            }
            v
        }
    }
}

/// Reports each cycle once, at the rule that comes first in the files.
pub fn report(p: &Program, diags: &mut Vec<Diagnostic>) {
    let mut nodes: Vec<Node> = Vec::new();
    nodes.extend((0..p.definitions.len()).map(Node::Definition));
    nodes.extend((0..p.segments.len()).map(Node::Segment));
    nodes.extend((0..p.tier_sets.len()).map(Node::Tier));
    nodes.extend((0..p.scores.len()).map(Node::Score));
    let graph: HashMap<Node, Vec<(Node, Span)>> =
        nodes.iter().map(|n| (*n, edges(p, *n))).collect();

    // Iterative depth-first search with colours; a grey target closes a cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let mut colour: HashMap<Node, Colour> = nodes.iter().map(|n| (*n, Colour::White)).collect();
    let mut in_reported: Vec<Vec<Node>> = Vec::new();
    let mut order = nodes.clone();
    order.sort_by_key(|n| {
        let (_, span) = name(p, *n);
        (span.file, span.start)
    });
    for start in order {
        if colour[&start] != Colour::White {
            continue;
        }
        // Stack of (node, next edge index); `path` mirrors the grey nodes in order.
        let mut stack: Vec<(Node, usize)> = vec![(start, 0)];
        let mut path: Vec<Node> = vec![start];
        colour.insert(start, Colour::Grey);
        while let Some((node, idx)) = stack.last().copied() {
            let out = &graph[&node];
            if idx >= out.len() {
                colour.insert(node, Colour::Black);
                stack.pop();
                path.pop();
                continue;
            }
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            let (next, _) = out[idx];
            match colour[&next] {
                Colour::White => {
                    colour.insert(next, Colour::Grey);
                    stack.push((next, 0));
                    path.push(next);
                }
                Colour::Grey => {
                    let Some(pos) = path.iter().position(|n| *n == next) else {
                        continue;
                    };
                    let cycle: Vec<Node> = path[pos..].to_vec();
                    let mut key = cycle.clone();
                    key.sort();
                    if !in_reported.contains(&key) {
                        in_reported.push(key);
                        diags.push(cycle_diag(p, &cycle, &graph));
                    }
                }
                Colour::Black => {}
            }
        }
    }
}

fn cycle_diag(p: &Program, cycle: &[Node], graph: &HashMap<Node, Vec<(Node, Span)>>) -> Diagnostic {
    let names: Vec<&str> = cycle.iter().map(|n| name(p, *n).0).collect();
    let first = cycle[0];
    let (first_name, first_span) = name(p, first);
    let mut chain: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    chain.push(format!("`{first_name}`"));
    let message = if cycle.len() == 1 {
        format!("`{first_name}` depends on itself")
    } else {
        format!(
            "`{first_name}` depends on itself through {}",
            chain[1..chain.len() - 1].join(", ")
        )
    };
    let mut d = Diagnostic::new(Code::E0308, first_span, message)
        .label("this rule is part of a cycle")
        .note(format!("the cycle: {}", chain.join(" uses ")))
        .help("break the cycle: at least one of these rules must be written without the others");
    for (i, n) in cycle.iter().enumerate() {
        let next = cycle[(i + 1) % cycle.len()];
        if let Some((_, span)) = graph[n].iter().find(|(t, _)| *t == next) {
            let (from, _) = name(p, *n);
            let (to, _) = name(p, next);
            d = d.secondary(*span, format!("`{from}` uses `{to}` here"));
        }
    }
    d
}
