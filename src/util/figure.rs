//! Chart output, once for every chart: a [`Chart`] draws itself on any plotters backend, and
//! this module renders it as SVG text, a PNG file, an RGB buffer, or a file whose extension picks
//! the format.

use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// A chart that can draw itself on any plotters backend.
pub trait Chart {
    /// Pixel size (width, height).
    fn size(&self) -> (u32, u32);
    /// Draws on `root`. Errors are text (fonts, file system).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static;
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Renders `fig` as SVG text.
pub fn to_svg<F: Chart + ?Sized>(fig: &F) -> Result<String, String> {
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, fig.size()).into_drawing_area();
        fig.draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(s)
}

/// Renders `fig` as a PNG file at `path` (needs a system font for the text).
pub fn to_png<F: Chart + ?Sized>(fig: &F, path: &Path) -> Result<(), String> {
    let root = BitMapBackend::new(path, fig.size()).into_drawing_area();
    fig.draw(&root)?;
    root.present().map_err(err)
}

/// Renders `fig` into an RGB buffer (3 bytes per pixel, rows top to bottom).
pub fn to_rgb<F: Chart + ?Sized>(fig: &F) -> Result<Vec<u8>, String> {
    let (w, h) = fig.size();
    let mut buf = vec![0u8; (w as usize) * (h as usize) * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        fig.draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

/// Writes `fig` to `path`, atomically: SVG for `.svg`, PNG for `.png`; any other extension is
/// an error that names the path. An existing file is an error unless `force`.
pub fn write<F: Chart + ?Sized>(fig: &F, path: &Path, force: bool) -> Result<(), String> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("svg") => {
            let s = to_svg(fig)?;
            crate::util::output::write_new(path, s.as_bytes(), force).map_err(err)
        }
        Some("png") => {
            crate::util::output::write_new_with(path, force, |tmp| to_png(fig, tmp)).map_err(err)
        }
        _ => Err(format!(
            "{}: expected a .svg or .png file name",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 40×20 figure: white background and a red band over rows 8 to 12.
    struct Bar;
    impl Chart for Bar {
        fn size(&self) -> (u32, u32) {
            (40, 20)
        }
        fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>
        where
            DB::ErrorType: 'static,
        {
            root.fill(&WHITE).map_err(err)?;
            root.draw(&Rectangle::new([(0, 8), (39, 12)], RED.filled()))
                .map_err(err)
        }
    }

    #[test]
    fn one_figure_three_outputs() {
        let svg = to_svg(&Bar).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("width=\"40\""),
            "{svg}"
        );
        let rgb = to_rgb(&Bar).unwrap();
        assert_eq!(rgb.len(), 40 * 20 * 3);
        // Row 10 is inside the band, row 0 outside it.
        let px = |x: usize, y: usize| &rgb[(y * 40 + x) * 3..(y * 40 + x) * 3 + 3];
        assert_eq!(px(5, 10), &[255, 0, 0]);
        assert_eq!(px(5, 0), &[255, 255, 255]);
        let e = write(&Bar, Path::new("/nonexistent/x.gif"), true).unwrap_err();
        assert!(e.contains("expected a .svg or .png"), "{e}");
    }

    #[test]
    fn charts_are_not_written_over_without_force() {
        let dir = std::env::temp_dir().join(format!("archscope-figure-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["bar.svg", "bar.png"] {
            let path = dir.join(name);
            write(&Bar, &path, false).unwrap();
            let first = std::fs::read(&path).unwrap();
            let e = write(&Bar, &path, false).unwrap_err();
            assert!(e.contains("already exists; pass --force"), "{e}");
            assert_eq!(
                std::fs::read(&path).unwrap(),
                first,
                "{name} left as it was"
            );
            write(&Bar, &path, true).unwrap();
        }
        // No temporary file is left beside them.
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
