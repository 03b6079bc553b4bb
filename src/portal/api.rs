//! The JSON API for a township's own systems: `Authorization: Bearer <token>` names the
//! township (tokens are stored hashed); it lists that township's leads and takes dispositions.

use axum::extract::{Path, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::auth;
use super::leads::{record, DispositionInput};
use super::{PortalError, PortalState};

/// The township and label of the request's token.
async fn township_of(
    state: &PortalState,
    headers: &HeaderMap,
) -> Result<(String, String), Response> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(error(StatusCode::UNAUTHORIZED, "missing bearer token"));
    };
    match state.store.api_token(&auth::token_hash(token)).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(error(StatusCode::UNAUTHORIZED, "unknown or revoked token")),
        Err(e) => {
            tracing::error!(error = %e, "API token lookup failed");
            Err(error(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
        }
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn portal_error(e: PortalError) -> Response {
    match e {
        PortalError::Forbidden => error(
            StatusCode::FORBIDDEN,
            "the lead is not in this token's township",
        ),
        PortalError::NotFound => error(StatusCode::NOT_FOUND, "no such lead"),
        PortalError::Invalid(why) => error(StatusCode::BAD_REQUEST, &why),
        other => {
            tracing::error!(error = %other, "API request failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// `GET /api/v1/leads`: the token's township's listed leads.
pub async fn list(State(state): State<PortalState>, headers: HeaderMap) -> Response {
    let (township, _) = match township_of(&state, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    // While a run's lists wait for approval, the township's list as last released to it.
    let released = match super::listing::released_only(&state, Some(&township)).await {
        Ok(r) => r,
        Err(e) => return portal_error(e),
    };
    match state.store.portal_leads(Some(&township)).await {
        Ok(leads) => {
            let items: Vec<serde_json::Value> = leads
                .iter()
                .filter(|l| released.as_ref().is_none_or(|ids| ids.contains(&l.lead_id)))
                .map(|l| {
                    json!({
                        "lead_id": l.lead_id,
                        "status": l.status,
                        "township_code": l.township_code,
                        "opened_on": l.opened_on,
                        "kind": l.data.kind,
                        "priority": l.data.priority,
                        "row": l.data.row,
                    })
                })
                .collect();
            Json(json!({ "township_code": township, "leads": items })).into_response()
        }
        Err(e) => portal_error(e.into()),
    }
}

/// `POST /api/v1/leads/{id}/disposition`: records a disposition (unsigned: the township's
/// leader signs it off in the portal).
pub async fn dispose(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(input): Json<DispositionInput>,
) -> Response {
    let (township, label) = match township_of(&state, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let lead = match state.store.portal_lead(&id).await {
        Ok(Some(l)) if l.township_code.as_deref() == Some(township.as_str()) => l,
        Ok(Some(_)) => {
            tracing::warn!(token = %label, lead = %id, "API refused: lead of another township");
            return portal_error(PortalError::Forbidden);
        }
        Ok(None) => return portal_error(PortalError::NotFound),
        Err(e) => return portal_error(e.into()),
    };
    // While a run's lists wait for approval, only what was released to the township.
    match super::leads::released(&state, &lead).await {
        Ok(true) => {}
        Ok(false) => return portal_error(PortalError::NotFound),
        Err(e) => return portal_error(e),
    }
    let actor = format!("api:{label}");
    match record(&state, &actor, false, actor.clone(), &lead, &input).await {
        Ok(id) => (
            StatusCode::CREATED,
            Json(json!({ "disposition_id": id, "signed": false })),
        )
            .into_response(),
        Err(e) => portal_error(e),
    }
}
