//! Work split over the machine's cores: a slice cut into one part per core, each part's
//! results in order, as if it had been done on one thread.

/// `work` on `items` cut into one part per core (at most 8), on scoped threads; the parts'
/// results concatenated in the order of `items`. A panic in a part goes on to the caller: no
/// part is ever left out.
pub fn parallel_chunks<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = items.len().div_ceil(threads).max(1);
    let work = &work;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || work(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Work split over the cores comes back whole and in order; a part whose worker panicked
    /// is never silently left out (records and what was computed for them would no longer
    /// line up).
    #[test]
    fn parallel_work_keeps_every_part_or_fails() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = parallel_chunks(&items, |part| part.iter().map(|x| x * 2).collect());
        assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert!(parallel_chunks(&[] as &[u32], |p| p.to_vec()).is_empty());
        let caught = std::panic::catch_unwind(|| {
            parallel_chunks(&items, |part| {
                assert!(!part.contains(&999), "a record the worker cannot take");
                part.to_vec()
            })
        });
        assert!(caught.is_err(), "the worker's panic reaches the caller");
    }
}
