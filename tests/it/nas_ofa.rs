//! OFA reproduction tests against the vendored OFA artifacts in `../shared/ofa` (released
//! specialized nets, Note10 latency tables, accuracy predictors). Each test prints a notice and
//! passes when the data directory is absent.

use crate::common::shared_path;
use archscope::hardware::Hardware;
use archscope::nas::efficiency::{ArchscopeEfficiency, Efficiency, LutEfficiency, Metric};
use archscope::nas::evolution::{
    Constraint, Evolution, EvolutionParams, Objective, SearchSpec, Searcher, drive,
};
use archscope::nas::lut::LatencyTable;
use archscope::nas::net::{Precision, Segment};
use archscope::nas::netconfig::{load_net_config, load_specialized};
use archscope::nas::predictor::{
    MbOneHot, MlpPredictor, OFA_MBV3_PREDICTOR, Quality, ResNetOneHot,
};
use archscope::nas::space::{MbArch, MbSpace, ResNetArch, ResNetSpace};
use std::path::{Path, PathBuf};

/// The vendored OFA artifacts, `../shared/ofa`; `None` (with a notice) when absent.
fn data() -> Option<PathBuf> {
    shared_path("ofa")
}

/// The arch found by the OFA tutorial notebook.
fn tutorial_arch() -> MbArch {
    MbArch {
        ks: vec![5, 3, 3, 3, 5, 3, 3, 3, 7, 7, 3, 3, 5, 5, 7, 3, 3, 3, 5, 3],
        e: vec![3, 3, 3, 3, 4, 4, 3, 3, 6, 3, 4, 3, 4, 4, 4, 3, 6, 6, 6, 3],
        d: vec![2, 2, 3, 4, 3],
        r: 192,
    }
}

fn note10(dir: &Path) -> LatencyTable {
    let files: Vec<PathBuf> = [160, 176, 192, 208, 224]
        .iter()
        .map(|r| dir.join(format!("ofa_note10_{r}_lookup_table.yaml")))
        .collect();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    LatencyTable::load(&refs).unwrap()
}

fn mbv3_predictor(dir: &Path, space: &MbSpace) -> MlpPredictor<MbOneHot> {
    MlpPredictor::load(
        &dir.join("acc_predictor.safetensors"),
        MbOneHot::new(space),
        OFA_MBV3_PREDICTOR,
    )
    .unwrap()
}

fn space_of(stem: u32) -> MbSpace {
    match stem {
        16 => MbSpace::mbv3(1.0),
        24 => MbSpace::mbv3(1.2),
        40 => MbSpace::proxyless(1.3),
        s => panic!("unexpected stem {s}"),
    }
}

fn stem(net: &archscope::nas::net::Net) -> u32 {
    match net.segments[0] {
        Segment::Conv(c) => c.c_out,
        _ => unreachable!(),
    }
}

#[test]
fn released_specialized_nets_match_their_published_macs_and_load_as_subnets() {
    let Some(dir) = data() else { return };
    let mut rdr = csv::Reader::from_path(dir.join("ofa_specialized_summary.csv")).unwrap();
    let mut n = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let id = &rec[0];
        let readme_macs: f64 = rec[8].trim_end_matches('M').parse().unwrap();
        let readme_params: f64 = rec[9].trim_end_matches('M').parse().unwrap();
        let net = load_specialized(&dir.join("specialized").join(id)).unwrap();
        let macs = net.ofa_macs() as f64 / 1e6;
        // the README rounds to whole millions; note10_lat-8ms says 79M where the config gives
        // 75.8M (probably a README typo)
        if id.starts_with("note10_lat-8ms") {
            assert_eq!((macs * 10.0).round() / 10.0, 75.8);
        } else {
            // whole-million rounding, plus 0.1M for the README's own rounding of 73.46M to 74M
            assert!(
                (macs - readme_macs).abs() <= 0.6,
                "{id}: {macs:.2}M vs README {readme_macs}M"
            );
        }
        // README parameter counts are loosely rounded (e.g. 4.94M printed as 5.0M)
        let params = net.params() as f64 / 1e6;
        assert!(
            (params - readme_params).abs() <= 0.1,
            "{id}: {params:.2}M vs README {readme_params}M"
        );
        let g = net.graph(Precision::F32);
        g.validate().unwrap();
        assert_eq!(g.macs(), net.ofa_macs() as f64);
        // every released net is a subnet of its OFA space, and rebuilds identically
        let space = space_of(stem(&net));
        let arch = space
            .arch_from_net(&net)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(space.net(&arch).segments, net.segments, "{id}");
        n += 1;
    }
    assert_eq!(n, 50);
}

