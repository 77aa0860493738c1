//! OFA's evolution finder and a random-search baseline, as ask/tell searchers that never see
//! the hardware: they propose subnets and hear back costs and quality scores.
//!
//! The evolution follows OFA's `EvolutionFinder` (`ofa/nas/search_algorithm/evolution.py`,
//! tutorial `ofa/tutorial/evolution_finder.py`): truncation selection (μ + λ),
//! not aging evolution.
//! 1. Seed: `population` random subnets, each redrawn until it meets every constraint.
//! 2. Each generation: keep the top `parents` by fitness; add `mutations` children, each a
//!    mutation of a random parent redrawn until it meets the constraints (the same parent each
//!    try), and `crossovers` children, each a gene-wise uniform crossover of two random parents,
//!    likewise redrawn.
//! 3. After `generations` generations, return the best.
//!
//! With OFA's defaults that is 100 + 500 × 100 = 50,100 quality evaluations.
//!
//! Protocol: [`Searcher::ask`] returns either subnets to price ([`Ask::Cost`]), subnets to score
//! ([`Ask::Quality`], only ones that passed the constraints), or [`Ask::Done`]. Every child slot
//! draws from its own random stream, derived from the seed, the generation and the slot, so the
//! outcome does not depend on how the caller spreads the pricing over threads.
//!
//! Objectives ([`Objective`]): maximise quality under hard constraints (OFA); the MnasNet reward
//! `Q × (m/T)^w` with `w = α` when `m ≤ T` and `β` otherwise (Tan et al., CVPR 2019, §3); or a
//! Pareto front of quality against several metrics (NSGA-II ranking and crowding for selection).

use super::NasError;
use super::efficiency::{Cost, Efficiency, Metric};
use super::pareto;
use super::predictor::Quality;
use super::space::{MutationRates, SearchRng, SearchSpace};
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// Hyperparameters of the evolution finder.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EvolutionParams {
    /// Random subnets in the seed population (OFA `population_size`).
    pub population: usize,
    /// Parents kept each generation (`round(parent_ratio · population_size)`).
    pub parents: usize,
    /// Children by mutation per generation (`round(mutation_ratio · population_size)`).
    pub mutations: usize,
    /// Children by crossover per generation (`population_size − mutations`).
    pub crossovers: usize,
    /// Generations (OFA `max_time_budget`).
    pub generations: usize,
    /// Mutation probabilities.
    pub rates: MutationRates,
    /// Draws allowed for one slot before the constraint is declared unreachable.
    pub max_tries: usize,
}

/// Draws one slot may take before a search gives up on a constraint (OFA loops forever).
pub const MAX_TRIES: usize = 100_000;

impl EvolutionParams {
    /// OFA library defaults (`ofa.nas.search_algorithm.EvolutionFinder`): population 100,
    /// 500 generations, parent ratio 0.25, mutation ratio 0.5, arch mutation 0.1, resolution
    /// mutation 0.5.
    pub fn ofa() -> Self {
        EvolutionParams {
            population: 100,
            parents: 25,
            mutations: 50,
            crossovers: 50,
            generations: 500,
            rates: MutationRates {
                arch: 0.1,
                resolution: 0.5,
            },
            max_tries: MAX_TRIES,
        }
    }

    /// The OFA tutorial notebook: as [`EvolutionParams::ofa`] but one `mutate_prob = 0.1` for the
    /// resolution too.
    pub fn ofa_tutorial() -> Self {
        EvolutionParams {
            rates: MutationRates {
                arch: 0.1,
                resolution: 0.1,
            },
            ..Self::ofa()
        }
    }

    /// HAT's settings (`configs/*/evo_search/*.yml`): population 125, parents 25, 50 mutations,
    /// 50 crossovers, mutation probability 0.3, 30 iterations.
    pub fn hat() -> Self {
        EvolutionParams {
            population: 125,
            parents: 25,
            mutations: 50,
            crossovers: 50,
            generations: 30,
            rates: MutationRates {
                arch: 0.3,
                resolution: 0.3,
            },
            max_tries: MAX_TRIES,
        }
    }

    /// Quality evaluations of a full run.
    pub fn evaluations(&self) -> usize {
        self.population + self.generations * (self.mutations + self.crossovers)
    }

