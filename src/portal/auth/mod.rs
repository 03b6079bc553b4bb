//! Security primitives for the township web portal: password hashing, tokens, sessions with
//! CSRF, the sign-in limit (counted in the store it is given) and roles; no clock of their own.

pub mod password;
pub mod ratelimit;
pub mod session;
pub mod token;

pub use self::password::{
    check_password_policy, hash_password, hash_password_with, needs_rehash, verify_password,
    verify_password_or_dummy, PasswordParams, PolicyError,
};
pub use self::ratelimit::{RateLimitConfig, RetryAfter, SignInLimiter};
pub use self::session::{
    check_csrf, clear_cookie, is_valid, new_session, session_cookie, token_from_cookie_header,
    Session, SessionPolicy, SESSION_COOKIE_NAME,
};
pub use self::token::{constant_time_eq, new_token, token_hash};

/// Errors from the auth primitives that callers must handle (as opposed to a
/// plain "no" such as a wrong password, which is a `false`).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Hashing a password failed (e.g. invalid Argon2 parameters).
    #[error("密码哈希失败: {0}")]
    PasswordHash(String),
    /// The password does not meet the policy.
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// What a signed-in portal user may see.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// Staff of one township; sees only that township's data.
    Township {
        /// The township's code, e.g. its administrative-division code.
        code: String,
    },
    /// County-level operator; sees every township.
    Operator,
}

impl Role {
    /// Whether this role may see the township with the given code.
    /// An empty code never matches a township user.
    pub fn can_access_township(&self, code: &str) -> bool {
        match self {
            Role::Operator => true,
            Role::Township { code: own } => !own.is_empty() && own == code,
        }
    }

    /// Chinese label for pages, e.g. "乡镇用户（320102001）".
    pub fn display_zh(&self) -> String {
        match self {
            Role::Township { code } => format!("乡镇用户（{code}）"),
            Role::Operator => "县级管理员".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_sees_every_township() {
        let r = Role::Operator;
        assert!(r.can_access_township("320102001"));
        assert!(r.can_access_township("999"));
    }

    #[test]
    fn township_user_sees_only_its_own() {
        let r = Role::Township {
            code: "320102001".into(),
        };
        assert!(r.can_access_township("320102001"));
        assert!(!r.can_access_township("320102002"));
        assert!(!r.can_access_township("32010200"));
        assert!(!r.can_access_township("3201020011"));
        assert!(!r.can_access_township(""));
    }

    #[test]
    fn township_user_with_empty_code_sees_nothing() {
        let r = Role::Township {
            code: String::new(),
        };
        assert!(!r.can_access_township(""));
    }

    #[test]
    fn display_zh_labels() {
        assert_eq!(Role::Operator.display_zh(), "县级管理员");
        assert_eq!(
            Role::Township { code: "001".into() }.display_zh(),
            "乡镇用户（001）"
        );
    }

    #[test]
    fn policy_error_converts_into_auth_error() {
        let e: AuthError = PolicyError::TooShort { min: 10 }.into();
        assert_eq!(e.to_string(), "密码至少需要10个字符");
    }
}
