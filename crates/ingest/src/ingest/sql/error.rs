//! Typed errors of the SQL source.
//! Every message is safe to log: connection passwords are redacted before they get here.

use thiserror::Error;

/// Why reading from a 前置库 failed.
#[derive(Debug, Error)]
pub enum SqlError {
    /// The environment variable named by `url_env` is not set (or empty).
    #[error("environment variable {var} (named by sql.url_env) is not set or empty")]
    MissingEnv {
        /// The variable's name.
        var: String,
    },

    /// The connection address could not be understood.
    #[error("connection URL {url} is not usable: {reason}")]
    BadUrl {
        /// The address with its password replaced by `***`.
        url: String,
        /// What is wrong.
        reason: String,
    },

    /// The query is not a single read-only SELECT; nothing was sent to the database.
    #[error("sql.query refused: {reason}")]
    NotSelect {
        /// Why it was refused.
        reason: String,
    },

    /// Connecting (or preparing the read-only session) failed.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The address with its password replaced by `***`.
        url: String,
        /// The database driver's message, password redacted.
        message: String,
    },

    /// The database rejected or failed the query.
    #[error("query failed on {url}: {message}")]
    Query {
        /// The address with its password replaced by `***`.
        url: String,
        /// The database's message, password redacted.
        message: String,
    },

    /// Connecting plus querying took longer than `timeout_secs`.
    #[error("timed out after {secs} s (sql.timeout_secs) while talking to {url}")]
    Timeout {
        /// The configured limit.
        secs: u64,
        /// The address with its password replaced by `***`.
        url: String,
    },

    /// `cursor_column` is not one of the query's result columns.
    #[error(
        "sql.cursor_column {column:?} is not a column of the query result (columns: {headers})"
    )]
    CursorColumnMissing {
        /// The configured column.
        column: String,
        /// The columns the query returned, comma separated.
        headers: String,
    },

    /// A value could not be turned into text.
    #[error("column {column:?} (type {type_name}): {message}")]
    Decode {
        /// Column name.
        column: String,
        /// The database's type name for it.
        type_name: String,
        /// What went wrong.
        message: String,
    },
}
