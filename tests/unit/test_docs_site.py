"""The documentation: the site builds with `mkdocs build --strict`, a broken link or anchor fails
that build, and the README (the front door) stays short with every relative link resolving."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

needs_mkdocs = pytest.mark.skipif(
    find_spec("mkdocs") is None or find_spec("material") is None,
    reason="mkdocs or mkdocs-material is not installed (pip install -e '.[dev]'); "
    "CI installs the dev extras, so the strict docs build runs there",
)

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` of the project at `root` into `site`; output in stdout."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    # Not -q: mkdocs then drops warnings before --strict counts them, and the build passes.
    command = [sys.executable, "-m", "mkdocs", "build", "--strict"]
    command += ["-f", str(root / "mkdocs.yml"), "-d", str(site)]
    return subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def copy_of_docs(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(DOCS, root / "docs")
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    return root


@needs_mkdocs
def test_docs_site_builds_strict_with_no_warning(tmp_path: Path) -> None:
    result = build(ROOT, tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "images" / "report.png").is_file()


@needs_mkdocs
@pytest.mark.parametrize(
    ("link", "complaint"),
    [
        ("gates.md#no-such-anchor", "does not contain an anchor '#no-such-anchor'"),
        ("no-such-page.md", "'no-such-page.md', but the target is not found"),
    ],
    ids=["broken-anchor", "missing-page"],
)
def test_strict_build_fails_on_a_broken_link(tmp_path: Path, link: str, complaint: str) -> None:
    root = copy_of_docs(tmp_path)
    page = root / "docs" / "results.md"
    page.write_text(page.read_text() + f"\nSee [this]({link}).\n")
    result = build(root, tmp_path / "site")
    assert result.returncode != 0
    assert complaint in result.stdout + result.stderr


def heading_anchors(markdown: str) -> set[str]:
    """The anchors Python-Markdown's toc gives a page's headings (code fences skipped)."""
    anchors, fenced = set(), False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"#+ (.+)", line)
        if match:
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(1)).replace("`", "")
            text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
            text = re.sub(r"[^\w\s-]", "", text).strip().lower()
            anchors.add(re.sub(r"[-\s]+", "-", text))
    return anchors


def test_every_relative_link_of_the_readme_resolves() -> None:
    targets = [t for t in LINK.findall(README.read_text()) if not re.match(r"[a-z]+:", t)]
    assert targets, "the README links to its pages"
    for target in targets:
        path, _, anchor = target.partition("#")
        file = ROOT / path if path else README
        assert file.exists(), f"README links to {target}: no such file"
        if anchor:
            assert anchor in heading_anchors(file.read_text()), f"README: no #{anchor} in {path}"


def test_readme_is_a_short_front_door_with_the_test_command() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    # .ci/run runs "the README's test command"; it must be stated plainly.
    assert "```bash\npython -m pytest -q\n```" in text


def test_every_image_is_shown_on_a_page() -> None:
    pages = "".join(page.read_text() for page in DOCS.glob("*.md"))
    for image in (DOCS / "images").iterdir():
        assert f"](images/{image.name})" in pages, f"docs/images/{image.name} is on no page"
