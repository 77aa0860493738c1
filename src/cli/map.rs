//! `archscope map`: operator placement on a device's units (ILP with HEFT and single-unit
//! baselines), scratchpad traffic (the COSMA-style mapper), or the split of a network between a
//! device and an edge server over a link (`--objective offload`).

use super::{PhaseArg, TrafficSolver, mode, print};
use anyhow::Result;
use archscope::hardware::Hardware;
use archscope::mapping::traffic::{TrafficSpec, map_model};
use archscope::mapping::{AdaptOptions, report::parse_capacity};
use archscope::placement::session::{PlacementRequest, place_phases};
use archscope::placement::{Decompose, Limits, Objective, RuntimeChoice};
use archscope::render::Format;
use archscope::workload::{Phase, QuantScheme, gguf, load_llm};
use clap::ValueEnum;

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum MapObjective {
    /// Operator placement on the device's units (ILP with HEFT and single-unit baselines).
    Placement,
    /// Scratchpad traffic (the COSMA mapper, with --scratchpad).
    Traffic,
    /// Split a network between the device (--hw) and an edge server (--server) over a link
    /// (--link), at the layer boundary with the least latency or device energy.
    Offload,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Minimize {
    Makespan,
    /// End-to-end latency (offload; the same as makespan).
    Latency,
    Energy,
    /// Energy plus --j-per-s joules per second of makespan.
    Weighted,
}

#[derive(clap::Args)]
pub struct Args {
    /// What to map: `placement` (ops onto units) or `traffic` (scratchpad, COSMA).
    /// Default: traffic when --scratchpad is given without --hw, else placement.
    #[arg(long, value_enum)]
    objective: Option<MapObjective>,
    /// Device: a path, a file in hardware-db/, or a short name (needed for placement).
    #[arg(long)]
    hw: Option<String>,
    /// Model: a short name (see `models list`; networks take parameters, e.g.
    /// `mobilenetv2?width=0.75`), a path to a Hugging Face config.json or a llama.cpp .gguf
    /// file, or a Hugging Face model id in the local cache.
    #[arg(long)]
    model: String,
    /// Phase to place.
    #[arg(long, value_enum, default_value = "prefill")]
    phase: PhaseArg,
    /// Sequences per step.
    #[arg(long, default_value_t = 1)]
    batch: u64,
    /// Prompt tokens (prefill).
    #[arg(long, default_value_t = 512)]
    prompt: u64,
    /// KV-cache length (decode).
    #[arg(long, default_value_t = 1024)]
    context: u64,
    /// Quantization scheme, e.g. fp16, w8a8, w4a16-g128+kv8 (default: fp16 for
    /// placement, w8a8 for traffic: 8-bit data as in the COSMA evaluation; for a .gguf model,
    /// the file's own tensor types).
    #[arg(long)]
    quant: Option<String>,
    /// What the placement minimises (offload: latency or energy, the device's).
    #[arg(long, value_enum, default_value = "makespan")]
    minimize: Minimize,
    /// Joules charged per second of makespan with --minimize weighted.
    #[arg(long, default_value_t = 0.0)]
    j_per_s: f64,
    /// Makespan budget, milliseconds.
    #[arg(long)]
    latency_budget_ms: Option<f64>,
    /// Average power budget, watts.
    #[arg(long)]
    power_budget_w: Option<f64>,
    /// Wall-clock limit for the solver, seconds.
    #[arg(long, default_value_t = 60.0)]
    time_limit: f64,
    /// Units to place on, comma-separated (default: all of the device's).
    #[arg(long, value_delimiter = ',')]
    units: Vec<String>,
    /// Split the batch into this many sub-batches pipelined across units.
    #[arg(long)]
    sub_batches: Option<u64>,
    /// One model for the whole graph instead of one per layer block.
    #[arg(long)]
    monolithic: bool,
    /// Handoff time per cross-unit transfer, microseconds.
    #[arg(long, default_value_t = 0.0)]
    switch_us: f64,
    /// Do not bound windows by the shared memory levels' bandwidth.
    #[arg(long)]
    no_bandwidth_floor: bool,
    /// Write a Gantt chart (.svg or .png).
    #[arg(long)]
    gantt: Option<String>,
    /// Textbook roofline: bare peaks, efficiency 1, no overhead.
    #[arg(long)]
    ideal: bool,
    /// Software stack for placement: `ideal` (none), a shipped runtime (see `runtimes list`)
    /// or a runtime TOML, applied to every unit it runs (the others take no op). Default: the
    /// runtime the device names for LLMs on each unit (`ideal` where none, or with --ideal).
    #[arg(long)]
    runtime: Option<String>,
    /// Scratchpad size for --objective traffic: bytes (65536), with a unit (512KiB,
    /// 1MiB, 1.5MB), or a budget of the model: mr (largest op working set), mp
    /// (minimum peak footprint over schedules) or mh (halfway).
    #[arg(long)]
    scratchpad: Option<String>,
    /// Traffic planner: one ILP, the better baseline, divide and conquer, or one
    /// baseline alone (default, arena).
    #[arg(long, value_enum, default_value = "ilp")]
    solver: TrafficSolver,
    /// Input resolution of a vision network for traffic (default: the network's own).
    #[arg(long)]
    resolution: Option<u64>,
    /// Put weights into the scratchpad as tensors (COSMA's M_Rp setting); by
    /// default they are streamed and only activations are mapped.
    #[arg(long)]
    include_weights: bool,
    /// Allocation granularity in bytes for traffic (alignment and size rounding).
    #[arg(long, default_value_t = archscope::mapping::adapt::DEFAULT_GRANULARITY_BYTES)]
    granularity: u64,
    /// Keep activation functions as ops of their own instead of fusing them into
    /// their producer.
    #[arg(long)]
    no_fuse: bool,
    /// Draw memory over time (.svg or .png) for traffic; for offload, latency and device energy
    /// against link bandwidth.
    #[arg(long)]
    chart: Option<String>,
    /// Edge server for --objective offload: a path, a file in hardware-db/, or a short name.
    #[arg(long)]
    server: Option<String>,
    /// Link for --objective offload: a shipped preset (wifi6, 5g, lte) or a path to a link TOML.
    #[arg(long)]
    link: Option<String>,
    /// Offload: do not charge the radio's tail energy to the inference (back-to-back requests
    /// keep the radio connected and pay the tail once per burst).
    #[arg(long)]
    no_tail: bool,
    /// Write over existing --gantt and --chart files.
    #[arg(long)]
    force: bool,
    /// Output format (table or json).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn run(a: Args) -> Result<()> {
    // Charts that would be written over are refused before any solving.
    for f in a.gantt.iter().chain(a.chart.iter()) {
        archscope::util::output::refuse_existing(std::path::Path::new(f), a.force)?;
    }
    let objective = a
        .objective
        .unwrap_or(if a.scratchpad.is_some() && a.hw.is_none() {
            MapObjective::Traffic
        } else {
            MapObjective::Placement
        });
    match objective {
        MapObjective::Traffic => traffic(a),
        MapObjective::Placement => placement(a),
        MapObjective::Offload => offload(a),
    }
}

fn phases(a: &Args) -> Vec<Phase> {
    let (prefill, decode) = (
        Phase::Prefill { prompt: a.prompt },
        Phase::Decode { context: a.context },
    );
    match a.phase {
        PhaseArg::Prefill => vec![prefill],
        PhaseArg::Decode => vec![decode],
        PhaseArg::Both => vec![prefill, decode],
    }
}

fn placement(a: Args) -> Result<()> {
    let Some(hw) = &a.hw else {
        anyhow::bail!(
            "--objective placement needs --hw (a device); for scratchpad traffic give --scratchpad"
        );
    };
    if a.format == Format::Csv {
        anyhow::bail!("--format csv is not available for map; use table or json");
    }
    let hw = Hardware::load(hw)?;
    let cfg = load_llm(&a.model)?;
    let scheme = (a.quant.as_deref())
        .or(archscope::workload::gguf::file_scheme(&cfg))
        .unwrap_or("fp16");
    let (runtime, quant) = RuntimeChoice::from_flags(
        a.runtime.as_deref(),
        a.ideal,
        scheme,
        QuantScheme::parse(scheme)?,
    )?;
    let objective = match a.minimize {
        Minimize::Makespan | Minimize::Latency => Objective::Makespan,
        Minimize::Energy => Objective::Energy,
        Minimize::Weighted => Objective::Weighted { j_per_s: a.j_per_s },
    };
    let mut limits = Limits {
        time_limit_s: a.time_limit,
        latency_budget_s: a.latency_budget_ms.map(|m| m * 1e-3),
        power_budget_w: a.power_budget_w,
        decompose: if a.monolithic {
            Decompose::Monolithic
        } else {
            Decompose::Auto
        },
        ..Limits::default()
    };
    limits.build.mode = mode(a.ideal);
    limits.build.units = (!a.units.is_empty()).then(|| a.units.clone());
    limits.build.bandwidth_floor = !a.no_bandwidth_floor;
    limits.build.runtime = runtime;
    if !(a.switch_us.is_finite() && a.switch_us >= 0.0) {
        anyhow::bail!(
            "--switch-us {}: expected a finite handoff time of 0 or more microseconds",
            a.switch_us
        );
    }
    if a.switch_us != 0.0 {
        limits.build.switch_s.insert("*".into(), a.switch_us * 1e-6);
    }
    let req = PlacementRequest {
        quant,
        phases: phases(&a),
        batch: a.batch,
        sub_batches: a.sub_batches,
        objective,
        limits,
        gantt: a.gantt.as_ref().map(Into::into),
        force: a.force,
    };
    let runs = place_phases(&hw, &cfg, &req)?;
    for r in &runs.0 {
        if let Some(path) = &r.gantt {
            eprintln!("gantt chart written to {}", path.display());
        }
    }
    print(&runs, a.format)
}

fn traffic(a: Args) -> Result<()> {
    let Some(scratchpad) = &a.scratchpad else {
        anyhow::bail!("--objective traffic needs --scratchpad (e.g. 512KiB, 1MiB or mr)");
    };
    if a.runtime.is_some() {
        anyhow::bail!(
            "--runtime applies to placement; scratchpad traffic is a property of the schedule, not of a runtime"
        );
    }
    let spec = TrafficSpec {
        model: a.model.clone(),
        resolution: a.resolution,
        phase: match a.phase {
            PhaseArg::Decode => Phase::Decode { context: a.context },
            _ => Phase::Prefill { prompt: a.prompt },
        },
        batch: a.batch,
        quant: QuantScheme::parse(
            match (&a.quant, gguf::is_gguf(&a.model)) {
                (Some(q), _) => q.clone(),
                (None, true) => load_llm(&a.model)?
                    .raw
                    .gguf
                    .map_or("w8a8".into(), |g| g.scheme),
                (None, false) => "w8a8".into(),
            }
            .as_str(),
        )?,
        capacity: parse_capacity(scratchpad)?,
        solver: a.solver.solver(),
        time_limit_s: a.time_limit,
        adapt: AdaptOptions {
            include_weights: a.include_weights,
            granularity_bytes: a.granularity,
            fuse_activations: !a.no_fuse,
        },
    };
    let rep = map_model(&spec)?;
    if let Some(path) = &a.chart {
        archscope::mapping::chart::write(
            &rep.adapted.problem,
            &rep.plan,
            &rep.chart_title(),
            std::path::Path::new(path),
            a.force,
        )?;
        eprintln!("memory chart written to {path}");
    }
    print(&rep, a.format)
}

fn offload(a: Args) -> Result<()> {
    use archscope::offload::{Link, OffloadObjective, OffloadOptions, offload_vision};
    use archscope::runtime::WorkloadKind;
    use archscope::score::ScoreRequest;
    use archscope::workload::{Model, load_model};
    let (Some(hw), Some(server), Some(link)) = (&a.hw, &a.server, &a.link) else {
        anyhow::bail!(
            "--objective offload needs --hw (the device), --server (the edge server) and --link (wifi6, 5g, lte or a link file)"
        );
    };
    if a.runtime.is_some() {
        anyhow::bail!(
            "--runtime applies to placement; offload prices each side with its unit's default runtime (--ideal for none)"
        );
    }
    let objective = match a.minimize {
        Minimize::Makespan | Minimize::Latency => OffloadObjective::Latency,
        Minimize::Energy => OffloadObjective::Energy,
        Minimize::Weighted => {
            anyhow::bail!(
                "--minimize weighted applies to placement; offload takes latency or energy"
            )
        }
    };
    let link = Link::load(link)?;
    let (device, server) = (Hardware::load(hw)?, Hardware::load(server)?);
    let Model::Vision(model) = load_model(&a.model)? else {
        anyhow::bail!(
            "--objective offload splits a network (CNN, encoder); `{}` is an LLM",
            a.model
        );
    };
    let quant = QuantScheme::parse(a.quant.as_deref().unwrap_or("fp16"))?;
    let request = |hw: &Hardware| -> Result<ScoreRequest> {
        let unit = hw.unit_index(None)?;
        Ok(ScoreRequest {
            batch: a.batch,
            mode: mode(a.ideal),
            runtime: archscope::runtime::resolve_flag(
                None,
                a.ideal,
                hw,
                unit,
                WorkloadKind::Network,
            )?,
            ..ScoreRequest::default()
        })
    };
    let opts = OffloadOptions {
        objective,
        charge_tail: !a.no_tail,
        ..OffloadOptions::default()
    };
    let rep = offload_vision(
        &model,
        &quant,
        (&device, &request(&device)?),
        (&server, &request(&server)?),
        &link,
        &opts,
    )?;
    if let Some(path) = &a.chart {
        archscope::offload::write_chart(&rep, std::path::Path::new(path), a.force)
            .map_err(anyhow::Error::msg)?;
        eprintln!("bandwidth chart written to {path}");
    }
    print(&rep, a.format)
}
