"""Imports every model module so that ``Base.metadata`` knows every table.

Areas keep their tables in their own module (``models.py`` for configuration, others for
calls and money); Alembic, the app and the tests import this one module to see them all.
"""

from __future__ import annotations

import importlib
import pkgutil

import server_stub.store as _store
from server_stub.store.models import Base

for _info in pkgutil.iter_modules(_store.__path__):
    if _info.name.startswith("models"):
        importlib.import_module(f"server_stub.store.{_info.name}")

metadata = Base.metadata
