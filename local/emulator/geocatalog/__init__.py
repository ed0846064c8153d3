"""An in-memory emulator of the Microsoft Planetary Computer Pro GeoCatalog REST API."""

from local.emulator.geocatalog.app import create_app
from local.emulator.geocatalog.config import GeoCatalogConfig
from local.emulator.geocatalog.emulator import (
    GeoCatalogEmulator,
    RunningEmulator,
    start_geocatalog_emulator,
)

__all__ = [
    "GeoCatalogConfig",
    "GeoCatalogEmulator",
    "RunningEmulator",
    "create_app",
    "start_geocatalog_emulator",
]