    /// Checks the sizes make sense.
    pub fn validate(&self) -> Result<(), NasError> {
        let bad = |f: &str, m: &str| Err(NasError::invalid("evolution", f, m));
        if self.population == 0 {
            return bad("population", "must be at least 1");
        }
        if self.parents == 0 || self.parents > self.population {
            return bad("parents", "must be between 1 and the population");
        }
        if self.mutations + self.crossovers == 0 && self.generations > 0 {
            return bad("mutations", "a generation needs at least one child");
        }
        for (f, p) in [
            ("arch mutation probability", self.rates.arch),
            ("resolution mutation probability", self.rates.resolution),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return bad(f, "must be within 0..=1");
            }
        }
        Ok(())
    }
}

/// A hard limit on a metric.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Constraint {
    /// The metric.
    pub metric: Metric,
    /// Largest allowed value.
    pub max: f64,
}

/// MnasNet's soft-constraint exponent: α = β = −0.07, so a model twice as slow needs about 5 %
/// more accuracy for the same reward (Tan et al., CVPR 2019, §3: 1.05 · 2^β = 1).
pub const MNAS_SOFT_W: f64 = -0.07;
/// MnasNet's hard-constraint exponents: α = 0, β = −1 (Tan et al., CVPR 2019, Fig. 3).
pub const MNAS_HARD_W: (f64, f64) = (0.0, -1.0);

/// What the search maximises.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Objective {
    /// Quality, subject to the constraints (OFA).
    Constrained,
    /// MnasNet reward `Q × (m / target)^w`, `w = alpha` if `m ≤ target` else `beta`.
    Mnas {
        /// The metric (usually latency).
        metric: Metric,
        /// Target value.
        target: f64,
        /// Exponent when on target.
        alpha: f64,
        /// Exponent when over target.
        beta: f64,
    },
    /// Pareto: maximise quality and minimise each metric.
    Pareto {
        /// The minimised metrics.
        metrics: Vec<Metric>,
    },
}

/// The full search specification.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchSpec {
    /// Objective.
    pub objective: Objective,
    /// Hard constraints, enforced by redrawing (every objective).
    pub constraints: Vec<Constraint>,
}

impl SearchSpec {
    /// The metrics this spec needs from the cost side.
    pub fn metrics(&self) -> Vec<Metric> {
        let mut m: Vec<Metric> = self.constraints.iter().map(|c| c.metric).collect();
        match &self.objective {
            Objective::Constrained => {}
            Objective::Mnas { metric, .. } => m.push(*metric),
            Objective::Pareto { metrics } => m.extend(metrics),
        }
        m.dedup();
        m
    }

    /// Fails when the cost side does not provide a needed metric.
    pub fn check_provided(&self, provided: &[Metric], label: &str) -> Result<(), NasError> {
        for m in self.metrics() {
            if !provided.contains(&m) {
                return Err(NasError::invalid(
                    "search",
                    m.column(),
                    format!("the cost model `{label}` does not provide {}", m.label()),
                ));
            }
        }
        Ok(())
    }

    fn feasible(&self, c: &Cost) -> bool {
        self.constraints
            .iter()
            .all(|k| c.get(k.metric).is_some_and(|v| v <= k.max))
    }

    /// Scalar fitness for the constrained and MnasNet objectives.
    pub fn scalar_fitness(&self, quality: f64, c: &Cost) -> f64 {
        match &self.objective {
            Objective::Mnas {
                metric,
                target,
                alpha,
                beta,
            } => {
                let m = c.get(*metric).unwrap_or(f64::NAN);
                let w = if m <= *target { *alpha } else { *beta };
                quality * (m / target).powf(w)
            }
            _ => quality,
        }
    }

    fn pareto_point(&self, quality: f64, c: &Cost) -> Vec<f64> {
        let mut p = vec![-quality];
        if let Objective::Pareto { metrics } = &self.objective {
            p.extend(metrics.iter().map(|&m| c.get(m).unwrap_or(f64::INFINITY)));
        }
        p
    }
}

/// A priced and scored subnet.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluated<A> {
    /// The subnet.
    pub arch: A,
    /// Its quality score.
    pub quality: f64,
    /// Its cost.
    pub cost: Cost,
    /// Scalar fitness (quality, or MnasNet reward).
    pub fitness: f64,
    /// Generation it was born in (0 = seed).
    pub generation: usize,
}

