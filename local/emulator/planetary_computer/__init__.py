"""An emulator of the public Planetary Computer endpoints the tutorial uses, serving recorded data."""

from local.emulator.planetary_computer.app import (
    RunningEmulator,
    create_app,
    start_planetary_computer_emulator,
)
from local.emulator.planetary_computer.config import PlanetaryComputerConfig, Switches
from local.emulator.planetary_computer.sas import SasSigner, token_expiry

__all__ = [
    "PlanetaryComputerConfig",
    "RunningEmulator",
    "SasSigner",
    "Switches",
    "create_app",
    "start_planetary_computer_emulator",
    "token_expiry",
]
