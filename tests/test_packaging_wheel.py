"""The wheel and the sdist carry LiqWatch's resources and icons, and an installed wheel works away from the tree.

How the fresh environment is made, and why: `python -m venv --without-pip` gives an empty environment in about a
second; the project's own pip installs the wheel into it (`pip --python <venv python> install --no-deps
--no-index`), so nothing is downloaded. The runtime dependencies (numpy, ccxt, ...) are made visible by a `.pth`
line naming the test runner's site-packages. A path added that way is appended *after* the new environment's own
site-packages and its `.pth` files are not processed, so the editable install of the source tree is never picked
up: `liqwatch` is imported from the installed wheel, which the test asserts. The command runs from a temporary
working directory with PYTHONPATH cleared, so the checkout cannot leak in either.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "liqwatch/_data/resources/examples/portfolio.toml"
WHEEL_MUST_HOLD = (
    EXAMPLE,
    "liqwatch/_data/resources/brackets.json",
    "liqwatch/_data/icons/liqwatch.svg",
    "liqwatch/_data/icons/io.github.liqwatch.LiqWatch.svg",
    "liqwatch/_data/icons/hicolor/16x16/apps/io.github.liqwatch.LiqWatch.png",
    "liqwatch/_data/icons/hicolor/512x512/apps/io.github.liqwatch.LiqWatch.png",
    *(f"liqwatch/_data/icons/tray/{status}-{size}.png"
      for status in ("ok", "warning", "danger", "stale") for size in (16, 22, 24, 32, 48, 64)),
    "liqwatch/__init__.py",
    "liqwatch/resources.py",
    "liqwatch/cli.py",
)
pytestmark = pytest.mark.slow


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=_clean_env(**env))
    return result


def _pip_wheel(source: Path, outdir: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    result = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(outdir), str(source)],
                  cwd=outdir)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = outdir.glob("liqwatch-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _pip_wheel(ROOT, tmp_path_factory.mktemp("wheel"))


def test_wheel_holds_resources_and_icons(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in WHEEL_MUST_HOLD if name not in names]
    assert not missing
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "liqwatch-cli = liqwatch.cli:main" in entry_points and "liqwatch = liqwatch.app:main" in entry_points


def test_installed_wheel_runs_check_on_its_bundled_example(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    installed = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                      "-q", str(wheel)], cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    venv_site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          cwd=tmp_path).stdout.strip())
    (venv_site / "_liqwatch_test_dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8")

    located = _run([str(python), "-c", "import liqwatch.resources as r; print(r.resource_path('examples', "
                    "'portfolio.toml')); print(r.icon_path('tray', 'danger-16.png'))"], cwd=tmp_path)
    assert located.returncode == 0, located.stderr
    example, tray_icon = (Path(line) for line in located.stdout.splitlines())
    assert example == venv_site / EXAMPLE and example.is_file()
    assert tray_icon.is_relative_to(venv_site) and tray_icon.is_file()

    cli = venv / ("Scripts/liqwatch-cli.exe" if os.name == "nt" else "bin/liqwatch-cli")
    from_wheel = _run([str(cli), "check", str(example), "--format", "json"], cwd=tmp_path)
    from_tree = _run([sys.executable, "-m", "liqwatch", "check", str(ROOT / "resources/examples/portfolio.toml"),
                      "--format", "json"], cwd=ROOT)
    assert from_wheel.stderr == from_tree.stderr == ""
    assert from_wheel.returncode == from_tree.returncode  # the exit status encodes the worst status
    report, expected = json.loads(from_wheel.stdout), json.loads(from_tree.stdout)
    report.pop("time"), expected.pop("time")
    assert report == expected
    assert report["margin_accounts"] and report["worst_status"] in {"ok", "warning", "danger", "unknown",
                                                                    "liquidation"}


def test_sdist_rebuilds_the_same_wheel(wheel: Path, tmp_path: Path) -> None:
    pytest.importorskip("build", reason="the `build` package makes the sdist (`pip install build`; make dist does)")
    made = _run([sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path), str(ROOT)], cwd=tmp_path,
                timeout=180)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    (sdist,) = tmp_path.glob("liqwatch-*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {Path(*Path(name).parts[1:]).as_posix() for name in archive.getnames()}
        archive.extractall(tmp_path / "unpacked", filter="data")
    for needed in ("pyproject.toml", "README.md", "src/liqwatch/resources.py", "resources/examples/portfolio.toml",
                   "resources/brackets.json", "icons/liqwatch.svg", "icons/tray/ok-16.png",
                   "packaging/liqwatch.spec", "packaging/io.github.liqwatch.LiqWatch.desktop"):
        assert needed in members, needed
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    rebuilt = {name for name in zipfile.ZipFile(_pip_wheel(unpacked, tmp_path / "rebuilt")).namelist()
               if ".dist-info/" not in name}
    # Compared with the sdist's own files, not with the tree's wheel: other work may add files in between.
    expected = set()
    for name in members:
        for prefix, target in (("src/liqwatch/", "liqwatch/"), ("resources/", "liqwatch/_data/resources/"),
                               ("icons/", "liqwatch/_data/icons/")):
            if name.startswith(prefix) and (unpacked / name).is_file():
                expected.add(target + name.removeprefix(prefix))
    assert rebuilt == expected
    assert set(WHEEL_MUST_HOLD) <= rebuilt
