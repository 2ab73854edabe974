"""PyTorch peer of iclsweep's concept model (docs/science.md), for bench/concept/run.sh.

Written as a researcher would: float64, one thread, tensors for the whole training set, torch
autograd for the gradients, scores as (W_K x_l) . (W_Q x_q) on the words, output the attended
label halves (W_V = [0 I]). Same data sizes and model as the C code: d, K=4, K_irr=8, L, m=32,
d_h=2d, n_train=4096, batch 64, init 0.1 with W_K = W_Q at step 0 (qk_init: tied), lr 5.

    python3 concept_peer.py steps D L BATCH SECONDS   -> steps_per_s=...
    python3 concept_peer.py task                      -> task_s=... (2000 steps, evaluation of the
                                                         training set, the test set and the five
                                                         OOD sets every 20 steps)
    python3 concept_peer.py task STEPS N_TEST LOG_EVERY float32|float64
                                                      -> the same at another size or precision
                                                         (bench/task/run.py)
"""
import math
import sys
import time

import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

K, K_IRR, M, P_POLY, P_IRR, NOISE = 4, 8, 32, 0.3, 0.2, 0.01
N_TRAIN, N_TEST, INIT, LR = 4096, 2048, 0.1, 5.0


def dictionary(d, gen):
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=gen))
    words = q[:, : 2 * K + K_IRR].T.clone()
    words[K : 2 * K] *= 0.6
    q2, _ = torch.linalg.qr(torch.randn(d, d, generator=gen))
    labels = q2[:, : 2 * K].T.clone()
    labels[K:] *= 0.6
    return words, labels


def prompts(n, L, d, words, labels, gen, kind="iid"):
    """Token tensors H [n, L, 2d], query words [n, d] and targets [n]."""
    A, Bp, NU = words[:K], words[K : 2 * K], words[2 * K :]
    C, Dl = labels[:K], labels[K:]
    if kind == "skew":
        other = 1 + torch.randint(0, K - 1, (n,), generator=gen)
        k = torch.where(torch.rand(n, generator=gen) < 0.7, torch.zeros_like(other), other)
    else:
        k = torch.randint(0, K, (n,), generator=gen)
    k2 = (k + 1 + torch.randint(0, K - 1, (n,), generator=gen)) % K
    if kind == "switch":
        Bp = Bp[(torch.arange(K) + 1) % K]
    tau = torch.randint(0, 2, (n, 1), generator=gen) * 2 - 1
    s = torch.randint(0, 2, (n, L + 1), generator=gen) * 2 - 1
    y = tau * s
    onehot = torch.nn.functional.one_hot(k, K).to(torch.get_default_dtype())
    active = (torch.rand(n, L + 1, K, generator=gen) < P_POLY).to(torch.get_default_dtype()) * (1 - onehot[:, None, :])
    spol = torch.randint(0, 2, (n, L + 1, K), generator=gen) * 2 - 1
    coef_b = active * spol + onehot[:, None, :] * s[..., None]
    coef_a = active + onehot[:, None, :]
    if kind == "cross":
        oh2 = torch.nn.functional.one_hot(k2, K).to(torch.get_default_dtype())
        coef_a = coef_a + oh2[:, None, :]
        coef_b = coef_b + oh2[:, None, :] * s[..., None]
    irr = (torch.rand(n, L + 1, K_IRR, generator=gen) < P_IRR).to(torch.get_default_dtype())
    irr = irr * (torch.randint(0, 2, (n, L + 1, K_IRR), generator=gen) * 2 - 1)
    x = coef_a @ A + coef_b.to(torch.get_default_dtype()) @ Bp + irr @ NU + NOISE * torch.randn(n, L + 1, d, generator=gen)
    lab = (onehot @ C)[:, None, :] + y[:, :L, None] * (onehot @ Dl)[:, None, :]
    if kind == "cross":
        lab = lab + (oh2 @ C)[:, None, :] + y[:, :L, None] * (oh2 @ Dl)[:, None, :]
    H = torch.cat([x[:, :L], lab], dim=2)
    return H.contiguous(), x[:, L].contiguous(), y[:, L].to(torch.get_default_dtype()), s


class Model(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        dh = 2 * d
        wq = INIT * torch.randn(dh, d)
        self.Wq = torch.nn.Parameter(wq.clone())
        self.Wk = torch.nn.Parameter(wq.clone())  # tied at step 0, trained apart
        self.Wo = torch.nn.Parameter(INIT * torch.randn(M, d))
        self.register_buffer("a", torch.cat([torch.full((M // 2,), 1.0 / M), torch.full((M // 2,), -1.0 / M)]))

    def forward(self, H, xq):
        d = xq.shape[1]
        X, Y = H[..., :d], H[..., d:]           # words, label parts
        q = xq @ self.Wq.T                      # [B, dh]
        k = X @ self.Wk.T                       # [B, L, dh]
        attn = torch.softmax(torch.einsum("bld,bd->bl", k, q), dim=1)
        o = torch.einsum("bl,bld->bd", attn, Y)  # [B, d]
        return torch.relu(o @ self.Wo.T) @ self.a, attn


def train_step(model, opt, H, xq, y):
    f, _ = model(H, xq)
    loss = torch.nn.functional.softplus(-y * f).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def bench_steps(d, L, B, seconds):
    gen = torch.Generator().manual_seed(1)
    words, labels = dictionary(d, gen)
    H, xq, y, _ = prompts(N_TRAIN, L, d, words, labels, gen)
    model = Model(d)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or steps < 20:
        idx = torch.randint(0, N_TRAIN, (B,), generator=gen)
        train_step(model, opt, H[idx], xq[idx], y[idx])
        steps += 1
    print(f"steps_per_s={steps / (time.perf_counter() - t0):.2f}")


@torch.no_grad()
def evaluate(model, data):
    out = []
    for H, xq, y, s in data:
        f, attn = model(H, xq)
        err = (y * f <= 0).to(torch.get_default_dtype()).mean().item()
        loss = torch.nn.functional.softplus(-y * f).mean().item()
        L = H.shape[1]
        caw = (attn * (s[:, :L] == s[:, L:]).to(torch.get_default_dtype())).sum(1).mean().item()
        out.append((loss, err, caw))
    return out


def bench_task(d=64, L=16, B=64, steps=2000, log_every=20, n_test=N_TEST):
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(1)
    words, labels = dictionary(d, gen)
    train = prompts(N_TRAIN, L, d, words, labels, gen)
    evals = [train] + [prompts(n_test, LL, d, words, labels, gen, kind)
                       for LL, kind in [(L, "iid"), (4, "iid"), (64, "iid"), (L, "skew"), (L, "switch"), (L, "cross")]]
    model = Model(d)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    H, xq, y, _ = train
    last = None
    for t in range(steps + 1):
        if t % log_every == 0 or t == steps:
            last = evaluate(model, evals)
        if t < steps:
            idx = torch.randint(0, N_TRAIN, (B,), generator=gen)
            train_step(model, opt, H[idx], xq[idx], y[idx])
    print(f"task_s={time.perf_counter() - t0:.3f}\nfinal_test_err={last[1][1]:.5f}")


if __name__ == "__main__":
    if sys.argv[1] == "steps":
        bench_steps(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    elif len(sys.argv) > 2:
        torch.set_default_dtype(torch.float32 if sys.argv[5] == "float32" else torch.float64)
        bench_task(steps=int(sys.argv[2]), n_test=int(sys.argv[3]), log_every=int(sys.argv[4]))
    else:
        bench_task()
