//! Design-space search: what to try, never how it performs.
//!
//! A [`Space`] is a list of named axes (deployment knobs such as quantization, units, batch,
//! prompt and context length, and hardware what-if fields), each with a finite list of values.
//! A point is one value per axis, identified by its mixed-radix index ([`Point::id`]) in the full
//! cartesian product, so ids are stable across runs, samples and shards. A [`Strategy`] proposes
//! points (`ask`) and hears back their objective vectors (`tell`); an evaluator elsewhere prices
//! them. The search side never sees a device: as in ZigZag and Timeloop, the explorer and the
//! cost model are separate roles that only exchange points and numbers.
//!
//! Strategies here: [`Grid`] (every valid point) and [`RandomSample`] (a seeded sample without
//! replacement). [`Sharded`] keeps every N-th proposal of any strategy, so N machines can split a
//! run and [`crate::explore`] can merge their parts.

pub mod pareto;
pub mod sweep;

pub use pareto::{Direction, dominates, pareto_front};
pub use sweep::{Sweep, SweepError, SweepScale};

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The values of one axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "type", content = "values")]
pub enum Values {
    /// Names (quantization schemes, unit names).
    Names(Vec<String>),
    /// Whole numbers (batch, token counts).
    Ints(Vec<u64>),
    /// Real numbers (hardware fields).
    Reals(Vec<f64>),
}

