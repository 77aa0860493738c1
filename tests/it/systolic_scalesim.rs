//! Cross-check of the systolic model's `scalesim` mode against real SCALE-Sim v3.0.0 runs.
//!
//! The fixtures under `tests/data/scalesim/` were produced by `generate.py` there (which runs
//! the pip-installed SCALE-Sim; CI does not). Each fixture row names the `.cfg` and topology
//! CSV it came from; this test parses the same files with archscope's readers, evaluates the
//! layer, and requires exact compute cycles and SRAM counts, and utilisation / mapping
//! efficiency / compute utilisation equal to SCALE-Sim's printed (repr) value to 1e-9
//! relative.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::common::data_path;

use archscope::cycle::systolic::{
    DramBandwidth, Layer, SystolicConfig, Timing, TopologyFormat, read_topology, simulate_layer,
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Row {
    config: String,
    topology: String,
    format: String,
    layer_index: usize,
    layer_name: String,
    dataflow: String,
    rows: u32,
    cols: u32,
    total_cycles: u64,
    stall_cycles: u64,
    overall_util_pct: f64,
    mapping_eff_pct: f64,
    compute_util_pct: f64,
    ifmap_sram_reads: u64,
    filter_sram_reads: u64,
    ofmap_sram_writes: u64,
}

fn data_dir() -> PathBuf {
    data_path("scalesim")
}

fn rel_close(ours: f64, theirs: f64) -> bool {
    (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1e-12)
}

/// Checks every row of one fixture file; returns the number of rows checked.
fn check_fixture(name: &str) -> usize {
    let dir = data_dir();
    let path = dir.join(name);
    let mut rdr = csv::Reader::from_path(&path)
        .unwrap_or_else(|e| panic!("cannot open fixture {}: {e}", path.display()));
    let mut configs: HashMap<String, SystolicConfig> = HashMap::new();
    let mut topologies: HashMap<(String, String), Vec<Layer>> = HashMap::new();
    let mut failures = Vec::new();
    let mut n = 0;
    for rec in rdr.deserialize::<Row>() {
        let row = rec.expect("well-formed fixture row");
        n += 1;
        let cfg = configs.entry(row.config.clone()).or_insert_with(|| {
            SystolicConfig::from_cfg_file(dir.join(&row.config)).expect("fixture cfg parses")
        });
        // The fixtures are CALC-mode runs: SCALE-Sim is stall-free, and so is the model.
        assert_eq!(cfg.dram_bandwidth, DramBandwidth::Unlimited);
        assert_eq!(row.stall_cycles, 0, "fixture row {n} has SCALE-Sim stalls");
        assert_eq!((cfg.rows, cfg.cols), (row.rows, row.cols));
        assert_eq!(cfg.dataflow.as_str(), row.dataflow);
        let format = match row.format.as_str() {
            "conv" => TopologyFormat::Conv,
            "gemm" => TopologyFormat::Gemm,
            other => panic!("unknown format {other}"),
        };
        let layers = topologies
            .entry((row.topology.clone(), row.format.clone()))
            .or_insert_with(|| {
                read_topology(dir.join(&row.topology), format).expect("fixture topology parses")
            });
        let layer = &layers[row.layer_index];
        assert_eq!(
            layer.name, row.layer_name,
            "layer order differs from SCALE-Sim's"
        );

        let r = simulate_layer(cfg, layer, Timing::ScaleSim).expect("valid layer");
        let ok = r.compute_cycles == row.total_cycles - row.stall_cycles
            && r.total_cycles == row.total_cycles
            && rel_close(r.utilization_pct, row.overall_util_pct)
            && rel_close(r.mapping_efficiency_pct, row.mapping_eff_pct)
            && rel_close(r.compute_utilization_pct, row.compute_util_pct)
            && r.ifmap.sram_reads == row.ifmap_sram_reads
            && r.filter.sram_reads == row.filter_sram_reads
            && r.ofmap.sram_writes == row.ofmap_sram_writes;
        if !ok {
            failures.push(format!(
                "{} {} #{} {}: ours cycles={} util={} map={} cutil={} sram=({},{},{}) | \
                 scalesim cycles={} util={} map={} cutil={} sram=({},{},{})",
                row.config,
                row.topology,
                row.layer_index,
                row.layer_name,
                r.compute_cycles,
                r.utilization_pct,
                r.mapping_efficiency_pct,
                r.compute_utilization_pct,
                r.ifmap.sram_reads,
                r.filter.sram_reads,
                r.ofmap.sram_writes,
                row.total_cycles,
                row.overall_util_pct,
                row.mapping_eff_pct,
                row.compute_util_pct,
                row.ifmap_sram_reads,
                row.filter_sram_reads,
                row.ofmap_sram_writes,
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} rows differ from SCALE-Sim:\n{}",
        failures.len(),
        failures.join("\n")
    );
    n
}

#[test]
fn matches_scalesim_on_cross_check_cases() {
    // 27 configs (9 array shapes × os/ws/is) × (18 conv layers after DP expansion + 11 GEMMs).
    assert_eq!(check_fixture("expected.csv"), 27 * 29);
}

#[test]
fn matches_scalesim_on_resnet18() {
    assert_eq!(check_fixture("resnet18_expected.csv"), 21);
}
