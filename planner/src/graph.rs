//! A dependency graph over any node type, with cycle reporting that names every
//! member of the cycle.

use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;

use hashbrown::HashMap;
use hashbrown::hash_map::Entry;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dependency cycle between {}", members.join(", "))]
pub struct CycleError {
    /// The nodes of one cycle, in a stable order.
    pub members: Vec<String>,
}

/// Edges point from a node to what it depends on.
pub struct DependencyGraph<N> {
    graph: DiGraph<N, ()>,
    index: HashMap<N, NodeIndex>,
}

impl<N: Clone + Eq + Hash + fmt::Display> Default for DependencyGraph<N> {
    fn default() -> Self {
        DependencyGraph {
            graph: DiGraph::new(),
            index: HashMap::new(),
        }
    }
}

impl<N: Clone + Eq + Hash + fmt::Display> DependencyGraph<N> {
    pub fn new() -> Self {
        Self::default()
    }

    /// A graph with room for `nodes` nodes, so a large stack's graph is not
    /// rehashed (every key read again) as it grows.
    pub fn with_capacity(nodes: usize) -> Self {
        DependencyGraph {
            graph: DiGraph::with_capacity(nodes, nodes),
            index: HashMap::with_capacity(nodes),
        }
    }

    /// Adds `node` if it is new. Returns its index: nodes are numbered
    /// 0, 1, 2... in the order they were first added.
    pub fn add_node(&mut self, node: N) -> usize {
        // One probe of the index: in a large stack each is a cache miss.
        match self.index.entry(node) {
            Entry::Occupied(found) => found.get().index(),
            Entry::Vacant(new) => {
                let ix = self.graph.add_node(new.key().clone());
                new.insert(ix).index()
            }
        }
    }

    /// `node` depends on `dependency`.
    pub fn add_dependency(&mut self, node: &N, dependency: &N) {
        let a = self.index_of(node);
        let b = self.index_of(dependency);
        self.add_dependency_at(a, b);
    }

    /// The node at index `node` depends on the one at `dependency`; both
    /// indices come from [`add_node`](Self::add_node).
    pub fn add_dependency_at(&mut self, node: usize, dependency: usize) {
        self.graph
            .update_edge(NodeIndex::new(node), NodeIndex::new(dependency), ());
    }

    /// A node's index, adding it if it is new. Copies the node only then: a
    /// stack's edges are mostly between nodes already added, and a copy of
    /// each end was two allocations per edge.
    fn index_of(&mut self, node: &N) -> usize {
        match self.position(node) {
            Some(ix) => ix,
            None => self.add_node(node.clone()),
        }
    }

