#!/usr/bin/env python3
"""Deduplicate yingbao's exported observations with Splink 5 (DuckDB backend).

    splink_dedupe.py --observations obs.csv --out splink_links.csv [--threads 2]

Input: the CSV written by `yingbao export observations` (source, record_key, feed,
name, uscc, uscc_valid, tax_id, address, industry_code, legal_rep, region_code).
Output: source, record_key, cluster_id — one row per input record.

The model is what a competent Splink user would write from the field list:
light cleaning, a handful of comparisons, u by random sampling, m by EM on two
blocking rules, predict above a threshold, connected-components clustering.
DuckDB is limited to --threads threads (default 2, the machine's core count).
"""
from __future__ import annotations

import argparse
import csv
import logging
import re
import sys
import time
import unicodedata

import duckdb
import pyarrow as pa
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

# --- light cleaning -------------------------------------------------------------

_SPACES = re.compile(r"\s+")
# Leading administrative-division prefixes (province / city / county / district),
# e.g. 福建省泉州市南安市…  Generic: any 2-3 Han characters followed by the unit.
_ADMIN_PREFIX = re.compile(r"^(?:[\u4e00-\u9fff]{2,3}(?:省|自治区|市|县|区))")
# Bracketed insertions, e.g. 富南(南安)服饰有限公司 — usually a place name.
_BRACKETED = re.compile(r"\([^)]*\)")
# Legal-form suffixes.
_LEGAL_FORM = re.compile(
    r"(?:股份有限公司|有限责任公司|有限公司|股份公司|集团公司|公司|合伙企业)$"
)


