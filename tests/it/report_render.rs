//! Renders `report.html` in headless Chromium and checks that every plot is present and
//! visible: a script added to a copy of the page records, for each `<figure class="plot">`, the
//! laid-out size of its SVG, whether it is displayed, how many of its text labels have a
//! non-empty box, and how many marks it draws; `--dump-dom` hands the result back.
//! Without Chromium (`scripts/bootstrap.sh --chromium` installs it) the test says so and skips.

use crate::common::TempDir;
use crate::common::explore::explore_into;
use archscope::explore::ExploreRequest;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    let candidates = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    if Path::new("/usr/bin/chromium").is_file() {
        return Some("/usr/bin/chromium".into());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|d| candidates.iter().map(move |c| d.join(c)))
            .find(|p| p.is_file())
    })
}

const PROBE: &str = r#"<script>
(function () {
  document.querySelectorAll('figure.plot').forEach(function (f) {
    var s = f.querySelector('svg');
    var r = s ? s.getBoundingClientRect() : { width: 0, height: 0 };
    var cs = s ? getComputedStyle(s) : null;
    var shown = cs && cs.display !== 'none' && cs.visibility === 'visible' && parseFloat(cs.opacity) > 0 ? 1 : 0;
    var texts = s ? Array.prototype.filter.call(s.querySelectorAll('text'), function (t) {
      var b = t.getBoundingClientRect(); return b.width > 0 && b.height > 0 && t.textContent.trim().length > 0;
    }).length : 0;
    var marks = s ? s.querySelectorAll('circle, rect, polyline, polygon, path, line').length : 0;
    f.setAttribute('data-check', [Math.round(r.width), Math.round(r.height), shown, texts, marks].join(','));
  });
  document.body.setAttribute('data-probed', 'yes');
})();
</script>"#;

#[test]
fn every_plot_is_present_and_visible_in_chromium() {
    let Some(browser) = chromium() else {
        eprintln!(
            "NOTICE: chromium not found; skipping the report rendering test (install it with `bash scripts/bootstrap.sh --chromium`)"
        );
        return;
    };
    let req = ExploreRequest {
        hw: "pixel8".into(),
        model: "llama-1b".into(),
        quants: vec!["fp16".into(), "w4a16-g128".into(), "w8a8".into()],
        contexts: vec![1024, 4096],
        sweeps: vec!["memory[dram].bytes_per_s=30e9..120e9:4:log".into()],
        command: "archscope explore (render test)".into(),
        ..Default::default()
    };
    let expected = [
        "pareto-energy_per_token_j-vs-decode_latency_s",
        "pareto-memory_bytes-vs-decode_latency_s",
        "roofline-prefill",
        "roofline-decode",
        "layers-prefill",
        "layers-decode",
        "sweep-memory-dram-bytes_per_s",
    ];
    render_and_check(&browser, "llm", &req, &expected);
    // A CNN report: one inference phase, per-image and per-batch metrics, thread variants.
    let req = ExploreRequest {
        hw: "pixel8".into(),
        model: "mobilenetv2".into(),
        batches: vec![1, 8],
        sweeps: vec!["memory[dram].bytes_per_s=30e9..120e9:3:log".into()],
        command: "archscope explore (render test, CNN)".into(),
        ..Default::default()
    };
    let expected = [
        "pareto-energy_per_image_j-vs-batch_latency_s",
        "pareto-memory_bytes-vs-batch_latency_s",
        "roofline-inference",
        "layers-inference",
        "sweep-memory-dram-bytes_per_s",
    ];
    render_and_check(&browser, "cnn", &req, &expected);
}

/// Writes the report of `req`, renders it in headless Chromium and checks that exactly the
/// `expected` plots are present, laid out, visible and labelled.
fn render_and_check(browser: &Path, name: &str, req: &ExploreRequest, expected: &[&str]) {
    let tmp = TempDir::new(&format!("render-{name}"));
    let dir = tmp.join("report");
    explore_into(req, &dir, None);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let probed = html.replace("</body>", &format!("{PROBE}</body>"));
    let page = dir.join("probe.html");
    std::fs::write(&page, probed).unwrap();
    let profile = dir.join("chromium-profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1300,900",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("data-probed=\"yes\""),
        "chromium did not run the probe: status {:?}, stderr {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut found = Vec::new();
    for part in dom.split("<figure").skip(1) {
        let tag_end = part.find('>').unwrap();
        let tag = &part[..tag_end];
        if !tag.contains("class=\"plot\"") {
            continue;
        }
        let attr = |name: &str| -> String {
            let key = format!("{name}=\"");
            let i = tag
                .find(&key)
                .unwrap_or_else(|| panic!("no {name} in {tag}"))
                + key.len();
            tag[i..].split('"').next().unwrap().to_string()
        };
        let id = attr("id");
        let v: Vec<i64> = attr("data-check")
            .split(',')
            .map(|x| x.parse().unwrap())
            .collect();
        let (w, h, shown, texts, marks) = (v[0], v[1], v[2], v[3], v[4]);
        eprintln!("{id}: {w}x{h} px, shown {shown}, {texts} text labels, {marks} marks");
        assert!(w >= 400 && h >= 200, "{id}: laid out at {w}x{h}");
        assert_eq!(shown, 1, "{id} is hidden");
        assert!(texts >= 8, "{id}: only {texts} visible text labels");
        assert!(marks >= 10, "{id}: only {marks} marks");
        found.push(id.trim_start_matches("plot-").to_string());
    }
    for &want in expected {
        assert!(
            found.iter().any(|f| f == want),
            "plot {want} missing; found {found:?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:?}");
    // The page is self-contained: no external scripts, styles or images.
    assert!(!html.contains("<script src") && !html.contains("<link ") && !html.contains("<img "));
}
