"""A Cairo camera that draws exactly what manim's draws, with less Python per shape.

A code card or a formula is hundreds of glyphs, and for each one manim's
``Camera.set_cairo_context_path`` runs a handful of small numpy calls (finite check,
subpath split, closure test) before a Python loop hands the curves to Cairo.

``BatchedCamera`` does the numpy work once per frame for all of a batch's shapes
(one concatenated point array, one split test, one ``tolist``), then walks the shapes
in their original order and, for each one, issues the same Cairo calls manim's camera
would: a new path, the same subpaths and curves, the same closes, then manim's own
background stroke, fill and stroke. It lists the mobjects to draw, in the same order,
with one walk over the families instead of manim's recursive one. Everything else
(images, point clouds, background images) is drawn by manim's code.

Given the same mobjects (with float64 points, as manim makes them), the pixel array is
equal to manim's, byte for byte. ``tests/test_camera.py`` checks this for a broad sample
of 2D mobject kinds in several styles, for points just inside and just outside manim's
tolerance for "the same point", and across frames that change; it does not cover 3D
(``ThreeDCamera``). Two limits: a VMobject whose curves are not cubic raises
``ValueError`` (manim's Cairo mobjects are all cubic), and a subclass's override of
``transform_points_pre_display``, ``set_cairo_context_path`` or ``display_vectorized``
is not applied. Equal pixels need equal mobjects: manim's ``ConvexHull`` orders its
vertices by hashes that follow ``PYTHONHASHSEED``, so its orientation (and Cairo's
antialiasing of its edges) can differ between two processes whichever camera draws it.
The time it saves is measured in ``bench/results/frame-cost-1080p.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from manim.camera.camera import Camera

RTOL = 1.0e-5  # numpy.isclose's default, as manim's point comparisons use


class BatchedCamera(Camera):
    """manim's Cairo ``Camera`` with path building batched per frame (same pixels)."""

    def get_mobjects_to_display(
        self, mobjects: Iterable[Any], include_submobjects: bool = True,
        excluded_mobjects: list | None = None,
    ) -> list[Any]:
        # manim's version builds every family with a recursive generator and dedupes
        # each level (a tenth of the frame in a cProfile of the code card). Same list,
        # one walk.
        mobjects = list(mobjects)
        if not include_submobjects or excluded_mobjects:
            return super().get_mobjects_to_display(
                mobjects, include_submobjects, excluded_mobjects)
        family = families(mobjects)
        if family is None:  # a class with its own idea of a family: manim's walk
            return super().get_mobjects_to_display(mobjects, include_submobjects)
        shown = [m for m in family if m.get_num_points() > 0]
        if self.use_z_index:
            shown.sort(key=lambda m: m.z_index)
        return shown

    def display_multiple_non_background_colored_vmobjects(
        self, vmobjects: Iterable[Any], pixel_array: Any
    ) -> None:
        vms = list(vmobjects)
        if not vms:
            return
        ctx = self.get_cairo_context(pixel_array)
        xy, paths = paths_for(vms)
        move_to, curve_to = ctx.move_to, ctx.curve_to
        new_sub_path, close_path = ctx.new_sub_path, ctx.close_path
        for vm, path in zip(vms, paths, strict=True):
            if path is not None:  # manim sets no new path for a shape without points
                ctx.new_path()
                for first, last, closed in path:
                    new_sub_path()
                    move_to(xy[2 * first], xy[2 * first + 1])
                    for j in range(2 * first + 2, 2 * last + 3, 8):
                        curve_to(*xy[j:j + 6])
                    if closed:
                        close_path()
            self.apply_stroke(ctx, vm, background=True)
            self.apply_fill(ctx, vm)
            self.apply_stroke(ctx, vm)


def families(mobjects: list[Any]) -> list[Any] | None:
    """``extract_mobject_family_members(mobjects)`` without the z-order sort: each
    mobject's family in pre-order (a mobject already on the current path is skipped, as
    manim's ``_iter_family`` does), every member kept at its last occurrence. None if a
    class overrides how its family is found."""
    last: dict[Any, None] = {}
    for root in mobjects:
        path: set[int] = set()
        stack: list[tuple[Any, int]] = [(root, -1)]
        while stack:
            mob, i = stack.pop()
            if i < 0:  # entering mob
                if id(mob) in path:
                    continue
                if not _plain(type(mob)):
                    return None
                path.add(id(mob))
                last.pop(mob, None)
                last[mob] = None
                i = 0
            subs = mob.submobjects
            if i < len(subs):
                stack.append((mob, i + 1))
                stack.append((subs[i], -1))
            else:
                path.discard(id(mob))
    return list(last)


