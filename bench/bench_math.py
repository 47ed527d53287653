"""Timings of the math core (measured here, never in tests).

    .venv/bin/python bench/bench_math.py [--threads 1]

On a busy 2-core machine, torch's intra-op threads make the many tiny tensor ops of the
samplers much slower; compare ``--threads 1`` with the default.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

from diffusion import (
    NoiseSchedule,
    closed_form_check,
    dot_grid,
    forward_trajectory,
    load_mnist,
    make_generator,
    reverse_trajectory,
    step_by_step,
)
from diffusion.mnist import clear_mnist_cache, synthetic_digits


def timed(label: str, fn: Callable[[], object], repeat: int = 3) -> None:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<44} {best * 1000:9.1f} ms (best of {repeat})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    grid, cpu = dot_grid(), "cpu"
    linear, display = NoiseSchedule.linear(), NoiseSchedule.linear_scaled(100)
    mnist = load_mnist()
    print(f"MNIST source: {mnist.source} ({len(mnist)} images)")

    def cold_mnist() -> None:
        clear_mnist_cache()
        load_mnist()

    timed("load_mnist (cold, in-process cache cleared)", cold_mnist)
    timed("synthetic_digits(1000)", lambda: synthetic_digits(1000))
    timed(
        "step_by_step 16 digits to t=999",
        lambda: step_by_step(mnist.images[:16], 999, linear, generator=make_generator(0, cpu)),
    )
    timed("closed_form_check n=4000 t=999", lambda: closed_form_check(linear, 0.8, 999))
    timed(
        "forward_trajectory grid, T=100",
        lambda: forward_trajectory(grid, display, range(100), generator=make_generator(0, cpu)),
    )
    for sched, name in ((display, "T=100"), (linear, "T=1000")):
        for method in ("ddpm", "ddim"):
            timed(
                f"reverse_trajectory n=968 {method} {name}",
                lambda s=sched, m=method: reverse_trajectory(
                    grid, s, [s.T - 1], generator=make_generator(0, cpu), n=968, method=m
                ),
                repeat=1,
            )


if __name__ == "__main__":
    main()
