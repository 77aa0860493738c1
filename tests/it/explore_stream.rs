//! Large sweeps in bounded memory: `explore` prices, tallies and writes its points chunk by
//! chunk. The chunk size changes no output; the fronts kept incrementally are the fronts of all
//! points; the charts of a large run draw a bounded sample and the report says how many.

use crate::common::TempDir;
use crate::common::explore::{explore_into, explore_parts, run};
use archscope::explore::report::{MAX_SCATTER_FRONT, MAX_SCATTER_POINTS};
use archscope::explore::{self, ExploreRequest, Judge, Results, Tally, analyze};
use archscope::search::dominates;
use std::collections::BTreeMap;
use std::path::Path;

/// A small LLM sweep with two what-if bandwidths (two scenarios per context), a memory limit
/// that rules some points out, and infeasible precisions on some units.
fn request() -> ExploreRequest {
    ExploreRequest {
        hw: "pixel8".into(),
        model: "llama-1b".into(),
        quants: vec!["fp16".into(), "w4a16-g128".into(), "fp32".into()],
        contexts: vec![1024, 16384],
        sweeps: vec!["memory[dram].bytes_per_s=40e9,80e9".into()],
        max_memory: Some("2.5GB".into()),
        command: "archscope explore (stream test)".into(),
        ..Default::default()
    }
}

/// Every file of a report directory but the HTML page (it names the run's files the same way,
/// but is checked by the byte-identity of its inputs) and the PNGs (rendered from the SVGs).
fn tables_and_charts(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.ends_with(".csv") || n.ends_with(".svg") || n == "summary.txt"
        })
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The last column of a CSV text (`on_front` in a report's points table), one string per row
/// (earlier columns may be quoted text with commas; the last is a plain `true`/`false`).
fn last_column(csv: &str) -> Vec<String> {
    csv.lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_string())
        .collect()
}

#[test]
fn a_tiny_chunk_writes_the_same_report_as_one_chunk() {
    let req = request();
    let tmp = TempDir::new("stream-chunks");
    let (whole, tiny) = (tmp.join("whole"), tmp.join("tiny"));
    // One chunk holds every point; 7 splits the run into hundreds of chunks, scenarios and
    // fronts straddling chunk borders.
    explore_into(&req, &whole, Some(1 << 20));
    explore_into(&req, &tiny, Some(7));
    let (a, b) = (tables_and_charts(&whole), tables_and_charts(&tiny));
    assert!(a.contains_key("points.csv") && a.contains_key("front.csv"));
    assert!(a.keys().any(|k| k.starts_with("pareto-")), "{:?}", a.keys());
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "same files"
    );
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} depends on the chunk size");
    }
    // The part and merge paths stream too: parts written 5 points at a time merge into the
    // same tables.
    let parts = explore_parts(&req, &tmp.join("parts"), 2, Some(5));
    let merged = tmp.join("merged");
    explore::merge(&parts, &merged, false).unwrap();
    for f in ["points.csv", "front.csv", "summary.txt"] {
        assert!(
            std::fs::read(merged.join(f)).unwrap() == a[f],
            "{f} of the merged parts differs from the single run"
        );
    }
}