impl Values {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Values::Names(v) => v.len(),
            Values::Ints(v) => v.len(),
            Values::Reals(v) => v.len(),
        }
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` as text, for tables and labels.
    pub fn text(&self, i: usize) -> String {
        match self {
            Values::Names(v) => v[i].clone(),
            Values::Ints(v) => v[i].to_string(),
            Values::Reals(v) => format!("{:e}", v[i]),
        }
    }

    /// Value `i` as a number (`None` for names).
    pub fn number(&self, i: usize) -> Option<f64> {
        match self {
            Values::Names(_) => None,
            Values::Ints(v) => Some(v[i] as f64),
            Values::Reals(v) => Some(v[i]),
        }
    }
}

/// Whether an axis is a deployment choice, a workload condition, or a hardware what-if field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AxisKind {
    /// A deployment choice: how the workload is run (quantization, units, batch).
    Knob,
    /// A condition the deployment must serve (prompt and context length): not chosen, so
    /// fronts are usually compared within one condition.
    Condition,
    /// A numeric field of the hardware file, named by its validator path.
    Hardware,
}

/// One axis of a design space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// Column name: `quant`, `decode_unit`, `context_tokens`, or a hardware path such as
    /// `memory[dram].bytes_per_s`.
    pub name: String,
    /// Knob or hardware.
    pub kind: AxisKind,
    /// The values, in the order given.
    pub values: Values,
    /// Values were spaced logarithmically (a hint for plots).
    #[serde(default)]
    pub log: bool,
}

/// Errors building a space or a strategy.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SpaceError {
    /// An axis has no values.
    #[error("axis `{0}` has no values")]
    EmptyAxis(String),
    /// Two axes share a name.
    #[error("axis `{0}` appears twice")]
    DuplicateAxis(String),
    /// Hardware axes must come first (they are the most significant digits of a point id).
    #[error("hardware axis `{0}` comes after a knob axis; hardware axes must come first")]
    HardwareAfterKnob(String),
    /// A constraint names an axis that is not a list of whole numbers.
    #[error("constraint `{0} <= {1}` needs two knob or condition axes of whole numbers")]
    BadConstraint(String, String),
    /// The product of axis sizes does not fit 64 bits, or exceeds what a grid may enumerate.
    #[error(
        "the design space has {0} points, more than the {1} a run may enumerate; narrow the axes or use --samples"
    )]
    TooLarge(String, u64),
    /// No point satisfies the constraints.
    #[error("no valid point: {0}")]
    Empty(String),
    /// A malformed `--shard`.
    #[error("bad shard `{0}`: expected I/N with 0 <= I < N <= {max}, e.g. 0/4", max = MAX_SHARDS)]
    BadShard(String),
}

/// Most points a run may enumerate (grid, or sample size). `explore` streams its points (it
/// holds the fronts, one chunk and the writers' buffers: 0.68 GB of peak RSS at 10M points of
/// a bandwidth sweep, against 2.1 GB at 1M when every point was held, about 2 KB a point), so
/// memory no longer sets this limit for a grid. What it bounds is the output and the time:
/// `points.csv` takes about 530 bytes a point of an LLM sweep (10.6 GB at this limit, and a
/// spill file of about as much while the report is written), and a `--samples` run keeps the ids
/// it drew (8 bytes each, and a hash set of them while drawing: about 0.5 GB at this limit).
pub const MAX_POINTS: u64 = 20_000_000;

/// A design space: axes, hardware axes first, and `a <= b` constraints between whole-number knob
/// or condition axes (e.g. a decode context is at least the prompt).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Space {
    /// The axes, most significant first.
    pub axes: Vec<Axis>,
    /// Pairs of axis indices `(a, b)` with the constraint `value(a) <= value(b)`.
    pub le: Vec<(usize, usize)>,
}

/// A point: its id and its value index on each axis.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Point {
    /// Mixed-radix index in the full cartesian product of the axes (stable across runs).
    pub id: u64,
    /// Value index on each axis.
    pub digits: Box<[u32]>,
}

impl Space {
    /// A space from axes (hardware axes first) and `le` constraints given by axis names.
    pub fn new(axes: Vec<Axis>, le: &[(&str, &str)]) -> Result<Space, SpaceError> {
        let mut seen = HashSet::new();
        let mut knob_seen = false;
        for a in &axes {
            if a.values.is_empty() {
                return Err(SpaceError::EmptyAxis(a.name.clone()));
            }
            if !seen.insert(a.name.clone()) {
                return Err(SpaceError::DuplicateAxis(a.name.clone()));
            }
            match a.kind {
                AxisKind::Knob | AxisKind::Condition => knob_seen = true,
                AxisKind::Hardware if knob_seen => {
                    return Err(SpaceError::HardwareAfterKnob(a.name.clone()));
                }
                AxisKind::Hardware => {}
            }
        }
        let mut pairs = Vec::new();
        for &(x, y) in le {
            let find = |n: &str| {
                axes.iter().position(|a| {
                    a.name == n
                        && a.kind != AxisKind::Hardware
                        && matches!(a.values, Values::Ints(_))
                })
            };
            match (find(x), find(y)) {
                (Some(i), Some(j)) => pairs.push((i, j)),
                _ => return Err(SpaceError::BadConstraint(x.into(), y.into())),
            }
        }
        let s = Space { axes, le: pairs };
        s.total()?;
        Ok(s)
    }

    /// Index of the axis named `name`.
    pub fn axis(&self, name: &str) -> Option<usize> {
        self.axes.iter().position(|a| a.name == name)
    }

    /// Number of leading hardware axes.
    pub fn hardware_axes(&self) -> usize {
        self.axes
            .iter()
            .take_while(|a| a.kind == AxisKind::Hardware)
            .count()
    }

    fn product(&self, range: std::ops::Range<usize>) -> Result<u64, SpaceError> {
        let mut p: u64 = 1;
        for a in &self.axes[range] {
            p = p
                .checked_mul(a.values.len() as u64)
                .ok_or_else(|| SpaceError::TooLarge("more than 2^64".into(), MAX_POINTS))?;
        }
        Ok(p)
    }

    /// Points in the full product (constraints not applied).
    pub fn total(&self) -> Result<u64, SpaceError> {
        self.product(0..self.axes.len())
    }

    /// Number of distinct hardware variants (product of the hardware axes).
    pub fn hardware_combos(&self) -> u64 {
        self.product(0..self.hardware_axes()).unwrap_or(u64::MAX)
    }

    /// Size of the knob part of the product.
    fn knob_total(&self) -> u64 {
        self.product(self.hardware_axes()..self.axes.len())
            .unwrap_or(u64::MAX)
    }

    /// The digits of point `id`.
    pub fn decode(&self, mut id: u64) -> Box<[u32]> {
        let mut d = vec![0u32; self.axes.len()];
        for (i, a) in self.axes.iter().enumerate().rev() {
            let n = a.values.len() as u64;
            d[i] = (id % n) as u32;
            id /= n;
        }
        d.into_boxed_slice()
    }

    /// The id of a point with these digits.
    pub fn encode(&self, digits: &[u32]) -> u64 {
        self.axes
            .iter()
            .zip(digits)
            .fold(0u64, |acc, (a, &d)| acc * a.values.len() as u64 + d as u64)
    }

    /// The point with id `id`.
    pub fn point(&self, id: u64) -> Point {
        Point {
            id,
            digits: self.decode(id),
        }
    }

    /// True when the point satisfies every `le` constraint.
    pub fn is_valid(&self, digits: &[u32]) -> bool {
        self.le.iter().all(|&(a, b)| {
            let (x, y) = (&self.axes[a].values, &self.axes[b].values);
            x.number(digits[a] as usize) <= y.number(digits[b] as usize)
        })
    }

    /// Knob-part indices (the low digits of an id) that satisfy the constraints, ascending.
    fn valid_knobs(&self) -> Result<Vec<u64>, SpaceError> {
        let k = self.knob_total();
        if k > MAX_POINTS {
            return Err(SpaceError::TooLarge(k.to_string(), MAX_POINTS));
        }
        let mut out = Vec::new();
        for i in 0..k {
            // Hardware digits are 0 for i < knob_total, and constraints involve knobs only.
            let d = self.decode(i);
            if self.is_valid(&d) {
                out.push(i);
            }
        }
        if out.is_empty() {
            let why: Vec<String> = self
                .le
                .iter()
                .map(|&(a, b)| format!("{} <= {}", self.axes[a].name, self.axes[b].name))
                .collect();
            return Err(SpaceError::Empty(format!(
                "no combination of knobs satisfies {}",
                why.join(" and ")
            )));
        }
        Ok(out)
    }

    /// Value of axis `axis` at point `p`, as text.
    pub fn text(&self, p: &Point, axis: usize) -> String {
        self.axes[axis].values.text(p.digits[axis] as usize)
    }
}

/// A search strategy: proposes points and hears how they scored.
pub trait Strategy {
    /// Up to `max` new points; an empty vector means the search is over.
    fn ask(&mut self, max: usize) -> Vec<Point>;
    /// Results of points previously asked: their objective vectors (to minimise), `None` where
    /// a point was infeasible. Exhaustive and sampling strategies ignore them; adaptive ones
    /// (evolutionary, Bayesian) would steer by them.
    fn tell(&mut self, results: &[(Point, Option<Vec<f64>>)]);
    /// How many points the strategy will propose in all, when known.
    fn planned(&self) -> Option<u64>;
}

impl<S: Strategy + ?Sized> Strategy for Box<S> {
    fn ask(&mut self, max: usize) -> Vec<Point> {
        (**self).ask(max)
    }
    fn tell(&mut self, results: &[(Point, Option<Vec<f64>>)]) {
        (**self).tell(results)
    }
    fn planned(&self) -> Option<u64> {
        (**self).planned()
    }
}

/// Every valid point, hardware variant by hardware variant, in id order.
#[derive(Clone, Debug)]
pub struct Grid {
    space: Space,
    knobs: Vec<u64>,
    knob_total: u64,
    hw: u64,
    next: u64,
}

impl Grid {
    /// A grid over `space`.
    pub fn new(space: &Space) -> Result<Grid, SpaceError> {
        let knobs = space.valid_knobs()?;
        let hw = space.hardware_combos();
        let n = (knobs.len() as u64).saturating_mul(hw);
        if n > MAX_POINTS {
            return Err(SpaceError::TooLarge(n.to_string(), MAX_POINTS));
        }
        Ok(Grid {
            space: space.clone(),
            knob_total: space.knob_total(),
            knobs,
            hw,
            next: 0,
        })
    }

    fn len(&self) -> u64 {
        self.knobs.len() as u64 * self.hw
    }
}

impl Strategy for Grid {
    fn ask(&mut self, max: usize) -> Vec<Point> {
        let end = (self.next + max as u64).min(self.len());
        let per = self.knobs.len() as u64;
        let out = (self.next..end)
            .map(|p| {
                self.space
                    .point((p / per) * self.knob_total + self.knobs[(p % per) as usize])
            })
            .collect();
        self.next = end;
        out
    }
    fn tell(&mut self, _: &[(Point, Option<Vec<f64>>)]) {}
    fn planned(&self) -> Option<u64> {
        Some(self.len())
    }
}

/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014): a small, well-mixed, seedable generator, so sampled runs repeat exactly.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..=n` (Lemire's multiply-shift; the bias is below 2^-32 for n < 2^32 and
    /// irrelevant for sampling design points).
    pub fn below_or_eq(&mut self, n: u64) -> u64 {
        if n == u64::MAX {
            return self.next_u64();
        }
        ((self.next_u64() as u128 * (n as u128 + 1)) >> 64) as u64
    }
}

