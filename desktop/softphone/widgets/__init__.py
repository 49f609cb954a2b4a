"""The softphone's widgets; they observe the engine only through ``EngineAdapter`` signals."""

from desktop.softphone import texts

texts.install()
