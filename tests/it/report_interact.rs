//! Drives `report.html` in headless Chromium through real input events, over the Chrome DevTools
//! Protocol spoken on a minimal WebSocket client (std only): hovering a front point of a Pareto
//! chart shows its tooltip, clicking it shows its per-op ledger and roofline position, clicking
//! a front-table header sorts the rows, and the quantisation filter narrows them. A screenshot
//! of the page after the click is written for a person to look at (the test prints where).
//! Without Chromium the test says so and skips, as `report_render` does.

use crate::common::TempDir;
use archscope::explore::{self, ExploreRequest, OutputOptions};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest wait for any one thing (the browser starting, a reply, the page loading).
const WAIT: Duration = Duration::from_secs(30);

fn chromium() -> Option<PathBuf> {
    if Path::new("/usr/bin/chromium").is_file() {
        return Some("/usr/bin/chromium".into());
    }
    let candidates = ["chromium", "chromium-browser", "google-chrome"];
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|d| candidates.iter().map(move |c| d.join(c)))
            .find(|p| p.is_file())
    })
}

/// The browser process, killed when dropped (also when the test fails).
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A WebSocket connection carrying CDP messages.
struct Cdp {
    s: TcpStream,
    next: u64,
}

impl Cdp {
    /// Connects to `ws://127.0.0.1:port/path` and completes the opening handshake.
    fn connect(port: u16, path: &str) -> Cdp {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to devtools");
        s.set_read_timeout(Some(WAIT)).unwrap();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        s.write_all(req.as_bytes()).unwrap();
        // The response head ends with an empty line; read it byte by byte so that no frame
        // bytes are consumed.
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut b).expect("handshake response");
            head.push(b[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(
            head.starts_with("HTTP/1.1 101"),
            "handshake refused: {head}"
        );
        Cdp { s, next: 0 }
    }

    /// Sends one masked text frame.
    fn send(&mut self, text: &str) {
        let data = text.as_bytes();
        let mut f = vec![0x81u8];
        match data.len() {
            n if n < 126 => f.push(0x80 | n as u8),
            n if n < 65536 => {
                f.push(0x80 | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(0x80 | 127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask = [0x37u8, 0xfa, 0x21, 0x3d];
        f.extend_from_slice(&mask);
        f.extend(data.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.s.write_all(&f).unwrap();
    }

    /// Reads one message (joining continuation frames); answers pings.
    fn recv(&mut self) -> String {
        let mut msg = Vec::new();
        loop {
            let mut h = [0u8; 2];
            self.s.read_exact(&mut h).expect("frame header");
            let (fin, op) = (h[0] & 0x80 != 0, h[0] & 0x0f);
            let mut len = (h[1] & 0x7f) as u64;
            if len == 126 {
                let mut b = [0u8; 2];
                self.s.read_exact(&mut b).unwrap();
                len = u16::from_be_bytes(b) as u64;
            } else if len == 127 {
                let mut b = [0u8; 8];
                self.s.read_exact(&mut b).unwrap();
                len = u64::from_be_bytes(b);
            }
            let mut mask = [0u8; 4];
            if h[1] & 0x80 != 0 {
                self.s.read_exact(&mut mask).unwrap();
            }
            let mut data = vec![0u8; len as usize];
            self.s.read_exact(&mut data).expect("frame payload");
            if h[1] & 0x80 != 0 {
                data.iter_mut()
                    .enumerate()
                    .for_each(|(i, b)| *b ^= mask[i % 4]);
            }
            match op {
                0x8 => panic!("devtools closed the connection"),
                0x9 => {
                    // Pong with the same payload (short, so one length byte).
                    let mut f = vec![0x8a, 0x80 | data.len() as u8, 0, 0, 0, 0];
                    f.extend_from_slice(&data);
                    self.s.write_all(&f).unwrap();
                    continue;
                }
                0xa => continue,
                _ => msg.extend_from_slice(&data),
            }
            if fin {
                return String::from_utf8(msg).expect("utf-8 message");
            }
        }
    }

    /// Calls `method` and returns its result, skipping events; panics on an error reply.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.send(&json!({"id": id, "method": method, "params": params}).to_string());
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            let v: Value = serde_json::from_str(&self.recv()).unwrap();
            if v["id"].as_u64() == Some(id) {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
        panic!("{method}: no reply in {WAIT:?}");
    }

    /// Evaluates `expr` in the page and returns its value.
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true}),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expr}: {r}");
        r["result"]["value"].clone()
    }

    /// A mouse event of `kind` at (x, y), with the left button for presses and releases.
    fn mouse(&mut self, kind: &str, x: f64, y: f64) {
        let button = if kind == "mouseMoved" { "none" } else { "left" };
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": kind, "x": x, "y": y, "button": button, "clickCount": if button == "left" { 1 } else { 0 }}),
        );
    }

    /// Moves to (x, y) and clicks there.
    fn click(&mut self, x: f64, y: f64) {
        self.mouse("mouseMoved", x, y);
        self.mouse("mousePressed", x, y);
        self.mouse("mouseReleased", x, y);
    }

    /// Polls `expr` until it is true.
    fn wait_for(&mut self, expr: &str) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if self.eval(expr) == json!(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("timed out waiting for {expr}");
    }
}

/// A plain HTTP GET to the devtools server; the body (read to its `Content-Length`, as the
/// server keeps the connection open).
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(WAIT)).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").ok()?;
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).ok()?;
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))?
        .trim()
        .parse()
        .ok()?;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    String::from_utf8(body).ok()
}