#[test]
fn proxylessnas_configs_macs() {
    // proxyless_mobile 320.4M, mobile_14 580.9M, cpu 439.2M, gpu 465.3M at 224
    let Some(dir) = data() else { return };
    for (name, want) in [
        ("mobile", 320.4),
        ("mobile_14", 580.9),
        ("cpu", 439.2),
        ("gpu", 465.3),
    ] {
        let net = load_net_config(
            &dir.join(format!("proxylessnas_proxyless_{name}.config")),
            224,
        )
        .unwrap();
        assert_eq!((net.ofa_macs() as f64 / 1e5).round() / 10.0, want, "{name}");
    }
}

#[test]
fn note10_lut_sums_match_the_published_numbers() {
    let Some(dir) = data() else { return };
    let lut = note10(&dir);
    // the released note10 30 ms net sums to 29.97 ms at 224
    let net =
        load_specialized(&dir.join("specialized/note10_lat-30ms_top1-78.4_finetune-75")).unwrap();
    assert_eq!((lut.net_ms(&net).unwrap() * 100.0).round() / 100.0, 29.97);
    // the tutorial's searched subnet: 24.73 ms at r=192, 264.0M MACs
    let space = MbSpace::mbv3(1.2);
    let t = space.net(&tutorial_arch());
    assert_eq!((lut.net_ms(&t).unwrap() * 100.0).round() / 100.0, 24.73);
    // the efficiency wrapper checks coverage of the whole space and agrees
    let eff = LutEfficiency::new(&space, lut).unwrap();
    let c = eff.cost(&tutorial_arch()).unwrap();
    assert_eq!((c.latency_ms.unwrap() * 100.0).round() / 100.0, 24.73);
    assert_eq!((c.macs_m * 10.0).round() / 10.0, 264.0);
    // a missing resolution is a clear error
    let mut a = tutorial_arch();
    a.r = 236;
    let e = eff.cost(&a).unwrap_err().to_string();
    assert!(e.contains("no table for resolution 236"), "{e}");
}

#[test]
fn proxyless_mobile_lut_covers_the_w1_0_proxyless_space() {
    // the ProxylessNAS "mobile" LUT keys the w1.0 Proxyless space (stem 32, first block 32→16,
    // widths 24/40/80/96/192/320, e ∈ {3, 6}, k ∈ {3, 5, 7}) at r=224
    let Some(dir) = data() else { return };
    let lut = LatencyTable::load(&[&dir.join("proxylessnas_mobile_trim.yaml")]).unwrap();
    let mut space = MbSpace::proxyless(1.0);
    space.e_list = vec![3, 6];
    space.resolutions = vec![224];
    assert_eq!(space.widths, vec![24, 40, 80, 96, 192, 320]);
    let eff = LutEfficiency::new(&space, lut.clone()).unwrap();
    let n = space.n_blocks();
    let min = MbArch {
        ks: vec![3; n],
        e: vec![3; n],
        d: vec![2; 6],
        r: 224,
    };
    let max = MbArch {
        ks: vec![7; n],
        e: vec![6; n],
        d: vec![4; 6],
        r: 224,
    };
    let (lo, hi) = (
        eff.cost(&min).unwrap().latency_ms.unwrap(),
        eff.cost(&max).unwrap().latency_ms.unwrap(),
    );
    // stem 4.08 + Conv_1 3.09 + logits 0.31 ms are in every subnet
    assert!(lo > 4.08 + 3.09 + 0.31 && hi > lo, "{lo} {hi}");
    // the final ProxylessNAS-mobile net has widths outside that space: a clear error, not a guess
    let net = load_net_config(&dir.join("proxylessnas_proxyless_mobile.config"), 224).unwrap();
    let e = lut.net_ms(&net).unwrap_err().to_string();
    assert!(
        e.contains("proxylessnas_mobile_trim.yaml")
            && e.contains("no entry `expanded_conv-input:112x112x16"),
        "{e}"
    );
}

#[test]
fn ofa_mbv3_predictor_reproduces_published_values() {
    let Some(dir) = data() else { return };
    let space = MbSpace::mbv3(1.2);
    let p = mbv3_predictor(&dir, &space);
    // tutorial arch → 0.81713; max net @224 0.836, min @224 0.777,
    // min @160 0.753
    let acc = p.predict(&[tutorial_arch()]).unwrap()[0];
    assert!((acc - 81.713).abs() < 0.001, "{acc}");
    let uni = |k, e, d, r| MbArch {
        ks: vec![k; 20],
        e: vec![e; 20],
        d: vec![d; 5],
        r,
    };
    let v = p
        .predict(&[uni(7, 6, 4, 224), uni(3, 3, 2, 224), uni(3, 3, 2, 160)])
        .unwrap();
    let r3 = |x: f64| (x * 10.0).round() / 10.0;
    assert_eq!((r3(v[0]), r3(v[1]), r3(v[2])), (83.6, 77.7, 75.3));
    // released w1.2 nets predict 82.0–83.5 (hold-out accuracy, above their val top-1)
    for id in std::fs::read_dir(dir.join("specialized")).unwrap() {
        let path = id.unwrap().path();
        let net = load_specialized(&path).unwrap();
        if stem(&net) != 24 || net.resolution < 160 || net.resolution > 239 {
            continue;
        }
        let a = space.arch_from_net(&net).unwrap();
        let acc = p.predict(&[a]).unwrap()[0];
        assert!((81.9..=83.6).contains(&acc), "{}: {acc}", path.display());
    }
}

