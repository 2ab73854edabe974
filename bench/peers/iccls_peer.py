#!/usr/bin/python3
"""PyTorch peer of iclsweep's iccls model: in-context vs in-weights classification with a
two-layer attention-only network (Reddy, ICLR 2024; docs/science.md, model iccls).

Written as a researcher would: one thread, torch autograd for the gradients, a fresh batch drawn
with torch's generator every step, float32 or float64. Same data, network, training and metrics
as the C code (not the same random numbers):

  data     per task K class means mu_k and L label vectors, entries N(0, 1/D); class k has label
           k mod L; Zipf class frequencies P(k) ~ (k+1)^-alpha; an item of class k is
           (mu_k + eps eta) / sqrt(1 + eps^2), eta ~ N(0, I/D); a sequence is x_1, l_1, ...,
           x_N, l_N, x_q, each token [one-hot position (P = 2 Nmax + 1) ; content (D)], positions
           shifted by s ~ U{0..P-T}; kinds: novel (chance p_C; a fresh bank of K_novel class means
           per batch, bursty), bursty (chance p_B: N/B distinct labels, one class each, repeated B
           times, shuffled, the query a copy of a random context item's class) or non-bursty
           (N context classes and the query's class i.i.d. from P). B = 0: no bursty training
           sequences; novel ones and the ic and ic2 sets use N/2 copies.
  network  two causal single-head attention layers with residuals, no score scaling, the second
           only at the query; classifier relu(W1 y + b1), relu(W2 . + b2), relu(W3 . + b3)
           (scalar biases, width d), logits W_out h3 (L); cross-entropy.
  training SGD, p <- (1 - weight_decay) p - lr grad.
  metrics  loss and accuracy on test (the training mix), ic (novel classes, bursty), ic2 (training
           classes, bursty, context labels shifted l -> l+1 mod L, scored against the shift) and iw
           (non-bursty training classes); progress measures on the first 1000 ic sequences: ILA1,
           TILA2, TLA2, CLA, PTA1.

Usage (key=value overrides of DEFAULTS below, e.g. N=8 L=32 D=63 Nmax=32):
  iccls_peer.py train [key=value ...]    -> one line of JSON per log point, then a final line
  iccls_peer.py steps SECONDS [key=value ...]
                                         -> steps_per_s=... (training steps only, data included)
  iccls_peer.py task [key=value ...]     -> task_s=... (the whole task: data, training, evaluation)
  iccls_peer.py fixture OUT.txt [key=value ...]
                                         -> writes a small network fixture for tests/unit
"""
import json
import math
import sys
import time

import torch

torch.set_num_threads(1)

# The default point, calibrated in bench/iccls/calibration.md.
DEFAULTS = dict(N=4, L=16, D=31, Nmax=8, K=1024, B=1, p_B=1.0, p_C=0.0, eps=0.1, alpha=0.0,
                K_novel=128, bursty_classes="uniform", pos_shift="random", batch=64, lr=0.1,
                weight_decay=1e-6, steps=20000, log_every=100, n_test=1000, seed=1,
                dtype="float32")


def parse(args):
    cfg = dict(DEFAULTS)
    for a in args:
        k, v = a.split("=", 1)
        if k not in cfg:
            raise SystemExit(f"iccls_peer: unknown key {k!r}")
        cfg[k] = type(cfg[k])(v) if not isinstance(cfg[k], float) else float(v)
    return cfg


