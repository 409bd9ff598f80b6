//! Rules that depend on themselves: cycles among definitions, segments, tier sets and scores.

use std::collections::HashMap;

use crate::diagnostics::{Code, Diagnostic};
use crate::ir::Program;

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Node {
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

/// Reports each cycle once, at the rule that comes first in the files.
pub(super) fn report(p: &Program, edges: &[(Node, Node, Span)], diags: &mut Vec<Diagnostic>) {
    let mut nodes: Vec<Node> = Vec::new();
    nodes.extend((0..p.definitions.len()).map(Node::Definition));
    nodes.extend((0..p.segments.len()).map(Node::Segment));
    nodes.extend((0..p.tier_sets.len()).map(Node::Tier));
    nodes.extend((0..p.scores.len()).map(Node::Score));
    let mut graph: HashMap<Node, Vec<(Node, Span)>> =
        nodes.iter().map(|n| (*n, Vec::new())).collect();
    for (from, to, span) in edges {
        if let Some(out) = graph.get_mut(from)
            && !out.iter().any(|(t, _)| t == to)
        {
            out.push((*to, *span));
        }
    }

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
