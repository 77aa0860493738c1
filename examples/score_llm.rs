//! Scores an LLM on a shipped device with the library's one-call facade, and prints the same
//! table as `archscope score`.
//!
//! Usage: `cargo run --release --example score_llm -- [DEVICE] [MODEL] [QUANT]`
//! (defaults: pixel8, llama-1b, w4a16-g128).

use archscope::{Format, Hardware, QuantScheme, Report, ScoreRequest, load_model, render};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let device = args.next().unwrap_or_else(|| "pixel8".into());
    let model = args.next().unwrap_or_else(|| "llama-1b".into());
    let quant = args.next().unwrap_or_else(|| "w4a16-g128".into());

    let hw = Hardware::load(&device)?;
    let model = load_model(&model)?;
    let quant = QuantScheme::parse(&quant)?;
    let req = ScoreRequest {
        context: 2048,
        ..ScoreRequest::default()
    };
    let report = archscope::score(&hw, &model, &quant, &req)?;
    print!("{}", render(report.on(&hw).as_ref(), Format::Table)?);
    if let Report::Llm(score) = &report {
        for phase in &score.phases {
            println!(
                "{:>8}: {:10.1} tokens/s, {:8.3} mJ/token",
                phase.phase.name(),
                phase.tokens_per_s(),
                phase.j_per_token() * 1e3
            );
        }
    }
    Ok(())
}
