"""pytest fixtures for SIP agents; a directory's conftest.py imports ``agent_factory``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.sip.agents import Agent

AgentFactory = Callable[..., Agent]


@pytest.fixture
def agent_factory(tmp_path: Path) -> Iterator[AgentFactory]:
    """``make(name, **Agent kwargs)`` starts an agent whose files live in ``tmp_path/name``.

    Every agent is closed at teardown, in parallel, whatever the test did; a child that does
    not quit in time is killed.
    """
    started: list[Agent] = []

    def make(name: str, **kwargs: Any) -> Agent:
        kwargs.setdefault("workdir", tmp_path / name)
        agent = Agent(name, **kwargs)
        started.append(agent)
        return agent

    yield make
    if started:
        with ThreadPoolExecutor(max_workers=len(started)) as pool:
            list(pool.map(lambda a: a.close(), started))
    # An exception inside a pjsua callback is reported as an "error" event, not raised.
    broken = [
        (a.name, e) for a in started for e in a.events() if e["event"] in {"error", "garbage"}
    ]
    if broken:
        pytest.fail(f"SIP agents reported internal errors: {broken}")
    # A crash on the way out (pjsua asserts, segfaults in destructors) is a defect too.
    crashed = [a for a in started if a.returncode not in (0, None) and not a.killed]
    if crashed:
        details = "\n".join(f"{a.name}: exit {a.returncode}\n{a.log_tail()}" for a in crashed)
        pytest.fail(f"SIP agents exited abnormally:\n{details}")
