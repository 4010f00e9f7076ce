"""Independent checkers of PDF/UA-1 and PDF/A, none of them written here and none needing Java.

- page-validation (PyPI, Rust): PDF/UA-1 (Matterhorn protocol) and PDF/A-1/2/3 rules;
- pdfua (PyPI, on pikepdf): the machine-checkable part of PDF/UA-1 and WCAG 2.1, content streams
  included (text neither tagged nor an artifact);
- qpdf --check (Debian): the file's syntax and every stream's encoding.

Each function returns the list of errors as strings (empty: passes); `python tests/validators.py
FILE.pdf...` prints them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import page

PROFILES = {"pdf/ua-1": ("PDF_UA_1",), "pdf/a-3b": ("PDF_A_3B",), "pdf/a-3a": ("PDF_A_3A", "PDF_UA_1")}


def page_validation(path: Path, profile: str) -> list[str]:
    """page-validation's failures against one profile (``PDF_UA_1``, ``PDF_A_3B``...)."""
    report = page.validate_pdf(str(path), profile=getattr(page.ValidationProfile, profile))
    return [f"page {profile} [{f.rule_id}] {f.message}" for f in report.failures]


def pdfua(path: Path) -> list[str]:
    """pdfua's findings of ERROR severity."""
    result = subprocess.run([sys.executable, "-m", "pdfua", "check", "--format", "json", str(path)],
                            capture_output=True, text=True, timeout=300)
    if result.returncode in (4, 5):
        return [f"pdfua could not check {path.name}: {result.stderr.strip()}"]
    data = json.loads(result.stdout)
    found = []
    for file in data if isinstance(data, list) else [data]:
        for finding in file.get("findings", []):
            if finding.get("severity") == "error":
                found.append(f"pdfua [{finding['rule_id']}] {finding.get('location')}: {finding['message']}")
    return found


def pdfua_skipped(path: Path) -> list[str]:
    """The pdfua rules that raised instead of answering (UA-14-001, empty headings, fails on any
    heading whose /K is an array in pdfua 0.1.3: tests/test_conformance.py checks headings itself)."""
    result = subprocess.run([sys.executable, "-m", "pdfua", "check", "--format", "json", str(path)],
                            capture_output=True, text=True, timeout=300)
    data = json.loads(result.stdout)
    return [s["rule_id"] for file in (data if isinstance(data, list) else [data]) for s in file.get("skipped", [])]


def qpdf(path: Path) -> list[str]:
    """qpdf --check: exit 0 is clean, 3 warnings, 2 errors."""
    exe = shutil.which("qpdf")
    if exe is None:
        return ["qpdf is not installed (apt-packages.txt)"]
    result = subprocess.run([exe, "--check", str(path)], capture_output=True, text=True, timeout=300)
    if result.returncode == 0:
        return []
    return [f"qpdf: {line}" for line in (result.stdout + result.stderr).splitlines()
            if "error" in line.lower() or "warning" in line.lower()] or [f"qpdf exited {result.returncode}"]


def errors(path: Path, variant: str) -> list[str]:
    """Every checker's errors for a PDF of ``variant``."""
    found = qpdf(path)
    for profile in PROFILES[variant]:
        found += page_validation(path, profile)
    if variant in ("pdf/ua-1", "pdf/a-3a"):
        found += pdfua(path)
    return found


if __name__ == "__main__":
    variant = sys.argv[1]
    for name in sys.argv[2:]:
        problems = errors(Path(name), variant)
        print(f"{name}: {len(problems)} error(s)")
        for problem in problems:
            print("  " + problem)
