"""The softphone engine: pjsua2 accounts, calls and media, with no Qt in it.

``types``, ``devices``, ``quality`` and ``api`` are plain Python; ``engine`` (the pjsua2
:class:`~desktop.softphone.engine.engine.Engine`) and ``audio_bridge`` import pjsua2, so they
are imported only by whoever really makes calls. The import contract in pyproject.toml keeps
PySide6 and ``desktop.qt`` out of this package.
"""
