//! The paging state machine: the next request's parameters, when the feed is finished (total
//! reached, short/empty page, no next cursor/link), and guards (page limit, repeated cursor/link).
//! Numbered pages (kinds `page`, `offset`) can also be asked for ahead of time (`request_at`).

use std::collections::HashSet;

use serde_json::Value;
use url::Url;

use super::error::HttpError;
use super::spec::{Paging, PagingKind};

/// What the next request should be.
#[derive(Debug, Clone, PartialEq)]
pub enum PageRequest {
    /// The configured URL with these paging parameters (names from `[http.paging]`).
    Params(Vec<(String, Value)>),
    /// A next link given by the platform, already resolved to an absolute URL.
    Link(Url),
}

/// What one page told us.
#[derive(Debug, Clone, Default)]
pub struct PageInfo {
    /// Records on this page.
    pub records: usize,
    /// The declared total on this page, if `total_path` is set and present.
    pub total: Option<u64>,
    /// The next cursor (kind `cursor`), if any.
    pub next_cursor: Option<String>,
    /// The next link as written in the response (kind `next_link`), if any.
    pub next_link: Option<String>,
}

/// Walks the pages of one pull.
#[derive(Debug)]
pub struct Pager {
    spec: Paging,
    /// Pages received so far.
    pages: usize,
    /// Records received so far.
    received: u64,
    /// The most recent declared total.
    total: Option<u64>,
    seen: HashSet<String>,
}

impl Pager {
    /// A pager at the start of a pull.
    pub fn new(spec: &Paging) -> Self {
        Pager {
            spec: spec.clone(),
            pages: 0,
            received: 0,
            total: None,
            seen: HashSet::new(),
        }
    }

    /// The most recent declared total.
    pub fn declared_total(&self) -> Option<u64> {
        self.total
    }

    /// The first request.
    pub fn first(&self) -> PageRequest {
        request_at(&self.spec, 0)
    }

    /// Records one page and returns the next request, or `None` when the feed is finished.
    /// `requested` is the URL the page came from (relative next links are resolved against it).
    pub fn next(
        &mut self,
        info: &PageInfo,
        requested: &Url,
    ) -> Result<Option<PageRequest>, HttpError> {
        self.pages += 1;
        self.received += info.records as u64;
        if info.total.is_some() {
            self.total = info.total;
        }
        let s = &self.spec;
        let page = self.pages;
        let next = match s.kind {
            PagingKind::None => None,
            PagingKind::Page | PagingKind::Offset => {
                let done = if info.records == 0 {
                    true
                } else if let Some(total) = self.total {
                    self.received >= total
                } else {
                    (info.records as u64) < s.page_size
                };
                if done {
                    None
                } else {
                    Some(request_at(s, self.pages as u64))
                }
            }
            PagingKind::Cursor => match &info.next_cursor {
                Some(c) if info.records > 0 => {
                    if !self.seen.insert(c.clone()) {
                        return Err(HttpError::Repeated {
                            page,
                            what: "cursor",
                            value: c.clone(),
                        });
                    }
                    let mut params = page_params(s, 0);
                    params.push((s.cursor_param.clone(), Value::from(c.clone())));
                    Some(PageRequest::Params(params))
                }
                _ => None,
            },
            PagingKind::NextLink => match &info.next_link {
                Some(link) => {
                    self.seen.insert(requested.to_string());
                    let url = requested.join(link.trim()).map_err(|e| HttpError::Shape {
                        page,
                        url: requested.to_string(),
                        detail: format!("next link {link:?} is not a usable URL: {e}"),
                    })?;
                    if url == *requested || !self.seen.insert(url.to_string()) {
                        return Err(HttpError::Repeated {
                            page,
                            what: "next link",
                            value: link.clone(),
                        });
                    }
                    Some(PageRequest::Link(url))
                }
                None => None,
            },
        };
        if next.is_some() && self.pages >= s.max_pages {
            return Err(HttpError::TooManyPages { max: s.max_pages });
        }
        Ok(next)
    }
}

/// The request for page `index` (0 = the first page), as [`Pager::next`] produces it. For kinds
/// `page` and `offset` it depends on nothing but the index, so pages can be asked for ahead of
/// time; for the other kinds it is only the first request's parameters.
pub fn request_at(spec: &Paging, index: u64) -> PageRequest {
    PageRequest::Params(page_params(spec, index))
}

fn page_params(s: &Paging, page_index: u64) -> Vec<(String, Value)> {
    let mut params = Vec::new();
    match s.kind {
        PagingKind::None | PagingKind::NextLink => {}
        PagingKind::Page => {
            params.push((
                s.page_param.clone(),
                Value::from(s.first_page.saturating_add(page_index)),
            ));
            size_param(s, &mut params);
        }
        PagingKind::Offset => {
            params.push((
                s.offset_param.clone(),
                Value::from(page_index.saturating_mul(s.page_size)),
            ));
            size_param(s, &mut params);
        }
        PagingKind::Cursor => size_param(s, &mut params),
    }
    params
}

