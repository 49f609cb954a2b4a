"""Pult server: owns configuration, routing, operator state and money."""

__version__ = "0.1.0"
