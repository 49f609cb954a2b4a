"""No float touches money: the billing code contains no float literal and no ``float(`` call.

Walks the AST of the pure engine and of the persistence and API billing modules. Exemptions:
none are needed today; a module that must use floats for a non-money reason (e.g. a benchmark
timing) belongs outside these paths. Money is int kopecks; roubles are Decimal or strings.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted(
    [
        *(ROOT / "server_stub" / "billing").glob("**/*.py"),
        *(ROOT / "server_stub" / "store").glob("billing_*.py"),
        ROOT / "server_stub" / "store" / "models_billing.py",
        ROOT / "server_stub" / "api" / "routes" / "billing.py",
        ROOT / "server_stub" / "api" / "billing_schemas.py",
        ROOT / "server_stub" / "api" / "billing_hook.py",
    ]
)


def float_uses(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "float":
                lines.append(node.lineno)
        elif isinstance(node, ast.Name) and node.id == "float" and isinstance(node.ctx, ast.Load):
            lines.append(node.lineno)  # float used as an annotation or passed around
    return lines


def test_the_checker_catches_floats() -> None:
    assert set(float_uses("x = 1.5\ny = float('2')\nz: float = 0\nok = 15")) == {1, 2, 3}


def test_no_float_in_billing_code() -> None:
    assert len(FILES) >= 15, FILES
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in FILES
        if path.exists() and (found := float_uses(path.read_text()))
    }
    assert offenders == {}
