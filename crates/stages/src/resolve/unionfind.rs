//! Union–find over record indexes that refuses to join two different valid USCCs.
//! The one place the "never two USCCs in one entity" invariant is enforced.

pub struct Clusters {
    parent: Vec<usize>,
    /// Each cluster root's valid USCC, interned as a number.
    uscc: Vec<Option<u32>>,
    /// Record pairs an operator said are different employers: never in one cluster.
    apart: Vec<(usize, usize)>,
}

impl Clusters {
    /// One singleton cluster per record, carrying the record's valid USCC (if any).
    pub fn new(uscc: Vec<Option<u32>>) -> Clusters {
        Clusters {
            parent: (0..uscc.len()).collect(),
            uscc,
            apart: Vec::new(),
        }
    }

    /// Keeps `a` and `b` in different clusters from now on.
    pub fn keep_apart(&mut self, a: usize, b: usize) {
        self.apart.push((a, b));
    }

    pub fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// Whether `a` and `b` are in one cluster or could be joined by their codes (operators'
    /// "different" decisions not considered).
    pub fn could_join(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        ra == rb || !matches!((&self.uscc[ra], &self.uscc[rb]), (Some(x), Some(y)) if x != y)
    }

    /// Joins the clusters of `a` and `b`; false (and nothing changes) if they hold different
    /// valid USCCs.
    pub fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return true;
        }
        if let (Some(x), Some(y)) = (&self.uscc[ra], &self.uscc[rb]) {
            if x != y {
                return false;
            }
        }
        for k in 0..self.apart.len() {
            let (x, y) = self.apart[k];
            let (rx, ry) = (self.find(x), self.find(y));
            if (rx == ra && ry == rb) || (rx == rb && ry == ra) {
                return false;
            }
        }
        let (keep, gone) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[gone] = keep;
        if self.uscc[keep].is_none() {
            self.uscc[keep] = self.uscc[gone].take();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_valid_codes_never_join() {
        let mut c = Clusters::new(vec![Some(1), None, Some(2)]);
        assert!(c.union(0, 1));
        assert!(!c.could_join(1, 2));
        assert!(!c.union(1, 2), "1 already carries A");
        assert_ne!(c.find(0), c.find(2));
        assert_eq!(c.find(0), c.find(1));
    }

    #[test]
    fn records_kept_apart_never_join_through_others() {
        let mut c = Clusters::new(vec![None, None, None]);
        c.keep_apart(0, 2);
        assert!(c.union(0, 1));
        assert!(!c.union(1, 2), "2 would join 0 through 1");
        assert_ne!(c.find(0), c.find(2));
    }
}