/// `n` distinct valid points drawn uniformly with a seed (Floyd's sampling without
/// replacement), proposed in id order. When `n` is at least the number of valid points, it is
/// the grid.
#[derive(Clone, Debug)]
pub struct RandomSample {
    ids: Vec<u64>,
    space: Space,
    next: usize,
}

impl RandomSample {
    /// A sample of `n` points of `space` drawn with `seed`.
    pub fn new(space: &Space, n: u64, seed: u64) -> Result<RandomSample, SpaceError> {
        if n > MAX_POINTS {
            return Err(SpaceError::TooLarge(n.to_string(), MAX_POINTS));
        }
        let knobs = space.valid_knobs()?;
        let per = knobs.len() as u64;
        let total = per.saturating_mul(space.hardware_combos());
        let kt = space.knob_total();
        let to_id = |p: u64| (p / per) * kt + knobs[(p % per) as usize];
        let mut ids: Vec<u64> = if n >= total {
            (0..total).map(to_id).collect()
        } else {
            let mut rng = SplitMix64::new(seed);
            let mut chosen: HashSet<u64> = HashSet::with_capacity(n as usize);
            for j in total - n..total {
                let t = rng.below_or_eq(j);
                if !chosen.insert(t) {
                    chosen.insert(j);
                }
            }
            chosen.into_iter().map(to_id).collect()
        };
        ids.sort_unstable();
        Ok(RandomSample {
            ids,
            space: space.clone(),
            next: 0,
        })
    }
}