/// Standard base64 decoding (the screenshot), ignoring padding.
fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').map(val).collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for ch in bytes.chunks(4) {
        let n = ch
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &v)| n | (v as u32) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..ch.len()]);
    }
    out
}

/// Where the screenshot goes: `report-interact/` beside the test binary's `deps` folder (the
/// cargo target profile directory).
fn shot_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    profile.join("report-interact")
}

#[test]
fn report_hover_click_sort_and_filter_in_chromium() {
    let Some(browser) = chromium() else {
        eprintln!(
            "NOTICE: chromium not found; skipping the report interaction test (install it with `bash scripts/bootstrap.sh --chromium`)"
        );
        return;
    };
    let tmp = TempDir::new("report-interact");
    let dir = tmp.join("report");
    let req = ExploreRequest {
        hw: "pixel8".into(),
        model: "llama-1b".into(),
        command: "archscope explore (interaction test)".into(),
        ..Default::default()
    };
    explore::explore(
        &req,
        &OutputOptions {
            out: Some(dir.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let profile = tmp.join("profile");
    let child = Command::new(&browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            "--window-size=1300,900",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", dir.join("report.html").display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let _browser = Browser(child);

    // The port, from the file chromium writes once it listens.
    let deadline = Instant::now() + WAIT;
    let port: u16 = loop {
        if let Ok(t) = std::fs::read_to_string(profile.join("DevToolsActivePort"))
            && let Some(p) = t.lines().next().and_then(|l| l.trim().parse().ok())
        {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "chromium wrote no DevToolsActivePort"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // The page target.
    let ws = loop {
        let page = http_get(port, "/json")
            .and_then(|b| serde_json::from_str::<Value>(&b).ok())
            .and_then(|v| {
                v.as_array()?
                    .iter()
                    .find(|t| {
                        t["type"] == "page"
                            && t["url"]
                                .as_str()
                                .is_some_and(|u| u.ends_with("report.html"))
                    })
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(String::from))
            });
        if let Some(u) = page {
            break u;
        }
        assert!(Instant::now() < deadline, "no page target in /json");
        std::thread::sleep(Duration::from_millis(100));
    };
    let path = ws
        .split_once(&format!("127.0.0.1:{port}"))
        .or_else(|| ws.split_once(&format!("localhost:{port}")))
        .map(|(_, p)| p.to_string())
        .unwrap_or_else(|| panic!("unexpected debugger url {ws}"));
    let mut cdp = Cdp::connect(port, &path);
    // A tall viewport, so that the screenshot holds a chart with its ledger below it.
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1300, "height": 1500, "deviceScaleFactor": 1, "mobile": false}),
    );
    cdp.wait_for(
        "document.readyState === 'complete' && typeof window.archscopePoint === 'function'",
    );

    // A front point with a ledger, drawn in the first live chart: the first such mark, so no
    // other point with a ledger comes before it at the same place.
    let pick = cdp.eval(
        r#"(function () {
  var D = JSON.parse(document.getElementById('archscope-data').textContent);
  var fig = document.querySelector('figure[data-live]');
  var m = D.charts[fig.id];
  for (var i = 0; i < m.length; i += 3) if (D.ledgers[m[i]]) {
    fig.scrollIntoView({ block: 'center' });
    return { fig: fig.id, id: m[i], conf: D.points[m[i]][0] };
  }
  return null;
})()"#,
    );
    assert!(pick.is_object(), "no front point with a ledger in a chart");
    let (fig, id) = (pick["fig"].as_str().unwrap(), pick["id"].as_u64().unwrap());
    let at = cdp.eval(&format!("window.archscopePoint('{fig}', {id})"));
    let (x, y) = (at["x"].as_f64().unwrap(), at["y"].as_f64().unwrap());
    eprintln!(
        "point #{id} ({}) of {fig} at ({x:.0}, {y:.0})",
        pick["conf"]
    );
    assert!(
        (0.0..1300.0).contains(&x) && (0.0..1500.0).contains(&y),
        "off screen"
    );

    // Hover: the tooltip shows the point's id, configuration and metrics.
    cdp.mouse("mouseMoved", x - 20.0, y - 20.0);
    cdp.mouse("mouseMoved", x, y);
    let tip = cdp.eval(
        "(function () { var t = document.getElementById('as-tip'); return [t.style.display, t.innerText]; })()",
    );
    let text = tip[1].as_str().unwrap();
    eprintln!("tooltip: {text:?}");
    assert_eq!(tip[0], "block", "tooltip not shown");
    assert!(text.contains(&format!("#{id}")), "{text}");
    assert!(text.contains(pick["conf"].as_str().unwrap()), "{text}");
    assert!(text.contains("decode_latency_s:"), "{text}");

    // Click: the ledger of that point appears below the chart, with op rows and the roofline
    // position of each phase.
    cdp.click(x, y);
    let ledger = cdp.eval(&format!(
        r#"(function () {{
  var p = document.getElementById('{fig}').nextElementSibling;
  if (!p || !p.classList.contains('as-ledger')) return null;
  return {{ id: p.getAttribute('data-point'), rows: p.querySelectorAll('table.as-ops tbody tr').length,
           tables: p.querySelectorAll('table.as-ops').length, text: p.innerText }};
}})()"#
    ));
    assert!(ledger.is_object(), "no ledger panel after the click");
    eprintln!(
        "ledger of #{}: {} tables, {} op rows",
        ledger["id"], ledger["tables"], ledger["rows"]
    );
    assert_eq!(ledger["id"], json!(id.to_string()));
    assert_eq!(ledger["tables"], json!(2), "prefill and decode");
    assert!(ledger["rows"].as_u64().unwrap() >= 10);
    let ltext = ledger["text"].as_str().unwrap();
    assert!(
        ltext.contains("Roofline position") && ltext.contains("FLOP/B"),
        "{ltext}"
    );
    assert!(
        ltext.contains("q_proj") && ltext.contains("matmul"),
        "{ltext}"
    );
    let hint = cdp.eval("document.querySelector('p.as-hint').hidden");
    assert_eq!(hint, json!(false), "the script did not show its hint");

    // A screenshot of the chart, the tooltip and the ledger.
    cdp.eval(&format!(
        "window.scrollBy(0, document.getElementById('{fig}').getBoundingClientRect().top - 10)"
    ));
    let at = cdp.eval(&format!("window.archscopePoint('{fig}', {id})"));
    cdp.mouse(
        "mouseMoved",
        at["x"].as_f64().unwrap(),
        at["y"].as_f64().unwrap(),
    );
    let mut shot = cdp.call("Page.captureScreenshot", json!({"format": "png"}));
    let png = base64(shot["data"].take().as_str().unwrap());
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let out = shot_dir();
    std::fs::create_dir_all(&out).unwrap();
    let shot_path = out.join("report-click.png");
    std::fs::write(&shot_path, &png).unwrap();
    eprintln!("screenshot: {}", shot_path.display());

    // Sorting: click the energy header of the first front table body; each body's rows end up
    // in ascending energy, and the first body's order changes (its default is by latency).
    let order_js = r#"(function () {
  var tb = document.querySelector('table.front tbody');
  return Array.prototype.map.call(tb.querySelectorAll('tr[data-id]'), function (r) { return r.getAttribute('data-id'); });
})()"#;
    let before = cdp.eval(order_js);
    let th = cdp.eval(
        r#"(function () {
  var head = document.querySelector('table.front tr.colhead');
  var c = Array.prototype.findIndex.call(head.children, function (th) { return th.textContent.indexOf('energy_per_token_j') === 0; });
  var th = head.children[c];
  th.scrollIntoView({ block: 'center' });
  var r = th.getBoundingClientRect();
  return { c: c, x: r.left + r.width / 2, y: r.top + r.height / 2 };
})()"#,
    );
    let col = th["c"].as_i64().unwrap();
    assert!(col > 0, "no energy column");
    cdp.click(th["x"].as_f64().unwrap(), th["y"].as_f64().unwrap());
    let after = cdp.eval(order_js);
    eprintln!("first front body before {before}, after sorting by energy {after}");
    assert_ne!(before, after, "sorting did not change the order");
    let sorted = cdp.eval(&format!(
        r#"(function () {{
  return Array.prototype.every.call(document.querySelectorAll('table.front tbody'), function (tb) {{
    var v = Array.prototype.map.call(tb.querySelectorAll('tr[data-id]'), function (r) {{ return parseFloat(r.children[{col}].getAttribute('data-v')); }});
    for (var i = 1; i < v.length; i++) if (v[i] < v[i - 1]) return false;
    return v.length > 0;
  }});
}})()"#
    ));
    assert_eq!(sorted, json!(true), "rows not in ascending energy");

    // Filtering: choose a quantisation in the filter (the select's change event); only its
    // rows stay shown.
    let filtered = cdp.eval(
        r#"(function () {
  var t = document.querySelector('table.front');
  var rows = t.querySelectorAll('tr[data-id]');
  var s = document.querySelector('div.as-filter select[data-filter=quant]');
  var q = s.options[1].value;
  s.value = q;
  s.dispatchEvent(new Event('change', { bubbles: true }));
  var qcol = Array.prototype.map.call(t.querySelector('tr.colhead').children, function (th) { return th.textContent; }).indexOf('quant');
  var shown = Array.prototype.filter.call(rows, function (r) { return r.style.display !== 'none'; });
  return { q: q, total: rows.length, shown: shown.length,
           all: shown.every(function (r) { return r.children[qcol].textContent === q; }) };
})()"#,
    );
    eprintln!("filter: {filtered}");
    let (total, shown) = (
        filtered["total"].as_u64().unwrap(),
        filtered["shown"].as_u64().unwrap(),
    );
    assert!(shown > 0 && shown < total, "{filtered}");
    assert_eq!(filtered["all"], json!(true));
}
