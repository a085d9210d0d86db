"""Publish Arm64 test nodes from Linaro's clouds to Zuul."""
