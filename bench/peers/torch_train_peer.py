#!/usr/bin/python3
"""PyTorch training peer for bench/training.ts (issue 14).

The same MLP, data and start as hessbound, trained the way a PyTorch user writes it: nn.Sequential
of nn.Linear (float64), F.cross_entropy (mean), full batch, torch.optim.

    /usr/bin/python3 bench/peers/torch_train_peer.py TASK --model M.json --data D.json [options]

TASK:
  eval    time --repeat loss + gradient evaluations (zero_grad, forward, backward), median per evaluation
  adam    --steps Adam steps (lr --lr, betas 0.9/0.999, eps 1e-8, as hessbound's Adam)
  lbfgs   torch.optim.LBFGS (history --memory, strong-Wolfe line search) until the gradient's 2-norm
          at the accepted point is <= --grad-tol, or --max-steps iterations
  gemm    the machine's DGEMM rate on one thread: numpy (the system OpenBLAS) float64 n x n products

One JSON object on stdout. TORCH_THREADS=n calls torch.set_num_threads(n).
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_peer import load_data, load_model  # noqa: E402 (same readers as the other benches)


def build(model_path):
    act, shapes, flat = load_model(model_path)
    if act != "tanh":
        raise SystemExit("torch_train_peer: only tanh models (the bench's)")
    layers, at = [], 0
    for i, (out_f, in_f, has_bias) in enumerate(shapes):
        lin = torch.nn.Linear(in_f, out_f, bias=has_bias, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(flat[at:at + out_f * in_f].view(out_f, in_f))
            at += out_f * in_f
            if has_bias:
                lin.bias.copy_(flat[at:at + out_f])
                at += out_f
        layers.append(lin)
        if i + 1 < len(shapes):
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers), shapes


def grad_norm(net):
    return float(torch.sqrt(sum((p.grad * p.grad).sum() for p in net.parameters())))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["eval", "adam", "lbfgs", "gemm"])
    ap.add_argument("--model")
    ap.add_argument("--data")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--memory", type=int, default=20)
    ap.add_argument("--grad-tol", type=float, default=1e-5)
    ap.add_argument("--max-steps", type=int, default=20000)
    ap.add_argument("--n", type=int, default=1024)
    args = ap.parse_args()
    threads = os.environ.get("TORCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    torch.set_default_dtype(torch.float64)

    if args.task == "gemm":
        import numpy as np
        a = np.random.default_rng(0).standard_normal((args.n, args.n))
        b = a.T.copy()
        a @ b
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - t0)
        best = min(times)
        print(json.dumps({"task": "gemm", "n": args.n, "seconds": best, "flops": 2.0 * args.n ** 3 / best,
                          "numpy": np.__version__}))
        return

    net, shapes = build(args.model)
    x, y, targets = load_data(args.data, shapes[0][1], shapes[-1][0])
    labels = y if y is not None else targets
    out = {"task": args.task, "torch": torch.__version__, "threads": torch.get_num_threads(),
           "parameters": sum(p.numel() for p in net.parameters()), "samples": int(x.shape[0])}

    def closure():
        net.zero_grad(set_to_none=False)
        loss = F.cross_entropy(net(x), labels)
        loss.backward()
        return loss

    if args.task == "eval":
        closure()
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            closure()
            times.append(time.perf_counter() - t0)
        out.update({"perEvaluation": statistics.median(times), "evaluations": args.repeat})
    elif args.task == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
        t0, c0 = time.perf_counter(), time.process_time()
        loss = closure()
        for _ in range(args.steps):
            opt.step()
            loss = closure()
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        # cpuSeconds: the process's processor time (all threads), the work less a loaded machine's waits.
        out.update({"loss": float(loss), "gradNorm": grad_norm(net), "evaluations": args.steps + 1,
                    "seconds": seconds, "cpuSeconds": cpu_seconds, "perEvaluation": seconds / (args.steps + 1)})
    else:
        evaluations = [0]

        def counted():
            evaluations[0] += 1
            return closure()

        opt = torch.optim.LBFGS(net.parameters(), lr=1, max_iter=1, history_size=args.memory,
                                tolerance_grad=0, tolerance_change=0, line_search_fn="strong_wolfe")
        t0 = time.perf_counter()
        loss = counted()
        norm, steps = grad_norm(net), 0
        while norm > args.grad_tol and steps < args.max_steps:
            loss = opt.step(counted)
            steps += 1
            state = opt.state[opt._params[0]]
            norm = float(state["prev_flat_grad"].norm()) if "prev_flat_grad" in state else grad_norm(net)
        seconds = time.perf_counter() - t0
        with torch.no_grad():
            final = float(F.cross_entropy(net(x), labels))
        out.update({"loss": final, "gradNorm": norm, "steps": steps, "evaluations": evaluations[0],
                    "seconds": seconds, "perEvaluation": seconds / evaluations[0],
                    "stopReason": "gradTol" if norm <= args.grad_tol else "maxSteps"})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
