"""The import-linter contracts pass on the real tree and fail when the domain imports a framework."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = str(Path(sys.executable).with_name("lint-imports"))


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    return subprocess.run([LINT, "--no-logo", "--no-cache"], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=300)


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_contracts_hold_on_the_real_tree(tmp_path: Path) -> None:
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_contract_breaks_when_the_domain_imports_sqlalchemy(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    money = tree / "src/massage_core/domain/money.py"
    money.write_text("import sqlalchemy  # a violation on purpose\n" + money.read_text())
    result = _lint(tree)
    assert result.returncode != 0
    assert "massage_core.domain.money -> sqlalchemy" in result.stdout
