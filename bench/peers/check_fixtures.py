#!/usr/bin/python3
"""Check torch_peer.py `dense` against the reference fixtures.

    /usr/bin/python3 bench/peers/check_fixtures.py [FIXTURE_DIR] [--rtol 1e-9] [--eigenvalues]

For every NAME.model.json + NAME.data.json (+ NAME.expected.json) in FIXTURE_DIR (default
/work/shared/fixtures, or $HESSBOUND_FIXTURES), runs the peer CLI as the bench would
(reduction "sum" for names ending in "-sum", else "mean") and compares loss, trace, traceOfSquare,
lambdaMax and lambdaMin (and, with --eigenvalues, the whole ascending spectrum) to `rtol` relative,
plus parameters and samples exactly. Exit status 0 when everything agrees, 1 otherwise.
"""

import argparse
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "torch_peer.py")
KEYS = ["loss", "trace", "traceOfSquare", "lambdaMax", "lambdaMin"]


def rel_err(got, want):
    return abs(got - want) / max(abs(want), 1e-300) if got != want else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?",
                    default=os.environ.get("HESSBOUND_FIXTURES", "/work/shared/fixtures"))
    ap.add_argument("--rtol", type=float, default=1e-9)
    ap.add_argument("--eigenvalues", action="store_true", help="also compare the full spectrum")
    args = ap.parse_args()

    models = sorted(glob.glob(os.path.join(args.dir, "*.model.json")))
    if not models:
        print("no fixtures found in %s" % args.dir, file=sys.stderr)
        return 1
    failures = 0
    for model in models:
        name = os.path.basename(model)[: -len(".model.json")]
        data = os.path.join(args.dir, name + ".data.json")
        expected_path = os.path.join(args.dir, name + ".expected.json")
        if not (os.path.exists(data) and os.path.exists(expected_path)):
            print("FAIL %-30s missing data or expected file" % name)
            failures += 1
            continue
        with open(expected_path) as fh:
            expected = json.load(fh)
        reduction = "sum" if name.endswith("-sum") else "mean"
        cmd = [sys.executable, PEER, "dense", "--model", model, "--data", data,
               "--reduction", reduction]
        if args.eigenvalues:
            cmd.append("--eigenvalues")
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print("FAIL %-30s peer exited %d: %s" % (name, proc.returncode, proc.stderr.strip()))
            failures += 1
            continue
        lines = [l for l in proc.stdout.splitlines() if l.strip()]
        if len(lines) != 1:
            print("FAIL %-30s expected exactly one line of JSON on stdout, got %d" % (name, len(lines)))
            failures += 1
            continue
        got = json.loads(lines[0])
        problems = []
        for k in ("parameters", "samples"):
            if got[k] != expected[k]:
                problems.append("%s %s != %s" % (k, got[k], expected[k]))
        worst = 0.0
        for k in KEYS:
            e = rel_err(got[k], expected[k])
            worst = max(worst, e)
            if not e <= args.rtol:
                problems.append("%s %.17g vs %.17g (rel %.2e)" % (k, got[k], expected[k], e))
        if args.eigenvalues:
            ev_got, ev_want = got["eigenvalues"], expected["eigenvalues"]
            scale = max(abs(v) for v in ev_want)
            ev_err = max(abs(a - b) for a, b in zip(ev_got, ev_want)) / scale
            worst = max(worst, ev_err)
            if len(ev_got) != len(ev_want) or not ev_err <= args.rtol:
                problems.append("eigenvalues differ (max abs diff / max|lambda| = %.2e)" % ev_err)
        status = "ok  " if not problems else "FAIL"
        failures += bool(problems)
        print("%s %-30s P=%-4d N=%-4d %-4s worst rel %.2e%s"
              % (status, name, got["parameters"], got["samples"], reduction, worst,
                 "" if not problems else "  " + "; ".join(problems)))
    print("%d fixture(s), %d failure(s)" % (len(models), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
