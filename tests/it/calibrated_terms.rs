//! The calibrated terms that describe a runtime's kernels beyond the roofline: operand
//! repacking before a GEMM (`pack_bandwidth_efficiency`), serial row reductions
//! (`serial_reduce_elems_per_s`), depthwise convolution (`depthwise_macs_per_s`), packing per
//! home level (`level_pack_bandwidth_efficiency`), a GEMV's vector re-reads
//! (`reuse_refetch_bytes_per_s`) and short products (`gemm_depth_overhead`). Each is
//! priced only where the unit gives it and only in calibrated mode. Values computed by hand on
//! a device of 1e12 FLOP/s and 1e12 B/s with no overhead.

use crate::common::device::{DeviceToml, MemoryToml, UnitToml, flat_device};
use archscope::cost::Mode;
use archscope::hardware::Hardware;
use archscope::roofline::packed_operand;
use archscope::score::score_graph;
use archscope::validate::cases::{attention_graph, conv_graph, ggml_storage, matmul_graph};
use archscope::workload::{Conv2d, DType, Graph, NormKind, OpId, OpKind, Role, Storage};

const ALL: &str = "pack_bandwidth_efficiency = { value = 0.25, source = \"test\" }\n\
serial_reduce_elems_per_s = { value = 1e9, source = \"test\" }\n\
depthwise_macs_per_s = { value = 1e6, source = \"test\" }\n\
special_ops_per_s = { f32 = { value = 1e9, source = \"test\" } }";

/// The text of the flat device (one f32 unit of 1e12 FLOP/s on one level `m` of 1e12 B/s, no
/// overhead) with `extra` in its unit.
fn device(extra: &str) -> String {
    flat_device(extra).text()
}

fn hw(extra: &str) -> Hardware {
    Hardware::from_toml_str(&device(extra), "t.toml").unwrap()
}

fn latency(hw: &Hardware, mode: Mode, g: &Graph) -> f64 {
    let l = score_graph(hw, 0, mode, g).unwrap().total;
    // The parts add up to the latency.
    let parts = l.compute_bound_s + l.memory_bound_s.iter().sum::<f64>() + l.overhead_s;
    assert!(
        (parts - l.latency_s).abs() <= 1e-12 * l.latency_s.max(1e-9),
        "{l:?}"
    );
    l.latency_s
}

fn assert_close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-9 * want,
        "got {got:e}, want {want:e}"
    );
}

const F32: Storage = Storage {
    dtype: DType::F32,
    group: None,
};

#[test]
fn gemm_packs_its_transposed_weights() {
    let h = hw(ALL);
    // 4x1000x1000: 8e6 FLOPs = 8 µs; 4 MB of weights packed at 0.25 x 1e12 B/s = 16 µs.
    let g = matmul_graph(4, 1000, 1000, F32, DType::F32);
    assert_close(latency(&h, Mode::Calibrated, &g), 24e-6);
    // The ideal roofline and a device without the figure do not pack.
    assert_close(latency(&h, Mode::Ideal, &g), 8e-6);
    assert_close(latency(&hw(""), Mode::Calibrated, &g), 8e-6);
    // A GEMV streams its weights: max(2 µs, 4.008 MB / 1e12 B/s) = 4.008 µs.
    let g = matmul_graph(1, 1000, 1000, F32, DType::F32);
    assert_close(latency(&h, Mode::Calibrated, &g), 4.008e-6);
    // Weights in q8_0 blocks are read as they lie: 8e6 int8 ops at the widened f32 peak (the
    // device has no i8) = 8 µs, more than the 1.0625 MB + 32 kB of traffic.
    let g = matmul_graph(4, 1000, 1024, ggml_storage(DType::I8), DType::I8);
    assert_close(
        latency(&h, Mode::Calibrated, &g),
        2.0 * 4.0 * 1000.0 * 1024.0 / 1e12,
    );
}

