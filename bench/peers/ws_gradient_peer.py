#!/usr/bin/python3
"""Independent check of hessbound's closed-form WS-bound gradient (docs/hsr.md) with PyTorch autograd.

    /usr/bin/python3 bench/peers/ws_gradient_peer.py [FIXTURE_DIR] [--rtol 1e-9] [--cli "node dist/src/cli/main.js"]

For every one-hidden-layer fixture NAME.model.json + NAME.data.json in FIXTURE_DIR (default
/work/shared/fixtures or $HESSBOUND_FIXTURES; reduction "sum" for names ending in "-sum"):
  - torch builds the exact P x P Hessian with create_graph=True (so it stays differentiable: third
    derivatives of the loss), forms tr(H), tr(H^2) and the WS upper, lower-of-min and spread bounds
    from it, and differentiates each with autograd;
  - hessbound computes the same gradients with `bound --gradient --json` (closed form);
  - they are compared as max |a - b| / max |b| per gradient. Exit 0 when all agree to rtol.
Prints one line per fixture and gradient, then a summary line.
"""

import argparse
import glob
import json
import math
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import torch_peer  # noqa: E402  (model/data loading and the loss of the flat parameter vector)

KEYS = ["trace", "traceOfSquare", "upper", "lowerOfMin", "spread"]


def torch_gradients(model_path, data_path, reduction):
    act, shapes, theta = torch_peer.load_model(model_path)
    x, y, targets = torch_peer.load_data(data_path, shapes[0][1], shapes[-1][0])
    loss_fn = torch_peer.make_loss(act, shapes, x, y, targets, reduction)
    theta = theta.clone().requires_grad_(True)
    P = theta.numel()
    H = torch.autograd.functional.hessian(loss_fn, theta, create_graph=True).reshape(P, P)
    tr = torch.diagonal(H).sum()
    tr2 = (H * H).sum()
    m = tr / P
    s = torch.sqrt(tr2 / P - m * m)
    r = math.sqrt(P - 1)
    numbers = {"trace": tr, "traceOfSquare": tr2, "upper": m + s * r, "lowerOfMin": m - s * r,
               "spread": s * math.sqrt(2 * P)}
    grads = {}
    for k in KEYS:
        (g,) = torch.autograd.grad(numbers[k], theta, retain_graph=True)
        grads[k] = [float(v) for v in g]
    return P, {k: float(v) for k, v in numbers.items()}, grads


def hessbound_gradients(cli, model_path, data_path, reduction, method):
    cmd = shlex.split(cli) + ["bound", "--model", model_path, "--data", data_path, "--reduction", reduction,
                              "--gradient", "--json", "--quiet", "--no-orthogonality", "--trace-method", method]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError("hessbound exited %d: %s" % (proc.returncode, proc.stderr.strip()))
    return json.loads(proc.stdout)


def rel(a, b):
    err = max(abs(x - y) for x, y in zip(a, b))
    size = max(abs(y) for y in b)
    return err / max(size, 1e-300)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?", default=os.environ.get("HESSBOUND_FIXTURES", "/work/shared/fixtures"))
    ap.add_argument("--rtol", type=float, default=1e-9)
    ap.add_argument("--cli", default="node " + os.path.join(HERE, "..", "..", "dist", "src", "cli", "main.js"))
    # dual / primal: the adjoint of the pair or of the block evaluation (both are checked by default).
    ap.add_argument("--methods", default="dual,primal")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print("torch %s, float64; rtol %g" % (torch.__version__, args.rtol))
    failures = checked = 0
    for model in sorted(glob.glob(os.path.join(args.dir, "*.model.json"))):
        name = os.path.basename(model)[: -len(".model.json")]
        with open(model) as fh:
            if len(json.load(fh)["layers"]) != 2:
                print("skip %-28s (not one hidden layer: no closed form)" % name)
                continue
        data = os.path.join(args.dir, name + ".data.json")
        reduction = "sum" if name.endswith("-sum") else "mean"
        P, numbers, want = torch_gradients(model, data, reduction)
        for method in args.methods.split(","):
            got = hessbound_gradients(args.cli, model, data, reduction, method)
            for k in KEYS:
                e = rel(got["gradient"][k], want[k])
                ok = e <= args.rtol and len(got["gradient"][k]) == P
                failures += 0 if ok else 1
                checked += 1
                print("%s %-28s P=%-4d %-6s %-14s |grad| %.6e  rel.err %.2e" % (
                    "ok  " if ok else "FAIL", name, P, method, k, math.sqrt(sum(v * v for v in want[k])), e))
    print("%d passed, %d failed" % (checked - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
