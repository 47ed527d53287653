"""The math of the lectures: schedules, forward process, optimal-denoiser sampler,
trajectories, MNIST and statistics. Pure torch/numpy; never imports manim.

torchvision (MNIST) and scipy (KS test) are imported only by the functions that use them.
"""

from __future__ import annotations

from diffusion.forward import (
    ForwardProcess,
    as_float_tensor,
    default_device,
    make_generator,
    noise_like,
    q_sample,
    q_step,
    step_by_step,
)
from diffusion.grid import dot_grid, grid_spacing
from diffusion.mnist import (
    MnistData,
    clear_mnist_cache,
    load_mnist,
    mnist_root,
    normalize_uint8,
    pick_digits,
    synthetic_digits,
)
from diffusion.reverse import ddim_step, ddpm_step, optimal_x0, posterior_mean_variance
from diffusion.schedule import NoiseSchedule
from diffusion.stats import (
    ClosedFormCheck,
    NormalVerdict,
    TensorStats,
    closed_form_check,
    standard_normal_verdict,
    tensor_stats,
)
from diffusion.trajectories import (
    GridCoverage,
    Trajectory,
    forward_trajectory,
    grid_coverage,
    keyframes,
    nearest_point_distance,
    path_deviation,
    reverse_trajectory,
)
from diffusion.worked import closed_form_example, one_step_moments

__all__ = [
    "ClosedFormCheck",
    "ForwardProcess",
    "GridCoverage",
    "MnistData",
    "NoiseSchedule",
    "NormalVerdict",
    "TensorStats",
    "Trajectory",
    "as_float_tensor",
    "clear_mnist_cache",
    "closed_form_check",
    "closed_form_example",
    "ddim_step",
    "ddpm_step",
    "default_device",
    "dot_grid",
    "forward_trajectory",
    "grid_coverage",
    "grid_spacing",
    "keyframes",
    "load_mnist",
    "make_generator",
    "mnist_root",
    "nearest_point_distance",
    "noise_like",
    "normalize_uint8",
    "one_step_moments",
    "optimal_x0",
    "path_deviation",
    "pick_digits",
    "posterior_mean_variance",
    "q_sample",
    "q_step",
    "reverse_trajectory",
    "standard_normal_verdict",
    "step_by_step",
    "synthetic_digits",
    "tensor_stats",
]
