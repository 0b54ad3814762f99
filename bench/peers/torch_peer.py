#!/usr/bin/python3
"""PyTorch peer for the hessbound benchmarks.

Computes, with stock PyTorch autograd (float64 throughout), the same quantities hessbound computes
for an MLP with softmax cross-entropy loss, so the TypeScript bench can compare results and timings.

    /usr/bin/python3 bench/peers/torch_peer.py TASK --model M.json --data D.json
        [--reduction mean|sum] [--repeat R] [--k K] [--tol T] [--seed S]

TASK:
  dense    full P x P Hessian with torch.autograd.functional.hessian, then torch.linalg.eigvalsh
  lanczos  top eigenvalue(s) with scipy.sparse.linalg.eigsh on double-backprop Hessian-vector products
  hvp      time R Hessian-vector products with random directions

Exactly one JSON object is printed on stdout; notes and progress go to stderr.
Set TORCH_THREADS=n in the environment to call torch.set_num_threads(n) (otherwise torch's default).

Model JSON ("hessbound.mlp.v1"): {"format", "activation", "layers": [{"weight": [[out x in]], "bias": [out] | null}]}.
Data JSON: {"x": [[N x d]], "y": [N integer labels]} or {"x": ..., "targets": [[N x c soft targets]]}.
Parameter order: layer by layer, W_l row-major, then b_l (nn.Linear order), as in docs/curvature.md.
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

FORMAT = "hessbound.mlp.v1"
DENSE_PARAM_LIMIT = 20000  # P x P float64 = 3.2 GB at this size; refuse beyond unless --force


def note(msg):
    print("torch_peer: " + msg, file=sys.stderr, flush=True)


def fail(msg, code=2):
    print("torch_peer: error: " + msg, file=sys.stderr, flush=True)
    sys.exit(code)


# ---------------------------------------------------------------- activations


class _ExactSoftplus(torch.autograd.Function):
    """softplus(u) = log(1 + e^u), computed stably, with derivative sigmoid(u) at every u.

    F.softplus switches to the identity above u = 20 (threshold), which drops sigmoid'(u) ~ 2e-9
    from the Hessian there; this version is exact everywhere. Its backward uses differentiable ops,
    so double backward (Hessians) works.
    """

    @staticmethod
    def forward(ctx, u):
        ctx.save_for_backward(u)
        return u.clamp(min=0) + torch.log1p(torch.exp(-u.abs()))

    @staticmethod
    def backward(ctx, grad):
        (u,) = ctx.saved_tensors
        return grad * torch.sigmoid(u)


ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": _ExactSoftplus.apply,
    "gelu": lambda u: F.gelu(u, approximate="none"),  # exact (erf) GELU
    "silu": F.silu,
    "identity": lambda u: u,
}


# ---------------------------------------------------------------- inputs


def load_json(path, what):
    try:
        with open(path, "r", encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as e:
        fail("cannot read %s file %s: %s" % (what, path, e))
    except ValueError as e:
        fail("%s file %s is not valid JSON: %s" % (what, path, e))


def load_model(path):
    m = load_json(path, "model")
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        fail('model %s: expected {"format": "%s", ...}' % (path, FORMAT))
    act = m.get("activation")
    if act not in ACTIVATIONS:
        fail("model %s: activation %r is not supported (smooth activations only: %s)"
             % (path, act, ", ".join(sorted(ACTIVATIONS))))
    layers = m.get("layers")
    if not isinstance(layers, list) or len(layers) < 2:
        fail("model %s: need at least 2 layers (one hidden layer)" % path)
    shapes = []
    tensors = []
    prev_out = None
    for i, layer in enumerate(layers):
        w = torch.tensor(layer["weight"], dtype=torch.float64)
        if w.dim() != 2 or w.numel() == 0:
            fail("model %s: layer %d weight must be a non-empty out x in matrix" % (path, i))
        if prev_out is not None and w.shape[1] != prev_out:
            fail("model %s: layer %d has %d inputs but layer %d has %d outputs"
                 % (path, i, w.shape[1], i - 1, prev_out))
        b = layer.get("bias")
        if b is not None:
            b = torch.tensor(b, dtype=torch.float64)
            if b.shape != (w.shape[0],):
                fail("model %s: layer %d bias has length %s, expected %d"
                     % (path, i, tuple(b.shape), w.shape[0]))
        shapes.append((w.shape[0], w.shape[1], b is not None))
        tensors.append(w.reshape(-1))
        if b is not None:
            tensors.append(b)
        prev_out = w.shape[0]
    flat = torch.cat(tensors).contiguous()
    return act, shapes, flat


def load_data(path, d_in, n_classes):
    d = load_json(path, "data")
    if "x" not in d:
        fail("data %s: missing \"x\"" % path)
    x = torch.tensor(d["x"], dtype=torch.float64)
    if x.dim() != 2 or x.shape[0] == 0 or x.shape[1] != d_in:
        fail("data %s: x must be N x %d (got %s)" % (path, d_in, tuple(x.shape)))
    n = x.shape[0]
    if "targets" in d and d["targets"] is not None:
        t = torch.tensor(d["targets"], dtype=torch.float64)
        if t.shape != (n, n_classes):
            fail("data %s: targets must be %d x %d (got %s)" % (path, n, n_classes, tuple(t.shape)))
        return x, None, t
    if "y" not in d:
        fail("data %s: need \"y\" (integer labels) or \"targets\" (soft targets)" % path)
    y = d["y"]
    if len(y) != n or any((not isinstance(v, (int, float))) or int(v) != v for v in y):
        fail("data %s: y must be %d integer labels" % (path, n))
    y = torch.tensor([int(v) for v in y], dtype=torch.long)
    if int(y.min()) < 0 or int(y.max()) >= n_classes:
        fail("data %s: labels must lie in [0, %d)" % (path, n_classes))
    return x, y, None


# ---------------------------------------------------------------- loss of the flat parameter vector


def make_loss(act_name, shapes, x, y, targets, reduction):
    act = ACTIVATIONS[act_name]
    n = x.shape[0]
    last = len(shapes) - 1

    def loss_fn(theta):
        a = x
        off = 0
        for l, (d_out, d_in, has_bias) in enumerate(shapes):
            w = theta[off:off + d_out * d_in].view(d_out, d_in)
            off += d_out * d_in
            if has_bias:
                b = theta[off:off + d_out]
                off += d_out
                u = torch.addmm(b, a, w.t())
            else:
                u = a @ w.t()
            a = act(u) if l < last else u
        if y is not None:
            return F.cross_entropy(a, y, reduction=reduction)
        total = -(targets * torch.log_softmax(a, dim=1)).sum()
        return total / n if reduction == "mean" else total

    return loss_fn


# ---------------------------------------------------------------- tasks


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def header(task, peer, P, N, args):
    return {
        "peer": peer,
        "task": task,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "parameters": P,
        "samples": N,
        "reduction": args.reduction,
        "repeat": args.repeat,
    }


def task_dense(loss_fn, theta, N, args):
    P = theta.numel()
    if P > DENSE_PARAM_LIMIT and not args.force:
        fail("dense Hessian with P = %d would need %.1f GB; pass --force to try anyway"
             % (P, P * P * 8 / 1e9))
    loss = float(loss_fn(theta))
    notes = []
    if args.repeat == 1:
        notes.append("single cold run, no warm-up (repeat = 1)")
    else:
        notes.append("median of %d runs, the first of them cold (no separate warm-up)" % args.repeat)
    hess_times, eig_times = [], []
    H = None
    for r in range(args.repeat):
        H, t = timed(lambda: torch.autograd.functional.hessian(loss_fn, theta, vectorize=args.vectorize))
        hess_times.append(t)
        note("hessian run %d/%d: %.3f s" % (r + 1, args.repeat, t))
    H = H.reshape(P, P)
    evals = None
    for r in range(args.repeat):
        evals, t = timed(lambda: torch.linalg.eigvalsh(H))
        eig_times.append(t)
        note("eigvalsh run %d/%d: %.3f s" % (r + 1, args.repeat, t))
    asym = float((H - H.t()).abs().max())
    out = header("dense", "torch", P, N, args)
    out.update({
        "loss": loss,
        "lambdaMax": float(evals[-1]),
        "lambdaMin": float(evals[0]),
        "trace": float(torch.diagonal(H).sum()),
        "traceOfSquare": float((H * H).sum()),
        "asymmetry": asym,
        "vectorize": bool(args.vectorize),
        "seconds": {"hessian": statistics.median(hess_times), "eigvalsh": statistics.median(eig_times)},
        "secondsAll": {"hessian": hess_times, "eigvalsh": eig_times},
        "notes": notes,
    })
    if args.eigenvalues:
        out["eigenvalues"] = [float(v) for v in evals]
    return out


class GradGraph:
    """The loss gradient with its graph kept (create_graph=True), reused by every HVP."""

    def __init__(self, loss_fn, theta):
        self.theta = theta.detach().clone().requires_grad_(True)
        t0 = time.perf_counter()
        self.loss = loss_fn(self.theta)
        (self.grad,) = torch.autograd.grad(self.loss, self.theta, create_graph=True)
        self.seconds = time.perf_counter() - t0
        self.count = 0
        self.hvp_seconds = 0.0

    def hvp(self, v):
        t0 = time.perf_counter()
        gv = torch.dot(self.grad, v)
        (hv,) = torch.autograd.grad(gv, self.theta, retain_graph=True)
        self.hvp_seconds += time.perf_counter() - t0
        self.count += 1
        return hv


def task_lanczos(loss_fn, theta, N, args):
    import numpy as np
    import scipy
    from scipy.sparse.linalg import LinearOperator, eigsh

    P = theta.numel()
    if args.k >= P:
        fail("--k must be smaller than the number of parameters (%d)" % P)
    rng = np.random.default_rng(args.seed)
    totals, runs = [], []
    for r in range(args.repeat):
        t0 = time.perf_counter()
        gg = GradGraph(loss_fn, theta)

        def matvec(v):
            vt = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(-1))
            return gg.hvp(vt).numpy()

        op = LinearOperator((P, P), matvec=matvec, dtype=np.float64)
        v0 = rng.standard_normal(P)
        vals, vecs = eigsh(op, k=args.k, which="LA", tol=args.tol, v0=v0)
        total = time.perf_counter() - t0
        totals.append(total)
        order = np.argsort(vals)[::-1]
        vals, vecs = vals[order], vecs[:, order]
        hvps, hvp_sec = gg.count, gg.hvp_seconds
        # residual of the top pair with one extra HVP (not counted in hvps or timed in total)
        v = torch.from_numpy(np.ascontiguousarray(vecs[:, 0]))
        v = v / torch.linalg.norm(v)
        hv = gg.hvp(v)
        lam = float(vals[0])
        residual = float(torch.linalg.norm(hv - lam * v)) / abs(lam) if lam != 0 else float("inf")
        runs.append((total, hvps, hvp_sec, gg.seconds, vals, residual, float(gg.loss)))
        note("lanczos run %d/%d: %.3f s, %d HVPs, lambdaMax %.12g, residual %.2e"
             % (r + 1, args.repeat, total, hvps, lam, residual))
    # report the run with the median total time
    med = statistics.median(totals)
    total, hvps, hvp_sec, graph_sec, vals, residual, loss = min(runs, key=lambda t: abs(t[0] - med))
    out = header("lanczos", "torch+scipy", P, N, args)
    out.update({
        "scipy": scipy.__version__,
        "loss": loss,
        "lambdaMax": float(vals[0]),
        "topEigenvalues": [float(v) for v in vals],
        "hvps": hvps,
        "residual": residual,
        "k": args.k,
        "tol": args.tol,
        "seconds": {
            "total": total,
            "perHvp": hvp_sec / hvps if hvps else None,
            "gradGraph": graph_sec,
        },
        "secondsAll": {"total": totals},
        "notes": [
            "total = gradient graph (create_graph) + eigsh incl. ARPACK overhead; perHvp = time inside "
            "the HVP callbacks / hvps; the residual HVP is extra and untimed"
            + ("" if args.repeat > 1 else "; single cold run, no warm-up (repeat = 1)")
        ],
    })
    return out


def task_hvp(loss_fn, theta, N, args):
    P = theta.numel()
    gen = torch.Generator().manual_seed(args.seed)
    gg = GradGraph(loss_fn, theta)
    gg.hvp(torch.randn(P, dtype=torch.float64, generator=gen))  # warm-up, untimed
    vs = [torch.randn(P, dtype=torch.float64, generator=gen) for _ in range(args.repeat)]
    times = []
    checksum = 0.0
    for v in vs:
        hv, t = timed(lambda: gg.hvp(v))
        times.append(t)
        checksum += float(torch.dot(v, hv))
    out = header("hvp", "torch", P, N, args)
    out.update({
        "loss": float(gg.loss),
        "hvps": args.repeat,
        "vHvSum": checksum,
        "seconds": {
            "perHvp": sum(times) / len(times),
            "perHvpMedian": statistics.median(times),
            "total": sum(times),
            "gradGraph": gg.seconds,
        },
        "notes": ["one untimed warm-up HVP; gradient graph built once and reused (retain_graph)"],
    })
    return out


# ---------------------------------------------------------------- main


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("task", choices=["dense", "lanczos", "hvp"])
    ap.add_argument("--model", required=True, help="hessbound.mlp.v1 model JSON")
    ap.add_argument("--data", required=True, help='data JSON {"x","y"} or {"x","targets"}')
    ap.add_argument("--reduction", choices=["mean", "sum"], default="mean")
    ap.add_argument("--repeat", type=int, default=None,
                    help="timed runs (dense/lanczos: median, default 1) or HVPs (hvp: default 20)")
    ap.add_argument("--k", type=int, default=1, help="lanczos: number of top eigenvalues")
    ap.add_argument("--tol", type=float, default=1e-10, help="lanczos: eigsh tolerance")
    ap.add_argument("--seed", type=int, default=0, help="random start vector / HVP directions")
    ap.add_argument("--vectorize", action="store_true",
                    help="dense: pass vectorize=True to torch.autograd.functional.hessian (default off)")
    ap.add_argument("--eigenvalues", action="store_true", help="dense: also output all eigenvalues")
    ap.add_argument("--force", action="store_true",
                    help="dense: allow P > %d" % DENSE_PARAM_LIMIT)
    args = ap.parse_args(argv)
    if args.repeat is None:
        args.repeat = 20 if args.task == "hvp" else 1
    if args.repeat < 1:
        fail("--repeat must be >= 1")
    if args.k < 1:
        fail("--k must be >= 1")

    threads = os.environ.get("TORCH_THREADS")
    if threads:
        try:
            torch.set_num_threads(int(threads))
        except ValueError:
            fail("TORCH_THREADS must be an integer, got %r" % threads)
    torch.set_default_dtype(torch.float64)

    act, shapes, theta = load_model(args.model)
    x, y, targets = load_data(args.data, shapes[0][1], shapes[-1][0])
    loss_fn = make_loss(act, shapes, x, y, targets, args.reduction)
    N = x.shape[0]
    note("%s: %s net %s, P = %d, N = %d, reduction %s, threads %d"
         % (args.task, act, "-".join([str(shapes[0][1])] + [str(s[0]) for s in shapes]),
            theta.numel(), N, args.reduction, torch.get_num_threads()))

    task = {"dense": task_dense, "lanczos": task_lanczos, "hvp": task_hvp}[args.task]
    out = task(loss_fn, theta, N, args)
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
