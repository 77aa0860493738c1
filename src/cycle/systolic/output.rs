//! Renders per-layer systolic reports for `archscope systolic`: a table for people, JSON with a
//! `layers` array, and CSV with one row per layer.

use super::{LayerReport, SystolicConfig};
use std::fmt::Write as _;

/// A table: one row per layer, then totals.
pub fn to_table(cfg: &SystolicConfig, reports: &[LayerReport]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {}x{} {} array, SRAM ifmap/filter/ofmap {}/{}/{} KB, {} B words",
        cfg.name,
        cfg.rows,
        cfg.cols,
        cfg.dataflow.as_str(),
        cfg.ifmap_sram_kb,
        cfg.filter_sram_kb,
        cfg.ofmap_sram_kb,
        cfg.word_bytes
    );
    let _ = writeln!(
        s,
        "{:<16} {:>12} {:>12} {:>10} {:>7} {:>7} {:>11} {:>11} {:>11} {:>12}",
        "layer",
        "compute_cyc",
        "total_cyc",
        "stall_cyc",
        "util%",
        "map%",
        "ifmap_rd",
        "filter_rd",
        "ofmap_wr",
        "dram_bytes"
    );
    let (mut c, mut t, mut st, mut d) = (0u64, 0u64, 0u64, 0u64);
    for r in reports {
        let _ = writeln!(
            s,
            "{:<16} {:>12} {:>12} {:>10} {:>7.2} {:>7.2} {:>11} {:>11} {:>11} {:>12}",
            r.name,
            r.compute_cycles,
            r.total_cycles,
            r.stall_cycles,
            r.utilization_pct,
            r.mapping_efficiency_pct,
            r.ifmap.sram_reads,
            r.filter.sram_reads,
            r.ofmap.sram_writes,
            r.dram_bytes
        );
        c += r.compute_cycles;
        t += r.total_cycles;
        st += r.stall_cycles;
        d += r.dram_bytes;
    }
    let _ = writeln!(
        s,
        "{:<16} {:>12} {:>12} {:>10} {:>7} {:>7} {:>11} {:>11} {:>11} {:>12}",
        "total", c, t, st, "", "", "", "", "", d
    );
    s
}

/// JSON: `{ "config": ..., "layers": [ { name, compute_cycles, total_cycles, utilization_pct,
/// mapping_efficiency_pct, ... } ] }`.
pub fn to_json(cfg: &SystolicConfig, reports: &[LayerReport]) -> serde_json::Value {
    serde_json::json!({
        "config": {
            "name": cfg.name,
            "rows": cfg.rows,
            "cols": cfg.cols,
            "dataflow": cfg.dataflow.as_str(),
            "ifmap_sram_kb": cfg.ifmap_sram_kb,
            "filter_sram_kb": cfg.filter_sram_kb,
            "ofmap_sram_kb": cfg.ofmap_sram_kb,
            "word_bytes": cfg.word_bytes,
        },
        "layers": reports,
    })
}

/// CSV: one row per layer with cycles, utilisation and per-operand SRAM/DRAM traffic.
pub fn to_csv(reports: &[LayerReport]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "name",
        "mode",
        "dataflow",
        "m",
        "n",
        "k",
        "macs",
        "compute_cycles",
        "stall_cycles",
        "total_cycles",
        "utilization_pct",
        "mapping_efficiency_pct",
        "ifmap_sram_reads",
        "filter_sram_reads",
        "ofmap_sram_reads",
        "ofmap_sram_writes",
        "ifmap_dram_reads",
        "filter_dram_reads",
        "ofmap_dram_reads",
        "ofmap_dram_writes",
        "dram_bytes",
    ])?;
    for r in reports {
        w.write_record([
            r.name.clone(),
            r.mode.as_str().into(),
            r.dataflow.as_str().into(),
            r.m.to_string(),
            r.n.to_string(),
            r.k.to_string(),
            r.macs.to_string(),
            r.compute_cycles.to_string(),
            r.stall_cycles.to_string(),
            r.total_cycles.to_string(),
            format!("{}", r.utilization_pct),
            format!("{}", r.mapping_efficiency_pct),
            r.ifmap.sram_reads.to_string(),
            r.filter.sram_reads.to_string(),
            r.ofmap.sram_reads.to_string(),
            r.ofmap.sram_writes.to_string(),
            r.ifmap.dram_reads.to_string(),
            r.filter.dram_reads.to_string(),
            r.ofmap.dram_reads.to_string(),
            r.ofmap.dram_writes.to_string(),
            r.dram_bytes.to_string(),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("csv writes UTF-8"))
}