/// What a searcher wants next.
#[derive(Clone, Debug, PartialEq)]
pub enum Ask<A> {
    /// Price these subnets and [`Searcher::tell_costs`] in the same order.
    Cost(Vec<A>),
    /// Score these subnets and [`Searcher::tell_quality`] in the same order.
    Quality(Vec<A>),
    /// The search is over.
    Done,
}

/// Counters of a search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Subnets priced.
    pub cost_evaluations: usize,
    /// Subnets scored.
    pub quality_evaluations: usize,
    /// Subnets redrawn because they broke a constraint.
    pub rejected: usize,
}

/// An ask/tell search.
pub trait Searcher<A> {
    /// The next request.
    fn ask(&mut self) -> Result<Ask<A>, NasError>;
    /// Costs of the last [`Ask::Cost`].
    fn tell_costs(&mut self, costs: Vec<Cost>) -> Result<(), NasError>;
    /// Quality of the last [`Ask::Quality`].
    fn tell_quality(&mut self, quality: Vec<f64>) -> Result<(), NasError>;
    /// Every subnet scored so far, in order.
    fn history(&self) -> &[Evaluated<A>];
    /// The best subnet by fitness (for Pareto: by quality).
    fn best(&self) -> Option<&Evaluated<A>>;
    /// Best fitness after each generation.
    fn trace(&self) -> &[f64];
    /// Counters.
    fn counts(&self) -> Counts;
}

#[derive(Clone, Copy, Debug)]
enum Recipe {
    Random,
    Mutate(usize),
    Cross(usize, usize),
}

struct Slot<A> {
    rng: SearchRng,
    recipe: Recipe,
    arch: Option<A>,
    cost: Option<Cost>,
    tries: usize,
}

#[derive(PartialEq)]
enum Waiting {
    Nothing,
    Costs(Vec<usize>),
    Quality,
}

/// The evolution finder (also random search: see [`Evolution::random`]).
pub struct Evolution<'s, S: SearchSpace> {
    space: &'s S,
    params: EvolutionParams,
    spec: SearchSpec,
    seed: u64,
    generation: usize,
    population: Vec<Evaluated<S::Arch>>,
    slots: Vec<Slot<S::Arch>>,
    waiting: Waiting,
    history: Vec<Evaluated<S::Arch>>,
    best: Option<usize>,
    trace: Vec<f64>,
    counts: Counts,
    random_only: bool,
    /// Rejected draws since the last accepted one, over all slots.
    streak: usize,
}

fn slot_rng(seed: u64, generation: usize, slot: usize) -> SearchRng {
    let mut r = SearchRng::seed_from_u64(seed);
    r.set_stream(((generation as u64) << 32) | slot as u64);
    r
}

impl<'s, S: SearchSpace> Evolution<'s, S> {
    /// An evolution search.
    pub fn new(
        space: &'s S,
        params: EvolutionParams,
        spec: SearchSpec,
        seed: u64,
    ) -> Result<Self, NasError> {
        params.validate()?;
        Ok(Evolution {
            space,
            params,
            spec,
            seed,
            generation: 0,
            population: Vec::new(),
            slots: Vec::new(),
            waiting: Waiting::Nothing,
            history: Vec::new(),
            best: None,
            trace: Vec::new(),
            counts: Counts::default(),
            random_only: false,
            streak: 0,
        })
    }

    /// Random search: `samples` constraint-respecting random subnets, the best kept.
    pub fn random(
        space: &'s S,
        samples: usize,
        spec: SearchSpec,
        seed: u64,
    ) -> Result<Self, NasError> {
        let params = EvolutionParams {
            population: samples,
            parents: samples.max(1),
            mutations: 0,
            crossovers: 0,
            generations: 0,
            ..EvolutionParams::ofa()
        };
        let mut e = Self::new(space, params, spec, seed)?;
        e.random_only = true;
        Ok(e)
    }

    /// The spec.
    pub fn spec(&self) -> &SearchSpec {
        &self.spec
    }