_PLAIN: dict[type, bool] = {}


def _plain(cls: type) -> bool:
    """True if ``cls`` finds its family (and counts its points) the way Mobject does."""
    ok = _PLAIN.get(cls)
    if ok is None:
        from manim import Mobject

        ok = _PLAIN[cls] = all(
            getattr(cls, name, None) is getattr(Mobject, name)
            for name in ("get_family", "_iter_family", "family_members_with_points",
                         "get_num_points"))
    return ok


Subpath = tuple[int, int, bool]  # first point, first point of the last curve, closed


def paths_for(vms: list[Any]) -> tuple[list[float], list[list[Subpath] | None]]:
    """The subpaths manim's ``set_cairo_context_path`` would draw for each VMobject,
    computed in one numpy pass: the x, y of every point in one flat list, and per shape
    ``None`` (no points: manim starts no new path) or its subpaths as
    ``(first point, first point of its last cubic, closed)`` indices into that list."""
    arrays: list[np.ndarray] = []
    for vm in vms:
        pts = vm.points
        if len(pts) and vm.n_points_per_cubic_curve != 4:
            raise ValueError(f"{type(vm).__name__}: only cubic Bezier paths are drawn here")
        arrays.append(pts)
    lens = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
    out: list[list[Subpath] | None] = [None if n == 0 else [] for n in lens.tolist()]
    if not lens.any():
        return [], out
    full = np.concatenate([a for a in arrays if len(a)])
    pts = np.ascontiguousarray(full[:, :2], dtype=np.float64)
    ends = np.cumsum(lens)
    starts = ends - lens
    has = np.flatnonzero(lens)
    # manim draws a shape with any non-finite coordinate (x, y or z) as one point at
    # the origin: a new path, nothing in it.
    ok = np.ones(len(vms), dtype=bool)
    ok[has] = np.logical_and.reduceat(np.isfinite(full).all(axis=1), starts[has])
    tol = np.fromiter((vm.tolerance_for_point_equality for vm in vms), dtype=np.float64,
                      count=len(vms))

    # A cubic starts every 4 points of a shape; a subpath splits where a cubic's start
    # is not close (numpy.isclose, x and y) to the previous cubic's end.
    local = np.arange(len(pts)) - np.repeat(starts, lens)
    idx = np.flatnonzero((local % 4 == 0) & (local > 0))
    prev, here = pts[idx - 1], pts[idx]
    near = np.abs(prev - here) <= np.repeat(tol, lens)[idx, None] + RTOL * np.abs(here)
    cuts = idx[~near.all(axis=1)]
    lo = np.searchsorted(cuts, starts, side="right").tolist()
    hi = np.searchsorted(cuts, ends, side="left").tolist()
    cut_list = cuts.tolist()
    xy = pts.ravel().tolist()
    starts_l, ends_l, tol_l, ok_l = starts.tolist(), ends.tolist(), tol.tolist(), ok.tolist()

    for i in has.tolist():
        subs = out[i]
        assert subs is not None
        s, e = starts_l[i], ends_l[i]
        if not ok_l[i] or e - s < 4:
            continue  # a new path with no subpath
        bounds = [s, *cut_list[lo[i]:hi[i]], e]
        for a, b in zip(bounds, bounds[1:]):
            if b - a < 4:
                continue
            subs.append((a, a + ((b - a - 4) // 4) * 4, _close_2d(xy, a, b - 1, tol_l[i])))
    return xy, out


def _close_2d(xy: list[float], p: int, q: int, atol: float) -> bool:
    """manim's ``consider_points_equals_2d`` of points ``p`` and ``q`` (finite)."""
    x0, y0, x1, y1 = xy[2 * p], xy[2 * p + 1], xy[2 * q], xy[2 * q + 1]
    if x0 != x1 and not abs(x0 - x1) <= atol + RTOL * abs(x1):
        return False
    return y0 == y1 or abs(y0 - y1) <= atol + RTOL * abs(y1)
