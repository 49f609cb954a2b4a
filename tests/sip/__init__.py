"""Real SIP endpoints for tests: pjsua2 agents in child processes, and tone measurement."""
