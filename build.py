#!/usr/bin/env python3
"""Thin entry point: ``python build.py build`` is ``handbook build``."""

from handbook.cli import run

if __name__ == "__main__":
    run()
