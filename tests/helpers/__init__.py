"""Shared test helpers: generated audio, takes, scene renders, lecture fixtures."""