    /// Sorts the population best first and keeps the top `parents`.
    fn select(&mut self) {
        match &self.spec.objective {
            Objective::Pareto { .. } => {
                let pts: Vec<Vec<f64>> = self
                    .population
                    .iter()
                    .map(|e| self.spec.pareto_point(e.quality, &e.cost))
                    .collect();
                let rank = pareto::ranks(&pts);
                let crowd = pareto::crowding(&pts, &rank);
                let mut order: Vec<usize> = (0..self.population.len()).collect();
                order.sort_by(|&a, &b| rank[a].cmp(&rank[b]).then(crowd[b].total_cmp(&crowd[a])));
                let mut sorted: Vec<_> = order
                    .into_iter()
                    .map(|i| self.population[i].clone())
                    .collect();
                sorted.truncate(self.params.parents);
                self.population = sorted;
            }
            _ => {
                // stable sort: ties keep birth order
                self.population
                    .sort_by(|a, b| b.fitness.total_cmp(&a.fitness));
                self.population.truncate(self.params.parents);
            }
        }
    }

    fn new_slots(&mut self) {
        let g = self.generation;
        if g == 0 {
            self.slots = (0..self.params.population)
                .map(|i| Slot {
                    rng: slot_rng(self.seed, 0, i),
                    recipe: Recipe::Random,
                    arch: None,
                    cost: None,
                    tries: 0,
                })
                .collect();
            return;
        }
        self.select();
        let np = self.population.len();
        let n = self.params.mutations + self.params.crossovers;
        self.slots = (0..n)
            .map(|i| {
                let mut rng = slot_rng(self.seed, g, i);
                let recipe = if i < self.params.mutations {
                    Recipe::Mutate(rng.random_range(0..np))
                } else {
                    let a = rng.random_range(0..np);
                    Recipe::Cross(a, rng.random_range(0..np))
                };
                Slot {
                    rng,
                    recipe,
                    arch: None,
                    cost: None,
                    tries: 0,
                }
            })
            .collect();
    }

    fn finished(&self) -> bool {
        if self.random_only {
            self.generation >= 1
        } else {
            self.generation > self.params.generations
        }
    }
}

impl<S: SearchSpace> Searcher<S::Arch> for Evolution<'_, S> {
    fn ask(&mut self) -> Result<Ask<S::Arch>, NasError> {
        match self.waiting {
            Waiting::Costs(_) | Waiting::Quality => {
                return Err(NasError::Search(
                    "ask called before the last request was answered".into(),
                ));
            }
            Waiting::Nothing => {}
        }
        if self.slots.is_empty() {
            if self.finished() {
                return Ok(Ask::Done);
            }
            self.new_slots();
        }
        let open: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].cost.is_none())
            .collect();
        if open.is_empty() {
            self.waiting = Waiting::Quality;
            return Ok(Ask::Quality(
                self.slots
                    .iter()
                    .map(|s| s.arch.clone().expect("priced"))
                    .collect(),
            ));
        }
        if self.streak > self.params.max_tries {
            return Err(NasError::Search(format!(
                "no subnet meeting {:?} in the last {} draws; the constraints are probably below the space's minimum",
                self.spec.constraints, self.streak
            )));
        }
        let mut batch = Vec::with_capacity(open.len());
        for &i in &open {
            let (space, rates) = (self.space, self.params.rates);
            let recipe = self.slots[i].recipe;
            let slot = &mut self.slots[i];
            slot.tries += 1;
            if slot.tries > self.params.max_tries {
                return Err(NasError::Search(format!(
                    "no subnet meeting {:?} after {} draws in one slot; the constraints are probably below the space's minimum",
                    self.spec.constraints, self.params.max_tries
                )));
            }
            let a = match recipe {
                Recipe::Random => space.sample(&mut slot.rng),
                Recipe::Mutate(p) => space.mutate(&self.population[p].arch, rates, &mut slot.rng),
                Recipe::Cross(p, q) => space.crossover(
                    &self.population[p].arch,
                    &self.population[q].arch,
                    &mut slot.rng,
                ),
            };
            slot.arch = Some(a.clone());
            batch.push(a);
        }
        self.waiting = Waiting::Costs(open);
        Ok(Ask::Cost(batch))
    }

    fn tell_costs(&mut self, costs: Vec<Cost>) -> Result<(), NasError> {
        let Waiting::Costs(open) = std::mem::replace(&mut self.waiting, Waiting::Nothing) else {
            return Err(NasError::Search("costs told without a cost request".into()));
        };
        if costs.len() != open.len() {
            return Err(NasError::Search(format!(
                "{} costs told for {} subnets",
                costs.len(),
                open.len()
            )));
        }
        self.counts.cost_evaluations += costs.len();
        for (i, c) in open.into_iter().zip(costs) {
            if self.spec.feasible(&c) {
                self.slots[i].cost = Some(c);
                self.streak = 0;
            } else {
                self.counts.rejected += 1;
                self.streak += 1;
            }
        }
        Ok(())
    }

    fn tell_quality(&mut self, quality: Vec<f64>) -> Result<(), NasError> {
        if self.waiting != Waiting::Quality {
            return Err(NasError::Search(
                "quality told without a quality request".into(),
            ));
        }
        self.waiting = Waiting::Nothing;
        if quality.len() != self.slots.len() {
            return Err(NasError::Search(format!(
                "{} scores told for {} subnets",
                quality.len(),
                self.slots.len()
            )));
        }
        self.counts.quality_evaluations += quality.len();
        for (slot, q) in std::mem::take(&mut self.slots).into_iter().zip(quality) {
            let cost = slot.cost.expect("priced");
            let e = Evaluated {
                arch: slot.arch.expect("drawn"),
                quality: q,
                fitness: self.spec.scalar_fitness(q, &cost),
                cost,
                generation: self.generation,
            };
            let better = match self.best {
                None => true,
                Some(b) => {
                    let key = |x: &Evaluated<S::Arch>| match self.spec.objective {
                        Objective::Pareto { .. } => x.quality,
                        _ => x.fitness,
                    };
                    key(&e) > key(&self.history[b])
                }
            };
            if better {
                self.best = Some(self.history.len());
            }
            self.history.push(e.clone());
            self.population.push(e);
        }
        self.trace
            .push(self.best.map_or(f64::NAN, |b| self.history[b].fitness));
        self.generation += 1;
        Ok(())
    }

    fn history(&self) -> &[Evaluated<S::Arch>] {
        &self.history
    }

    fn best(&self) -> Option<&Evaluated<S::Arch>> {
        self.best.map(|b| &self.history[b])
    }

    fn trace(&self) -> &[f64] {
        &self.trace
    }

    fn counts(&self) -> Counts {
        self.counts
    }
}

