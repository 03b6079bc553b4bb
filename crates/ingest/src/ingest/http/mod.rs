//! HTTP JSON feeds for connectors: the `[http]` table (`HttpSource`), paging, auth from the
//! environment, retries and rate limits, envelope checks, and `fetch` / `preview` / `flatten`.

pub mod auth;
pub mod envelope;
pub mod error;
pub mod fetch;
pub mod pagination;
pub mod retry;
pub mod spec;

pub use self::auth::hmac_signature;
pub use self::envelope::{flatten, lookup};
pub use self::error::HttpError;
pub use self::fetch::{fetch, preview, HttpFetch};
pub use self::spec::{
    Auth, ErrorEnvelope, HttpSource, Incremental, Jitter, Method, Paging, PagingKind, Retry,
};