impl Strategy for RandomSample {
    fn ask(&mut self, max: usize) -> Vec<Point> {
        let end = (self.next + max).min(self.ids.len());
        let out = self.ids[self.next..end]
            .iter()
            .map(|&id| self.space.point(id))
            .collect();
        self.next = end;
        out
    }
    fn tell(&mut self, _: &[(Point, Option<Vec<f64>>)]) {}
    fn planned(&self) -> Option<u64> {
        Some(self.ids.len() as u64)
    }
}

/// Most shards a run may be split into: each shard is a process of its own, and cluster job
/// arrays stop far below this (Slurm's default `MaxArraySize` is 1,001); 65,536 keeps the
/// per-shard bookkeeping of `merge` to a few hundred kB whatever a part's metadata says.
pub const MAX_SHARDS: u32 = 1 << 16;

/// Shard `index` of `count`: which slice of a run this process evaluates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 0-based shard index.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// The whole run.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N`.
    pub fn parse(s: &str) -> Result<Shard, SpaceError> {
        let bad = || SpaceError::BadShard(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        Shard { index, count }.check().map_err(|_| bad())
    }

    /// Checks `0 ≤ index < count ≤` [`MAX_SHARDS`]; the error says what is wrong.
    pub fn check(self) -> Result<Shard, String> {
        let Shard { index, count } = self;
        if count == 0 || count > MAX_SHARDS {
            return Err(format!(
                "shard count {count}: expected 1 to {MAX_SHARDS} shards"
            ));
        }
        if index >= count {
            return Err(format!(
                "shard index {index} of {count}: expected an index from 0 to {}",
                count - 1
            ));
        }
        Ok(self)
    }

    /// Proposals this shard keeps out of `planned`.
    pub fn share(&self, planned: u64) -> u64 {
        let (i, n) = (self.index as u64, self.count as u64);
        planned / n + u64::from(planned % n > i)
    }
}

/// Keeps proposal number `k` of the inner strategy when `k mod count == index` (round robin, so
/// every shard gets a similar mix of hardware variants and knobs).
pub struct Sharded<S> {
    inner: S,
    shard: Shard,
    seen: u64,
    done: bool,
}

impl<S: Strategy> Sharded<S> {
    /// Shard `shard` of `inner`.
    pub fn new(inner: S, shard: Shard) -> Self {
        Sharded {
            inner,
            shard,
            seen: 0,
            done: false,
        }
    }
}

