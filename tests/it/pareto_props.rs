//! Properties of the Pareto front and of sharding:
//! * no front point is dominated, and every other finite point has a dominator on the front
//!   (ties included: equal vectors are all on the front or all off it);
//! * a run split into shards and merged (through the Parquet parts) has exactly the points,
//!   outcomes and fronts of the single run.

use crate::common::TempDir;
use archscope::explore::{self, ExploreRequest, Session, analyze, table};
use archscope::search::{dominates, pareto_front};
use proptest::prelude::*;

fn matrix() -> impl Strategy<Value = (usize, Vec<f64>)> {
    (1usize..=4, 0usize..=60).prop_flat_map(|(m, n)| {
        // Few distinct values, so ties and partial ties are common.
        let cell = prop_oneof![
            8 => (0u8..6).prop_map(f64::from),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
        ];
        (Just(m), proptest::collection::vec(cell, n * m))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn front_is_exactly_the_non_dominated_set((m, v) in matrix()) {
        let n = v.len() / m;
        let on = pareto_front(&v, m);
        prop_assert_eq!(on.len(), n);
        let row = |i: usize| &v[i * m..(i + 1) * m];
        let finite = |i: usize| row(i).iter().all(|x| x.is_finite());
        for i in 0..n {
            if !finite(i) {
                prop_assert!(!on[i], "a non-finite row is on the front");
                continue;
            }
            let dominated = (0..n).any(|j| finite(j) && dominates(row(j), row(i)));
            if on[i] {
                prop_assert!(!dominated, "front row {} is dominated", i);
            } else {
                prop_assert!(dominated, "row {} is off the front but not dominated", i);
                prop_assert!(
                    (0..n).any(|j| on[j] && dominates(row(j), row(i))),
                    "row {} has no dominator on the front", i
                );
            }
            for j in 0..n {
                if finite(j) && row(i) == row(j) {
                    prop_assert_eq!(on[i], on[j], "tied rows {} and {} differ", i, j);
                }
            }
        }
    }
}

const QUANTS: [&str; 4] = ["fp16", "w8a8", "w4a16-g128", "fp32"];
const UNITS: [&str; 5] = ["cpu-big", "cpu-mid", "cpu-little", "gpu", "tpu"];

fn pick<T: Clone>(all: &[T], mask: u32) -> Vec<T> {
    let v: Vec<T> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, x)| x.clone())
        .collect();
    if v.is_empty() {
        vec![all[0].clone()]
    } else {
        v
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn shards_merge_into_the_same_fronts(
        quants in 1u32..16,
        units in 1u32..32,
        contexts in 1u32..8,
        sweep in proptest::option::of(2usize..4),
        samples in proptest::option::of(5u64..120),
        seed in 0u64..1000,
        shards in 1u32..5,
        objectives in 0usize..3,
    ) {
        let req = ExploreRequest {
            hw: "pixel8".into(),
            model: "llama-1b".into(),
            quants: pick(&QUANTS, quants).into_iter().map(String::from).collect(),
            decode_units: pick(&UNITS, units).into_iter().map(String::from).collect(),
            prefill_units: vec!["gpu".into(), "tpu".into()],
            contexts: pick(&[1024u64, 4096, 16384], contexts),
            sweeps: sweep
                .map(|k| vec![format!("memory[dram].bytes_per_s=30e9..90e9:{k}")])
                .unwrap_or_default(),
            samples,
            seed,
            objectives: [
                vec![],
                vec!["decode_tokens_per_s".to_string(), "ttft_s".to_string()],
                vec!["energy_per_token_j".to_string()],
            ][objectives]
                .clone(),
            front_by: if objectives == 2 { vec!["none".into()] } else { vec![] },
            max_memory: (objectives == 1).then(|| "2.6GB".to_string()),
            command: "proptest".into(),
            ..Default::default()
        };
        let whole = Session::new(req.resolve().unwrap()).unwrap();
        let all = whole.run(false).unwrap();
        let a = analyze(&whole, &all).unwrap();

        let dir = TempDir::new(&format!("prop-{quants}-{units}-{contexts}-{seed}-{shards}"));
        let mut parts = Vec::new();
        for i in 0..shards {
            let mut r = req.clone();
            r.shard = Some(format!("{i}/{shards}"));
            let s = Session::new(r.resolve().unwrap()).unwrap();
            let res = s.run(false).unwrap();
            parts.push(table::write_part(&s, &res, dir.path(), false).unwrap());
        }
        let (merged_session, merged) = explore::merge_parts(&parts).unwrap();
        let b = analyze(&merged_session, &merged).unwrap();
        drop(dir);

        let ids = |r: &explore::Results| r.points.iter().map(|p| p.id).collect::<Vec<_>>();
        prop_assert_eq!(ids(&all), ids(&merged));
        prop_assert!(all.outcomes == merged.outcomes, "outcomes differ after the Parquet round trip");
        let front_ids = |r: &explore::Results, a: &explore::Analysis| {
            a.front.iter().map(|&i| r.points[i].id).collect::<Vec<_>>()
        };
        prop_assert_eq!(front_ids(&all, &a), front_ids(&merged, &b));
        prop_assert_eq!(a.chosen.map(|i| all.points[i].id), b.chosen.map(|i| merged.points[i].id));
        // Within each scenario the front is non-dominated and dominates the rest.
        for sc in &a.scenarios {
            let m = a.objectives.len();
            let vec = |i: usize| -> Vec<f64> {
                a.objectives
                    .iter()
                    .map(|&k| {
                        let d = whole.metrics()[k].direction;
                        d.key(all.outcomes[i].metrics[k].unwrap())
                    })
                    .collect()
            };
            for &i in &sc.rows {
                if !a.feasible[i] {
                    prop_assert!(!a.on_front[i]);
                    continue;
                }
                let dominated_by_front = sc.front.iter().any(|&f| dominates(&vec(f), &vec(i)));
                prop_assert_eq!(a.on_front[i], !dominated_by_front, "m = {}", m);
            }
        }
    }
}
