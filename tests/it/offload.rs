//! Edge offload (`map --objective offload`): a split checked by hand on toy devices, the limits of
//! the link bandwidth on a real network, and the command line.

use crate::common::device::{DeviceToml, MemoryToml, UnitToml, flat_device};
use crate::common::{TempDir, archscope, archscope_paths, words};
use archscope::cost::Mode;
use archscope::hardware::Hardware;
use archscope::offload::{
    Link, Offload, OffloadObjective, OffloadOptions, Side, SideInfo, offload_vision, plan,
};
use archscope::score::{ScoreRequest, score_graph};
use archscope::workload::{DType, Graph, OpKind, QuantScheme, Role, Storage, VisionModel};

/// x[1,1000] -a-> h1[1,1000] -b-> h2[1,1000] -c-> out[1,10], every op a GEMV with an f32 weight.
fn chain() -> Graph {
    let mut g = Graph::new("chain");
    let f = Storage::plain(DType::F32);
    let x = g.add_tensor("x", &[1, 1000], f, Role::Input);
    let h1 = g.add_tensor("h1", &[1, 1000], f, Role::Activation);
    let h2 = g.add_tensor("h2", &[1, 1000], f, Role::Activation);
    let out = g.add_tensor("out", &[1, 10], f, Role::Output);
    let wa = g.add_tensor("wa", &[1000, 1000], f, Role::Weight);
    let wb = g.add_tensor("wb", &[1000, 1000], f, Role::Weight);
    let wc = g.add_tensor("wc", &[1000, 10], f, Role::Weight);
    let mm = |n| OpKind::MatMul {
        batch: 1,
        m: 1,
        n,
        k: 1000,
    };
    g.add_op("a", mm(1000), &[x, wa], &[h1], DType::F32, Some(0));
    g.add_op("b", mm(1000), &[h1, wb], &[h2], DType::F32, Some(1));
    g.add_op("c", mm(10), &[h2, wc], &[out], DType::F32, Some(2));
    g
}

/// The toy device (1e12 FLOP/s, 1e12 B/s, 1 pJ per op and per byte) with 0.5 W static power.
fn device() -> Hardware {
    flat_device("").static_w("0.5").hardware("dev.toml")
}

/// A server 100x faster: 1e14 FLOP/s and 1e14 B/s, no static power.
fn server() -> Hardware {
    DeviceToml::new("srv", "toy server")
        .unit(
            UnitToml::new("u", "gpu")
                .memory(&["m"])
                .peak("f32", "1e14")
                .pj_per_op("f32", "1"),
        )
        .memory(MemoryToml::new("m", "1e12", "1e14", "1"))
        .hardware("srv.toml")
}

/// A link file: 1e6 B/s both ways, 1 ms RTT, 1 µJ/B up, 0.1 µJ/B down, 1 W radio, no tail.
const LINK: &str = r#"
[link]
name = "toy"
description = "hand-checked link"
uplink_bytes_per_s = { value = 1e6, source = "test" }
downlink_bytes_per_s = { value = 1e6, source = "test" }
rtt_s = { value = 1e-3, source = "test" }
uplink_j_per_byte = { value = 1e-6, source = "test" }
downlink_j_per_byte = { value = 1e-7, source = "test" }
active_w = { value = 1.0, source = "test" }
tail_j = { value = 0.0, estimate = "none, for the test" }
"#;

fn info(hw: &Hardware) -> SideInfo {
    SideInfo {
        hardware: hw.name.clone(),
        unit: "u".into(),
        runtime: "ideal".into(),
    }
}

fn split(link: &Link, objective: OffloadObjective) -> Offload {
    let g = chain();
    let (d, s) = (device(), server());
    let de = score_graph(&d, 0, Mode::Ideal, &g).unwrap();
    let se = score_graph(&s, 0, Mode::Ideal, &g).unwrap();
    let opts = OffloadOptions {
        objective,
        ..OffloadOptions::default()
    };
    let side = |eval, hw: &Hardware| Side {
        graph: &g,
        eval,
        static_w: hw.static_w,
    };
    plan(
        "chain",
        (&side(&de, &d), info(&d)),
        (&side(&se, &s), info(&s)),
        link,
        &opts,
    )
    .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-15 + 1e-9 * b.abs()
}