#[test]
fn a_product_of_two_activations_is_not_packed() {
    // x[4, 1000] · b[1000, 1000] with b an activation laid out [k, n]: 8 µs of FLOPs only.
    let h = hw(ALL);
    let mut g = Graph::new("mm");
    let x = g.add_tensor("x", &[4, 1000], F32, Role::Input);
    let b = g.add_tensor("b", &[1000, 1000], F32, Role::Input);
    let y = g.add_tensor("y", &[4, 1000], F32, Role::Output);
    g.add_op(
        "mm",
        OpKind::MatMul {
            batch: 1,
            m: 4,
            n: 1000,
            k: 1000,
        },
        &[x, b],
        &[y],
        DType::F32,
        None,
    );
    assert_close(latency(&h, Mode::Calibrated, &g), 8e-6);
}

#[test]
fn grouped_decode_attention_packs_its_keys() {
    let h = hw(ALL);
    // 4 query heads share one KV head over 100 positions of 10: Q·Kᵀ is a 4-row product that
    // packs the 100x10 f32 keys (4 kB) at 0.25e12 B/s = 16 ns. The whole layer, by hand:
    // scores 2·4·100·10 = 8000 FLOPs (8 ns) vs 160 + 4000 + 1600 B (5.76 ns): 8 + 16 ns;
    // softmax: 400 exp at 1e9/s, then 400 reduced at 1e9/s = 800 ns; values: 8 ns vs 5.76 ns.
    let g = attention_graph(4, 1, 10, 1, 100);
    assert_close(
        latency(&h, Mode::Calibrated, &g),
        (8.0 + 16.0 + 800.0 + 8.0) * 1e-9,
    );
    assert_eq!(packed_operand(&g, OpId(0)).map(|p| p.bytes), Some(4000.0));
    // P·V reads V as it lies.
    assert!(packed_operand(&g, OpId(2)).is_none());
    // One query row per KV head (MHA decode) is a matrix-vector product: nothing packed.
    let g = attention_graph(4, 4, 10, 1, 100);
    assert!(packed_operand(&g, OpId(0)).is_none());
}

#[test]
fn norms_and_softmax_pay_their_serial_reductions() {
    let h = hw(ALL);
    // RMSNorm of 10 rows of 1000: 1e4 elements reduced at 1e9/s = 10 µs (FLOPs 40 ns, bytes
    // 84 ns).
    let mut g = Graph::new("norm");
    let x = g.add_tensor("x", &[10, 1000], F32, Role::Input);
    let w = g.add_tensor("w", &[1000], F32, Role::Weight);
    let y = g.add_tensor("y", &[10, 1000], F32, Role::Output);
    g.add_op(
        "rms",
        OpKind::Norm {
            kind: NormKind::RmsNorm,
            rows: 10,
            cols: 1000,
        },
        &[x, w],
        &[y],
        DType::F32,
        None,
    );
    assert_close(latency(&h, Mode::Calibrated, &g), 10e-6);
    // Softmax of the same rows: 1e4 exp at 1e9/s then 1e4 reduced at 1e9/s = 20 µs.
    let mut g = Graph::new("softmax");
    let x = g.add_tensor("x", &[10, 1000], F32, Role::Input);
    let y = g.add_tensor("y", &[10, 1000], F32, Role::Output);
    g.add_op(
        "softmax",
        OpKind::Softmax {
            rows: 10,
            cols: 1000,
        },
        &[x],
        &[y],
        DType::F32,
        None,
    );
    assert_close(latency(&h, Mode::Calibrated, &g), 20e-6);
    // BatchNorm reduces nothing.
    assert_eq!(
        OpKind::Norm {
            kind: NormKind::BatchNorm,
            rows: 10,
            cols: 1000
        }
        .reduced_elems(),
        0.0
    );
}

fn conv(c_in: u64, c_out: u64, k: u64, groups: u64) -> Conv2d {
    Conv2d::square(c_in, 10, 10, c_out, k, 1, k / 2).grouped(groups)
}

#[test]
fn convolutions_by_hand() {
    let h = hw(ALL);
    // Depthwise 3x3 over 8 channels at 10x10: 7200 MACs at 1e6 MAC/s = 7.2 ms.
    let g = conv_graph(conv(8, 8, 3, 8));
    assert_close(latency(&h, Mode::Calibrated, &g), 7.2e-3);
    // 3x3 dense, 2 -> 4 channels: 14400 FLOPs = 14.4 ns, bytes 800 + 288 + 1600 = 2.688 ns;
    // the im2col matrix of 2·9 x 100 f32 (7200 B) gathered at 0.25e12 B/s = 28.8 ns.
    let g = conv_graph(conv(2, 4, 3, 1));
    assert_close(latency(&h, Mode::Calibrated, &g), 43.2e-9);
    // 1x1 stride 1 multiplies the input as it lies: 1600 FLOPs = 1.6 ns vs 800 + 32 + 1600 B.
    let g = conv_graph(conv(2, 4, 1, 1));
    assert_close(latency(&h, Mode::Calibrated, &g), 2.432e-9);
}

