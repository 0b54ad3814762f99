#!/usr/bin/env python3
"""Kendall's tau-b and Jiang et al.'s granulated tau of a `hessbound study --csv` file, by scipy.

An independent computation for test/cli-study-gap.test.ts: scipy.stats.kendalltau (tau-b) over the
networks that reached the target and have the measure; granulated tau (Jiang et al. 2020, eq. 4):
for each axis, the mean tau over groups of networks equal in every other axis (groups with an
undefined tau left out), then the mean over axes with a defined value.

    python3 bench/peers/study_tau.py STUDY.csv AXIS[,AXIS...]   ->  JSON {measure: {tau, granulated}}
"""
import csv
import json
import math
import sys
from collections import defaultdict

from scipy.stats import kendalltau

AXES = ["width", "depth", "seed", "weightDecay", "labelNoise", "lr", "batchSize", "activation", "trainSize", "rho"]
NOT_MEASURES = set(AXES) | {"stopReason", "reached", "trainLoss", "trainAccuracy", "testAccuracy", "gap"}


def tau(rows, measure):
    if len(rows) < 2:
        return None
    t = kendalltau([float(r[measure]) for r in rows], [float(r["gap"]) for r in rows]).statistic
    return None if math.isnan(t) else float(t)


def main():
    path, varied = sys.argv[1], [a for a in sys.argv[2].split(",") if a]
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    measures = [c for c in rows[0].keys() if c not in NOT_MEASURES]
    reached = [r for r in rows if r["reached"] == "true"]
    out = {}
    for m in measures:
        defined = [r for r in reached if r[m] != ""]
        per_axis = []
        for axis in varied:
            groups = defaultdict(list)
            for r in defined:
                groups[tuple(r[a] for a in varied if a != axis)].append(r)
            taus = [t for t in (tau(g, m) for g in groups.values()) if t is not None]
            if taus:
                per_axis.append(sum(taus) / len(taus))
        out[m] = {"tau": tau(defined, m), "granulated": sum(per_axis) / len(per_axis) if per_axis else None, "networks": len(defined)}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
