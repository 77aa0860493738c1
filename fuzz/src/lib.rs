//! The bodies of archscope's fuzz targets, one function per input format. Each takes the raw
//! bytes a fuzzer gives it, feeds them to the library's reader and to what runs after it
//! (building the graph, pricing it on a device), and panics only when the library breaks one
//! of its promises:
//! * it never panics, hangs or allocates without bound on any input (a panic anywhere is found
//!   by the fuzzer itself; hangs and memory by its `-timeout` and `-rss_limit_mb`);
//! * what it accepts it prices with finite, positive latencies and finite energies.
//!
//! The same functions run under libFuzzer (`fuzz_targets/`, through `cargo fuzz`) and, for the
//! regression corpus and the short smoke run, inside the project's test suite (which includes
//! this file as a module), so CI needs no second, instrumented build.

use arbitrary::{Arbitrary, Unstructured};
use archscope::cost::Mode;
use archscope::hardware::Hardware;
use archscope::workload::Phase;
use archscope::{Model, QuantScheme, Report, ScoreRequest};
use std::sync::{Arc, OnceLock};

/// Inputs larger than this are not tried: every shipped input is smaller, and large inputs
/// only slow the search.
pub const MAX_INPUT: usize = 1 << 20;

fn text(data: &[u8]) -> Option<&str> {
    if data.len() > MAX_INPUT {
        return None;
    }
    std::str::from_utf8(data).ok()
}

/// A shipped device, parsed once.
fn pixel8() -> &'static Hardware {
    static HW: OnceLock<Hardware> = OnceLock::new();
    HW.get_or_init(|| Hardware::load("pixel8").expect("pixel8 ships"))
}

/// A shipped LLM, parsed once.
fn llama_1b() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| archscope::load_model("llama-1b").expect("llama-1b ships"))
}

/// Short prompt and context so that a huge accepted model still prices quickly.
fn small_request(unit: Option<String>) -> ScoreRequest {
    ScoreRequest {
        prompt: 16,
        context: 32,
        unit,
        mode: Mode::Calibrated,
        ..ScoreRequest::default()
    }
}

/// The promise about an accepted input: every priced latency is finite and positive, every
/// energy finite and not negative.
fn check_report(report: &Report, what: &str) {
    let totals: Vec<(f64, f64)> = match report {
        Report::Llm(s) => s
            .phases
            .iter()
            .map(|p| (p.eval.total.latency_s, p.eval.total.energy_j()))
            .collect(),
        Report::Vision(s) => vec![(s.eval.total.latency_s, s.eval.total.energy_j())],
    };
    for (latency, energy) in totals {
        assert!(
            latency.is_finite() && latency > 0.0,
            "{what}: accepted and priced at latency {latency}"
        );
        assert!(
            energy.is_finite() && energy >= 0.0,
            "{what}: accepted and priced at energy {energy}"
        );
    }
}

/// Prices `model` on `hw` (default unit, float16) and checks the result; an error is fine.
fn price(hw: &Hardware, model: &Model, what: &str) {
    let quant = QuantScheme::parse("fp16").expect("fp16 is a scheme");
    if let Ok(r) = archscope::score(hw, model, &quant, &small_request(None)) {
        check_report(&r, what);
        let _ = r.on(hw).json();
    }
}

/// A hardware TOML: parse, validate, build every unit's cost model (`hw check`), show it, and
/// price a shipped LLM on every unit.
pub fn hardware_toml(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let Ok(hw) = Hardware::from_toml_str(t, "fuzz.toml") else {
        return;
    };
    if archscope::cost_models::check_cost_models(&hw).is_err() {
        return;
    }
    let _ = archscope::hardware::show::describe(&hw);
    let quant = QuantScheme::parse("fp16").expect("fp16 is a scheme");
    for u in &hw.units {
        if let Ok(r) = archscope::score(
            &hw,
            llama_1b(),
            &quant,
            &small_request(Some(u.name.clone())),
        ) {
            check_report(&r, "hardware file");
        }
    }
}

