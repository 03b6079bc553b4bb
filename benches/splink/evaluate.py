#!/usr/bin/env python3
"""Score record → entity links against the generator's ground truth.

    evaluate.py --truth records.csv --links ours.csv [--links splink.csv ...]
                [--label ours --label splink] [--json out.json]

truth: connector_id, record_key, employer_id.
links: source, record_key and a cluster column (entity_id or cluster_id, else the
third column). Records are identified by (source, record_key); records not in the
truth (deliberately bad rows) are ignored, and truth records missing from a links
file count as singletons of their own.

Pairwise precision / recall / F1 are over all unordered record pairs that share a
predicted cluster vs. share a true employer, computed from the contingency table
(sum of C(n,2) over cells, rows and columns) without enumerating pairs.
Cluster precision / recall / F1: a predicted cluster is "exact" when its record
set equals one true employer's record set; P = exact / predicted clusters,
R = exact / true employers.
Wrong merges: predicted clusters holding records of >1 true employer.
Wrong splits: true employers whose records lie in >1 predicted cluster.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter, defaultdict


def c2(n: int) -> int:
    return n * (n - 1) // 2


def read_truth(path: str) -> dict[tuple[str, str], str]:
    with open(path, newline="", encoding="utf-8") as f:
        return {(r["connector_id"], r["record_key"]): r["employer_id"]
                for r in csv.DictReader(f)}


def read_links(path: str) -> dict[tuple[str, str], str]:
    with open(path, newline="", encoding="utf-8") as f:
        rd = csv.DictReader(f)
        fields = rd.fieldnames or []
        col = next((c for c in ("entity_id", "cluster_id") if c in fields), None)
        if col is None:
            col = fields[2]
        return {(r["source"], r["record_key"]): r[col] for r in rd}


def score(truth: dict, links: dict) -> dict:
    cell: Counter = Counter()  # (pred, true) -> n
    missing = 0
    for rec, emp in truth.items():
        pred = links.get(rec)
        if pred is None:
            missing += 1
            pred = ("__missing__",) + rec  # its own singleton
        cell[(pred, emp)] += 1
    pred_size: Counter = Counter()
    true_size: Counter = Counter()
    pred_emps: dict = defaultdict(set)
    true_preds: dict = defaultdict(set)
    for (p, t), n in cell.items():
        pred_size[p] += n
        true_size[t] += n
        pred_emps[p].add(t)
        true_preds[t].add(p)
    tp = sum(c2(n) for n in cell.values())
    pred_pairs = sum(c2(n) for n in pred_size.values())
    true_pairs = sum(c2(n) for n in true_size.values())
    p = tp / pred_pairs if pred_pairs else 1.0
    r = tp / true_pairs if true_pairs else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    exact = sum(1 for (pc, t), n in cell.items()
                if n == pred_size[pc] and n == true_size[t])
    cp = exact / len(pred_size) if pred_size else 1.0
    cr = exact / len(true_size) if true_size else 1.0
    cf = 2 * cp * cr / (cp + cr) if cp + cr else 0.0
    return {
        "records": len(truth),
        "missing_from_links": missing,
        "ignored_not_in_truth": sum(1 for k in links if k not in truth),
        "true_employers": len(true_size),
        "predicted_clusters": len(pred_size),
        "pair_precision": p,
        "pair_recall": r,
        "pair_f1": f,
        "true_pairs": true_pairs,
        "predicted_pairs": pred_pairs,
        "cluster_precision": cp,
        "cluster_recall": cr,
        "cluster_f1": cf,
        "wrong_merges": sum(1 for s in pred_emps.values() if len(s) > 1),
        "wrong_splits": sum(1 for s in true_preds.values() if len(s) > 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--truth", required=True)
    ap.add_argument("--links", action="append", required=True)
    ap.add_argument("--label", action="append", default=[])
    ap.add_argument("--json", help="also write the scores as JSON here")
    args = ap.parse_args()
    truth = read_truth(args.truth)
    labels = args.label + [p for p in args.links[len(args.label):]]
    results = {lab: score(truth, read_links(p)) for lab, p in zip(labels, args.links)}
    w = max(len(lab) for lab in labels)
    print(f"{'links':<{w}}  {'pairP':>6} {'pairR':>6} {'pairF1':>6} {'clP':>6} {'clR':>6} "
          f"{'clF1':>6} {'merges':>7} {'splits':>7} {'clusters':>8} {'missing':>7}")
    for lab, s in results.items():
        print(f"{lab:<{w}}  {s['pair_precision']:6.4f} {s['pair_recall']:6.4f} "
              f"{s['pair_f1']:6.4f} {s['cluster_precision']:6.4f} "
              f"{s['cluster_recall']:6.4f} {s['cluster_f1']:6.4f} "
              f"{s['wrong_merges']:7d} {s['wrong_splits']:7d} "
              f"{s['predicted_clusters']:8d} {s['missing_from_links']:7d}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