fn size_param(s: &Paging, params: &mut Vec<(String, Value)>) {
    if !s.size_param.is_empty() {
        params.push((s.size_param.clone(), Value::from(s.page_size)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url() -> Url {
        Url::parse("http://h/api/list?x=1").unwrap()
    }

    fn info(records: usize) -> PageInfo {
        PageInfo {
            records,
            ..PageInfo::default()
        }
    }

    fn paging(kind: PagingKind) -> Paging {
        Paging {
            kind,
            page_size: 10,
            ..Paging::default()
        }
    }

    #[test]
    fn page_numbers_stop_on_short_page() {
        let mut p = Pager::new(&paging(PagingKind::Page));
        assert_eq!(
            p.first(),
            PageRequest::Params(vec![("page".into(), json!(1)), ("size".into(), json!(10))])
        );
        assert_eq!(
            p.next(&info(10), &url()).unwrap(),
            Some(PageRequest::Params(vec![
                ("page".into(), json!(2)),
                ("size".into(), json!(10))
            ]))
        );
        assert_eq!(p.next(&info(3), &url()).unwrap(), None);
    }

    #[test]
    fn total_wins_over_short_pages_and_empty_page_ends() {
        let mut p = Pager::new(&paging(PagingKind::Offset));
        let with_total = |n| PageInfo {
            records: n,
            total: Some(25),
            ..PageInfo::default()
        };
        // A short page before the total is reached does not end the pull…
        assert!(p.next(&with_total(5), &url()).unwrap().is_some());
        assert_eq!(
            p.next(&with_total(10), &url()).unwrap(),
            Some(PageRequest::Params(vec![
                ("offset".into(), json!(20)),
                ("size".into(), json!(10))
            ]))
        );
        // …reaching it does; an empty page would have too.
        assert_eq!(p.next(&with_total(10), &url()).unwrap(), None);
        assert_eq!(p.declared_total(), Some(25));
        let mut p = Pager::new(&paging(PagingKind::Page));
        assert_eq!(p.next(&with_total(0), &url()).unwrap(), None);
    }

    #[test]
    fn requests_ahead_of_time_match_the_pager() {
        for kind in [PagingKind::Page, PagingKind::Offset] {
            let spec = Paging {
                first_page: 0,
                ..paging(kind)
            };
            let mut p = Pager::new(&spec);
            assert_eq!(p.first(), request_at(&spec, 0));
            for index in 1..30 {
                let next = p.next(&info(10), &url()).unwrap();
                assert_eq!(
                    next,
                    Some(request_at(&spec, index)),
                    "{kind:?} page {index}"
                );
            }
        }
    }

    #[test]
    fn page_limit_is_an_error() {
        let mut p = Pager::new(&Paging {
            max_pages: 2,
            ..paging(PagingKind::Page)
        });
        assert!(p.next(&info(10), &url()).unwrap().is_some());
        assert!(matches!(
            p.next(&info(10), &url()),
            Err(HttpError::TooManyPages { max: 2 })
        ));
        // Finishing exactly at the limit is fine.
        let mut p = Pager::new(&Paging {
            max_pages: 2,
            ..paging(PagingKind::Page)
        });
        assert!(p.next(&info(10), &url()).unwrap().is_some());
        assert_eq!(p.next(&info(1), &url()).unwrap(), None);
    }

    #[test]
    fn cursors_must_not_repeat() {
        let mut p = Pager::new(&Paging {
            size_param: String::new(),
            ..paging(PagingKind::Cursor)
        });
        assert_eq!(p.first(), PageRequest::Params(vec![]));
        let c = |s: &str| PageInfo {
            records: 1,
            next_cursor: Some(s.into()),
            ..PageInfo::default()
        };
        assert_eq!(
            p.next(&c("a"), &url()).unwrap(),
            Some(PageRequest::Params(vec![("cursor".into(), json!("a"))]))
        );
        assert!(p.next(&c("b"), &url()).unwrap().is_some());
        let err = p.next(&c("a"), &url()).unwrap_err();
        assert!(
            matches!(
                &err,
                HttpError::Repeated {
                    page: 3,
                    what: "cursor",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(p.next(&info(1), &url()).unwrap(), None);
    }

    #[test]
    fn next_links_resolve_and_must_not_repeat() {
        let mut p = Pager::new(&paging(PagingKind::NextLink));
        let l = |s: &str| PageInfo {
            records: 1,
            next_link: Some(s.into()),
            ..PageInfo::default()
        };
        let next = p.next(&l("list?x=1&p=2"), &url()).unwrap();
        let Some(PageRequest::Link(u2)) = next else {
            panic!("{next:?}")
        };
        assert_eq!(u2.as_str(), "http://h/api/list?x=1&p=2");
        let next = p.next(&l("/api/list?x=1&p=3"), &u2).unwrap();
        let Some(PageRequest::Link(u3)) = next else {
            panic!("{next:?}")
        };
        assert_eq!(u3.as_str(), "http://h/api/list?x=1&p=3");
        assert!(matches!(
            p.next(&l("list?x=1&p=2"), &u3),
            Err(HttpError::Repeated { .. })
        ));
        assert!(matches!(
            p.next(&l("list?x=1&p=3"), &u3),
            Err(HttpError::Repeated { .. })
        ));
    }
}
