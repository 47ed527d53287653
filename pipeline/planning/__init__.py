"""Planning: a lecture's TOML becomes checked segment plans, before any frame renders.

``manifest`` reads and validates the TOML, ``placeholders`` computes the numbers a script
quotes, ``preflight`` checks flags and clips, ``timing`` lays beats on the frame grid, and
``plan`` joins them with each segment's narration into :class:`plan.SegmentPlan` records.
"""
