"""What the WeasyPrint adapters (``cjk.py``, ``tagging.py``) check before they patch WeasyPrint.

Each adapter lists the WeasyPrint functions it replaces or calls, with their parameters as it uses
them (its ``RELIES_ON``); :func:`signature_problems` says what differs in the installed WeasyPrint,
so an adapter that no longer fits is not installed and its test fails by name.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

_installed: set[str] = set()  # the adapters installed in this process


def signature_problems(relies_on: Mapping[str, tuple[str, ...]]) -> list[str]:
    """What differs between ``relies_on`` ("module:attribute.path" -> parameter names) and the
    installed WeasyPrint (empty: the patch fits)."""
    problems = []
    for spec, expected in relies_on.items():
        module_name, _, path = spec.partition(":")
        try:
            found: Any = importlib.import_module(module_name)
            for part in path.split("."):
                found = getattr(found, part)
            params = tuple(inspect.signature(found).parameters)
        except (ImportError, AttributeError, TypeError, ValueError) as exc:
            problems.append(f"{spec}: not found ({exc})")
            continue
        if params != expected:
            problems.append(f"{spec}: parameters {params}, the patch expects {expected}")
    return problems


def install_once(what: str, relies_on: Mapping[str, tuple[str, ...]], patch: Callable[[], None]) -> None:
    """Run an adapter's ``patch`` once per process, only when the installed WeasyPrint has every
    function ``relies_on`` names with those parameters; else say why (a test fails on it) and leave
    WeasyPrint alone."""
    if what in _installed:
        return
    changed = signature_problems(relies_on)
    if changed:  # pragma: no cover - another WeasyPrint; the adapter's test fails on it
        log.warning("%s not installed, WeasyPrint changed: %s", what, "; ".join(changed))
        return
    try:
        patch()
    except ImportError as exc:  # pragma: no cover - another WeasyPrint
        log.warning("%s not installed, WeasyPrint changed: %s", what, exc)
        return
    _installed.add(what)
