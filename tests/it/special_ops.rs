//! Transcendentals are priced at the unit's sustained special-function rate when it has one
//! (calibrated mode), and by their FLOPs alone otherwise. Values computed by hand.

use crate::common::device::flat_device;
use archscope::cost::Mode;
use archscope::hardware::Hardware;
use archscope::score::score_graph;
use archscope::workload::{DType, EltOp, Graph, OpKind, Role, Storage};

fn silu_graph(elems: u64) -> Graph {
    let mut g = Graph::new("silu");
    let f = Storage::plain(DType::F32);
    let x = g.add_tensor("x", &[elems], f, Role::Input);
    let y = g.add_tensor("y", &[elems], f, Role::Output);
    g.add_op(
        "silu",
        OpKind::Elementwise {
            op: EltOp::Silu,
            elems,
        },
        &[x],
        &[y],
        DType::F32,
        None,
    );
    g
}

#[test]
fn special_ops_counts_by_hand() {
    assert_eq!(
        OpKind::Elementwise {
            op: EltOp::Silu,
            elems: 10
        }
        .special_ops(),
        10.0
    );
    assert_eq!(
        OpKind::Elementwise {
            op: EltOp::Relu,
            elems: 10
        }
        .special_ops(),
        0.0
    );
    assert_eq!(OpKind::Softmax { rows: 3, cols: 4 }.special_ops(), 12.0);
    // A unary elementary function (tanh, erf, exp, ...) is one transcendental per element;
    // arithmetic and piecewise-linear ops are none.
    assert_eq!(
        OpKind::Elementwise {
            op: EltOp::Unary,
            elems: 7
        }
        .special_ops(),
        7.0
    );
    for op in [
        EltOp::Sub,
        EltOp::Div,
        EltOp::LeakyRelu,
        EltOp::Clip,
        EltOp::Compare,
    ] {
        assert_eq!(op.specials_per_elem(), 0.0, "{op:?}");
    }
}

#[test]
fn transcendentals_take_the_special_rate() {
    // 1e6 SiLU: 5e6 FLOPs at 1e12/s = 5 µs; 8e6 bytes at 1e12 B/s = 8 µs; 1e6 exp at 1e9/s = 1 ms.
    let g = silu_graph(1_000_000);
    let with = flat_device("special_ops_per_s = { f32 = { value = 1e9, source = \"test\" } }");
    let hw = Hardware::from_toml_str(&with.text(), "t.toml").unwrap();
    let t = score_graph(&hw, 0, Mode::Calibrated, &g)
        .unwrap()
        .total
        .latency_s;
    assert!((t - 1e-3).abs() < 1e-12, "{t}");
    // the ideal roofline ignores it: max(5 µs, 8 µs)
    let t = score_graph(&hw, 0, Mode::Ideal, &g)
        .unwrap()
        .total
        .latency_s;
    assert!((t - 8e-6).abs() < 1e-15, "{t}");
    // without the figure, transcendentals cost their FLOPs only
    let hw = Hardware::from_toml_str(&flat_device("").text(), "t.toml").unwrap();
    let t = score_graph(&hw, 0, Mode::Calibrated, &g)
        .unwrap()
        .total
        .latency_s;
    assert!((t - 8e-6).abs() < 1e-15, "{t}");
}
