//! Tests of the OFA spaces: channel widths, MACs and parameters of known subnets, arch-dict
//! round trips and errors, and the genetic operators.

use super::*;
use rand::SeedableRng;
use serde_json::json;

/// The arch found by the evolutionary search of the OFA tutorial notebook.
pub(crate) fn tutorial_arch() -> MbArch {
    MbArch {
        ks: vec![5, 3, 3, 3, 5, 3, 3, 3, 7, 7, 3, 3, 5, 5, 7, 3, 3, 3, 5, 3],
        e: vec![3, 3, 3, 3, 4, 4, 3, 3, 6, 3, 4, 3, 4, 4, 4, 3, 6, 6, 6, 3],
        d: vec![2, 2, 3, 4, 3],
        r: 192,
    }
}

#[test]
fn stage_widths_after_rounding() {
    let w12 = MbSpace::mbv3(1.2);
    assert_eq!((w12.stem, w12.first_block), (24, 24));
    assert_eq!(w12.widths, vec![32, 48, 96, 136, 192]);
    assert_eq!((w12.final_expand, w12.last_channel), (Some(1152), 1536));
    let w10 = MbSpace::mbv3(1.0);
    assert_eq!(w10.widths, vec![24, 40, 80, 112, 160]);
    let p = MbSpace::proxyless(1.3);
    assert_eq!((p.stem, p.first_block), (40, 24));
    assert_eq!(p.widths, vec![32, 56, 104, 128, 248, 416]);
    assert_eq!(p.last_channel, 1664);
    let r = ResNetSpace::default();
    let widths: Vec<Vec<u32>> = (0..4)
        .map(|s| (0..3).map(|w| r.stage_width(s, w)).collect())
        .collect();
    assert_eq!(
        widths,
        vec![
            vec![168, 208, 256],
            vec![336, 408, 512],
            vec![664, 816, 1024],
            vec![1328, 1640, 2048]
        ]
    );
    assert_eq!(
        (0..3).map(|w| r.stem_out(w)).collect::<Vec<_>>(),
        vec![40, 48, 64]
    );
    assert_eq!(
        (0..3).map(|w| r.stem_mid(w)).collect::<Vec<_>>(),
        vec![24, 24, 32]
    );
}

#[test]
fn tutorial_subnet_macs() {
    // 264.0M conv+FC MACs, counted independently from OFA's layer definitions
    let space = MbSpace::mbv3(1.2);
    let net = space.net(&tutorial_arch());
    net.check().unwrap();
    assert_eq!((net.ofa_macs() as f64 / 1e6 * 10.0).round() / 10.0, 264.0);
    let g = net.graph(crate::nas::net::Precision::F32);
    g.validate().unwrap();
    assert_eq!(g.macs(), net.ofa_macs() as f64);
    assert_eq!(g.param_count(), net.params());
}

#[test]
fn extreme_subnets_macs_and_params() {
    // conv + FC MACs (millions) of the largest (k7, e6, d4) and smallest (k3, e3, d2) subnet
    // of each space, counted independently from OFA's layer definitions
    let cases = [
        (MbSpace::mbv3(1.0), 128, 188.2, 41.5),
        (MbSpace::mbv3(1.0), 160, 291.3, 63.2),
        (MbSpace::mbv3(1.0), 224, 566.2, 121.3),
        (MbSpace::mbv3(1.2), 128, 280.0, 65.5),
        (MbSpace::mbv3(1.2), 160, 433.6, 100.3),
        (MbSpace::mbv3(1.2), 224, 843.1, 193.1),
        (MbSpace::proxyless(1.3), 128, 329.3, 87.8),
        (MbSpace::proxyless(1.3), 224, 1004.9, 265.5),
    ];
    for (space, r, max_m, min_m) in cases {
        let n = space.n_blocks();
        let max = MbArch {
            ks: vec![7; n],
            e: vec![6; n],
            d: vec![4; space.n_stages()],
            r,
        };
        let min = MbArch {
            ks: vec![3; n],
            e: vec![3; n],
            d: vec![2; space.n_stages()],
            r,
        };
        let m = |a: &MbArch| (space.net(a).ofa_macs() as f64 / 1e5).round() / 10.0;
        assert_eq!(m(&max), max_m, "{} max @{r}", space.name);
        assert_eq!(m(&min), min_m, "{} min @{r}", space.name);
    }
    let p = |s: &MbSpace, k, e, d| {
        let n = s.n_blocks();
        let a = MbArch {
            ks: vec![k; n],
            e: vec![e; n],
            d: vec![d; s.n_stages()],
            r: 224,
        };
        (s.net(&a).params() as f64 / 1e4).round() / 100.0
    };
    assert_eq!(p(&MbSpace::mbv3(1.0), 7, 6, 4), 7.62);
    assert_eq!(p(&MbSpace::mbv3(1.0), 3, 3, 2), 3.40);
    assert_eq!(p(&MbSpace::mbv3(1.2), 7, 6, 4), 10.65);
    assert_eq!(p(&MbSpace::mbv3(1.2), 3, 3, 2), 4.59);
    assert_eq!(p(&MbSpace::proxyless(1.3), 7, 6, 4), 7.88);
    assert_eq!(p(&MbSpace::proxyless(1.3), 3, 3, 2), 3.70);
}

