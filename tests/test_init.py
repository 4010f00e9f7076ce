"""``handbook init DIR``: a complete project that builds at once, from the package data, also from a wheel."""

from __future__ import annotations

import datetime
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import REPO, bare_fontconfig, build_ok, page_texts

from handbook.cli import main
from handbook.newproject import create_project, starter_files

STARTER = REPO / "handbook" / "starter"
EXPECTED = [
    ".gitignore", "README.md", "content/00-introduction.md", "content/01-gifts-and-hospitality.md",
    "content/02-conflicts-of-interest.md", "content/cards.yaml", "departments/finance/content/01a-payments.md",
    "departments/finance/department.yaml", "handbook.yaml", "styles/theme.css", "templates/handbook.html.j2",
]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_the_starter_theme_is_the_repository_theme() -> None:
    """templates/ and styles/ have one source: the starter's theme is the repository's, file for file."""
    given = {name: source.read_bytes() for name, source in starter_files()
             if name.startswith(("templates/", "styles/"))}
    expected = {f"{part}/{name}": (REPO / part / name).read_bytes()
                for part in ("templates", "styles") for name in tree(REPO / part)}
    assert given == expected
    assert not (STARTER / "templates").exists() and not (STARTER / "styles").exists()


def test_init_creates_a_complete_project(tmp_path: Path) -> None:
    target = tmp_path / "my-handbook"
    result = run("init", str(target))
    assert result.exit_code == 0, result.output
    files = tree(target)
    for name in EXPECTED:
        assert name in files
    assert len([f for f in files if f.startswith("templates/")]) == len(tree(REPO / "templates"))
    assert f"created {len(files)} files" in result.output
    assert "handbook serve" in result.output
    assert f"date: {datetime.date.today().isoformat()}" in (target / "handbook.yaml").read_text(encoding="utf-8")


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    create_project(tmp_path / "a")
    result = run("init", str(tmp_path / "a"))
    assert result.exit_code == 1
    assert "already holds a handbook project" in result.output
    (tmp_path / "b" / "content").mkdir(parents=True)
    (tmp_path / "b" / "content" / "cards.yaml").write_text("cards: []\n", encoding="utf-8")
    result = run("init", str(tmp_path / "b"))
    assert result.exit_code == 1
    assert "content/cards.yaml" in result.output
    assert not (tmp_path / "b" / "handbook.yaml").exists()


def test_init_accepts_a_folder_with_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    create_project(tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (tmp_path / "handbook.yaml").is_file()


def test_the_new_project_builds_into_pdfs(tmp_path: Path) -> None:
    project = tmp_path / "project"
    create_project(project)
    assert run("--project", str(project), "check", "--strict").exit_code == 0
    report = build_ok(project, project / "dist", jobs=2)
    written = sorted(o.path.relative_to(project / "dist").as_posix() for o in report.written)
    assert written == ["cards-print-shop.pdf", "cards.pdf", "finance/cards-print-shop.pdf", "finance/cards.pdf",
                       "finance/handbook.html", "finance/handbook.pdf", "handbook.html", "handbook.pdf"]
    text = "\n".join(page_texts(project / "dist" / "handbook.pdf"))
    assert "Gifts and hospitality" in text and "Conflicts of interest" in text
    finance = "\n".join(page_texts(project / "dist" / "finance" / "handbook.pdf"))
    assert "Finance Department" in finance and "Payments" in finance


def test_the_wheel_carries_the_starter(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "wheel")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name, _ in starter_files():
        packaged = "gitignore" if name == ".gitignore" else name
        assert f"handbook/starter/{packaged}" in names
    assert "handbook/static/preview.html" in names
    for face in ("Regular", "Italic", "Bold", "BoldItalic"):
        assert f"handbook/fonts/charis-sil/CharisSIL-{face}.ttf" in names
        assert f"handbook/fonts/lato/Lato-{face}.ttf" in names
    assert {"handbook/fonts/charis-sil/OFL.txt", "handbook/fonts/charis-sil/FONTLOG.txt",
            "handbook/fonts/lato/OFL.txt", "handbook/fonts/lato/AUTHORS.txt"} <= names


def build_wheel(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(folder)], check=True, capture_output=True, timeout=120)
    (wheel,) = folder.glob("handbook-*.whl")
    return wheel


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX venv layout")
def test_init_works_from_an_installed_wheel(tmp_path: Path) -> None:
    """A fresh venv with only the wheel installed (the dependencies come from the test venv's site-packages)."""
    wheel = build_wheel(tmp_path / "wheel")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(subprocess.run([venv / "bin" / "python", "-c", purelib], check=True, capture_output=True,
                               text=True).stdout.strip())
    # Dependencies only: the path is added without running its .pth files, so the editable handbook stays out.
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True, timeout=120)
    work = tmp_path / "work"
    work.mkdir()
    # A machine without the theme's fonts: the wheel brings them.
    env = {k: v for k, v in bare_fontconfig(tmp_path).items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def handbook(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([venv / "bin" / "handbook", *args], cwd=work, capture_output=True, text=True,
                              timeout=120, env=env)

    where = subprocess.run([venv / "bin" / "python", "-c", "import handbook; print(handbook.__file__)"], cwd=work,
                           capture_output=True, text=True, check=True).stdout
    assert Path(where).resolve().is_relative_to(venv.resolve()), where
    created = handbook("init", "project")
    assert created.returncode == 0, created.stderr
    built = handbook("--project", "project", "build", "--only", "handbook", "-j", "2")
    assert built.returncode == 0, built.stderr
    assert (work / "project" / "dist" / "handbook.pdf").stat().st_size > 10_000
    assert (work / "project" / "dist" / "finance" / "handbook.pdf").is_file()
    fonts = subprocess.run(["pdffonts", str(work / "project" / "dist" / "handbook.pdf")], capture_output=True,
                           text=True, check=True).stdout
    assert "+Charis-SIL " in fonts and "+Lato-Bold " in fonts, fonts
    doctor = handbook("--project", "project", "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "font Lato: ships with the handbook" in doctor.stdout
