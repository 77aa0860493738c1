//! Byte sizes: one parser for every size the user types (`4e9`, `4GB`, `3.5GiB`, `512 KiB`,
//! `64kB`) and the formatters for reading them back.
//!
//! A size is a number, an optional prefix and an optional `B`. Prefixes are case-insensitive: `k`,
//! `M`, `G`, `T` are powers of 1000 and `Ki`, `Mi`, `Gi`, `Ti` powers of 1024.

use thiserror::Error;

/// Why a byte size did not parse. The message names the text and what was expected.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SizeError {
    /// Not a number with a known prefix.
    #[error(
        "bad byte count `{0}`: expected a positive number with an optional suffix, e.g. 4e9, 4GB, 3.5GiB"
    )]
    Syntax(String),
    /// A prefix that is not one of B, k, M, G, T (with an optional `i`).
    #[error("unknown unit `{unit}` in `{text}`; use B, KB, KiB, MB, MiB, GB, GiB, TB or TiB")]
    Unit {
        /// The whole text.
        text: String,
        /// The unit part.
        unit: String,
    },
    /// Zero, negative or not finite.
    #[error("byte count `{0}` must be positive")]
    NotPositive(String),
    /// A size asked for in whole bytes that has a fraction of a byte.
    #[error("{text} is not a whole number of bytes ({bytes} bytes)")]
    Fraction {
        /// The whole text.
        text: String,
        /// The value it denotes.
        bytes: f64,
    },
    /// Larger than 2^64 - 1 bytes.
    #[error("byte count `{0}` is too large")]
    TooLarge(String),
}

/// Splits `t` into its number and the multiplier of its unit (`B` optional).
fn split_unit(text: &str) -> Result<(&str, u128), SizeError> {
    let t = text.trim();
    // The unit is the trailing run of letters; an exponent (`4e9`) is followed by digits, so it is
    // never trailing.
    let split = t
        .rfind(|c: char| !c.is_ascii_alphabetic())
        .map_or(0, |i| i + t[i..].chars().next().map_or(1, char::len_utf8));
    let (num, unit) = (t[..split].trim(), &t[split..]);
    if num.is_empty() {
        return Err(SizeError::Syntax(text.to_string()));
    }
    let lower = unit.to_ascii_lowercase();
    let prefix = lower.strip_suffix('b').unwrap_or(&lower);
    let mult: u128 = match prefix {
        "" => 1,
        "k" => 1_000,
        "m" => 1_000_000,
        "g" => 1_000_000_000,
        "t" => 1_000_000_000_000,
        "ki" => 1 << 10,
        "mi" => 1 << 20,
        "gi" => 1 << 30,
        "ti" => 1 << 40,
        _ => {
            return Err(SizeError::Unit {
                text: text.to_string(),
                unit: unit.to_string(),
            });
        }
    };
    Ok((num, mult))
}

/// Parses a byte count as a real number: `4e9`, `4GB`, `3.5GiB`, `512 MiB`, `1000`. It must be
/// positive and finite.
pub fn parse_bytes(text: &str) -> Result<f64, SizeError> {
    let (num, mult) = split_unit(text)?;
    let v: f64 = num
        .parse()
        .map_err(|_| SizeError::Syntax(text.to_string()))?;
    let v = v * mult as f64;
    if !(v.is_finite() && v > 0.0) {
        return Err(SizeError::NotPositive(text.to_string()));
    }
    Ok(v)
}

/// Parses a byte count that must be a whole, positive number of bytes, exactly (decimal
/// arithmetic, no rounding): `65536`, `512KiB`, `1.5MB`, `1.5 KiB`. `0.3B` and `1.0001KB` are
/// errors.
pub fn parse_whole_bytes(text: &str) -> Result<u64, SizeError> {
    let (num, mult) = split_unit(text)?;
    let syntax = || SizeError::Syntax(text.to_string());
    if !num.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(syntax());
    }
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if frac.contains('.') || (int.is_empty() && frac.is_empty()) || frac.len() > 18 {
        return Err(syntax());
    }
    let digits = |s: &str| -> Result<u128, SizeError> {
        if s.is_empty() {
            Ok(0)
        } else {
            s.parse().map_err(|_| SizeError::TooLarge(text.to_string()))
        }
    };
    let (int_v, frac_v) = (digits(int)?, digits(frac)?);
    let den = 10u128.pow(frac.len() as u32);
    let total = int_v
        .checked_mul(den)
        .and_then(|v| v.checked_add(frac_v))
        .and_then(|v| v.checked_mul(mult))
        .ok_or_else(|| SizeError::TooLarge(text.to_string()))?;
    if total % den != 0 {
        return Err(SizeError::Fraction {
            text: text.to_string(),
            bytes: total as f64 / den as f64,
        });
    }
    let bytes = u64::try_from(total / den).map_err(|_| SizeError::TooLarge(text.to_string()))?;
    if bytes == 0 {
        return Err(SizeError::NotPositive(text.to_string()));
    }
    Ok(bytes)
}