#[test]
fn bad_figures_are_errors_naming_the_field() {
    for (field, value, want) in [
        ("pack_bandwidth_efficiency", "1.5", "at most 1"),
        ("serial_reduce_elems_per_s", "0", "positive"),
        ("depthwise_macs_per_s", "-3", "positive"),
    ] {
        let text = device(&format!(
            "{field} = {{ value = {value}, source = \"test\" }}"
        ));
        let e = Hardware::from_toml_str(&text, "t.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains(field) && e.contains(want), "{e}");
    }
}

#[test]
fn block_quantized_products_take_their_kernel_rate() {
    let with = "block_quant_ops_per_s = { i8 = { value = 1e9, source = \"test\" } }";
    let h = hw(with);
    // q8_0 weights, 4x1000x1024: 8.192e6 ops at 1e9/s = 8.192 ms.
    let g = matmul_graph(4, 1000, 1024, ggml_storage(DType::I8), DType::I8);
    assert_close(latency(&h, Mode::Calibrated, &g), 8.192e-3);
    // q4_0 widens to the i8 rate when the unit gives none for i4.
    let g = matmul_graph(4, 1000, 1024, ggml_storage(DType::I4), DType::I8);
    assert_close(latency(&h, Mode::Calibrated, &g), 8.192e-3);
    // Dense weights are not block-quantized: 8 µs at the peak.
    let g = matmul_graph(4, 1000, 1000, F32, DType::F32);
    assert_close(latency(&h, Mode::Calibrated, &g), 8e-6);
    // The ideal roofline ignores the rate.
    let g = matmul_graph(4, 1000, 1024, ggml_storage(DType::I8), DType::I8);
    assert_close(latency(&h, Mode::Ideal, &g), 8.192e-6);
}

#[test]
fn per_level_bandwidth_efficiency_overrides_the_unit_one() {
    // GEMV 1x1000x1000: 4.008 MB from level m at 0.5 x 1e12 B/s = 8.016 µs (2 µs of FLOPs).
    let h = hw("level_bandwidth_efficiency = { m = { value = 0.5, source = \"test\" } }");
    let g = matmul_graph(1, 1000, 1000, F32, DType::F32);
    assert_close(latency(&h, Mode::Calibrated, &g), 8.016e-6);
    // The ideal roofline ignores it.
    assert_close(latency(&h, Mode::Ideal, &g), 4.008e-6);
    // A level the unit does not reach is an error naming the field and the levels it reaches.
    let text = device("level_bandwidth_efficiency = { x = { value = 0.5, source = \"test\" } }");
    let e = Hardware::from_toml_str(&text, "t.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("level_bandwidth_efficiency.x") && e.contains("it reaches: m"),
        "{e}"
    );
}

/// The flat device with `count` cores reaching a first level `l1` of 8000 B and main memory
/// `m`, both at 1e12 B/s; `extra` takes the unit's optional fields.
fn two_level_text(count: u32, extra: &str) -> String {
    DeviceToml::new("t", "test device")
        .unit(
            UnitToml::new("u", "cpu")
                .count(count)
                .memory(&["l1", "m"])
                .lines(extra)
                .peak("f32", "1e12")
                .pj_per_op("f32", "1"),
        )
        .memory(MemoryToml::new("l1", "8000", "1e12", "1"))
        .memory(MemoryToml::new("m", "1e12", "1e12", "1"))
        .text()
}

fn two_levels(count: u32, extra: &str) -> Hardware {
    Hardware::from_toml_str(&two_level_text(count, extra), "t2.toml").unwrap()
}

/// Latency of `g` on `with` minus its latency on `without` (calibrated mode).
fn extra_time(with: &Hardware, without: &Hardware, g: &Graph) -> f64 {
    latency(with, Mode::Calibrated, g) - latency(without, Mode::Calibrated, g)
}

#[test]
fn a_gemv_whose_vector_overflows_a_cores_first_level_rereads_it() {
    let refetch = "reuse_refetch_bytes_per_s = { value = 1e9, source = \"test\" }";
    // Two cores: each has 4000 B of l1. K = 600 f32: vector 2400 B + one weight row 2400 B
    // = 4800 B > 4000 B, so each of the 1000 outputs re-reads the vector from m:
    // 1000 x 2400 B = 2.4 MB at 1e9 B/s = 2.4 ms, in series with the rest.
    let (with, without) = (two_levels(2, refetch), two_levels(2, ""));
    let g = matmul_graph(1, 1000, 600, F32, DType::F32);
    assert!((extra_time(&with, &without, &g) - 2.4e-3).abs() < 1e-12);
    let total = score_graph(&with, 0, Mode::Calibrated, &g).unwrap().total;
    let base = score_graph(&without, 0, Mode::Calibrated, &g)
        .unwrap()
        .total;
    assert_close(total.bytes[0], base.bytes[0]);
    assert_close(total.bytes[1] - base.bytes[1], 2.4e6);
    // K = 400: 1600 + 1600 B fit in 4000 B, the vector stays.
    let g = matmul_graph(1, 1000, 400, F32, DType::F32);
    assert_eq!(extra_time(&with, &without, &g), 0.0);
    // One core has all 8000 B: K = 600 fits.
    let g = matmul_graph(1, 1000, 600, F32, DType::F32);
    assert_eq!(
        extra_time(&two_levels(1, refetch), &two_levels(1, ""), &g),
        0.0
    );
    // Not for GEMMs (m > 1), weights in quantized blocks, or the ideal roofline.
    let g = matmul_graph(2, 1000, 600, F32, DType::F32);
    assert_eq!(extra_time(&with, &without, &g), 0.0);
    let g = matmul_graph(1, 1000, 1024, ggml_storage(DType::I8), DType::I8);
    assert_eq!(extra_time(&with, &without, &g), 0.0);
    let g = matmul_graph(1, 1000, 600, F32, DType::F32);
    assert_eq!(
        latency(&with, Mode::Ideal, &g),
        latency(&without, Mode::Ideal, &g)
    );
}

#[test]
fn packing_takes_the_efficiency_of_the_operands_home_level() {
    let scalar = "pack_bandwidth_efficiency = { value = 0.25, source = \"test\" }";
    let both = format!(
        "{scalar}\nlevel_pack_bandwidth_efficiency = {{ m = {{ value = 0.01, source = \"test\" }} }}"
    );
    let (h, base) = (two_levels(1, &both), two_levels(1, ""));
    // 4x1000x1000 f32 weights (4 MB) live in m: packed at 0.01 x 1e12 B/s = 400 µs.
    let g = matmul_graph(4, 1000, 1000, F32, DType::F32);
    assert_close(extra_time(&h, &base, &g), 400e-6);
    // Without the per-level figure, 0.25 x 1e12 B/s: 16 µs.
    assert_close(extra_time(&two_levels(1, scalar), &base, &g), 16e-6);
    // 4x10x10 weights (400 B) live in l1, which has no figure of its own: 400 B at
    // 0.25 x 1e12 B/s = 1.6 ns.
    let g = matmul_graph(4, 10, 10, F32, DType::F32);
    assert_close(extra_time(&h, &base, &g), 1.6e-9);
    // A level the unit does not reach is an error naming the field.
    let text = two_level_text(
        1,
        "level_pack_bandwidth_efficiency = { dram = { value = 0.5, source = \"test\" } }",
    );
    let e = Hardware::from_toml_str(&text, "t2.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("level_pack_bandwidth_efficiency.dram") && e.contains("it reaches: l1, m"),
        "{e}"
    );
    let text = two_level_text(
        1,
        "reuse_refetch_bytes_per_s = { value = 0, source = \"test\" }",
    );
    let e = Hardware::from_toml_str(&text, "t2.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("reuse_refetch_bytes_per_s") && e.contains("positive"),
        "{e}"
    );
}

#[test]
fn rows_a_multiple_of_the_conflict_stride_pack_at_their_own_efficiency() {
    let plain = "level_pack_bandwidth_efficiency = { m = { value = 0.01, source = \"test\" } }\n\
                 pack_conflict_stride_bytes = { value = 4000, source = \"test\" }";
    let both = format!(
        "{plain}\nlevel_pack_conflict_bandwidth_efficiency = {{ m = {{ value = 0.001, source = \"test\" }} }}"
    );
    let (h, base) = (two_levels(1, &both), two_levels(1, ""));
    // Rows of 1000 f32 = 4000 B, one stride: 4 MB at 0.001 x 1e12 B/s = 4 ms.
    let g = matmul_graph(4, 1000, 1000, F32, DType::F32);
    assert_close(extra_time(&h, &base, &g), 4e-3);
    // Rows of 2000 f32 = 8000 B, two strides: 8 MB at 1e9 B/s = 8 ms.
    let g = matmul_graph(4, 1000, 2000, F32, DType::F32);
    assert_close(extra_time(&h, &base, &g), 8e-3);
    // Rows of 999 f32 = 3996 B do not conflict: 3.996 MB at 1e10 B/s = 399.6 µs.
    let g = matmul_graph(4, 1000, 999, F32, DType::F32);
    assert_close(extra_time(&h, &base, &g), 399.6e-6);
    // Without a conflict figure for the level, conflicting rows take the plain one: 400 µs.
    let g = matmul_graph(4, 1000, 1000, F32, DType::F32);
    assert_close(extra_time(&two_levels(1, plain), &base, &g), 400e-6);
}

#[test]
fn short_products_pay_the_depth_overhead() {
    let h = hw("gemm_depth_overhead = { value = 16, source = \"test\" }");
    let base = hw("");
    // 1000x1000 outputs of depth 16: 32e6 FLOPs = 32 µs at the peak, and at 16 / (16 + 16) of
    // it 64 µs (the traffic, 64 kB + 64 kB + 4 MB at 1e12 B/s = 4.128 µs, is below both).
    let g = matmul_graph(1000, 1000, 16, F32, DType::F32);
    assert_close(latency(&base, Mode::Calibrated, &g), 32e-6);
    assert_close(latency(&h, Mode::Calibrated, &g), 64e-6);
    // A 1x1 convolution from 16 to 1000 channels at 1000 positions is the same product:
    // 2·16·1000·1000 = 32e6 FLOPs of depth 16, 32 µs more.
    let g = conv_graph(Conv2d::square(16, 25, 40, 1000, 1, 1, 0));
    assert_close(extra_time(&h, &base, &g), 32e-6);
    // Depth 1000: 1000 / 1016 of the rate; the ideal roofline ignores the term.
    let g = matmul_graph(100, 100, 1000, F32, DType::F32);
    assert_close(
        latency(&h, Mode::Calibrated, &g),
        2e7 / 1e12 * 1016.0 / 1000.0,
    );
    assert_close(latency(&h, Mode::Ideal, &g), 2e7 / 1e12);
}

#[test]
fn strided_convolutions_gather_their_im2col_one_element_at_a_time() {
    let rate = "strided_gather_elems_per_s = { value = 1e9, source = \"test\" }";
    let packs = "pack_bandwidth_efficiency = { value = 0.25, source = \"test\" }";
    let h = hw(&format!("{rate}\n{packs}"));
    let base = hw(packs);
    let conv = |stride: u64, groups: u64, c: u64| {
        Conv2d::square(c, 20, 20, c, 3, stride, 1).grouped(groups)
    };
    // 3x3/2 from 4 to 4 channels at 20x20: 10x10 outputs, im2col 4·9·100 = 3600 elements at
    // 1e9/s = 3.6 µs, in place of packing its 14.4 kB at 0.25e12 B/s (57.6 ns).
    let g = conv_graph(conv(2, 1, 4));
    assert_close(extra_time(&h, &base, &g), 3.6e-6 - 57.6e-9);
    // Stride 1 and depthwise convolutions: no strided gather.
    let g = conv_graph(conv(1, 1, 4));
    assert_eq!(extra_time(&h, &base, &g), 0.0);
    let g = conv_graph(conv(2, 4, 4));
    assert_eq!(extra_time(&h, &base, &g), 0.0);
}