#[test]
fn offload_split_by_hand() {
    let dir = TempDir::new("offload-hand");
    let path = dir.join("toy.toml");
    std::fs::write(&path, LINK).unwrap();
    let link = Link::load(path.to_str().unwrap()).unwrap();
    let o = split(&link, OffloadObjective::Latency);
    // Every boundary of a chain carries one tensor: k = 0..=3.
    let ks: Vec<usize> = o.cuts.iter().map(|c| c.index).collect();
    assert_eq!(ks, vec![0, 1, 2, 3]);
    // Ideal roofline, max(FLOPs / peak, bytes / bandwidth). Op a or b: 2e6 FLOPs, 4000 + 4e6 +
    // 4000 bytes: 4.008 µs on the device, 40.08 ns on the server. Op c: 2e4 FLOPs, 4000 +
    // 40000 + 40 bytes: 44.04 ns on the device, 0.4404 ns on the server.
    let (ab_d, c_d) = (4.008e-6, 44.04e-9);
    let (ab_s, c_s) = (40.08e-9, 0.4404e-9);
    // k = 0: upload x (4000 B / 1e6 B/s = 4 ms), RTT 1 ms, the server runs all three, the logits
    // come back (40 B = 40 µs).
    let k0 = &o.cuts[0];
    assert_eq!((k0.up_bytes, k0.down_bytes), (4000.0, 40.0));
    let wait0 = 4e-3 + 1e-3 + (2.0 * ab_s + c_s) + 40e-6;
    assert!(close(k0.latency_s, wait0), "{k0:?}");
    // k = 1: the device runs a, uploads h1 (4000 B), the server runs b and c.
    let k1 = &o.cuts[1];
    let wait1 = 4e-3 + 1e-3 + (ab_s + c_s) + 40e-6;
    assert!(close(k1.latency_s, ab_d + wait1), "{k1:?}");
    // Device energy of k = 1: op a (2e6 FLOPs x 1 pJ + 4.008e6 B x 1 pJ + 0.5 W x 4.008 µs),
    // radio (4000 B x 1 µJ + 40 B x 0.1 µJ + 1 W x wait), idle (0.5 W x wait), no tail.
    let e_a = 2e6 * 1e-12 + 4.008e6 * 1e-12 + 0.5 * ab_d;
    let radio = 4000.0 * 1e-6 + 40.0 * 1e-7 + 1.0 * wait1;
    assert!(close(k1.device_compute_j, e_a), "{k1:?}");
    assert!(close(k1.radio_j, radio), "{k1:?}");
    assert!(
        close(k1.device_energy_j, e_a + radio + 0.5 * wait1),
        "{k1:?}"
    );
    // k = 3: all on the device, no link.
    let k3 = o.all_on_device();
    assert!(close(k3.latency_s, 2.0 * ab_d + c_d), "{k3:?}");
    assert_eq!(k3.up_bytes + k3.down_bytes + k3.radio_j, 0.0);
    // The argmin: 8 µs of compute beats 5 ms of link.
    assert_eq!(o.best_cut().index, 3);
    assert_eq!(split(&link, OffloadObjective::Energy).best_cut().index, 3);
    // A link of 1e15 B/s with no RTT: the 100x faster server wins, all of it.
    let mut fast = link.at_uplink(1e15);
    fast.rtt_s = 0.0;
    let f = split(&fast, OffloadObjective::Latency);
    assert_eq!(f.best_cut().index, 0, "{:?}", f.best_cut());
}

/// The fp16 offload of `model` from a Pixel 8 to an A100 over `link`, default requests and
/// options.
fn phone_to_a100(model: &VisionModel, link: &Link) -> Offload {
    let quant = QuantScheme::parse("fp16").unwrap();
    let (d, s) = (
        Hardware::load("pixel8").unwrap(),
        Hardware::load("a100-80gb").unwrap(),
    );
    let req = ScoreRequest::default();
    offload_vision(
        model,
        &quant,
        (&d, &req),
        (&s, &req),
        link,
        &OffloadOptions::default(),
    )
    .unwrap()
}

#[test]
fn offload_bandwidth_limits_on_a_real_network() {
    let model = VisionModel::parse("resnet18?res=64").unwrap();
    let run = |link: &Link| phone_to_a100(&model, link);
    let wifi = Link::load("wifi6").unwrap();
    let o = run(&wifi);
    let b = o.best_cut();
    assert!(b.latency_s <= o.all_on_device().latency_s);
    assert!(b.latency_s <= o.all_on_server().latency_s);
    for p in &o.sweep {
        assert!(p.best_latency_s <= p.device_latency_s.min(p.server_latency_s) * (1.0 + 1e-12));
    }
    // The server (an A100) is faster than the phone's CPU; with a near-infinite link the whole
    // network goes to it.
    assert!(o.all_on_server().server_s < o.all_on_device().device_s);
    let mut fast = wifi.at_uplink(1e15);
    fast.rtt_s = 0.0;
    assert_eq!(run(&fast).best_cut().index, 0);
    // With a link of 1 B/s nothing is worth sending.
    let slow = run(&wifi.at_uplink(1.0));
    assert_eq!(slow.best_cut().index, slow.ops);
}

