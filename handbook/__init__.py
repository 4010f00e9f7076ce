"""Printable integrity handbooks, pocket reminder cards and per-department editions."""

from __future__ import annotations

__version__ = "0.1.0"
