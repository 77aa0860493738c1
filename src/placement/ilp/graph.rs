//! The dependency structure the placement MIP is built on: descendant bitsets, the units two
//! independent ops may share, interchangeable components (for symmetry rows), and the
//! topological order that follows a solution's start times.

use super::super::problem::Instance;
use std::collections::BinaryHeap;

/// Descendant bitsets: `desc[i]` has bit `j` when `j` depends on `i` (transitively).
pub(super) fn descendants(inst: &Instance) -> Vec<Vec<u64>> {
    let n = inst.ops.len();
    let words = n.div_ceil(64);
    let succs = inst.succs();
    let mut desc = vec![vec![0u64; words]; n];
    for i in (0..n).rev() {
        let mut d = vec![0u64; words];
        for &k in &succs[i] {
            let j = inst.edges[k].to;
            d[j / 64] |= 1 << (j % 64);
            for (a, b) in d.iter_mut().zip(&desc[j]) {
                *a |= b;
            }
        }
        desc[i] = d;
    }
    desc
}

pub(super) fn related(desc: &[Vec<u64>], i: usize, j: usize) -> bool {
    desc[i][j / 64] >> (j % 64) & 1 == 1 || desc[j][i / 64] >> (i % 64) & 1 == 1
}

/// Units both ops may use where both take time (zero-length intervals never conflict).
pub(super) fn common_units(inst: &Instance, feas: &[Vec<usize>], i: usize, j: usize) -> Vec<usize> {
    feas[i]
        .iter()
        .copied()
        .filter(|u| feas[j].contains(u))
        .filter(|&u| {
            inst.ops[i].costs[u].as_ref().unwrap().time_s > 0.0
                && inst.ops[j].costs[u].as_ref().unwrap().time_s > 0.0
        })
        .collect()
}

/// Binaries the model of `inst` would have (assignment plus ordering), for size guards.
pub(crate) fn count_binaries(inst: &Instance) -> usize {
    let feas: Vec<Vec<usize>> = inst.ops.iter().map(|o| o.feasible()).collect();
    let desc = descendants(inst);
    let mut b: usize = feas.iter().filter(|f| f.len() > 1).map(Vec::len).sum();
    for i in 0..inst.ops.len() {
        for j in i + 1..inst.ops.len() {
            if !related(&desc, i, j) && !common_units(inst, &feas, i, j).is_empty() {
                b += 1;
            }
        }
    }
    b
}

/// A topological order that follows the solver's start times (Kahn's algorithm taking the ready
/// op with the smallest start first), robust to start times that tie within tolerance.
pub(super) fn order_by_start(inst: &Instance, start: &[f64]) -> Vec<usize> {
    #[derive(PartialEq)]
    struct Key(f64, usize);
    impl Eq for Key {}
    impl PartialOrd for Key {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Key {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            // reversed: BinaryHeap is a max-heap
            o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
        }
    }
    let n = inst.ops.len();
    let succs = inst.succs();
    let mut missing: Vec<usize> = inst.preds().iter().map(Vec::len).collect();
    let mut heap: BinaryHeap<Key> = (0..n)
        .filter(|&i| missing[i] == 0)
        .map(|i| Key(start[i], i))
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Key(_, i)) = heap.pop() {
        order.push(i);
        for &k in &succs[i] {
            let j = inst.edges[k].to;
            missing[j] -= 1;
            if missing[j] == 0 {
                heap.push(Key(start[j], j));
            }
        }
    }
    order
}

/// Classes of interchangeable components: weakly connected components of the op graph that are
/// identical op by op (costs, pins) and edge by edge (relative endpoints, bytes). Swapping two of
/// them maps every schedule to one with the same objective, so their order may be fixed. Each
/// class lists its components (op indices in order).
pub(super) fn identical_components(inst: &Instance) -> Vec<Vec<Vec<usize>>> {
    let n = inst.ops.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while p[r] != r {
            r = p[r];
        }
        let mut y = x;
        while p[y] != r {
            let next = p[y];
            p[y] = r;
            y = next;
        }
        r
    }
    for e in &inst.edges {
        let (a, b) = (find(&mut parent, e.from), find(&mut parent, e.to));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut comps: Vec<Vec<usize>> = Vec::new();
    let mut slot: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        let k = *slot.entry(r).or_insert_with(|| {
            comps.push(Vec::new());
            comps.len() - 1
        });
        comps[k].push(i);
    }
    let key = |c: &[usize]| -> Vec<u64> {
        let pos: std::collections::HashMap<usize, usize> =
            c.iter().enumerate().map(|(k, &i)| (i, k)).collect();
        let mut k = vec![c.len() as u64];
        for &i in c {
            let o = &inst.ops[i];
            k.push(o.pin.map_or(u64::MAX, |p| p as u64));
            for cost in &o.costs {
                match cost {
                    None => k.push(u64::MAX - 1),
                    Some(x) => {
                        k.push(x.time_s.to_bits());
                        k.push(x.energy_j.to_bits());
                        k.extend(x.floor_bytes.iter().map(|b| b.to_bits()));
                    }
                }
            }
        }
        let mut es: Vec<(usize, usize, u64)> = inst
            .edges
            .iter()
            .filter(|e| pos.contains_key(&e.to))
            .map(|e| (pos[&e.from], pos[&e.to], e.bytes.to_bits()))
            .collect();
        es.sort_unstable();
        for (a, b, x) in es {
            k.extend([a as u64, b as u64, x]);
        }
        k
    };
    let mut classes: std::collections::HashMap<Vec<u64>, Vec<Vec<usize>>> =
        std::collections::HashMap::new();
    for c in comps {
        classes.entry(key(&c)).or_default().push(c);
    }
    let mut out: Vec<Vec<Vec<usize>>> = classes.into_values().filter(|v| v.len() > 1).collect();
    out.sort_by_key(|v| v[0][0]);
    out
}
