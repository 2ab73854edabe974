#!/usr/bin/python3
"""PyTorch peer of the linattn benchmark (bench/linattn/run.sh).

The whole task as the paper's code does it: draw P training prompts Z [P, D+1, N+1] (x ~ N(0, I),
w ~ N(0, I) per prompt, y = w.x / sqrt(D), query label 0) and P_test fresh test prompts; merged W
[D+1, D+1] with init N(0, 1/(D+1)); prediction [Z Z^T W Z]_{D+1,N+1} / (N+1) computed by batched
matrix products; full-batch Adam on the mean squared error; float64; one thread; test MSE at every
log point (every log_every steps, as iclsweep does).

Usage: linattn_peer.py D N P steps reps [log_every]
Prints "median_steps_per_s X wall_s Y test_mse Z" (steps/s over the whole task).
"""
import statistics
import sys
import time

import torch


def prompts(P, D, N, gen):
    X = torch.randn(P, D, N + 1, dtype=torch.float64, generator=gen)
    w = torch.randn(P, D, 1, dtype=torch.float64, generator=gen)
    y = (w.transpose(1, 2) @ X) / D ** 0.5  # [P, 1, N+1]
    yq = y[:, 0, N].clone()
    y[:, 0, N] = 0.0
    return torch.cat([X, y], dim=1), yq


def predict(Z, W, D, N):
    out = Z @ Z.transpose(1, 2) @ W @ Z / (N + 1)
    return out[:, D, N]


def task(D, N, P, steps, log_every, seed, P_test=1000, lr=0.01):
    gen = torch.Generator().manual_seed(seed)
    Z, yq = prompts(P, D, N, gen)
    Zt, yt = prompts(P_test, D, N, gen)
    W = (torch.randn(D + 1, D + 1, dtype=torch.float64, generator=gen) / (D + 1) ** 0.5).requires_grad_()
    opt = torch.optim.Adam([W], lr=lr)
    test_mse = float("nan")
    for t in range(steps + 1):
        if t % log_every == 0 or t == steps:
            with torch.no_grad():
                test_mse = torch.mean((predict(Zt, W, D, N) - yt) ** 2).item()
        if t == steps:
            break
        opt.zero_grad()
        loss = torch.mean((predict(Z, W, D, N) - yq) ** 2)
        loss.backward()
        opt.step()
    return test_mse


def main():
    torch.set_num_threads(1)
    D, N, P, steps, reps = (int(a) for a in sys.argv[1:6])
    log_every = int(sys.argv[6]) if len(sys.argv) > 6 else 20
    times = []
    for r in range(reps):
        t0 = time.perf_counter()
        mse = task(D, N, P, steps, log_every, 1000 + r)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"median_steps_per_s {steps / med:.6g} wall_s {med:.6g} test_mse {mse:.6g}")


if __name__ == "__main__":
    main()
