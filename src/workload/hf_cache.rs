//! The local Hugging Face cache: `--model Qwen/Qwen2.5-1.5B-Instruct` (a model id, `org/name`,
//! that is not an existing path) finds the model's `config.json` where `huggingface_hub` put it,
//! without any network access.
//!
//! The hub cache directory is chosen as `huggingface_hub` does (`huggingface_hub/constants.py`),
//! first match wins:
//! 1. `$HF_HUB_CACHE`;
//! 2. `$HUGGINGFACE_HUB_CACHE` (its older name);
//! 3. `$HF_HOME/hub`;
//! 4. `$XDG_CACHE_HOME/huggingface/hub`;
//! 5. `~/.cache/huggingface/hub`.
//!
//! (A variable set to the empty string counts as unset; a leading `~/` is the home directory.)
//! In it, a model's files are under `models--ORG--NAME/snapshots/REVISION/`. When several
//! revisions are there, the one `models--ORG--NAME/refs/main` names is used; without that file
//! (or when its snapshot has no `config.json`), the snapshot whose `config.json` was modified
//! last. When no snapshot has a `config.json`, the error lists where it looked and how to fetch
//! the file (`huggingface-cli download ORG/NAME config.json`).

use super::error::ModelError;
use std::path::{Path, PathBuf};

/// The file each snapshot is searched for.
pub const CONFIG_FILE: &str = "config.json";

/// Whether `name` has the form of a Hugging Face model id, `org/name`: two non-empty parts of
/// ASCII letters, digits, `-`, `_` and `.`, not starting with `.`, and not naming a file type
/// archscope reads by extension (`.json`, `.gguf`, `.onnx`).
pub fn is_model_id(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if [".json", ".gguf", ".onnx"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        return false;
    }
    let part_ok = |p: &str| {
        !p.is_empty()
            && !p.starts_with('.')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    matches!(name.split_once('/'), Some((org, model)) if part_ok(org) && part_ok(model))
}

/// The hub cache directory and the variable that chose it, from the environment `env` (see the
/// module docs); `None` when no variable nor the home directory is set.
pub fn hub_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<(PathBuf, &'static str)> {
    let var = |k: &str| env(k).filter(|v| !v.is_empty());
    let home = var("HOME");
    let expand = |v: String| -> PathBuf {
        match (v.strip_prefix("~/"), &home) {
            (Some(rest), Some(h)) => Path::new(h).join(rest),
            _ => PathBuf::from(v),
        }
    };
    if let Some(v) = var("HF_HUB_CACHE") {
        return Some((expand(v), "HF_HUB_CACHE"));
    }
    if let Some(v) = var("HUGGINGFACE_HUB_CACHE") {
        return Some((expand(v), "HUGGINGFACE_HUB_CACHE"));
    }
    if let Some(v) = var("HF_HOME") {
        return Some((expand(v).join("hub"), "HF_HOME"));
    }
    if let Some(v) = var("XDG_CACHE_HOME") {
        return Some((expand(v).join("huggingface").join("hub"), "XDG_CACHE_HOME"));
    }
    home.map(|h| (Path::new(&h).join(".cache/huggingface/hub"), "HOME"))
}

/// The folder of model `id` in the hub cache `hub`: `models--ORG--NAME`.
pub fn model_dir(hub: &Path, id: &str) -> PathBuf {
    hub.join(format!("models--{}", id.replace('/', "--")))
}

/// The `config.json` of model `id` in the hub cache `hub`: the snapshot `refs/main` names, else
/// the newest; `None` when no snapshot has one.
pub fn find_in(hub: &Path, id: &str) -> Option<PathBuf> {
    let dir = model_dir(hub, id);
    if let Ok(rev) = std::fs::read_to_string(dir.join("refs").join("main")) {
        let rev = rev.trim();
        let p = dir.join("snapshots").join(rev).join(CONFIG_FILE);
        if !rev.is_empty() && !rev.contains(['/', '\\']) && rev != ".." && p.is_file() {
            return Some(p);
        }
    }
    std::fs::read_dir(dir.join("snapshots"))
        .ok()?
        .flatten()
        .map(|e| e.path().join(CONFIG_FILE))
        .filter_map(|p| {
            let modified = std::fs::metadata(&p).ok()?.modified().ok()?;
            p.is_file().then_some((modified, p))
        })
        .max()
        .map(|(_, p)| p)
}

/// The `config.json` of model `id` in the local cache of this process's environment, or an
/// error that says where it looked and how to download it.
pub fn find_config(id: &str) -> Result<PathBuf, ModelError> {
    let env = |k: &str| std::env::var(k).ok();
    let Some((hub, from)) = hub_dir(&env) else {
        return Err(ModelError::NotCached {
            id: id.to_string(),
            looked:
                "no cache directory: HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME and HOME are all unset"
                    .into(),
        });
    };
    find_in(&hub, id).ok_or_else(|| ModelError::NotCached {
        id: id.to_string(),
        looked: format!(
            "{} (the hub cache from {from})",
            model_dir(&hub, id)
                .join("snapshots")
                .join("*")
                .join(CONFIG_FILE)
                .display()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_are_org_slash_name() {
        assert!(is_model_id("Qwen/Qwen2.5-1.5B-Instruct"));
        assert!(is_model_id("meta-llama/Llama-3.2-1B"));
        assert!(!is_model_id("llama-1b"));
        assert!(!is_model_id("dir/config.json"));
        assert!(!is_model_id("models/tiny.gguf"));
        assert!(!is_model_id("./x"));
        assert!(!is_model_id("a/b/c"));
        assert!(!is_model_id("/abs"));
    }

    #[test]
    fn cache_precedence_follows_huggingface_hub() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let all = env(&[
            ("HF_HUB_CACHE", "/a"),
            ("HUGGINGFACE_HUB_CACHE", "/b"),
            ("HF_HOME", "/c"),
            ("XDG_CACHE_HOME", "/d"),
            ("HOME", "/e"),
        ]);
        assert_eq!(hub_dir(&all), Some((PathBuf::from("/a"), "HF_HUB_CACHE")));
        let home = env(&[("HF_HOME", "~/hf"), ("HOME", "/e")]);
        assert_eq!(
            hub_dir(&home),
            Some((PathBuf::from("/e/hf/hub"), "HF_HOME"))
        );
        let xdg = env(&[("HF_HOME", ""), ("XDG_CACHE_HOME", "/d"), ("HOME", "/e")]);
        assert_eq!(
            hub_dir(&xdg),
            Some((PathBuf::from("/d/huggingface/hub"), "XDG_CACHE_HOME"))
        );
        let bare = env(&[("HOME", "/e")]);
        assert_eq!(
            hub_dir(&bare),
            Some((PathBuf::from("/e/.cache/huggingface/hub"), "HOME"))
        );
        assert_eq!(hub_dir(&env(&[])), None);
    }
}
