//! Runs a design-space exploration from code: the request the `explore` command builds from its
//! flags, here filled in directly, with the report written to a temporary directory.
//!
//! Usage: `cargo run --release --example explore_api`

use archscope::{ExploreRequest, OutputOptions, explore};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let req = ExploreRequest {
        hw: "pixel8".into(),
        model: "llama-1b".into(),
        quants: vec!["fp16".into(), "w8a8".into(), "w4a16-g128".into()],
        units: vec!["gpu".into(), "tpu".into()],
        contexts: vec![1024, 4096],
        command: "examples/explore_api.rs".into(),
        ..ExploreRequest::default()
    };
    let out = std::env::temp_dir().join(format!("archscope-explore-api-{}", std::process::id()));
    let opts = OutputOptions {
        out: Some(out.clone()),
        force: true,
        progress: false,
        ..OutputOptions::default()
    };
    let done = explore(&req, &opts)?;
    print!("{}", done.summary);
    println!("report written to {}", done.path.display());
    Ok(())
}
