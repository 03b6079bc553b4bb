//! An intranet HTTPS feed signed by the platform's own CA: with the CA in `ca_file` every
//! record arrives; without it the pull fails and says the certificate is not trusted.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
use serde_json::json;
use yingbao::ingest::http::{fetch, HttpSource};

/// Starts an HTTPS server on 127.0.0.1 with a certificate from a fresh CA; returns its port
/// and the CA certificate (PEM).
async fn https_server() -> (u16, String) {
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("ca cert");
    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    let cert = params.signed_by(&key, &ca, &ca_key).expect("server cert");

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let app = Router::new().route(
        "/rows",
        get(|| async {
            Json(json!({
                "code": "0",
                "data": { "rows": [
                    { "qymc": "南安市华兴石材有限公司", "tyxydm": "91350583MA2XN4TP0E" },
                    { "qymc": "南安市宏达陶瓷厂", "tyxydm": "" }
                ] }
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to serve.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await;
            });
        }
    });
    (port, ca.pem())
}

fn spec(port: u16) -> HttpSource {
    let mut spec = HttpSource::new(format!("https://127.0.0.1:{port}/rows"));
    spec.records_path = "data.rows".into();
    spec.retry.max_attempts = 1;
    spec
}

#[tokio::test]
async fn a_private_ca_in_ca_file_is_trusted_and_nothing_else() {
    let (port, ca_pem) = https_server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_file = dir.path().join("province-ca.pem");
    std::fs::write(&ca_file, ca_pem).expect("write ca");
    let env = |_: &str| None;

    let mut trusted = spec(port);
    trusted.ca_file = Some(ca_file);
    let got = fetch(&trusted, &env, None).await.expect("fetch over https");
    assert_eq!(got.records.len(), 2);
    assert_eq!(got.records[0]["qymc"], "南安市华兴石材有限公司");

    let err = fetch(&spec(port), &env, None)
        .await
        .expect_err("an unknown CA must be refused");
    let text = format!("{err}").to_lowercase();
    assert!(
        text.contains("certificate") || text.contains("tls") || text.contains("ssl"),
        "the error says why: {text}"
    );
}
