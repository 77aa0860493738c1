//! The formulas of the module docs checked by hand on a five-op graph with synthetic ledgers.

use super::*;
use crate::cost::Ledger;
use crate::workload::{DType, OpKind, Storage};

/// x(4000 B) -a-> t1(2000 B) -b-> t2(1000 B) -c-> t3 ; d = t3 + t2 -> t4(1000 B) -e-> out(40 B).
/// Boundary 3 (after c) has t2 and t3 crossing, so it is not a candidate.
fn graph() -> Graph {
    let mut g = Graph::new("toy");
    let f32s = Storage::plain(DType::F32);
    let t = |g: &mut Graph, name: &str, elems: u64, role: Role| {
        g.add_tensor(name, &[elems], f32s, role)
    };
    let x = t(&mut g, "x", 1000, Role::Input);
    let t1 = t(&mut g, "t1", 500, Role::Activation);
    let t2 = t(&mut g, "t2", 250, Role::Activation);
    let t3 = t(&mut g, "t3", 250, Role::Activation);
    let t4 = t(&mut g, "t4", 250, Role::Activation);
    let out = t(&mut g, "out", 10, Role::Output);
    let mm = OpKind::MatMul {
        batch: 1,
        m: 1,
        n: 1,
        k: 1,
    };
    for (name, ins, o, layer) in [
        ("a", vec![x], t1, 0),
        ("b", vec![t1], t2, 1),
        ("c", vec![t2], t3, 2),
        ("d", vec![t3, t2], t4, 2),
        ("e", vec![t4], out, 3),
    ] {
        g.add_op(name, mm, &ins, &[o], DType::F32, Some(layer));
    }
    g
}

/// Ledgers with the given latencies (s) and energies (J, as compute energy).
fn eval(lat: &[f64], j: &[f64]) -> Evaluation {
    let per_op: Vec<Ledger> = lat
        .iter()
        .zip(j)
        .map(|(&l, &e)| Ledger {
            latency_s: l,
            compute_j: e,
            ..Ledger::zero()
        })
        .collect();
    Evaluation {
        total: Ledger::zero(),
        per_op,
    }
}

fn link() -> Link {
    Link {
        name: "toy".into(),
        description: String::new(),
        uplink_bytes_per_s: 1e6,
        downlink_bytes_per_s: 1e5,
        rtt_s: 0.01,
        uplink_j_per_byte: 1e-6,
        downlink_j_per_byte: 2e-6,
        active_w: 0.5,
        tail_j: 0.1,
        provenance: Vec::new(),
    }
}

fn info(name: &str) -> SideInfo {
    SideInfo {
        hardware: name.into(),
        unit: "u".into(),
        runtime: "ideal".into(),
    }
}

fn study(objective: OffloadObjective, link: &Link) -> Offload {
    let g = graph();
    // Device: 1..5 ms per op at 2 W; server: 0.1 ms and 0.01 J per op.
    let de = eval(
        &[1e-3, 2e-3, 3e-3, 4e-3, 5e-3],
        &[2e-3, 4e-3, 6e-3, 8e-3, 10e-3],
    );
    let se = eval(&[1e-4; 5], &[0.01; 5]);
    let dev = Side {
        graph: &g,
        eval: &de,
        static_w: 0.2,
    };
    let srv = Side {
        graph: &g,
        eval: &se,
        static_w: 50.0,
    };
    let opts = OffloadOptions {
        objective,
        ..OffloadOptions::default()
    };
    plan("toy", (&dev, info("dev")), (&srv, info("srv")), link, &opts).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 + 1e-9 * b.abs()
}