#[test]
fn the_streamed_front_is_the_front_of_all_points() {
    let req = request();
    let (s, r) = run(&req);
    let judge = Judge::new(&s).unwrap();
    let batch = analyze(&s, &r).unwrap();
    let group: Vec<usize> = batch.group_axes.clone();
    assert!(
        batch.scenarios.len() >= 4,
        "2 bandwidths × 2 contexts at least"
    );
    // The front of each scenario by definition, from every point: the feasible points no other
    // feasible point of the scenario dominates.
    let vectors: Vec<Option<Vec<f64>>> = r.outcomes.iter().map(|o| judge.judge(o).ok()).collect();
    let key = |i: usize| -> Vec<u32> { group.iter().map(|&a| r.points[i].digits[a]).collect() };
    let mut by_definition: Vec<u64> = (0..r.points.len())
        .filter(|&i| {
            let Some(v) = &vectors[i] else { return false };
            !(0..r.points.len())
                .any(|j| key(j) == key(i) && vectors[j].as_ref().is_some_and(|w| dominates(w, v)))
        })
        .map(|i| r.points[i].id)
        .collect();
    by_definition.sort_unstable();
    assert!(!by_definition.is_empty());
    assert!(
        vectors.iter().any(Option::is_none),
        "the limit makes some points infeasible"
    );
    for chunk in [1usize, 3, 64, 1000, r.points.len()] {
        let mut tally = Tally::new(&s).unwrap();
        for start in (0..r.points.len()).step_by(chunk) {
            let end = (start + chunk).min(r.points.len());
            tally
                .add(&Results {
                    points: r.points[start..end].to_vec(),
                    outcomes: r.outcomes[start..end].to_vec(),
                })
                .unwrap();
        }
        let (kept, a) = tally.finish();
        let mut ids: Vec<u64> = a.front.iter().map(|&k| kept.points[k].id).collect();
        // The front, in the same order (best first within each scenario) as the batch analysis.
        let batch_ids: Vec<u64> = batch.front.iter().map(|&k| r.points[k].id).collect();
        assert_eq!(ids, batch_ids, "chunk {chunk}: front order");
        ids.sort_unstable();
        assert_eq!(ids, by_definition, "chunk {chunk}: front set");
        assert_eq!(a.counts, batch.counts, "chunk {chunk}: counts");
        assert_eq!(a.counts.points, r.points.len());
        assert_eq!(
            a.counts.feasible,
            vectors.iter().filter(|v| v.is_some()).count()
        );
        // Best per objective: the same points as the batch analysis, scenario by scenario, and
        // each no worse on its objective than any feasible point of its scenario.
        assert_eq!(a.scenarios.len(), batch.scenarios.len());
        for (sa, sb) in a.scenarios.iter().zip(&batch.scenarios) {
            assert_eq!(sa.key, sb.key);
            for (j, (ba, bb)) in sa.best.iter().zip(&sb.best).enumerate() {
                let id_a = ba.map(|k| kept.points[k].id);
                let id_b = bb.map(|k| r.points[k].id);
                assert_eq!(id_a, id_b, "chunk {chunk}: best on objective {j}");
                if let Some(k) = ba {
                    let v = judge.judge(&kept.outcomes[*k]).unwrap()[j];
                    for i in sb.rows.iter().filter(|&&i| vectors[i].is_some()) {
                        assert!(v <= vectors[*i].as_ref().unwrap()[j]);
                    }
                }
            }
        }
        assert_eq!(
            a.chosen.map(|c| kept.points[c].id),
            batch.chosen.map(|c| r.points[c].id)
        );
    }
}

#[test]
fn points_out_of_order_are_refused() {
    let (s, r) = run(&request());
    let mut tally = Tally::new(&s).unwrap();
    let late = Results {
        points: r.points[10..20].to_vec(),
        outcomes: r.outcomes[10..20].to_vec(),
    };
    let early = Results {
        points: r.points[0..10].to_vec(),
        outcomes: r.outcomes[0..10].to_vec(),
    };
    tally.add(&late).unwrap();
    let e = tally.add(&early).unwrap_err().to_string();
    assert!(e.contains("ascending id"), "{e}");
}

/// The numbers of a caption's sample sentence: "one in every K, D of N".
fn sample_numbers(text: &str, lead: &str) -> Option<(usize, usize, usize)> {
    let rest = &text[text.find(lead)? + lead.len()..];
    let nums: Vec<usize> = rest
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .take(3)
        .map(|w| w.parse().unwrap())
        .collect();
    Some((nums[0], nums[1], nums[2]))
}

#[test]
fn the_charts_of_a_large_run_draw_a_bounded_sample_and_say_so() {
    // 4455 points per bandwidth × 6 bandwidths: more dominated points than a chart draws.
    let req = ExploreRequest {
        hw: "pixel8".into(),
        model: "llama-1b".into(),
        sweeps: vec!["memory[dram].bytes_per_s=40e9..90e9:6".into()],
        command: "archscope explore (sample test)".into(),
        ..Default::default()
    };
    let tmp = TempDir::new("stream-sample");
    let dir = tmp.join("large");
    explore_into(&req, &dir, None);
    let csv = std::fs::read_to_string(dir.join("points.csv")).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",on_front"));
    let on_front = last_column(&csv);
    let points = on_front.len();
    let front = on_front.iter().filter(|v| *v == "true").count();
    let dominated = points - front;
    assert!(
        dominated > MAX_SCATTER_POINTS,
        "{dominated} dominated points"
    );
    assert!(front <= MAX_SCATTER_FRONT, "the whole front is drawn here");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    // The lead says the charts are a sample, of how many points.
    assert!(
        html.contains(&format!("draw a sample of the {points} points")),
        "the page says the charts are sampled"
    );
    // Each Pareto chart's caption: every Kth dominated point, D drawn of the N it saw; at most
    // the cap, and exactly one in K.
    let mut charts = 0;
    for part in html.split("<figcaption>").skip(1) {
        let Some((k, drawn, seen)) = sample_numbers(
            part,
            "A sample of the dominated points is drawn: one in every ",
        ) else {
            continue;
        };
        charts += 1;
        assert_eq!(k, dominated.div_ceil(MAX_SCATTER_POINTS));
        assert_eq!(drawn, seen.div_ceil(k), "one in every {k} of {seen}");
        assert!(drawn <= MAX_SCATTER_POINTS);
        assert!(seen <= dominated);
    }
    assert_eq!(charts, 2, "two Pareto charts for three objectives");
    // The page stays small: the sample bounds the inline SVG, not the point count.
    assert!(
        html.len() < 16 << 20,
        "report.html has {} bytes for {points} points",
        html.len()
    );
}