impl<S: Strategy> Strategy for Sharded<S> {
    fn ask(&mut self, max: usize) -> Vec<Point> {
        let n = self.shard.count as u64;
        let mut out = Vec::with_capacity(max);
        while out.len() < max && !self.done {
            let want = ((max - out.len()) as u64).saturating_mul(n).min(1 << 20) as usize;
            let got = self.inner.ask(want.max(1));
            if got.is_empty() {
                self.done = true;
                break;
            }
            for p in got {
                if self.seen % n == self.shard.index as u64 {
                    out.push(p);
                }
                self.seen += 1;
            }
        }
        out
    }
    fn tell(&mut self, results: &[(Point, Option<Vec<f64>>)]) {
        self.inner.tell(results);
    }
    fn planned(&self) -> Option<u64> {
        self.inner.planned().map(|p| self.shard.share(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> Space {
        Space::new(
            vec![
                Axis {
                    name: "bw".into(),
                    kind: AxisKind::Hardware,
                    values: Values::Reals(vec![1.0, 2.0]),
                    log: false,
                },
                Axis {
                    name: "quant".into(),
                    kind: AxisKind::Knob,
                    values: Values::Names(vec!["a".into(), "b".into(), "c".into()]),
                    log: false,
                },
                Axis {
                    name: "prompt".into(),
                    kind: AxisKind::Knob,
                    values: Values::Ints(vec![128, 512]),
                    log: false,
                },
                Axis {
                    name: "context".into(),
                    kind: AxisKind::Knob,
                    values: Values::Ints(vec![256, 1024]),
                    log: false,
                },
            ],
            &[("prompt", "context")],
        )
        .unwrap()
    }

    #[test]
    fn ids_round_trip_and_are_mixed_radix() {
        let s = space();
        assert_eq!(s.total().unwrap(), 24);
        // bw=1 (digit 1), quant=c (2), prompt=512 (1), context=1024 (1): ((1*3+2)*2+1)*2+1 = 23
        assert_eq!(s.encode(&[1, 2, 1, 1]), 23);
        for id in 0..24 {
            assert_eq!(s.encode(&s.decode(id)), id);
        }
    }

    #[test]
    fn grid_skips_invalid_points_in_id_order() {
        let s = space();
        let mut g = Grid::new(&s).unwrap();
        // prompt 512 with context 256 is invalid: 3 of 4 (prompt, context) pairs, ×3 quants ×2 bw.
        assert_eq!(g.planned(), Some(18));
        let pts = g.ask(100);
        assert_eq!(pts.len(), 18);
        assert!(pts.windows(2).all(|w| w[0].id < w[1].id));
        assert!(pts.iter().all(|p| s.is_valid(&p.digits)));
        assert!(g.ask(10).is_empty());
    }

    #[test]
    fn samples_are_distinct_valid_and_seeded() {
        let s = space();
        let a: Vec<u64> = RandomSample::new(&s, 7, 42)
            .unwrap()
            .ask(100)
            .iter()
            .map(|p| p.id)
            .collect();
        let b: Vec<u64> = RandomSample::new(&s, 7, 42)
            .unwrap()
            .ask(100)
            .iter()
            .map(|p| p.id)
            .collect();
        let c: Vec<u64> = RandomSample::new(&s, 7, 43)
            .unwrap()
            .ask(100)
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 7);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert!(a.iter().all(|&id| s.is_valid(&s.decode(id))));
        // Asking for more than exists gives the grid.
        let all = RandomSample::new(&s, 1000, 1).unwrap().ask(1000);
        assert_eq!(all, Grid::new(&s).unwrap().ask(1000));
    }

    #[test]
    fn shards_partition_the_run() {
        let s = space();
        let whole: Vec<u64> = Grid::new(&s)
            .unwrap()
            .ask(100)
            .iter()
            .map(|p| p.id)
            .collect();
        let mut parts = Vec::new();
        for i in 0..4 {
            let shard = Shard { index: i, count: 4 };
            let mut st = Sharded::new(Grid::new(&s).unwrap(), shard);
            assert_eq!(st.planned(), Some(shard.share(18)));
            let mut mine = Vec::new();
            loop {
                let p = st.ask(3);
                if p.is_empty() {
                    break;
                }
                mine.extend(p.iter().map(|p| p.id));
            }
            assert_eq!(mine.len() as u64, shard.share(18));
            parts.extend(mine);
        }
        parts.sort_unstable();
        assert_eq!(parts, whole);
    }

    #[test]
    fn bad_spaces_and_shards_are_errors() {
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("1-4").is_err());
        assert_eq!(Shard::parse("1/4").unwrap(), Shard { index: 1, count: 4 });
        let mut axes = space().axes;
        axes.swap(0, 1);
        assert!(matches!(
            Space::new(axes, &[]),
            Err(SpaceError::HardwareAfterKnob(_))
        ));
        let mut axes = space().axes;
        axes[3].values = Values::Ints(vec![64]);
        let s = Space::new(axes, &[("prompt", "context")]).unwrap();
        assert!(matches!(Grid::new(&s), Err(SpaceError::Empty(_))));
    }
}