#[test]
fn candidate_cuts_are_single_tensor_boundaries() {
    let c = candidate_cuts(&graph());
    let ks: Vec<usize> = c.iter().map(|x| x.0).collect();
    assert_eq!(ks, vec![0, 1, 2, 4, 5]);
    let bytes: Vec<f64> = c.iter().map(|x| x.1).collect();
    assert_eq!(bytes, vec![4000.0, 2000.0, 1000.0, 1000.0, 0.0]);
    assert_eq!(result_bytes(&graph(), 2), 40.0);
    assert_eq!(result_bytes(&graph(), 5), 0.0);
}

#[test]
fn latency_and_energy_by_hand() {
    let o = study(OffloadObjective::Latency, &link());
    let cut = |k: usize| o.cuts.iter().find(|c| c.index == k).unwrap();
    // k = 2: T_dev 3 ms; up 1000 B / 1e6 = 1 ms; RTT 10 ms; server 3 x 0.1 ms; down 40 B / 1e5 =
    // 0.4 ms. T_wait = 11.7 ms, latency 14.7 ms.
    let c = cut(2);
    assert!(close(c.latency_s, 14.7e-3), "{c:?}");
    // E = 0.006 (ops a, b) + radio (1000e-6 + 40 x 2e-6 + 0.5 x 11.7e-3 = 0.00693)
    //   + idle (0.2 x 11.7e-3 = 0.00234) + tail 0.1 = 0.11527 J.
    assert!(close(c.radio_j, 0.00693), "{c:?}");
    assert!(close(c.idle_j, 0.00234), "{c:?}");
    assert!(close(c.device_energy_j, 0.11527), "{c:?}");
    assert!(close(c.server_energy_j, 0.03), "{c:?}");
    // k = 1: 1 + 2 + 10 + 0.4 + 0.4 = 13.8 ms; k = 0: 4 + 10 + 0.5 + 0.4 = 14.9 ms;
    // k = 4: 10 + 1 + 10 + 0.1 + 0.4 = 21.5 ms; k = 5: 15 ms.
    assert!(close(cut(1).latency_s, 13.8e-3));
    assert!(close(cut(0).latency_s, 14.9e-3));
    assert!(close(cut(4).latency_s, 21.5e-3));
    assert!(close(cut(5).latency_s, 15e-3));
    assert_eq!(cut(5).device_energy_j, 0.03);
    assert_eq!(o.best_cut().index, 1);
    assert_eq!(o.best_cut().label, "after a");
    // Minimising energy: all on the device (0.03 J) beats every offload (tail alone is 0.1 J).
    let e = study(OffloadObjective::Energy, &link());
    assert_eq!(e.best_cut().index, 5);
    // Without the tail, k = 1 costs 0.002 + (0.002 + 0.00008 + 0.5 x 12.8e-3) + 0.2 x 12.8e-3.
    let mut l = link();
    l.tail_j = 0.0;
    let e = study(OffloadObjective::Energy, &l);
    let c1 = e.cuts.iter().find(|c| c.index == 1).unwrap();
    assert!(
        close(c1.device_energy_j, 0.002 + 0.00848 + 0.00256),
        "{c1:?}"
    );
}

#[test]
fn bandwidth_limits() {
    // A very fast link with no RTT: all on the (faster) server wins.
    let mut fast = link();
    fast.uplink_bytes_per_s = 1e15;
    fast.downlink_bytes_per_s = 1e15;
    fast.rtt_s = 0.0;
    assert_eq!(study(OffloadObjective::Latency, &fast).best_cut().index, 0);
    // A near-zero link: all on the device.
    let slow = link().at_uplink(1.0);
    assert_eq!(study(OffloadObjective::Latency, &slow).best_cut().index, 5);
    // The best never loses to a baseline, at any point of the sweep.
    let o = study(OffloadObjective::Latency, &link());
    for p in &o.sweep {
        assert!(p.best_latency_s <= p.device_latency_s.min(p.server_latency_s));
    }
    assert_eq!(o.sweep.len(), 13);
    assert!(close(o.sweep[0].uplink_bits_per_s, 1e6));
    assert!(close(o.sweep[12].uplink_bits_per_s, 1e9));
}
