//! Probing the host: its CPU model and count, its data caches (from
//! `/sys/devices/system/cpu/cpu0/cache`) and its memory (from `/proc/meminfo`), and the names
//! and set stride derived from them.

/// One data or unified cache level, as `/sys` describes it for cpu0.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheLevel {
    /// 1, 2, 3, ...
    pub level: u32,
    /// Bytes of one instance.
    pub size_bytes: u64,
    /// Logical CPUs sharing one instance.
    pub shared_cpus: usize,
    /// Ways of associativity (`ways_of_associativity`), where `/sys` gives it.
    pub ways: Option<u64>,
}

/// What the host says about itself.
#[derive(Clone, Debug)]
pub struct HostInfo {
    /// CPU model name from `/proc/cpuinfo`.
    pub model: String,
    /// Logical CPUs this process may use.
    pub cpus: usize,
    /// Data and unified caches, innermost first.
    pub caches: Vec<CacheLevel>,
    /// `MemTotal`, bytes.
    pub mem_total: Option<u64>,
    /// `MemAvailable`, bytes.
    pub mem_available: Option<u64>,
    /// `cpu MHz` of the first CPU in `/proc/cpuinfo`.
    pub cpuinfo_mhz: Option<f64>,
}

/// Parses a `/sys` cache size such as `32K`, `1024K` or `32M`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1024),
        'M' | 'm' => (&s[..s.len() - 1], 1024 * 1024),
        'G' | 'g' => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    num.trim().parse::<u64>().ok().map(|n| n * mult)
}

/// Counts the CPUs of a `/sys` CPU list such as `0-3,8,10-11`.
pub fn parse_cpu_list(s: &str) -> Option<usize> {
    let mut n = 0;
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?);
                if b < a {
                    return None;
                }
                n += b - a + 1;
            }
            None => {
                part.parse::<usize>().ok()?;
                n += 1;
            }
        }
    }
    (n > 0).then_some(n)
}

/// The contents of a file, `None` when it cannot be read.
fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// A `/proc/meminfo` field, bytes.
fn meminfo(field: &str) -> Option<u64> {
    let text = read("/proc/meminfo")?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Reads the host description from `/proc` and `/sys` (empty fields where they are absent).
pub fn host_info() -> HostInfo {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpuinfo = read("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let model = field("model name")
        .or_else(|| field("Model"))
        .or_else(|| field("CPU part").map(|p| format!("CPU part {p}")))
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let mut caches = Vec::new();
    for i in 0..16 {
        let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{i}");
        let Some(kind) = read(&format!("{dir}/type")) else {
            continue;
        };
        if kind.trim() == "Instruction" {
            continue;
        }
        let level = read(&format!("{dir}/level")).and_then(|s| s.trim().parse().ok());
        let size = read(&format!("{dir}/size")).and_then(|s| parse_size(&s));
        let ways = read(&format!("{dir}/ways_of_associativity"))
            .and_then(|s| s.trim().parse().ok())
            .filter(|&w| w > 0);
        let shared = read(&format!("{dir}/shared_cpu_list"))
            .and_then(|s| parse_cpu_list(&s))
            .unwrap_or(1);
        if let (Some(level), Some(size_bytes)) = (level, size) {
            caches.push(CacheLevel {
                level,
                size_bytes,
                shared_cpus: shared,
                ways,
            });
        }
    }
    caches.sort_by_key(|c| c.level);
    HostInfo {
        model,
        cpus,
        caches,
        mem_total: meminfo("MemTotal:"),
        mem_available: meminfo("MemAvailable:"),
        cpuinfo_mhz: field("cpu MHz").and_then(|s| s.parse().ok()),
    }
}

/// The name of cache level `level` in the hardware file (`l1d`, `l2`, ...).
pub(super) fn level_name(level: u32) -> String {
    if level == 1 {
        "l1d".into()
    } else {
        format!("l{level}")
    }
}

/// The first-level cache's set stride, bytes (its capacity over its ways), where `/sys` gives
/// both: rows that many bytes apart share its sets.
pub(super) fn conflict_stride(host: &HostInfo) -> Option<usize> {
    let l1 = host.caches.first()?;
    Some((l1.size_bytes / l1.ways?) as usize).filter(|&s| s > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_formats() {
        assert_eq!(parse_size("32K\n"), Some(32 * 1024));
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_cpu_list("0-1\n"), Some(2));
        assert_eq!(parse_cpu_list("0-3,8,10-11"), Some(7));
        assert_eq!(parse_cpu_list("3-1"), None);
    }
}