class Task:
    """The fixed draws of a task: class means, label vectors, class frequencies."""

    def __init__(self, cfg, gen, dt):
        K, L, D = cfg["K"], cfg["L"], cfg["D"]
        assert K % L == 0 and cfg["K_novel"] % L == 0
        self.cfg, self.gen, self.dt = cfg, gen, dt
        self.mu = torch.randn(K, D, generator=gen, dtype=dt) / math.sqrt(D)
        self.lab = torch.randn(L, D, generator=gen, dtype=dt) / math.sqrt(D)
        p = (torch.arange(K, dtype=torch.float64) + 1) ** -cfg["alpha"]
        self.P = (p / p.sum()).to(dt)
        self.T = 2 * cfg["N"] + 1
        self.Ptok = 2 * cfg["Nmax"] + 1
        self.d = self.Ptok + D

    def bursty_classes(self, n, M, K, zipf):
        """[n, M] classes with distinct labels: uniform (a random label set, a uniform class of
        each label) or zipf (classes from P one after another, conditioned on a new label)."""
        L, g = self.cfg["L"], self.gen
        if not zipf:
            labels = torch.argsort(torch.rand(n, L, generator=g), dim=1)[:, :M]
            return labels + L * torch.randint(0, K // L, (n, M), generator=g)
        w = self.P.to(torch.float64).expand(n, K).clone()
        out = torch.empty(n, M, dtype=torch.long)
        for m in range(M):
            c = torch.multinomial(w, 1, generator=g)[:, 0]
            out[:, m] = c
            w[(torch.arange(K)[None, :] % L) == (c % L)[:, None]] = 0.0
        return out

    def sequences(self, n, p_B, p_C, shift_labels=False):
        """n sequences of the mix (p_B, p_C): tokens X [n, T, d], targets [n] (label index), and
        the context classes [n, N] (novel ones as -1 - j) and query class [n] for the metrics."""
        c, g, dt = self.cfg, self.gen, self.dt
        N, L, D, K = c["N"], c["L"], c["D"], c["K"]
        B = c["B"] if c["B"] > 0 else N // 2
        M = N // B
        novel = torch.rand(n, generator=g) < p_C
        bursty = torch.rand(n, generator=g) < p_B
        # bursty (training classes or a novel bank): M classes, each B times, shuffled
        Kn = c["K_novel"]
        bank = torch.randn(Kn, D, generator=g, dtype=dt) / math.sqrt(D)
        cls_b = self.bursty_classes(n, M, K, c["bursty_classes"] == "zipf")
        cls_n = self.bursty_classes(n, M, Kn, False)
        cls_m = torch.where(novel[:, None], cls_n, cls_b)
        perm = torch.argsort(torch.rand(n, N, generator=g), dim=1)
        ctx_b = cls_m.repeat(1, B).gather(1, perm)
        q_b = ctx_b.gather(1, torch.randint(0, N, (n, 1), generator=g))[:, 0]
        # non-bursty: i.i.d. from P
        ctx_i = torch.multinomial(self.P.to(torch.float64), n * N, replacement=True, generator=g).view(n, N)
        q_i = torch.multinomial(self.P.to(torch.float64), n, replacement=True, generator=g)
        iid = ~novel & ~bursty
        ctx = torch.where(iid[:, None], ctx_i, ctx_b)
        q = torch.where(iid, q_i, q_b)
        means = torch.where(novel[:, None, None], bank[ctx.clamp(max=Kn - 1)], self.mu[ctx.clamp(max=K - 1)])
        qmean = torch.where(novel[:, None], bank[q.clamp(max=Kn - 1)], self.mu[q.clamp(max=K - 1)])
        e = 1.0 / math.sqrt(1.0 + c["eps"] ** 2)
        items = e * (means + c["eps"] * torch.randn(n, N, D, generator=g, dtype=dt) / math.sqrt(D))
        xq = e * (qmean + c["eps"] * torch.randn(n, D, generator=g, dtype=dt) / math.sqrt(D))
        shift = 1 if shift_labels else 0
        ctx_lab = (ctx % L + shift) % L
        target = (q % L + shift) % L
        X = torch.zeros(n, self.T, self.d, dtype=dt)
        X[:, 0:-1:2, self.Ptok:] = items
        X[:, 1:-1:2, self.Ptok:] = self.lab[ctx_lab]
        X[:, -1, self.Ptok:] = xq
        if c["pos_shift"] == "random":
            s = torch.randint(0, self.Ptok - self.T + 1, (n,), generator=g)
        else:
            s = torch.zeros(n, dtype=torch.long)
        pos = s[:, None] + torch.arange(self.T)[None, :]
        X.scatter_(2, pos[:, :, None], 1.0)
        ctx_id = torch.where(novel[:, None], -1 - ctx, ctx)
        q_id = torch.where(novel, -1 - q, q)
        return X, target, ctx_id, q_id, ctx_lab


class Net(torch.nn.Module):
    TENSORS = ["q1", "k1", "v1", "q2", "k2", "v2", "w1", "b1", "w2", "b2", "w3", "b3", "wout"]

    def __init__(self, d, D, L, gen, dt):
        super().__init__()

        def p(shape, var):
            return torch.nn.Parameter(torch.randn(*shape, generator=gen, dtype=dt) * math.sqrt(var))

        for name in ["q1", "k1", "v1", "q2", "k2", "v2"]:
            setattr(self, name, p((d, d), 1.0 / D))
        for i in (1, 2, 3):
            setattr(self, f"w{i}", p((d, d), 2.0 / d))
            setattr(self, f"b{i}", p((1,), 1.0 / d))
        self.wout = p((L, d), 1.0 / d)

    def forward(self, X):
        """Logits [n, L], layer-1 attention [n, T, T] (query t, key j) and layer-2 attention of
        the query [n, T]."""
        T = X.shape[1]
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        q, k, v = X @ self.q1.T, X @ self.k1.T, X @ self.v1.T
        s = (q @ k.transpose(1, 2)).masked_fill(~causal, float("-inf"))
        a1 = torch.softmax(s, dim=2)
        X1 = X + a1 @ v
        xq = X1[:, -1]
        q2 = xq @ self.q2.T
        s2 = torch.einsum("nd,ntd->nt", q2, X1 @ self.k2.T)
        a2 = torch.softmax(s2, dim=1)
        y = xq + torch.einsum("nt,ntd->nd", a2, X1 @ self.v2.T)
        h = torch.relu(y @ self.w1.T + self.b1)
        h = torch.relu(h @ self.w2.T + self.b2)
        h = torch.relu(h @ self.w3.T + self.b3)
        return h @ self.wout.T, a1, a2


def sgd_step(net, X, target, lr, wd):
    logits, _, _ = net(X)
    loss = torch.nn.functional.cross_entropy(logits, target)
    net.zero_grad(set_to_none=True)
    loss.backward()
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(1.0 - wd).sub_(lr * p.grad)
    return loss.item()


def train_mix(cfg):
    return (cfg["p_B"] if cfg["B"] > 0 else 0.0), cfg["p_C"]


def test_sets(task, n):
    return {"test": task.sequences(n, *train_mix(task.cfg)),
            "ic": task.sequences(n, 1.0, 1.0),
            "ic2": task.sequences(n, 1.0, 0.0, shift_labels=True),
            "iw": task.sequences(n, 0.0, 0.0)}


@torch.no_grad()
def evaluate(net, sets, chunk=1000):
    out = {}
    for name, (X, target, ctx, qc, ctx_lab) in sets.items():
        loss = correct = 0.0
        for i in range(0, X.shape[0], chunk):
            logits, _, _ = net(X[i:i + chunk])
            loss += torch.nn.functional.cross_entropy(logits, target[i:i + chunk], reduction="sum").item()
            correct += (logits.argmax(1) == target[i:i + chunk]).sum().item()
        out[name + "_loss"] = loss / X.shape[0]
        out[name + "_acc"] = correct / X.shape[0]
    X, target, ctx, qc, ctx_lab = (t[:1000] for t in sets["ic"])
    logits, a1, a2 = net(X)
    n, T = X.shape[0], X.shape[1]
    lab_t = torch.arange(1, T - 1, 2)
    out["ila1"] = a1[:, lab_t, lab_t - 1].mean().item()
    out["pta1"] = a1[:, torch.arange(1, T), torch.arange(0, T - 1)].mean().item()
    out["tla2"] = a2[:, lab_t].sum(1).mean().item()
    out["tila2"] = (a2[:, lab_t] * (ctx == qc[:, None])).sum(1).mean().item()
    pred = logits.argmax(1)
    out["cla"] = (ctx_lab == pred[:, None]).any(1).to(torch.float64).mean().item()
    return out


def setup(cfg):
    dt = torch.float32 if cfg["dtype"] == "float32" else torch.float64
    gen = torch.Generator().manual_seed(cfg["seed"])
    task = Task(cfg, gen, dt)
    net = Net(task.d, cfg["D"], cfg["L"], gen, dt)
    return task, net


def train(cfg, emit):
    task, net = setup(cfg)
    sets = test_sets(task, cfg["n_test"])
    last = None
    for step in range(cfg["steps"] + 1):
        if step % cfg["log_every"] == 0 or step == cfg["steps"]:
            last = dict(step=step, **evaluate(net, sets))
            emit(last)
        if step < cfg["steps"]:
            X, target, *_ = task.sequences(cfg["batch"], *train_mix(cfg))
            loss = sgd_step(net, X, target, cfg["lr"], cfg["weight_decay"])
            if not math.isfinite(loss):
                emit(dict(step=step, diverged=True))
                return last
    return last


def cmd_steps(seconds, cfg):
    task, net = setup(cfg)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or steps < 20:
        X, target, *_ = task.sequences(cfg["batch"], *train_mix(cfg))
        sgd_step(net, X, target, cfg["lr"], cfg["weight_decay"])
        steps += 1
    print(f"steps_per_s={steps / (time.perf_counter() - t0):.2f}")


def cmd_fixture(path, cfg):
    """A small shared input for tests/unit/test_iccls_peer.c: dims, weights, tokens, targets, and
    the peer's loss, logits and gradient of the mean loss (float64)."""
    cfg = dict(cfg, dtype="float64")
    task, net = setup(cfg)
    n = cfg["batch"]
    X, target, *_ = task.sequences(n, *train_mix(cfg))
    logits, _, _ = net(X)
    loss = torch.nn.functional.cross_entropy(logits, target)
    loss.backward()
    acc = (logits.argmax(1) == target).to(torch.float64).mean().item()
    with open(path, "w") as f:
        f.write(f"# iccls network fixture written by bench/peers/iccls_peer.py fixture "
                f"(torch {torch.__version__}); numbers one per line, %.17g\n")
        f.write(f"dims {cfg['N']} {cfg['Nmax']} {cfg['D']} {cfg['L']} {n}\n")

        def put(name, t):
            t = t.detach().reshape(-1)
            f.write(f"{name} {t.numel()}\n")
            f.writelines(f"{v:.17g}\n" for v in t.tolist())

        for name in Net.TENSORS:
            put(name, getattr(net, name))
        put("tokens", X)
        put("target", target.to(torch.float64))
        put("loss", loss.reshape(1))
        put("acc", torch.tensor([acc], dtype=torch.float64))
        put("logits", logits)
        for name in Net.TENSORS:
            put("grad_" + name, getattr(net, name).grad)


def rounded(row):
    """A log row with its numbers to 6 significant digits (the trajectories are kept in bench/)."""
    return {k: float(f"{v:.6g}") if isinstance(v, float) else v for k, v in row.items()}


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd = argv[1]
    if cmd == "train":
        cfg = parse(argv[2:])
        last = train(cfg, lambda row: print(json.dumps(rounded(row)), flush=True))
        print(json.dumps(dict(final=True, **rounded(last or {}))))
    elif cmd == "steps":
        cmd_steps(float(argv[2]), parse(argv[3:]))
    elif cmd == "task":
        cfg = parse(argv[2:])
        t0 = time.perf_counter()
        last = train(cfg, lambda row: None)
        print(f"task_s={time.perf_counter() - t0:.3f}\nfinal_ic_acc={last['ic_acc']:.5f}")
    elif cmd == "fixture":
        cmd_fixture(argv[2], parse(argv[3:]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