#[test]
fn offload_picks_a_cut_inside_a_network_whose_pools_shrink_the_data() {
    // YOLOv3-tiny at 416x416: the fp16 image is 1.04 MB, and its max-pools shrink the
    // activation 4x each; over Wi-Fi 6 the phone runs the first layers and ships a smaller
    // tensor, which beats both ends (as Neurosurgeon found for AlexNet, cut after a pool).
    let model = VisionModel::parse("yolov3-tiny").unwrap();
    let o = phone_to_a100(&model, &Link::load("wifi6").unwrap());
    let b = o.best_cut();
    assert!(b.index > 0 && b.index < o.ops, "{b:?}");
    assert!(b.up_bytes < o.all_on_server().up_bytes, "{b:?}");
    assert!(b.latency_s < o.all_on_device().latency_s.min(o.all_on_server().latency_s));
}

#[test]
fn offload_cli_issue_command() {
    let (ok, out, err) = archscope(&words(
        "map --objective offload --hw pixel8 --server a100-80gb --link wifi6 --model resnet50",
    ));
    assert!(ok, "{err}");
    for row in ["best", "all on device", "all on server"] {
        assert!(
            out.lines().any(|l| l.starts_with(row)),
            "no `{row}` row:\n{out}"
        );
    }
    assert!(out.contains("best cut:"), "{out}");
    assert!(out.contains("bandwidth sweep"), "{out}");
    // The sweep's first row is 1 Mb/s: 301 KB of fp16 image take 2.4 s, so nothing is sent.
    let first = out
        .lines()
        .skip_while(|l| !l.starts_with("bandwidth sweep"))
        .nth(2)
        .unwrap();
    let w = words(first);
    assert_eq!(w[0], "1.000", "{first}");
    assert_eq!(w[w.len() - 3..].join(" "), "all on device", "{first}");
}

#[test]
fn offload_cli_json_chart_and_trend() {
    let dir = TempDir::new("offload-cli");
    let chart = dir.join("sweep.svg");
    let base = "map --objective offload --hw pixel8 --server a100-80gb --model resnet50 \
                --format json";
    let wifi = format!("{base} --link wifi6");
    let (ok, out, err) = archscope_paths(&wifi, &[("--chart", &chart)]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let best = v["best_cut"]["latency_s"].as_f64().unwrap();
    let dev = v["all_on_device"]["latency_s"].as_f64().unwrap();
    let srv = v["all_on_server"]["latency_s"].as_f64().unwrap();
    assert!(best <= dev && best <= srv, "{best} {dev} {srv}");
    assert_eq!(v["link"]["name"], "wifi6");
    assert!(v["sweep"].as_array().unwrap().len() >= 2);
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    // No clobbering without --force.
    let (ok, _, err) = archscope_paths(&wifi, &[("--chart", &chart)]);
    assert!(!ok && err.contains("--force"), "{err}");
    // The trend Neurosurgeon (Kang et al., ASPLOS 2017) reports: over fast Wi-Fi the work moves
    // to the server, over a slow cellular uplink it stays on the phone.
    assert_eq!(v["best_cut"]["label"], "all on server");
    let (ok, out, err) = archscope(&words(&format!("{base} --link lte")));
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["best_cut"]["label"], "all on device");
}

#[test]
fn offload_cli_bad_links() {
    let dir = TempDir::new("offload-bad");
    let base = "map --objective offload --hw pixel8 --server a100-80gb --model resnet18";
    let (ok, _, err) = archscope(&words(&format!("{base} --link carrier-pigeon")));
    assert!(!ok);
    assert!(
        err.contains("carrier-pigeon") && err.contains("wifi6") && err.contains("lte"),
        "{err}"
    );
    // A negative RTT names the file and the field.
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        LINK.replace("rtt_s = { value = 1e-3", "rtt_s = { value = -1"),
    )
    .unwrap();
    let (ok, _, err) = archscope_paths(base, &[("--link", &bad)]);
    assert!(!ok);
    assert!(
        err.contains("bad.toml") && err.contains("link.rtt_s") && err.contains("0 or more"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // An unknown field is refused, by name.
    std::fs::write(&bad, LINK.replace("[link]\n", "[link]\nbandwidth = 3\n")).unwrap();
    let (ok, _, err) = archscope_paths(base, &[("--link", &bad)]);
    assert!(
        !ok && err.contains("bad.toml") && err.contains("bandwidth"),
        "{err}"
    );
    // Missing pieces are named.
    let (ok, _, err) = archscope(&words(
        "map --objective offload --hw pixel8 --model resnet18",
    ));
    assert!(!ok && err.contains("--server"), "{err}");
}