/// A runtime TOML: parse and validate, then show it.
pub fn runtime_toml(data: &[u8]) {
    let Some(t) = text(data) else { return };
    if let Ok(rt) = archscope::runtime::Runtime::from_toml_str(t, "fuzz.toml") {
        let _ = format!("{rt:?}");
    }
}

/// A Hugging Face `config.json`: parse, validate, build both phases, and price it.
pub fn hf_config(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let Ok(cfg) = archscope::LlmConfig::from_json(t, "config.json", "fuzz") else {
        return;
    };
    let _ = cfg.param_count();
    let quant = QuantScheme::parse("fp16").expect("fp16 is a scheme");
    for phase in [Phase::Prefill { prompt: 16 }, Phase::Decode { context: 32 }] {
        let _ = cfg.build(&quant, phase, 1);
    }
    price(pixel8(), &Model::Llm(cfg), "config.json");
}

/// A GGUF file's header (the metadata and tensor infos; the weights are never read): parse it,
/// make its config, build and price the model with the file's tensor types.
pub fn gguf_header(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(h) = archscope::workload::gguf::parse_header(data) else {
        return;
    };
    let Ok(cfg) = h.hf_config() else { return };
    let Ok(cfg) = archscope::LlmConfig::from_json(&cfg.to_string(), "fuzz.gguf", "fuzz") else {
        return;
    };
    let _ = cfg.param_count();
    price(pixel8(), &Model::Llm(cfg), "gguf");
}

/// The parts of a model name: a base from the shipped names (or arbitrary text) and
/// `key=value` parameters from the known keys (or arbitrary text).
#[derive(Arbitrary, Debug)]
struct ModelName {
    base: Result<u8, String>,
    params: Vec<(Result<u8, String>, String)>,
}

/// Parameter names the vision builders and ONNX import read.
const PARAM_KEYS: [&str; 8] = [
    "res", "width", "depth", "sequence", "batch", "seq", "patch", "layers",
];

/// A `--model` name with parameters (`mobilenetv2?res=160&width=0.75`): structure-aware, from
/// the shipped names and the known keys. Names with a path separator or a file extension are
/// not tried (they would read the fuzzing machine's files).
pub fn model_name(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(n) = ModelName::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    let known = archscope::workload::known_models();
    let vision = archscope::workload::vision::known();
    let base = match n.base {
        Ok(i) => {
            let all: Vec<&str> = known
                .iter()
                .copied()
                .chain(vision.iter().copied())
                .collect();
            all[i as usize % all.len()].to_string()
        }
        Err(s) => s,
    };
    let params: Vec<String> = n
        .params
        .iter()
        .map(|(k, v)| {
            let k = match k {
                Ok(i) => PARAM_KEYS[*i as usize % PARAM_KEYS.len()].to_string(),
                Err(s) => s.clone(),
            };
            format!("{k}={v}")
        })
        .collect();
    let name = if params.is_empty() {
        base
    } else {
        format!("{base}?{}", params.join("&"))
    };
    if name.contains(['/', '\\'])
        || name.contains("..")
        || name.contains('.') && !name.contains('?')
    {
        return;
    }
    if std::path::Path::new(name.split('?').next().unwrap_or("")).exists() {
        return;
    }
    if let Ok(m) = archscope::load_model(&name) {
        price(pixel8(), &m, &name);
    }
}

/// Imports ONNX bytes and prices the network.
fn onnx_model(
    model: Result<archscope::workload::onnx::OnnxModel, archscope::workload::onnx::OnnxError>,
) {
    let Ok(m) = model else { return };
    let vm = archscope::VisionModel {
        name: m.name.clone(),
        source: archscope::workload::vision::Source::Onnx(Arc::new(m)),
    };
    price(pixel8(), &Model::Vision(vm), "onnx");
}

/// ONNX protobuf bytes, as a file holds them.
pub fn onnx_bytes(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let dims = [("sequence".to_string(), 8u64)];
    onnx_model(archscope::workload::onnx::OnnxModel::from_bytes(
        data,
        "fuzz.onnx",
        "fuzz",
        &dims,
    ));
}

