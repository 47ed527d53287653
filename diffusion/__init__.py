"""The math of the lectures: schedules, forward process, optimal-denoiser sampler,
trajectories, MNIST and statistics. Pure torch/numpy; never imports manim.

The names below are imported on first use (PEP 562), so a torch-free module of the
package (``diffusion.paths``, ``diffusion.worked``) can be imported without torch: a
warm re-run plans without it. torchvision (MNIST) and scipy (KS test) are imported only
by the functions that use them.
"""

from __future__ import annotations

import importlib
from typing import Any

#: ``"module:name"`` of every public name (``pipeline.rendering.fingerprint`` reads these strings as
#: imports, so the package's import closure stays complete).
_EXPORTS: tuple[str, ...] = (
    "diffusion.forward:ForwardProcess",
    "diffusion.forward:as_float_tensor",
    "diffusion.forward:default_device",
    "diffusion.forward:make_generator",
    "diffusion.forward:noise_like",
    "diffusion.forward:q_sample",
    "diffusion.forward:q_step",
    "diffusion.forward:step_by_step",
    "diffusion.grid:dot_grid",
    "diffusion.grid:grid_spacing",
    "diffusion.mnist:MnistData",
    "diffusion.mnist:clear_mnist_cache",
    "diffusion.mnist:load_mnist",
    "diffusion.paths:mnist_root",
    "diffusion.mnist:normalize_uint8",
    "diffusion.mnist:pick_digits",
    "diffusion.mnist:synthetic_digits",
    "diffusion.reverse:ddim_step",
    "diffusion.reverse:ddpm_step",
    "diffusion.reverse:optimal_x0",
    "diffusion.reverse:posterior_mean_variance",
    "diffusion.schedule:NoiseSchedule",
    "diffusion.stats:ClosedFormCheck",
    "diffusion.stats:NormalVerdict",
    "diffusion.stats:TensorStats",
    "diffusion.stats:closed_form_check",
    "diffusion.stats:standard_normal_verdict",
    "diffusion.stats:tensor_stats",
    "diffusion.trajectories:GridCoverage",
    "diffusion.trajectories:Trajectory",
    "diffusion.trajectories:forward_trajectory",
    "diffusion.trajectories:grid_coverage",
    "diffusion.trajectories:keyframes",
    "diffusion.trajectories:nearest_point_distance",
    "diffusion.trajectories:path_deviation",
    "diffusion.trajectories:reverse_trajectory",
    "diffusion.worked:closed_form_example",
    "diffusion.worked:one_step_moments",
)
_WHERE = {e.split(":")[1]: e.split(":")[0] for e in _EXPORTS}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'diffusion' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
