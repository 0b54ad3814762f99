#!/usr/bin/python3
"""PyTorch mini-batch training peer for bench/scale-training.ts (issue 25, item 5).

The same MLP (float64 nn.Sequential of nn.Linear + nn.Tanh), start and data as hessbound, trained
the way a PyTorch user writes a mini-batch loop: each epoch a seeded torch.randperm, batches taken
by indexing, zero_grad / F.cross_entropy (mean) / backward / step, with torch.optim.Adam
(betas 0.9/0.999, eps 1e-8) or torch.optim.SGD (momentum), weight decay as the optimizer's
(coupled L2, as hessbound's weightDecay).

    /usr/bin/python3 bench/peers/torch_minibatch_peer.py --model M.json --x X.npy --y Y.npy
        --batch-size B --epochs E [--optimizer adam|sgd] [--lr LR] [--momentum M] [--weight-decay WD] [--seed S]

One JSON object on stdout: the wall and processor (all threads) seconds of every epoch (the loop
only, data already in tensors) and the full-batch loss at the end. TORCH_THREADS=n calls torch.set_num_threads(n).
"""

import argparse
import json
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train_peer import build  # noqa: E402 (the same network as the full-batch peer)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--x", required=True)
    ap.add_argument("--y", required=True)
    ap.add_argument("--batch-size", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    threads = os.environ.get("TORCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    torch.set_default_dtype(torch.float64)

    net, _ = build(args.model)
    x = torch.from_numpy(np.load(args.x)).to(torch.float64)
    y = torch.from_numpy(np.load(args.y).astype(np.int64))
    n = x.shape[0]
    if args.optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=args.weight_decay)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    gen = torch.Generator().manual_seed(args.seed)
    epoch_seconds, epoch_cpu = [], []
    for _ in range(args.epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        perm = torch.randperm(n, generator=gen)
        for k in range(0, n, args.batch_size):
            idx = perm[k:k + args.batch_size]
            opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
        epoch_seconds.append(time.perf_counter() - t0)
        epoch_cpu.append(time.process_time() - c0)
    with torch.no_grad():
        final = float(F.cross_entropy(net(x), y))
    # PyTorch 1.13 has no torch.backends.cpu.get_cpu_capability(); its build summary names the path.
    found = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    capability = found.group(1) if found else "unknown"
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "cpuCapability": capability,
                      "samples": int(n), "batchSize": args.batch_size, "optimizer": args.optimizer,
                      "epochSeconds": epoch_seconds, "epochCpuSeconds": epoch_cpu, "loss": final}))


if __name__ == "__main__":
    main()
