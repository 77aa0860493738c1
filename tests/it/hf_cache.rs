//! `--model ORG/NAME` from the local Hugging Face cache (issue 18): a fake cache folder, the
//! revision `refs/main` names or else the newest, and the error when the model is not there.
//! The child process gets `HF_HOME` pointing at the fake cache, never the real home.

use crate::common::TempDir;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// A llama-shaped config with hidden size `hidden` (the other fields as Llama-3.2-1B's
/// `config.json`).
fn config(hidden: u64) -> String {
    format!(
        r#"{{"model_type": "llama", "hidden_size": {hidden}, "intermediate_size": 8192,
        "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
        "vocab_size": 128256, "tie_word_embeddings": true}}"#
    )
}

/// Writes `snapshots/REV/config.json` of `id` under `home/hub`, modified `age_s` seconds ago.
fn snapshot(home: &Path, id: &str, rev: &str, hidden: u64, age_s: u64) {
    let dir = home
        .join("hub")
        .join(format!("models--{}", id.replace('/', "--")))
        .join("snapshots")
        .join(rev);
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("config.json");
    std::fs::write(&p, config(hidden)).unwrap();
    let f = std::fs::File::options().write(true).open(&p).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(age_s))
        .unwrap();
}

/// `archscope models show NAME` with `HF_HOME` set to `home` and the other cache variables
/// removed; returns (success, stdout, stderr).
fn show(home: &Path, name: &str) -> (bool, String, String) {
    crate::common::archscope_env(
        Path::new("."),
        &["models", "show", name],
        &[("HF_HOME", home)],
        &["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"],
    )
}

fn hidden(out: &str) -> u64 {
    let v: serde_json::Value = serde_json::from_str(out).unwrap();
    v["hidden"].as_u64().unwrap()
}

#[test]
fn a_cached_model_id_loads_its_config() {
    let home = TempDir::new("hf-cache");
    let id = "Org/Tiny-1B";
    // The newest snapshot wins without refs/main.
    snapshot(home.path(), id, "aaaa", 1024, 3600);
    snapshot(home.path(), id, "bbbb", 2048, 60);
    let (ok, out, err) = show(home.path(), id);
    assert!(ok, "{err}");
    assert_eq!(hidden(&out), 2048);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["name"], "Tiny-1B");
    // refs/main names the older one: it wins.
    let refs = home.join("hub/models--Org--Tiny-1B/refs");
    std::fs::create_dir_all(&refs).unwrap();
    std::fs::write(refs.join("main"), "aaaa\n").unwrap();
    let (ok, out, err) = show(home.path(), id);
    assert!(ok, "{err}");
    assert_eq!(hidden(&out), 1024);
    // HF_HUB_CACHE takes precedence over HF_HOME, as in huggingface_hub.
    let other = TempDir::new("hf-hub-cache");
    snapshot(other.path(), id, "cccc", 512, 0);
    let hub = other.join("hub");
    let (ok, out, err) = crate::common::archscope_env(
        Path::new("."),
        &["models", "show", id],
        &[("HF_HOME", home.path()), ("HF_HUB_CACHE", &hub)],
        &["HUGGINGFACE_HUB_CACHE"],
    );
    assert!(ok, "{err}");
    assert_eq!(hidden(&out), 512);
}

#[test]
fn a_model_not_in_the_cache_says_where_it_looked_and_how_to_download() {
    let home = TempDir::new("hf-cache-miss");
    let (ok, _, err) = show(home.path(), "Qwen/Qwen2.5-1.5B-Instruct");
    assert!(!ok);
    let looked = home
        .join("hub/models--Qwen--Qwen2.5-1.5B-Instruct/snapshots/*/config.json")
        .display()
        .to_string();
    assert!(err.contains(&looked), "{err}");
    assert!(err.contains("HF_HOME"), "{err}");
    assert!(
        err.contains("huggingface-cli download Qwen/Qwen2.5-1.5B-Instruct config.json"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
