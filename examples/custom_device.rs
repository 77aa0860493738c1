//! A device described in code rather than in `hardware-db/`: a hypothetical phone SoC with one
//! NPU, then swept over its DRAM bandwidth (from a phone's to an HBM stack's) to see which bound decode
//! hits once DRAM stops being the limit.
//!
//! Every figure of a device carries its provenance; an invented device says so in `estimate`.
//!
//! Usage: `cargo run --release --example custom_device`

use archscope::score::score_llm;
use archscope::{Hardware, QuantScheme, ScoreRequest, load_model};

/// A made-up SoC: an 8 TOPS int8 NPU behind 4 MB of SRAM and LPDDR5.
const DEVICE: &str = r#"
[device]
name = "concept-npu"
description = "A concept phone SoC: one NPU, 4 MB SRAM, LPDDR5"
default_unit = "npu"

[[unit]]
name = "npu"
kind = "npu"
count = { value = 1, estimate = "one NPU core (concept)" }
clock_hz = { value = 1.0e9, estimate = "1 GHz (concept)" }
memory = ["sram", "dram"]
compute_efficiency = { value = 0.5, estimate = "half of peak on GEMMs (concept)" }
bandwidth_efficiency = { value = 0.7, estimate = "70 % of DRAM peak (concept)" }
kernel_overhead_s = { value = 5e-6, estimate = "5 us per op dispatched (concept)" }

[unit.peak_ops_per_s]
f16 = { value = 4e12, estimate = "2048 f16 MACs x 2 ops x 1 GHz (concept)" }
i8 = { value = 8e12, estimate = "twice the f16 rate (concept)" }

[unit.pj_per_op]
f16 = { value = 0.6, estimate = "concept figure" }
i8 = { value = 0.3, estimate = "concept figure" }

[[memory]]
name = "sram"
capacity_bytes = { value = 4194304, estimate = "4 MiB (concept)" }
bytes_per_s = { value = 256e9, estimate = "256 B/clk at 1 GHz (concept)" }
pj_per_byte = { value = 0.5, estimate = "concept figure" }

[[memory]]
name = "dram"
capacity_bytes = { value = 8e9, estimate = "8 GB (concept)" }
bytes_per_s = { value = 51.2e9, estimate = "LPDDR5-6400 on a 64-bit bus (concept)" }
pj_per_byte = { value = 40, estimate = "concept figure" }

[power]
static_w = { value = 0.5, estimate = "concept figure" }
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = load_model("llama-1b")?;
    let archscope::Model::Llm(cfg) = &model else {
        unreachable!("llama-1b is an LLM")
    };
    let quant = QuantScheme::parse("w8a8")?;
    let req = ScoreRequest {
        prefill: false,
        ..ScoreRequest::default()
    };
    println!("{:>12} {:>12} {:>10}", "DRAM GB/s", "tokens/s", "bound");
    for gb_s in [12.8, 51.2, 204.8, 819.2, 3276.8] {
        // The same what-if path syntax as `explore --sweep`, validated like a file.
        let hw = Hardware::with_fields(
            DEVICE,
            "concept-npu (in code)",
            &[("memory[dram].bytes_per_s", gb_s * 1e9)],
        )?;
        let s = score_llm(&hw, cfg, &quant, &req)?;
        let decode = &s.phases[0];
        let bound = archscope::score::bound_name(&hw, decode.eval.total.bound());
        println!("{gb_s:>12.1} {:>12.1} {bound:>10}", decode.tokens_per_s());
    }
    Ok(())
}