def fold(s: str) -> str:
    """NFKC (full-width → half-width, incl. brackets and digits), no whitespace."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", s or ""))


def strip_admin(s: str, min_rest: int = 2) -> str:
    for _ in range(3):
        m = _ADMIN_PREFIX.match(s)
        if not m or len(s) - m.end() < min_rest:
            break
        s = s[m.end():]
    return s


def name_core(name: str) -> str:
    s = _BRACKETED.sub("", name)
    s = _LEGAL_FORM.sub("", s)
    s = strip_admin(s)
    return s or name


def org_code(uscc: str) -> str | None:
    """The 9-character organisation code inside an identifier: characters 9-17 of an
    18-character USCC, or 7-15 of an old 15-character tax registration number."""
    if len(uscc) == 18:
        return uscc[8:17]
    if len(uscc) == 15:
        return uscc[6:15]
    return None


def load(path: str) -> pa.Table:
    cols: dict[str, list] = {
        k: []
        for k in [
            "unique_id", "source", "record_key", "name_clean", "name_core",
            "uscc", "org_code", "address_clean", "address_core", "industry_code",
            "legal_rep", "region_code",
        ]
    }
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            name = fold(r["name"])
            uscc = fold(r["uscc"] or r.get("tax_id") or "").upper()
            addr = fold(r["address"])
            ind = fold(r["industry_code"])
            cols["unique_id"].append(f"{r['source']}|{r['record_key']}")
            cols["source"].append(r["source"])
            cols["record_key"].append(r["record_key"])
            cols["name_clean"].append(name or None)
            cols["name_core"].append(name_core(name) if name else None)
            cols["uscc"].append(uscc or None)
            cols["org_code"].append(org_code(uscc))
            cols["address_clean"].append(addr or None)
            cols["address_core"].append(strip_admin(addr, 4) if addr else None)
            cols["industry_code"].append(ind or None)
            cols["legal_rep"].append(fold(r["legal_rep"]) or None)
            cols["region_code"].append(fold(r["region_code"]) or None)
    return pa.table(cols)


# --- model ----------------------------------------------------------------------

def settings() -> SettingsCreator:
    # NB: DuckDB's string distances work on UTF-8 bytes, so one differing Han
    # character is a Levenshtein distance of up to 3 and lowers Jaro-Winkler more
    # than one Latin letter would; the thresholds below allow for that.
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_core"),
            cll.ExactMatchLevel("name_clean", term_frequency_adjustments=True),
            cll.ExactMatchLevel("name_core", term_frequency_adjustments=True),
            cll.LevenshteinLevel("name_core", 3),  # ~one Han character
            cll.JaroWinklerLevel("name_core", 0.9),
            cll.JaroWinklerLevel("name_core", 0.75),
            cll.ElseLevel(),
        ],
    )
    uscc = cl.CustomComparison(
        output_column_name="uscc",
        comparison_levels=[
            cll.NullLevel("uscc"),
            cll.ExactMatchLevel("uscc"),
            cll.ExactMatchLevel("org_code"),  # same organisation code (old tax no.)
            cll.LevenshteinLevel("uscc", 1),
            cll.ElseLevel(),
        ],
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.NullLevel("address_core"),
            cll.ExactMatchLevel("address_core"),
            cll.JaroWinklerLevel("address_core", 0.92),
            cll.JaroWinklerLevel("address_core", 0.8),
            cll.ElseLevel(),
        ],
    )
    industry = cl.CustomComparison(
        output_column_name="industry_code",
        comparison_levels=[
            cll.NullLevel("industry_code"),
            cll.ExactMatchLevel("industry_code"),
            cll.ExactMatchLevel(splink.ColumnExpression("industry_code").substr(1, 2)),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            name,
            uscc,
            address,
            industry,
            # legal_rep and region_code are left out: each is carried by one feed
            # only (market / statistics), which holds one record per employer, so
            # no true pair can ever agree on them and EM cannot learn their m.
        ],
        blocking_rules_to_generate_predictions=BLOCKING_RULES,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def _sub(col: str, start: int, n: int):
    return splink.ColumnExpression(col).substr(start, n)


BLOCKING_RULES = [
    block_on("uscc"),
    block_on("org_code"),
    block_on("name_core"),
    # One wrong character in the organisation code: the other half still agrees.
    block_on(_sub("org_code", 1, 4)),
    block_on(_sub("org_code", 5, 5)),
    # Name typo: first four / last four characters of the core name.
    block_on(_sub("name_core", 1, 4)),
    block_on(_sub("address_core", 1, 6), "industry_code"),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--observations", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--threshold", type=float, default=0.9)
    ap.add_argument("--max-u-pairs", type=float, default=1e7)
    ap.add_argument("--count-blocks", action="store_true",
                    help="print comparison counts of the blocking rules and stop")
    args = ap.parse_args()

    t0 = time.perf_counter()
    print(f"splink {splink.__version__}, duckdb {duckdb.__version__}, "
          f"threads {args.threads}", file=sys.stderr)
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {int(args.threads)}")
    con.execute("SET preserve_insertion_order = false")
    tbl = load(args.observations)
    con.register("obs_arrow", tbl)
    con.execute("CREATE TABLE obs AS SELECT * FROM obs_arrow")
    con.unregister("obs_arrow")
    n = tbl.num_rows
    del tbl
    t_load = time.perf_counter()
    print(f"loaded {n} records in {t_load - t0:.1f}s", file=sys.stderr)

    db_api = DuckDBAPI(connection=con)
    df = db_api.register("obs", dataset_display_name="observations")
    linker = Linker(df, settings(), log_level=logging.WARNING)

    if args.count_blocks:
        for r in linker.blocking_analysis.count_comparisons_from_blocking_rules(
            record_sample_proportion=1.0
        ):
            print(r, file=sys.stderr)
        return 0

    # Prior: exact USCC is a near-certain match rule; assume it finds ~70 % of pairs.
    linker.training.estimate_probability_two_random_records_match(
        [block_on("uscc")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=args.max_u_pairs, seed=1)
    t_u = time.perf_counter()
    print(f"u estimated in {t_u - t_load:.1f}s", file=sys.stderr)
    # m by EM on two blocking rules, each leaving the other's fields free.
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("uscc"), estimate_without_term_frequencies=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("name_core"), estimate_without_term_frequencies=True
    )
    t_train = time.perf_counter()
    print(f"trained in {t_train - t_load:.1f}s", file=sys.stderr)

    pred = linker.inference.predict(threshold_match_probability=args.threshold)
    t_pred = time.perf_counter()
    n_pairs = con.execute(f"SELECT count(*) FROM {pred.physical_name}").fetchall()[0][0]
    print(f"predicted {n_pairs} pairs >= {args.threshold} in {t_pred - t_train:.1f}s",
          file=sys.stderr)

    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=args.threshold
    )
    t_cl = time.perf_counter()
    con.execute(
        f"""COPY (
              SELECT o.source, o.record_key, c.cluster_id
              FROM {clusters.physical_name} c JOIN obs o USING (unique_id)
              ORDER BY o.source, o.record_key
            ) TO '{args.out.replace("'", "''")}' (HEADER, DELIMITER ',')"""
    )
    n_clusters = con.execute(
        f"SELECT count(DISTINCT cluster_id) FROM {clusters.physical_name}"
    ).fetchall()[0][0]
    print(f"clustered into {n_clusters} clusters in {t_cl - t_pred:.1f}s; "
          f"total {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
