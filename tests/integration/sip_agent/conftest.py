from tests.sip.fixtures import agent_factory

__all__ = ["agent_factory"]
