"""The model_builder container: lint the Dockerfile, run its command outside Docker.

No Docker engine runs here, so the image is imitated: the Dockerfile's COPY
instructions are carried out into a folder, and the compose file's scoring job
runs from that folder with the image's entry point, while an import guard
makes any use of Home Assistant fail (the image does not have it).
"""

from __future__ import annotations

import ast
from importlib import metadata
import os
from pathlib import Path
import shlex
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    lines, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            continue
        current += raw.rstrip("\\").strip() + " "
        if not raw.rstrip().endswith("\\"):
            word, _, rest = current.strip().partition(" ")
            lines.append((word.upper(), rest))
            current = ""
    return lines


def test_dockerfile_follows_the_rules() -> None:
    """Slim base pinned to a release, non-root user, pinned requirements."""
    instructions = _instructions()
    base = next(rest for word, rest in instructions if word == "FROM")
    assert "slim" in base
    assert ":" in base
    assert not base.endswith(":latest")
    users = [rest for word, rest in instructions if word == "USER"]
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    pins = (REPO / "requirements" / "container.txt").read_text().splitlines()
    packages = [p for p in pins if p and not p.startswith((" ", "#"))]
    assert packages
    assert all("==" in p for p in packages)


def test_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (requirements/dev.txt installs it)")
    done = subprocess.run(
        [hadolint, str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _imitate_image(root: Path) -> None:
    for word, rest in _instructions():
        if word == "COPY":
            source, target = shlex.split(rest)
            src = REPO / source
            dst = root / target
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(src, dst)


def test_compose_scoring_job_runs_from_the_image_files(tmp_path: Path) -> None:
    root = tmp_path / "app"
    _imitate_image(root)
    guard = tmp_path / "guard" / "homeassistant"
    guard.mkdir(parents=True)
    (guard / "__init__.py").write_text(
        "raise ImportError('Home Assistant is not in the image')\n"
    )

    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    command = [str(c) for c in compose["services"]["score"]["command"]]
    entrypoint = next(rest for word, rest in _instructions() if word == "ENTRYPOINT")
    assert entrypoint == '["python", "-m", "model_builder"]'
    # The job's own arguments, on a small fleet and without the cluster.
    scheduler = command.index("--scheduler")
    del command[scheduler : scheduler + 2]
    command[command.index("--builtin") + 1] = "belgium"
    command[command.index("--resampled") + 1] = "1"
    output = tmp_path / "reports" / "efficiency.parquet"
    command[command.index("--output") + 1] = str(output)

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "guard"), str(root)]),
        "KILOWISE_DATA": str(REPO.parent / "shared" / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "model_builder", *command],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = pd.read_parquet(output)
    assert set(report["home"]) == {"belgium", "resampled-belgium-0000"}


def test_the_image_pins_every_package_model_builder_imports() -> None:
    """Each third-party module imported by model_builder or the engine (also
    those imported only when an option needs them, such as SQLAlchemy for
    --ha-db or distributed for --scheduler) comes from a package pinned in
    container.txt."""
    pinned = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (REPO / "requirements" / "container.txt").read_text().splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    }
    distributions = metadata.packages_distributions()
    imported: set[str] = set()
    for folder in (REPO / "model_builder", REPO / "custom_components/kilowise/engine"):
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    imported |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    imported.add(str(node.module).split(".")[0])
    third_party = {
        name
        for name in imported
        if name not in sys.stdlib_module_names
        and name not in {"model_builder", "custom_components", "kilowise_engine"}
    }
    assert {"numpy", "sklearn", "pandas", "sqlalchemy", "distributed"} <= third_party
    missing = {
        name
        for name in third_party
        if not {d.lower() for d in distributions.get(name, [name])} & pinned
    }
    assert not missing, f"imported but not in container.txt: {sorted(missing)}"