/// Runs a searcher to the end: prices batches in parallel (rayon) with `eff` and scores with
/// `quality`. The only place where the search meets a cost model.
pub fn drive<A, E, Q>(searcher: &mut dyn Searcher<A>, eff: &E, quality: &Q) -> Result<(), NasError>
where
    A: Sync + Send,
    E: Efficiency<A> + ?Sized,
    Q: Quality<A> + ?Sized,
{
    use rayon::prelude::*;
    loop {
        match searcher.ask()? {
            Ask::Cost(batch) => {
                let costs = batch
                    .par_iter()
                    .map(|a| eff.cost(a))
                    .collect::<Result<Vec<_>, _>>()?;
                searcher.tell_costs(costs)?;
            }
            Ask::Quality(batch) => {
                let q = quality.predict(&batch)?;
                searcher.tell_quality(q)?;
            }
            Ask::Done => return Ok(()),
        }
    }
}

/// The non-dominated subset of a history for quality against `metrics` (indices into it).
pub fn pareto_front<A>(history: &[Evaluated<A>], metrics: &[Metric]) -> Vec<usize> {
    let pts: Vec<Vec<f64>> = history
        .iter()
        .map(|e| {
            let mut p = vec![-e.quality];
            p.extend(
                metrics
                    .iter()
                    .map(|&m| e.cost.get(m).unwrap_or(f64::INFINITY)),
            );
            p
        })
        .collect();
    let mut f = pareto::front(&pts);
    f.sort_by(|&a, &b| {
        pts[a][1..]
            .partial_cmp(&pts[b][1..])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nas::efficiency::MacsEfficiency;
    use crate::nas::predictor::MacsProxy;
    use crate::nas::space::MbSpace;

    fn spec(max_macs: f64) -> SearchSpec {
        SearchSpec {
            objective: Objective::Constrained,
            constraints: vec![Constraint {
                metric: Metric::Macs,
                max: max_macs,
            }],
        }
    }

    fn small() -> EvolutionParams {
        EvolutionParams {
            generations: 20,
            ..EvolutionParams::ofa()
        }
    }

    #[test]
    fn evolution_respects_the_constraint_and_is_deterministic() {
        let space = MbSpace::mbv3(1.2);
        let eff = MacsEfficiency(&space);
        let q = MacsProxy(&space);
        let run = |seed| {
            let mut e = Evolution::new(&space, small(), spec(300.0), seed).unwrap();
            drive(&mut e, &eff, &q).unwrap();
            (e.best().unwrap().clone(), e.counts(), e.history().len())
        };
        let (best, counts, n) = run(1);
        assert_eq!(n, small().evaluations());
        assert_eq!(counts.quality_evaluations, 100 + 20 * 100);
        assert_eq!(
            counts.cost_evaluations,
            counts.quality_evaluations + counts.rejected
        );
        assert!(best.cost.macs_m <= 300.0);
        // maximising MACs under a MAC cap ends close to the cap
        assert!(best.cost.macs_m > 290.0, "{}", best.cost.macs_m);
        // same seed, same result, whatever the thread count
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let (b1, c1, _) = pool.install(|| run(1));
        assert_eq!((b1, c1), (best.clone(), counts));
        let (b2, _, _) = run(2);
        assert_ne!(b2.arch, best.arch);
    }

    #[test]
    fn evolution_beats_random_search_at_equal_budget() {
        let space = MbSpace::mbv3(1.2);
        let eff = MacsEfficiency(&space);
        let q = MacsProxy(&space);
        let mut e = Evolution::new(&space, small(), spec(250.0), 3).unwrap();
        drive(&mut e, &eff, &q).unwrap();
        let mut r = Evolution::random(&space, small().evaluations(), spec(250.0), 3).unwrap();
        drive(&mut r, &eff, &q).unwrap();
        assert_eq!(r.history().len(), small().evaluations());
        assert!(r.history().iter().all(|x| x.cost.macs_m <= 250.0));
        assert!(e.best().unwrap().quality >= r.best().unwrap().quality);
    }

    #[test]
    fn unreachable_constraint_is_an_error_not_a_hang() {
        let space = MbSpace::mbv3(1.2);
        let eff = MacsEfficiency(&space);
        let q = MacsProxy(&space);
        let params = EvolutionParams {
            max_tries: 50,
            ..small()
        };
        let mut e = Evolution::new(&space, params, spec(10.0), 0).unwrap();
        let err = drive(&mut e, &eff, &q).unwrap_err().to_string();
        assert!(err.contains("no subnet meeting"), "{err}");
    }

    #[test]
    fn mnas_reward_by_hand() {
        let s = SearchSpec {
            objective: Objective::Mnas {
                metric: Metric::Latency,
                target: 20.0,
                alpha: MNAS_SOFT_W,
                beta: MNAS_SOFT_W,
            },
            constraints: vec![],
        };
        let c = |ms| Cost {
            latency_ms: Some(ms),
            ..Cost::default()
        };
        assert_eq!(s.scalar_fitness(80.0, &c(20.0)), 80.0);
        // twice the target needs 1.05× the accuracy for the same reward
        let r = s.scalar_fitness(80.0 * 2f64.powf(0.07), &c(40.0));
        assert!((r - 80.0).abs() < 1e-9);
        let hard = SearchSpec {
            objective: Objective::Mnas {
                metric: Metric::Latency,
                target: 20.0,
                alpha: MNAS_HARD_W.0,
                beta: MNAS_HARD_W.1,
            },
            constraints: vec![],
        };
        assert_eq!(hard.scalar_fitness(80.0, &c(10.0)), 80.0);
        assert_eq!(hard.scalar_fitness(80.0, &c(40.0)), 40.0);
    }

    #[test]
    fn protocol_misuse_is_an_error() {
        let space = MbSpace::mbv3(1.2);
        let mut e = Evolution::new(&space, small(), spec(300.0), 0).unwrap();
        assert!(e.tell_quality(vec![1.0]).is_err());
        let Ask::Cost(b) = e.ask().unwrap() else {
            panic!()
        };
        assert!(e.ask().is_err());
        assert!(e.tell_costs(vec![Cost::default(); b.len() - 1]).is_err());
    }
}