    /// The index of `node`, if it is in the graph. Takes what `N` borrows
    /// as (a `&str` for `String` nodes), so a lookup copies nothing.
    pub fn position<Q>(&self, node: &Q) -> Option<usize>
    where
        N: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.index.get(node).map(|ix| ix.index())
    }

    /// The node at index `ix`.
    ///
    /// # Panics
    /// If no node has that index: indices come only from this graph.
    pub fn node_at(&self, ix: usize) -> &N {
        &self.graph[NodeIndex::new(ix)]
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// What `node` depends on directly.
    pub fn dependencies<Q>(&self, node: &Q) -> Vec<&N>
    where
        N: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.position(node)
            .map(|ix| self.dependencies_at(ix).map(|d| self.node_at(d)).collect())
            .unwrap_or_default()
    }

    /// The indices of what the node at index `ix` depends on directly.
    pub fn dependencies_at(&self, ix: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph.neighbors(NodeIndex::new(ix)).map(|d| d.index())
    }

    /// Nodes ordered so that every node comes after its dependencies. Ties keep
    /// insertion order, so output is deterministic.
    pub fn order(&self) -> Result<Vec<N>, CycleError> {
        Ok(self
            .order_indices()?
            .into_iter()
            .map(|ix| self.node_at(ix).clone())
            .collect())
    }

    /// [`order`](Self::order) as node indices.
    pub fn order_indices(&self) -> Result<Vec<usize>, CycleError> {
        if let Some(members) = self.first_cycle() {
            return Err(CycleError { members });
        }
        // Kahn's algorithm on the reversed edges, by insertion index.
        let n = self.graph.node_count();
        let mut pending: Vec<usize> = vec![0; n];
        let mut dependents: Vec<Vec<NodeIndex>> = vec![Vec::new(); n];
        for edge in self.graph.raw_edges() {
            pending[edge.source().index()] += 1;
            dependents[edge.target().index()].push(edge.source());
        }
        let mut ready: std::collections::BTreeSet<usize> =
            (0..n).filter(|&i| pending[i] == 0).collect();
        let mut out = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            out.push(i);
            for d in &dependents[i] {
                pending[d.index()] -= 1;
                if pending[d.index()] == 0 {
                    ready.insert(d.index());
                }
            }
        }
        Ok(out)
    }

    fn first_cycle(&self) -> Option<Vec<String>> {
        for scc in tarjan_scc(&self.graph) {
            let is_cycle = scc.len() > 1
                || scc
                    .first()
                    .is_some_and(|&ix| self.graph.contains_edge(ix, ix));
            if is_cycle {
                let mut members: Vec<String> =
                    scc.iter().map(|&ix| self.graph[ix].to_string()).collect();
                members.sort();
                return Some(members);
            }
        }
        None
    }

    /// Graphviz DOT, edges from dependent to dependency as `terraform graph` draws them.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph {\n  compound = \"true\"\n  newrank = \"true\"\n");
        let mut names: Vec<String> = self.graph.node_weights().map(|n| n.to_string()).collect();
        names.sort();
        for name in &names {
            out.push_str(&format!("  {name:?}\n"));
        }
        let mut edges: Vec<(String, String)> = self
            .graph
            .raw_edges()
            .iter()
            .map(|e| {
                (
                    self.graph[e.source()].to_string(),
                    self.graph[e.target()].to_string(),
                )
            })
            .collect();
        edges.sort();
        for (a, b) in edges {
            out.push_str(&format!("  {a:?} -> {b:?}\n"));
        }
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_dependencies_first() {
        let mut g = DependencyGraph::new();
        g.add_dependency(&"c", &"b");
        g.add_dependency(&"b", &"a");
        g.add_node("d");
        let order = g.order().unwrap();
        let pos = |x| order.iter().position(|n| *n == x).unwrap();
        assert!(pos("a") < pos("b") && pos("b") < pos("c"));
        assert_eq!(order.len(), 4);
    }

    #[test]
    fn indices_number_nodes_in_the_order_they_were_added() {
        let mut g = DependencyGraph::with_capacity(3);
        assert_eq!(g.add_node("a"), 0);
        assert_eq!(g.add_node("b"), 1);
        assert_eq!(g.add_node("a"), 0, "adding a node again keeps its index");
        g.add_dependency_at(1, 0);
        g.add_dependency(&"c", &"b");
        assert_eq!(g.position(&"c"), Some(2));
        assert_eq!(g.node_at(2), &"c");
        assert_eq!(g.dependencies_at(2).collect::<Vec<_>>(), vec![1]);
        assert_eq!(g.dependencies(&"b"), vec![&"a"]);
        assert_eq!(g.order_indices().unwrap(), vec![0, 1, 2]);
        assert_eq!(
            g.dependencies_at(7).count(),
            0,
            "an unknown index has no dependencies"
        );
    }

    #[test]
    fn names_every_member_of_a_cycle() {
        let mut g = DependencyGraph::new();
        g.add_dependency(&"a", &"b");
        g.add_dependency(&"b", &"c");
        g.add_dependency(&"c", &"a");
        g.add_dependency(&"d", &"a");
        let err = g.order().unwrap_err();
        assert_eq!(err.members, vec!["a", "b", "c"]);
        let mut self_loop = DependencyGraph::new();
        self_loop.add_dependency(&"x", &"x");
        assert_eq!(self_loop.order().unwrap_err().members, vec!["x"]);
    }
}