/// Op types the importer knows, and a few it does not.
const ONNX_OPS: [&str; 24] = [
    "Conv",
    "Relu",
    "Add",
    "Mul",
    "MatMul",
    "Gemm",
    "Reshape",
    "Transpose",
    "Concat",
    "Split",
    "Resize",
    "Tile",
    "Softmax",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "Flatten",
    "BatchNormalization",
    "Clip",
    "Sigmoid",
    "Gather",
    "Slice",
    "LayerNormalization",
    "Bogus",
];
/// Attribute names the importer reads.
const ONNX_ATTRS: [&str; 12] = [
    "kernel_shape",
    "strides",
    "pads",
    "dilations",
    "group",
    "axis",
    "perm",
    "transB",
    "mode",
    "alpha",
    "epsilon",
    "split",
];

/// An attribute value of any of ONNX's kinds.
#[derive(Arbitrary, Debug)]
enum AttrValue {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
    Floats(Vec<f32>),
    Str(String),
}

/// One node: an op, inputs and outputs by index into the graph's value names, attributes.
#[derive(Arbitrary, Debug)]
struct Node {
    op: u8,
    inputs: Vec<u8>,
    outputs: Vec<u8>,
    attrs: Vec<(u8, AttrValue)>,
}

/// An initializer: dims and a little int64 or float data (shape operands, scales, repeats).
#[derive(Arbitrary, Debug)]
struct Init {
    value: u8,
    dims: Vec<i64>,
    ints: Vec<i64>,
    floats: Vec<f32>,
}

/// A whole graph, structure first.
#[derive(Arbitrary, Debug)]
struct OnnxGraph {
    opset: u8,
    input_dims: Vec<Result<i64, String>>,
    nodes: Vec<Node>,
    inits: Vec<Init>,
    outputs: Vec<u8>,
}

fn value_name(i: u8) -> String {
    if i == 0 {
        "input".into()
    } else {
        format!("v{}", i % 32)
    }
}

fn tensor_type(dims: &[Result<i64, String>]) -> tract_onnx::pb::TypeProto {
    use tract_onnx::pb::{
        TensorShapeProto, TypeProto, tensor_shape_proto::Dimension,
        tensor_shape_proto::dimension::Value as DimValue, type_proto::Tensor, type_proto::Value,
    };
    TypeProto {
        value: Some(Value::TensorType(Tensor {
            elem_type: 1,
            shape: Some(TensorShapeProto {
                dim: dims
                    .iter()
                    .map(|d| Dimension {
                        value: Some(match d {
                            Ok(v) => DimValue::DimValue(*v),
                            Err(s) => DimValue::DimParam(s.clone()),
                        }),
                        ..Default::default()
                    })
                    .collect(),
            }),
        })),
        ..Default::default()
    }
}

