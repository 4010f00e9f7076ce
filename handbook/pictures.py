"""Page pictures: PNG previews of a handbook's first pages and of the first card sheet.

``handbook build --png`` and ``handbook serve`` write, next to each edition's PDFs (the plans are
declared with the output kinds, :mod:`handbook.outputs`):

- ``handbook-1.png`` … ``handbook-4.png``: the first four pages that carry something (the cover,
  the contents, the first chapters); the blank versos before each right-hand chapter are skipped;
- ``cards-1.png`` and ``cards-2.png``: the fronts and the (mirrored) backs of the first sheet.

Poppler's ``pdftoppm`` draws them (Debian's poppler-utils, in apt-packages.txt). They are a
derived output, cached by the same state file as every other (:mod:`handbook.cache`): the entry
``pictures:<pdf>`` keys the PDF's content, the plan and the resolution, and the pictures are
redrawn only when that key changes or a picture on disk is not the one written; older pictures
that no longer belong are removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import cache, outputs
from .errors import RenderError
from .results import Output

DPI = 96  # an A5 page is 560 x 794 pixels, an A4 sheet 794 x 1123
PDFTOPPM_SECONDS = 60


def wants_pictures(pdf: Path) -> bool:
    """Whether an output kind declares page pictures for ``pdf`` (:mod:`handbook.outputs`)."""
    return pdf.name in outputs.picture_plans()


def picture_paths(pdf: Path) -> list[Path]:
    """The pictures of ``pdf`` now on disk, in page order."""
    plan = outputs.picture_plans()[pdf.name]
    pattern = re.compile(rf"{re.escape(plan.stem)}-(\d+)\.png")
    found = [(int(m[1]), p) for p in pdf.parent.glob(f"{plan.stem}-*.png") if (m := pattern.fullmatch(p.name))]
    return [p for _, p in sorted(found)]


_STATE_LOCK = threading.Lock()  # the state file of a folder is read, changed and written by one thread at a time


def _key(pdf: Path, plan: outputs.PicturePlan, dpi: int) -> str:
    return cache.edition_key(pdf.parent, f"{cache.file_digest(pdf)}\0{plan}\0{dpi}")


def _blank(png: Path) -> bool:
    from PIL import Image  # Pillow comes with WeasyPrint

    with Image.open(png) as image:
        return image.convert("L").getextrema() == (255, 255)


def _pdftoppm() -> str:
    found = shutil.which("pdftoppm")
    if not found:
        raise RenderError("page pictures need poppler's pdftoppm: install poppler-utils "
                          "(apt-get install poppler-utils; `make setup` does it)")
    return found


def write_pictures(pdf: Path, edition: str = "", *, force: bool = False, dpi: int = DPI) -> list[Output]:
    """Write the pictures of ``pdf`` (handbook.pdf or cards.pdf) beside it; one Output each."""
    plan = outputs.picture_plans()[pdf.name]
    folder = pdf.parent
    existing = picture_paths(pdf)
    entry, key = f"pictures:{pdf.name}", _key(pdf, plan, dpi)
    with _STATE_LOCK:
        state = cache.State.read(folder)
        if not force and state.up_to_date(entry, key):
            return [Output(folder / name, None, (folder / name).stat().st_size, 0.0, edition, "up to date")
                    for name in state.outputs(entry)]
    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=".pictures-", dir=folder))
    try:
        try:
            subprocess.run([_pdftoppm(), "-png", "-r", str(dpi), "-f", "1", "-l", str(plan.last_page),
                            str(pdf), str(work / "page")], check=True, capture_output=True, text=True,
                           timeout=PDFTOPPM_SECONDS)
        except subprocess.CalledProcessError as exc:
            raise RenderError(f"{pdf}: pdftoppm failed: {exc.stderr.strip() or exc.returncode}") from exc
        except subprocess.TimeoutExpired as exc:
            raise RenderError(f"{pdf}: pdftoppm took longer than {PDFTOPPM_SECONDS} s") from exc
        # pdftoppm pads page numbers to the width of the page count: sort by number, not by name.
        pages = sorted(work.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        chosen = [p for p in pages if not (plan.skip_blank and _blank(p))][:plan.count]
        names = [folder / f"{plan.stem}-{i}.png" for i in range(1, len(chosen) + 1)]
        for source, target in zip(chosen, names, strict=True):
            os.chmod(source, 0o644)
            os.replace(source, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for stale in existing:
        if stale not in names:
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
    with _STATE_LOCK:
        state = cache.State.read(folder)
        state.record(entry, key, {p.name: p.read_bytes() for p in names}, [])
        state.write()
    elapsed = time.perf_counter() - start
    return [Output(p, None, p.stat().st_size, elapsed, edition) for p in names]


def pictures_for(outputs: list[Output], *, force: bool = False) -> list[Output]:
    """The pictures of every handbook.pdf and cards.pdf among a build's outputs, in their order."""
    pdfs = [o for o in outputs if wants_pictures(o.path) and o.path.is_file()]
    with ThreadPoolExecutor(max_workers=max(1, min(len(pdfs), os.cpu_count() or 1))) as pool:
        done = list(pool.map(lambda o: write_pictures(o.path, o.edition, force=force), pdfs))
    return [picture for pictures in done for picture in pictures]
