"""The emulator's switches: one frozen value, set at construction, by CLI flags or over HTTP."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

SUPPORTED_API_VERSIONS = ("2025-04-30-preview", "2026-04-15", "2026-08-01-preview")

MissingCollectionMode = Literal["operation", "404"]
PutMissingItemMode = Literal["create", "fail"]
DuplicateCollectionMode = Literal["operation", "409"]
ManagedStorageMode = Literal["emulator", "blob"]


@dataclass(frozen=True)
class GeoCatalogConfig:
    """Every switch of the GeoCatalog emulator. `help` metadata doubles as CLI help."""

    seed: int | None = field(
        default=None, metadata={"help": "fixed seed for ids, durations and faults"}
    )
    auth_token: str | None = field(
        default=None, metadata={"help": "accept only this bearer token (default: any non-empty)"}
    )
    api_versions: tuple[str, ...] = field(
        default=SUPPORTED_API_VERSIONS, metadata={"help": "accepted api-version values"}
    )
    latency_seconds: float = field(
        default=0.0, metadata={"help": "added to every data-plane response"}
    )
    latency_jitter_seconds: float = field(
        default=0.0, metadata={"help": "uniform random extra latency on top of latency_seconds"}
    )
    operation_duration_seconds: tuple[float, float] = field(
        default=(0.2, 1.0),
        metadata={"help": "range of an operation's life from Pending to its final state"},
    )
    cancel_delay_seconds: float = field(
        default=0.1, metadata={"help": "how long a canceled Running operation stays Canceling"}
    )
    budget_per_second: float = field(
        default=50.0,
        metadata={"help": "data-plane calls per second before 429 (0 = unlimited)"},
    )
    throttle_retry_after: bool = field(
        default=True, metadata={"help": "send Retry-After with budget 429s"}
    )
    throttle_retry_after_seconds: float | None = field(
        default=None,
        metadata={"help": "fixed Retry-After for budget 429s (default: until a slot frees, >= 1)"},
    )
    fault_429_rate: float = field(
        default=0.0, metadata={"help": "probability of an injected 429 per data-plane call"}
    )
    fault_500_rate: float = field(
        default=0.0, metadata={"help": "probability of an injected 500 per data-plane call"}
    )
    fault_503_rate: float = field(
        default=0.0, metadata={"help": "probability of an injected 503 per data-plane call"}
    )
    fault_retry_after_seconds: float | None = field(
        default=None, metadata={"help": "Retry-After on injected 429/503 (default: none)"}
    )
    transient_operation_failure_rate: float = field(
        default=0.0,
        metadata={"help": "probability that an operation fails with InternalIntermitentError"},
    )
    missing_collection_items: MissingCollectionMode = field(
        default="operation",
        metadata={"help": "items posted to a missing collection: fail in the operation or 404"},
    )
    put_missing_item: PutMissingItemMode = field(
        default="create",
        metadata={"help": "PUT of a missing item: create it or fail with NoRecordsToUpdate"},
    )
    duplicate_collection: DuplicateCollectionMode = field(
        default="operation",
        metadata={"help": "POST of an existing collection id: fail in the operation or 409"},
    )
    reject_storage_fields: bool = field(
        default=True,
        metadata={"help": "refuse msft:storage_account/msft:container on collection create"},
    )
    honor_client_source_id: bool = field(
        default=False, metadata={"help": "keep a client-supplied ingestion source id"}
    )
    default_mosaic: bool = field(
        default=True, metadata={"help": "new collections get a 'default' mosaic"}
    )
    managed_storage: ManagedStorageMode = field(
        default="emulator",
        metadata={"help": "asset hrefs on the emulator (readable) or blob-style (not readable)"},
    )
    storage_account: str = field(
        default="gcemulator", metadata={"help": "managed storage account name for blob-style hrefs"}
    )
    public_url: str | None = field(
        default=None, metadata={"help": "base URL used in links (default: the request's host)"}
    )
    sas_default_minutes: int = field(
        default=1440, metadata={"help": "lifetime of managed-storage SAS tokens without duration"}
    )
    max_items_per_request: int | None = field(
        default=None,
        metadata={"help": "FeatureCollection size above which PostItemCollectionSizeExceeded"},
    )
    operations_page_size: int = field(
        default=100, metadata={"help": "default $top of list endpoints"}
    )
    sas_secret: str | None = field(
        default=None, metadata={"help": "key of the managed-storage SAS signatures"}
    )
    blob_endpoints: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "path-style blob endpoints (Azurite: http://host:port/<account>) taken as "
            "blob storage: their containers take ingestion sources, their assets need one, and "
            "a SasToken source is checked by reading the asset with its token"
        },
    )

    def __post_init__(self) -> None:
        low, high = self.operation_duration_seconds
        if low < 0 or high < low:
            raise ValueError("operation_duration_seconds must be 0 <= low <= high")
        for name in ("fault_429_rate", "fault_500_rate", "fault_503_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        if not 0.0 <= self.transient_operation_failure_rate <= 1.0:
            raise ValueError("transient_operation_failure_rate must be within [0, 1]")
        if self.budget_per_second < 0 or self.latency_seconds < 0:
            raise ValueError("budget_per_second and latency_seconds must be >= 0")
        if self.operations_page_size < 1:
            raise ValueError("operations_page_size must be >= 1")

    def to_dict(self) -> dict[str, Any]:
        result = dataclasses.asdict(self)
        for key, value in result.items():
            if isinstance(value, tuple):
                result[key] = list(value)
        return result

    def updated(self, changes: dict[str, Any]) -> GeoCatalogConfig:
        """A copy with `changes` (JSON values, snake_case names) applied and validated."""
        known = {f.name: f for f in dataclasses.fields(self)}
        converted: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown config field: {name}")
            converted[name] = coerce(known[name], value)
        return dataclasses.replace(self, **converted)


_HINTS: dict[str, Any] = typing.get_type_hints(GeoCatalogConfig)


def field_type(config_field: dataclasses.Field[Any]) -> Any:
    return _HINTS[config_field.name]


def coerce(config_field: dataclasses.Field[Any], value: Any) -> Any:
    """Convert a JSON or CLI value to the field's type, or raise ValueError."""
    return _coerce(field_type(config_field), value, config_field.name)


def _coerce(hint: Any, value: Any, name: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [arg for arg in args if arg is not type(None)]
        return _coerce(inner[0], value, name)
    if origin is Literal:
        if value not in args:
            raise ValueError(f"{name} must be one of {list(args)}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"{name} must be a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], item, name) for item in value)
        if len(value) != len(args):
            raise ValueError(f"{name} must have {len(args)} values")
        return tuple(_coerce(arg, item, name) for arg, item in zip(args, value, strict=True))
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ValueError(f"{name} must be true or false")
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"{name} must be an integer")
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"{name} must be a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string")
        return value
    raise ValueError(f"{name}: unsupported type {hint}")