#[test]
fn resnet50d_from_the_space() {
    // d=[2,1,2,2,1], e=0.25, w=1.0 is ResNet50-D (stages 3-4-6-3): 4328.8M MACs, 25.52M
    // params at 224, about the published 4.3 GMACs and 25.6M params
    let s = ResNetSpace::default();
    let a = ResNetArch {
        d: vec![2, 1, 2, 2, 1],
        e: vec![1; 18],
        w: vec![2; 6],
        r: 224,
    };
    let net = s.net(&a);
    net.check().unwrap();
    assert_eq!((net.ofa_macs() as f64 / 1e5).round() / 10.0, 4328.8);
    assert_eq!((net.params() as f64 / 1e4).round() / 100.0, 25.52);
    net.graph(crate::nas::net::Precision::F32)
        .validate()
        .unwrap();
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
        r: 224,
    };
    assert_eq!((s.net(&max).ofa_macs() as f64 / 1e5).round() / 10.0, 7491.6);
    assert_eq!((s.net(&max).params() as f64 / 1e5).round() / 10.0, 48.0);
    assert_eq!((s.net(&min).ofa_macs() as f64 / 1e5).round() / 10.0, 962.2);
    assert_eq!((s.net(&min).params() as f64 / 1e4).round() / 100.0, 6.52);
}

#[test]
fn arch_dict_round_trips_in_both_forms() {
    let space = MbSpace::mbv3(1.2);
    let a = tutorial_arch();
    let lib = MbArch::from_json(&a.to_json(), &space, "t").unwrap();
    let tut = MbArch::from_json(&a.to_tutorial_json(), &space, "t").unwrap();
    assert_eq!(lib, a);
    assert_eq!(tut, a);
    // recovering the arch from its own net gives the same active genes
    let back = space.arch_from_net(&space.net(&a)).unwrap();
    assert_eq!(space.net(&back), space.net(&a));
    let rs = ResNetSpace::default();
    let mut rng = SearchRng::seed_from_u64(3);
    let r = rs.sample(&mut rng);
    assert_eq!(ResNetArch::from_json(&r.to_json(&rs), &rs, "t").unwrap(), r);
}

#[test]
fn bad_arch_dicts_name_the_field() {
    let space = MbSpace::mbv3(1.2);
    let mut v = tutorial_arch().to_json();
    v["ks"][4] = json!(4);
    let e = MbArch::from_json(&v, &space, "arch.json")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("arch.json") && e.contains("ks[4]") && e.contains("[3, 5, 7]"),
        "{e}"
    );
    let e = MbArch::from_str("{\"ks\": [3]", &space, "a.json")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("a.json:1:"), "{e}");
    let mut v = tutorial_arch().to_json();
    v.as_object_mut().unwrap().remove("image_size");
    let e = MbArch::from_json(&v, &space, "x").unwrap_err().to_string();
    assert!(e.contains("image_size"), "{e}");
}

#[test]
fn mutation_and_crossover_stay_in_the_space() {
    let space = MbSpace::mbv3(1.2);
    let mut rng = SearchRng::seed_from_u64(7);
    let rates = MutationRates {
        arch: 0.1,
        resolution: 0.5,
    };
    for _ in 0..200 {
        let a = space.sample(&mut rng);
        let b = space.sample(&mut rng);
        space
            .validate(&space.mutate(&a, rates, &mut rng), "m")
            .unwrap();
        let c = space.crossover(&a, &b, &mut rng);
        space.validate(&c, "c").unwrap();
        for i in 0..space.n_blocks() {
            assert!(c.ks[i] == a.ks[i] || c.ks[i] == b.ks[i]);
        }
        assert!(space.resolutions.contains(&c.r));
    }
}