/// A structure-aware ONNX graph: nodes of known op types wired by name, with attributes and
/// initializers of every kind, encoded as protobuf and imported as a file would be.
pub fn onnx_structured(data: &[u8]) {
    use tract_onnx::pb;
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(g) = OnnxGraph::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    let nodes = g
        .nodes
        .iter()
        .take(64)
        .map(|n| pb::NodeProto {
            op_type: ONNX_OPS[n.op as usize % ONNX_OPS.len()].to_string(),
            input: n.inputs.iter().take(4).map(|&i| value_name(i)).collect(),
            output: n.outputs.iter().take(3).map(|&i| value_name(i)).collect(),
            attribute: n
                .attrs
                .iter()
                .take(6)
                .map(|(k, v)| {
                    let mut a = pb::AttributeProto {
                        name: ONNX_ATTRS[*k as usize % ONNX_ATTRS.len()].to_string(),
                        ..Default::default()
                    };
                    match v {
                        AttrValue::Int(i) => {
                            a.r#type = pb::attribute_proto::AttributeType::Int as i32;
                            a.i = *i;
                        }
                        AttrValue::Ints(v) => {
                            a.r#type = pb::attribute_proto::AttributeType::Ints as i32;
                            a.ints = v.iter().take(8).copied().collect();
                        }
                        AttrValue::Float(f) => {
                            a.r#type = pb::attribute_proto::AttributeType::Float as i32;
                            a.f = *f;
                        }
                        AttrValue::Floats(v) => {
                            a.r#type = pb::attribute_proto::AttributeType::Floats as i32;
                            a.floats = v.iter().take(8).copied().collect();
                        }
                        AttrValue::Str(s) => {
                            a.r#type = pb::attribute_proto::AttributeType::String as i32;
                            a.s = s.as_bytes().to_vec();
                        }
                    }
                    a
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    let initializer = g
        .inits
        .iter()
        .take(16)
        .map(|t| {
            let float = !t.floats.is_empty();
            pb::TensorProto {
                name: value_name(t.value),
                dims: t.dims.iter().take(6).copied().collect(),
                data_type: if float { 1 } else { 7 },
                int64_data: t.ints.iter().take(16).copied().collect(),
                float_data: t.floats.iter().take(16).copied().collect(),
                ..Default::default()
            }
        })
        .collect();
    let graph = pb::GraphProto {
        name: "fuzz".into(),
        node: nodes,
        initializer,
        input: vec![pb::ValueInfoProto {
            name: "input".into(),
            r#type: Some(tensor_type(
                &g.input_dims.iter().take(6).cloned().collect::<Vec<_>>(),
            )),
            ..Default::default()
        }],
        output: g
            .outputs
            .iter()
            .take(3)
            .map(|&i| pb::ValueInfoProto {
                name: value_name(i),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let model = pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: i64::from(g.opset % 24),
        }],
        graph: Some(graph),
        ..Default::default()
    };
    let bytes = prost::Message::encode_to_vec(&model);
    onnx_bytes(&bytes);
}

/// A SCALE-Sim `.cfg` and a topology CSV, split at the first NUL byte (a topology alone uses
/// a 32×32 output-stationary array): parse both in both formats and simulate every layer.
pub fn scalesim(data: &[u8]) {
    use archscope::cycle::systolic::{
        SystolicConfig, Timing, TopologyFormat, parse_topology, simulate_network,
    };
    if data.len() > MAX_INPUT {
        return;
    }
    let (cfg_bytes, topo_bytes) = match data.iter().position(|&b| b == 0) {
        Some(i) => (Some(&data[..i]), &data[i + 1..]),
        None => (None, data),
    };
    let cfg = match cfg_bytes.map(std::str::from_utf8) {
        Some(Ok(t)) => match SystolicConfig::from_cfg_str(t, "fuzz.cfg") {
            Ok(c) => c,
            Err(_) => return,
        },
        Some(Err(_)) => return,
        None => SystolicConfig::new(
            32,
            32,
            archscope::cycle::systolic::Dataflow::OutputStationary,
        ),
    };
    let Ok(topo) = std::str::from_utf8(topo_bytes) else {
        return;
    };
    for format in [TopologyFormat::Conv, TopologyFormat::Gemm] {
        if let Ok(layers) = parse_topology(topo, "fuzz.csv", format) {
            for timing in [Timing::ScaleSim, Timing::Pipelined] {
                let _ = simulate_network(&cfg, &layers, timing);
            }
        }
    }
}

/// OFA inputs, chosen by the first byte: a MobileNetV3 arch JSON, a ResNet50 arch JSON, a
/// `net.config` (at 224), or a latency-table YAML; whatever parses is turned into its network
/// and priced from the table or counted.
pub fn ofa(data: &[u8]) {
    use archscope::nas::space::{MbArch, MbSpace, ResNetArch, ResNetSpace};
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let Some(t) = text(rest) else { return };
    match kind % 4 {
        0 => {
            let space = MbSpace::mbv3(1.0);
            if let Ok(a) = MbArch::from_str(t, &space, "arch.json") {
                let _ = space.net(&a).ofa_macs();
            }
        }
        1 => {
            let space = ResNetSpace::default();
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(t)
                && let Ok(a) = ResNetArch::from_json(&v, &space, "arch.json")
            {
                let _ = space.net(&a).ofa_macs();
            }
        }
        2 => {
            if let Ok(net) = archscope::nas::netconfig::parse_net_config(t, 224, "net.config") {
                let _ = net.ofa_macs();
                let _ = net.check();
            }
        }
        _ => {
            if let Ok(lut) = archscope::nas::lut::LatencyTable::from_texts(&[("lut_224.yaml", t)]) {
                let _ = lut.resolutions();
                let _ = lut.net_ms(&archscope::nas::net::mobilenet_v3_large(224));
            }
        }
    }
}

/// Command-line value syntaxes, chosen by the first byte: `--sweep`, byte sizes, scratchpad
/// capacities, `--shard`, `--quant`, explore's `UNIT@T` and a what-if edit of a shipped device.
pub fn sweep_size(data: &[u8]) {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let Some(t) = text(rest) else { return };
    match kind % 7 {
        0 => {
            if let Ok(s) = archscope::search::Sweep::parse(t) {
                assert!(
                    s.values.iter().all(|v| v.is_finite()),
                    "sweep `{t}` accepted non-finite values"
                );
                let _ = s.axis();
                let (text, file) = Hardware::find_text("pixel8").expect("pixel8 ships");
                for v in s.values.iter().take(4) {
                    if let Ok(hw) = Hardware::with_fields(&text, &file, &[(&s.field, *v)]) {
                        price(&hw, llama_1b(), "what-if");
                    }
                }
            }
        }
        1 => {
            if let Ok(v) = archscope::util::size::parse_bytes(t) {
                assert!(v.is_finite() && v > 0.0, "size `{t}` parsed to {v}");
            }
            let _ = archscope::util::size::parse_whole_bytes(t);
            let _ = archscope::explore::request::parse_bytes(t);
        }
        2 => {
            let _ = archscope::mapping::report::parse_capacity(t);
        }
        3 => {
            if let Ok(s) = archscope::search::Shard::parse(t) {
                let _ = s.check();
            }
        }
        4 => {
            if let Ok(q) = QuantScheme::parse(t) {
                price(pixel8(), llama_1b(), &format!("quant {}", q.name));
            }
        }
        5 => {
            let _ = archscope::explore::units::parse_variant(pixel8(), t);
        }
        _ => {
            let _ = archscope::runtime::fusion::Pattern::parse(t);
        }
    }
}

/// Measurement files, chosen by the first byte: the measurement set CSV, a user's file for
/// `calibrate --from` (CSV, llama-bench CSV/JSON/JSONL, AI Hub perf.yaml), a calibration
/// overlay, and a bands file.
pub fn measurements(data: &[u8]) {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let Some(t) = text(rest) else { return };
    match kind % 4 {
        0 => {
            if let Ok(rows) = archscope::trust::dataset::parse(t, "measurements.csv") {
                let _ = rows.len();
            }
        }
        1 => {
            let ctx = archscope::trust::formats::Context {
                hw: "pixel8",
                runtime: "llama.cpp-cpu",
                model: Some("llama-1b"),
            };
            let _ = archscope::trust::formats::parse_rows(t, "rows.csv", &ctx);
        }
        2 => {
            let _ = archscope::trust::overlay::Overlay::parse(t, "pixel8.litert-npu.toml");
        }
        _ => {
            let _ = archscope::trust::bands::parse(t);
        }
    }
}

/// Under libFuzzer every panic aborts, also one the library catches. polars' Parquet reader and
/// CSV writer panic on some corrupted files, and `merge` catches exactly those and turns them
/// into errors naming the file. This lets a panic raised inside polars unwind to that catch,
/// and keeps every other panic (archscope's own) fatal. Call it once, from the target's init.
pub fn let_polars_panics_unwind() {
    let fatal = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_polars = info
            .location()
            .is_some_and(|l| l.file().contains("/polars-"));
        if !in_polars {
            fatal(info);
        }
    }));
}

/// A Parquet part of `explore --shard` for `merge`: written to a temporary file and read back
/// (its metadata, spec and columns), then merged with itself.
pub fn merge_parquet(data: &[u8]) {
    use std::io::Write;
    if data.len() > MAX_INPUT {
        return;
    }
    let dir = std::env::temp_dir().join(format!("archscope-fuzz-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let path = dir.join("part.parquet");
    let Ok(mut f) = std::fs::File::create(&path) else {
        return;
    };
    if f.write_all(data).is_err() {
        return;
    }
    drop(f);
    if archscope::explore::table::read_part(&path).is_ok() {
        let _ = archscope::explore::merge_parts(&[path.clone()]);
    }
}
