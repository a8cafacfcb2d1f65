"""Speed of the compiled separable-data optimizers (prints two tables).

1. Steps per second on ``N = 100`` samples in ``d = 50`` dimensions, compiled
   (numba, compile time excluded) against a plain NumPy loop of the same
   update (target: 50× faster).
2. Wall time for the runs of ``tests/separable/test_separable_bias.py`` to
   reach cosine 0.99 to their predicted direction (and stay above it).

    python benchmarks/separable.py
"""

from __future__ import annotations

import time

import numpy as np

import modeq.separable as sep

N, D = 100, 50


def numpy_step(rule: str, z: np.ndarray, batch: np.ndarray, state: dict, t: int, opt: sep.Optimizer) -> None:
    """One update of ``opt`` written as a plain NumPy loop body (log-space weights as in the compiled loop)."""
    w = state["w"]
    u = z[batch] @ w
    logq = -np.logaddexp(0.0, u)
    q = np.exp(logq - logq.max())
    grad = -(q[:, None] * z[batch]).mean(axis=0)
    eta = opt.lr / (t + 1) ** opt.decay
    if rule == "gd":
        state["w"] = w - eta * np.exp(logq.max()) * grad
    elif rule == "adam":
        state["m"] = opt.beta1 * state["m"] + (1 - opt.beta1) * grad
        state["v"] = opt.beta2 * state["v"] + (1 - opt.beta2) * grad**2
        m_hat = state["m"] / (1 - opt.beta1 ** (t + 1))
        v_hat = np.sqrt(state["v"] / (1 - opt.beta2 ** (t + 1)))
        state["w"] = w - eta * np.divide(m_hat, v_hat, out=np.zeros_like(w), where=v_hat > 0)
    elif rule == "signum":
        state["m"] = opt.beta1 * state["m"] + (1 - opt.beta1) * grad
        state["w"] = w - eta * np.sign(state["m"])
    else:
        den = np.sqrt(((q[:, None] * z[batch]) ** 2).sum(axis=0))
        state["w"] = w - eta * np.divide(grad, den, out=np.zeros_like(w), where=den > 0)


def numpy_rate(opt: sep.Optimizer, rule: str, z: np.ndarray, steps: int) -> float:
    n, d = z.shape
    state = {"w": np.zeros(d), "m": np.zeros(d), "v": np.zeros(d)}
    full = np.arange(n)
    start = time.perf_counter()
    for t in range(steps):
        batch = full if opt.batch_size is None else np.arange(t * opt.batch_size, (t + 1) * opt.batch_size) % n
        numpy_step(rule, z, batch, state, t, opt)
    return steps / (time.perf_counter() - start)


def compiled_rate(opt: sep.Optimizer, data: sep.SeparableData, steps: int) -> float:
    opt.run(data, 10)  # compile (or load from numba's cache) outside the timing
    start = time.perf_counter()
    opt.run(data, steps, record=[steps])
    return steps / (time.perf_counter() - start)


def speed_table() -> None:
    data = sep.gaussian_clusters(N, D, separation=5.0)
    cases = [
        (sep.gd(), "gd"),
        (sep.adam(), "adam"),
        (sep.incremental_adam(), "adam"),
        (sep.adam(batch_size=5, sampling="cyclic"), "adam"),
        (sep.signum(), "signum"),
        (sep.signum(batch_size=1, sampling="cyclic"), "signum"),
        (sep.adam_proxy(), "proxy"),
    ]
    print(f"steps per second, N={N}, d={D}")
    print(f"{'optimizer':<42} {'compiled':>12} {'NumPy':>10} {'speed-up':>9}")
    for opt, rule in cases:
        fast = compiled_rate(opt, data, 200_000 if opt.batch_size else 50_000)
        slow = numpy_rate(opt, rule, data.z, 3_000)
        print(f"{opt.name:<42} {fast:12,.0f} {slow:10,.0f} {fast / slow:8.0f}×")


def time_to_099() -> None:
    gaussian, rademacher = sep.gaussian_clusters(n=20, d=50), sep.generalized_rademacher()
    fixed_point = sep.solve_fixed_point(gaussian).direction
    linf_g = sep.max_margin(gaussian, "linf").direction
    cases = [
        ("Gaussian", gaussian, sep.adam(lr=0.1), linf_g, "ℓ∞", 100_000),
        ("Gaussian", gaussian, sep.signum(lr=0.1), linf_g, "ℓ∞", 50_000),
        ("Gaussian", gaussian, sep.gd(lr=0.1, normalized=True), sep.max_margin(gaussian, "l2").direction, "ℓ2", 50_000),
        ("Rademacher", rademacher, sep.incremental_adam(lr=0.1), sep.max_margin(rademacher, "l2").direction, "ℓ2", 100_000),
        ("Rademacher", rademacher, sep.adam(lr=0.1), sep.max_margin(rademacher, "linf").direction, "ℓ∞", 100_000),
        *[("Gaussian", gaussian, sep.signum(lr=0.01, beta=0.99, batch_size=b), linf_g, "ℓ∞", 200_000) for b in (1, 5, None)],
        ("Gaussian", gaussian, sep.adam_proxy(lr=0.1), fixed_point, "fixed point", 200_000),
        ("Gaussian", gaussian, sep.incremental_adam(lr=0.1, beta1=0.0, beta2=0.99), fixed_point, "fixed point", 400_000),
    ]
    print("\ntime to reach cosine 0.99 (runs of tests/separable/test_separable_bias.py)")
    print(f"{'data':<11} {'optimizer':<36} {'target':<12} {'steps':>8} {'seconds':>8} {'final cos':>10}")
    for name, data, opt, target, label, steps in cases:
        opt.run(data, 10)
        traj = opt.run(data, steps, record=sep.log_steps(steps, 400))
        first = traj.first_step_above(target, 0.99)
        if first is None:
            print(f"{name:<11} {opt.name:<36} {label:<12} {'—':>8} {'—':>8} {traj.cosines(target)[-1]:10.4f}")
            continue
        start = time.perf_counter()
        opt.run(data, first, record=[first])
        seconds = time.perf_counter() - start
        print(f"{name:<11} {opt.name:<36} {label:<12} {first:8d} {seconds:8.3f} {traj.cosines(target)[-1]:10.4f}")


if __name__ == "__main__":
    speed_table()
    time_to_099()