#[test]
fn ofa_resnet50_predictor_loads_and_ranks() {
    let Some(dir) = data() else { return };
    let space = ResNetSpace::default();
    let p = MlpPredictor::load(
        &dir.join("ofa_resnet50_acc_predictor.safetensors"),
        ResNetOneHot::new(&space),
        "OFA ResNet50 predictor",
    )
    .unwrap();
    // base_acc is 0.8056
    assert!((p.mlp.base - 0.8056).abs() < 1e-4);
    let max = ResNetArch {
        d: vec![2, 2, 2, 2, 2],
        e: vec![2; 18],
        w: vec![2; 6],
        r: 224,
    };
    let min = ResNetArch {
        d: vec![0, 0, 0, 0, 0],
        e: vec![0; 18],
        w: vec![0; 6],
        r: 128,
    };
    let v = p.predict(&[max, min]).unwrap();
    assert!(v[0] > v[1] + 2.0, "{v:?}");
    assert!(
        (70.0..90.0).contains(&v[0]) && (60.0..85.0).contains(&v[1]),
        "{v:?}"
    );
}

#[test]
fn evolution_reproduces_the_ofa_tutorial_search() {
    // Note10 LUT, OFA predictor, latency ≤ 25 ms, P=100, N=500, r=0.25,
    // mutate_prob 0.1 → 81.71 % predicted at 24.73 ms, r=192. Our random streams differ from
    // Python's and single runs spread by a few tenths of a point (81.6–82.1 over seeds 0–5), so
    // three seeded runs are pinned: each under 25 ms at r=192, their median within 0.35 points.
    let Some(dir) = data() else { return };
    let space = MbSpace::mbv3(1.2);
    let eff = LutEfficiency::new(&space, note10(&dir)).unwrap();
    let p = mbv3_predictor(&dir, &space);
    let mut accs = Vec::new();
    for seed in 0..3 {
        let spec = SearchSpec {
            objective: Objective::Constrained,
            constraints: vec![Constraint {
                metric: Metric::Latency,
                max: 25.0,
            }],
        };
        let mut e = Evolution::new(&space, EvolutionParams::ofa_tutorial(), spec, seed).unwrap();
        drive(&mut e, &eff, &p).unwrap();
        let best = e.best().unwrap();
        let lat = best.cost.latency_ms.unwrap();
        eprintln!(
            "tutorial reproduction, seed {seed}: {:.3} % at {:.2} ms, r={}, {:.1}M MACs, {}",
            best.quality,
            lat,
            best.arch.r,
            best.cost.macs_m,
            best.arch.to_tutorial_json()
        );
        assert!(lat <= 25.0);
        assert_eq!(best.arch.r, 192);
        assert_eq!(e.counts().quality_evaluations, 50_100);
        accs.push(best.quality);
    }
    accs.sort_by(f64::total_cmp);
    assert!((accs[1] - 81.71).abs() <= 0.35, "{accs:?}");
}

#[test]
fn pixel8_finds_valid_subnets_for_several_budgets() {
    let Some(dir) = data() else { return };
    let hw = Hardware::load("pixel8").unwrap();
    let space = MbSpace::mbv3(1.2);
    let eff = ArchscopeEfficiency::on_default_unit(&space, &hw).unwrap();
    let p = mbv3_predictor(&dir, &space);
    let params = EvolutionParams {
        generations: 60,
        ..EvolutionParams::ofa()
    };
    // pixel8's cpu-big prices the largest w1.2 subnet at about 36 ms, so these budgets all bind
    let mut prev = 0.0;
    for budget in [15.0, 20.0, 25.0] {
        let spec = SearchSpec {
            objective: Objective::Constrained,
            constraints: vec![Constraint {
                metric: Metric::Latency,
                max: budget,
            }],
        };
        let mut e = Evolution::new(&space, params, spec, 1).unwrap();
        drive(&mut e, &eff, &p).unwrap();
        let b = e.best().unwrap();
        let lat = b.cost.latency_ms.unwrap();
        eprintln!(
            "pixel8 cpu-big <= {budget} ms: {:.2} % at {lat:.2} ms, {:.0}M MACs",
            b.quality, b.cost.macs_m
        );
        assert!(lat <= budget);
        // a binding budget is used up: the best subnet sits close to it
        assert!(lat > 0.9 * budget, "{lat} for {budget}");
        // a looser budget buys accuracy (heuristic search: allow 0.3 points of noise)
        assert!(b.quality > prev - 0.3, "{} after {prev}", b.quality);
        prev = b.quality;
    }
}
