//! Reading a text file (a device TOML, a model config.json) with an error that says where the
//! text is broken: a file that is not UTF-8 is reported with the byte offset and line of the
//! first bad byte instead of the standard library's bare "stream did not contain valid UTF-8".

use std::path::Path;

/// Why a text file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// The file could not be opened or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The bytes are not UTF-8.
    #[error(
        "invalid UTF-8 at byte {offset} (line {line}); expected UTF-8 text (re-save the file as UTF-8)"
    )]
    Utf8 {
        /// 0-based offset of the first byte that is not valid UTF-8.
        offset: usize,
        /// 1-based line of that byte.
        line: usize,
    },
}

/// The 1-based line of byte `offset` of `text` (the last line for an offset past the end).
pub fn line_at(text: &[u8], offset: usize) -> usize {
    text[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The 1-based line a TOML parse error points at in `text` (0 when it points nowhere).
pub fn toml_error_line(text: &str, e: &toml::de::Error) -> usize {
    e.span().map_or(0, |s| line_at(text.as_bytes(), s.start))
}

/// `bytes` as UTF-8 text, or where the first invalid byte is.
pub fn utf8(bytes: Vec<u8>) -> Result<String, TextError> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = line_at(e.as_bytes(), offset);
        TextError::Utf8 { offset, line }
    })
}

/// Reads `path` as UTF-8 text (see [`utf8`]).
pub fn read_utf8(path: &Path) -> Result<String, TextError> {
    utf8(std::fs::read(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bad_byte_is_located() {
        assert_eq!(utf8(b"a = 1\n".to_vec()).unwrap(), "a = 1\n");
        // `a`, newline, `b = "` are bytes 0-6, `é` is bytes 7-8, so the lone continuation byte
        // after it is byte 9, on line 2.
        let mut b = "a\nb = \"é".as_bytes().to_vec();
        b.push(0x80);
        match utf8(b) {
            Err(TextError::Utf8 { offset, line }) => assert_eq!((offset, line), (9, 2)),
            other => panic!("{other:?}"),
        }
    }
}