/// Bytes with a binary unit for reading (`524288` → `512.00 KiB`).
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.2} {}", UNITS[u])
}

/// Bytes with thousands separators (`1505280` → `1,505,280`).
pub fn grouped(b: u64) -> String {
    let s = b.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The SI prefixes from tera to pico, largest first, with their scales.
pub const SI_PREFIXES: [(f64, &str); 9] = [
    (1e12, "T"),
    (1e9, "G"),
    (1e6, "M"),
    (1e3, "k"),
    (1.0, ""),
    (1e-3, "m"),
    (1e-6, "µ"),
    (1e-9, "n"),
    (1e-12, "p"),
];

/// The largest SI prefix (scale, symbol) whose scale `|v|` reaches, allowing for `v` to round up
/// to it at 3 significant digits (pico for anything smaller).
pub fn si_prefix(v: f64) -> (f64, &'static str) {
    (SI_PREFIXES.iter().copied())
        .find(|&(s, _)| v.abs() >= s * 0.9995)
        .unwrap_or((1e-12, "p"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_sizes_with_si_and_iec_prefixes() {
        assert_eq!(parse_bytes("4e9"), Ok(4e9));
        assert_eq!(parse_bytes("4GB"), Ok(4e9));
        assert_eq!(parse_bytes("3.5GiB"), Ok(3.5 * 1073741824.0));
        assert_eq!(parse_bytes("2GiB"), Ok(2.0 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(parse_bytes("1.5GB"), Ok(1.5e9));
        assert_eq!(parse_bytes("512 MiB"), Ok(512.0 * 1048576.0));
        assert_eq!(parse_bytes("2gib"), Ok(2.0 * 1073741824.0));
        assert_eq!(parse_bytes("64k"), Ok(64e3));
        assert_eq!(parse_bytes("1000"), Ok(1000.0));
        assert_eq!(parse_bytes("1e3B"), Ok(1000.0));
        for bad in ["-1GB", "lots", "", "0", "GB", "1e999", "NaN", "4XB"] {
            assert!(parse_bytes(bad).is_err(), "{bad} should not parse");
        }
        let e = parse_bytes("4XB").unwrap_err().to_string();
        assert!(e.contains("unknown unit `XB`"), "{e}");
        let e = parse_bytes("lots").unwrap_err().to_string();
        assert!(e.contains("bad byte count `lots`"), "{e}");
    }

    #[test]
    fn whole_sizes_are_exact() {
        assert_eq!(parse_whole_bytes("512KiB"), Ok(524_288));
        assert_eq!(parse_whole_bytes("1.5MB"), Ok(1_500_000));
        assert_eq!(parse_whole_bytes("1.5 KiB"), Ok(1536));
        assert_eq!(parse_whole_bytes("64kB"), Ok(64_000));
        // 2^64 - 1 is the largest; one more byte is too large.
        assert_eq!(parse_whole_bytes("18446744073709551615"), Ok(u64::MAX));
        assert!(matches!(
            parse_whole_bytes("18446744073709551616"),
            Err(SizeError::TooLarge(_))
        ));
        for bad in [
            "",
            "1.5.2MB",
            "0",
            "0.3B",
            "KiB",
            "99999999999999GiB",
            "1e3",
        ] {
            assert!(parse_whole_bytes(bad).is_err(), "{bad} should not parse");
        }
        let e = parse_whole_bytes("1.0001KB").unwrap_err().to_string();
        assert!(e.contains("whole number of bytes"), "{e}");
    }

    #[test]
    fn byte_formatting() {
        assert_eq!(grouped(1_505_280), "1,505,280");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(524_288), "512.00 KiB");
        assert_eq!(human_bytes(1_505_280), "1.44 MiB");
    }
}
