//! Pareto dominance for multi-objective searches: non-dominated sorting and crowding distance
//! (Deb et al., "A fast and elitist multiobjective genetic algorithm: NSGA-II", IEEE TEVC 2002).
//! Every objective is minimised; maximised ones are negated by the caller.

pub use crate::search::dominates;

/// Front rank of every point (0 = non-dominated), by repeated peeling.
pub fn ranks(points: &[Vec<f64>]) -> Vec<usize> {
    let n = points.len();
    let mut dominated_by = vec![0usize; n];
    let mut dominates_list: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in i + 1..n {
            if dominates(&points[i], &points[j]) {
                dominates_list[i].push(j);
                dominated_by[j] += 1;
            } else if dominates(&points[j], &points[i]) {
                dominates_list[j].push(i);
                dominated_by[i] += 1;
            }
        }
    }
    let mut rank = vec![usize::MAX; n];
    let mut front: Vec<usize> = (0..n).filter(|&i| dominated_by[i] == 0).collect();
    let mut r = 0;
    while !front.is_empty() {
        let mut next = Vec::new();
        for &i in &front {
            rank[i] = r;
            for &j in &dominates_list[i] {
                dominated_by[j] -= 1;
                if dominated_by[j] == 0 {
                    next.push(j);
                }
            }
        }
        front = next;
        r += 1;
    }
    rank
}

/// Crowding distance of each point within its own front (∞ at a front's extremes).
#[allow(clippy::needless_range_loop)]
pub fn crowding(points: &[Vec<f64>], rank: &[usize]) -> Vec<f64> {
    let n = points.len();
    let mut dist = vec![0.0f64; n];
    let Some(&max_rank) = rank.iter().max() else {
        return dist;
    };
    for r in 0..=max_rank {
        let front: Vec<usize> = (0..n).filter(|&i| rank[i] == r).collect();
        if front.len() <= 2 {
            for &i in &front {
                dist[i] = f64::INFINITY;
            }
            continue;
        }
        for k in 0..points[front[0]].len() {
            let mut f = front.clone();
            f.sort_by(|&a, &b| points[a][k].total_cmp(&points[b][k]));
            let (lo, hi) = (points[f[0]][k], points[*f.last().unwrap()][k]);
            dist[f[0]] = f64::INFINITY;
            dist[*f.last().unwrap()] = f64::INFINITY;
            if hi > lo {
                for w in 1..f.len() - 1 {
                    dist[f[w]] += (points[f[w + 1]][k] - points[f[w - 1]][k]) / (hi - lo);
                }
            }
        }
    }
    dist
}

/// Indices of the non-dominated points, for large sets: sort by the first objective, then keep
/// a point unless an earlier one dominates it.
pub fn front(points: &[Vec<f64>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        points[a]
            .iter()
            .zip(&points[b])
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut kept: Vec<usize> = Vec::new();
    for i in order {
        if !kept
            .iter()
            .any(|&k| dominates(&points[k], &points[i]) || points[k] == points[i])
        {
            kept.push(i);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_and_front_by_hand() {
        // minimise both: (1,4) (2,2) (4,1) are the front, (3,3) is dominated by (2,2),
        // (5,5) by everything
        let p = vec![
            vec![1.0, 4.0],
            vec![3.0, 3.0],
            vec![2.0, 2.0],
            vec![5.0, 5.0],
            vec![4.0, 1.0],
        ];
        assert_eq!(ranks(&p), vec![0, 1, 0, 2, 0]);
        let mut f = front(&p);
        f.sort();
        assert_eq!(f, vec![0, 2, 4]);
        let c = crowding(&p, &ranks(&p));
        assert!(c[0].is_infinite() && c[4].is_infinite());
        // middle point: (4-1)/(4-1) + (4-1)/(4-1) = 2
        assert_eq!(c[2], 2.0);
        assert!(!dominates(&[1.0, 1.0], &[1.0, 1.0]));
    }
}
