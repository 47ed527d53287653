"""Rendering: segment plans become silent scene videos, cached by content.

``scene_render`` is the job and its cache lookup, ``scene_process`` the manim child that
renders one job, ``render_queue`` the local queue (costliest first, long jobs split),
``resources`` the job count, ``fingerprint`` and ``cache`` the render keys and cache
entries, ``store`` the cache behind an fsspec URL, ``executors`` and ``cluster_tasks``
the local and Dask executors, ``housekeeping`` the cache's lock, cleanup and eviction.
"""
