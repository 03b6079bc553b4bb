//! Typed errors of the coverage report module.
//! Each variant that concerns a file names it; messages are English (they end up in logs).

use std::io;
use std::path::PathBuf;

/// Errors from rendering or writing the coverage report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No loaded font covers Chinese text; rendering would produce tofu boxes.
    #[error(
        "no CJK font found to render the Chinese chart text, PNG not rendered; install the \
         Debian package fonts-wqy-microhei (or fonts-noto-cjk), or configure a CJK font file"
    )]
    NoCjkFont,

    /// The configured font file could not be read.
    #[error("cannot read font file {path}: {source}")]
    FontFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The configured font file was read but holds no font face fontdb understands.
    #[error("font file {path} contains no usable font face")]
    FontFileUnusable { path: PathBuf },

    /// The chart SVG could not be parsed (a bug in the chart builder).
    #[error("cannot parse the chart SVG: {0}")]
    Svg(String),

    /// Rasterising or PNG encoding failed.
    #[error("cannot render the chart PNG: {0}")]
    Render(String),

    /// The output file stem is empty or contains a path separator.
    #[error("invalid report file stem {stem:?}: must be a plain file name without separators")]
    InvalidStem { stem: String },

    /// Building the workbook failed.
    #[error("cannot build workbook {path}: {source}")]
    Xlsx {
        path: PathBuf,
        #[source]
        source: rust_xlsxwriter::XlsxError,
    },

    /// Writing, renaming or creating an output file or directory failed.
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}
