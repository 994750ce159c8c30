"""The model each entry uses: verified at set-up, loaded, rolled back, exported.

Every model is checked with the entry's trust policy (the bundled public keys,
the keys trusted in the options, and whether unsigned models are allowed)
before it is used. Which model is in use, where it came from and the one
before it are kept in a ``Store`` per entry, so that a loaded model survives
restarts; loaded models' files live under
``<config>/kilowise/models/<entry_id>/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
import json
import os
from pathlib import Path
import re
import shutil
from typing import TYPE_CHECKING, Any
import uuid

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import (
    CONF_ALLOW_UNSIGNED,
    CONF_ALLOWED_DIRS,
    CONF_TRUSTED_KEYS,
    DOMAIN,
    EXPORTS_FOLDER,
    ISSUE_MODEL_REFUSED,
    KEYS_DIR,
    LOGGER,
    MODEL_STORAGE_VERSION,
    MODELS_FOLDER,
)
from .engine.artifact import (
    MAX_MANIFEST_BYTES,
    MAX_PAYLOAD_BYTES,
    Artifact,
    ArtifactError,
    TrustPolicy,
    UntrustedArtifactError,
    atomic_write,
    read_artifact,
)
from .engine.golden import MAX_GOLDEN_BYTES, GoldenError, golden_path, replay_golden
from .engine.signing import (
    MAX_SIGNATURE_BYTES,
    SignatureError,
    TrustedKey,
    decode_key,
    key_id,
    load_trusted_keys,
    signature_path,
)
from .model_fetch import (
    MANIFEST_FILE,
    ModelSourceError,
    async_fetch_url,
    stage_from_path,
    write_staged,
)

if TYPE_CHECKING:
    from .data import KilowiseConfigEntry

UNSIGNED = "unsigned"
SOURCE_BUNDLED = "bundled"
SOURCE_FILE = "file"
SOURCE_URL = "url"
ROLLBACK_PREVIOUS = "previous"
ROLLBACK_BUNDLED = "bundled"

EXPORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""Name of an export (its folder and manifest stem)."""


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """Which model an entry uses and where it came from (JSON-safe).

    ``path`` is the manifest's path relative to the configuration folder, or
    None for the model bundled with Kilowise. ``source`` is ``bundled``, the
    file path or the URL it was loaded from; ``loaded_at`` is ISO 8601 (UTC).
    """

    model_id: str
    sha256: str
    source_type: str
    source: str
    path: str | None
    signer: str | None
    signer_key_id: str | None
    loaded_at: str

    @property
    def bundled(self) -> bool:
        """Whether this is the model bundled with Kilowise."""
        return self.path is None

    def as_dict(self) -> dict[str, str | None]:
        """What the store keeps."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ModelRecord | None:
        """A record read back from the store; None if it is not one."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(**{field.name: data[field.name] for field in fields(cls)})
        except (KeyError, TypeError):
            return None

    def info(self) -> dict[str, str | None]:
        """What the sensor, diagnostics and action responses show."""
        return {
            "model_id": self.model_id,
            "source_type": self.source_type,
            "source": self.source,
            "sha256": self.sha256,
            "signer": self.signer or UNSIGNED,
            "signer_key_id": self.signer_key_id,
            "loaded_at": self.loaded_at,
        }


@dataclass(frozen=True, slots=True)
class ActiveModel:
    """The verified model in use and its record."""

    artifact: Artifact
    record: ModelRecord


def _with_signer(record: ModelRecord, artifact: Artifact) -> ModelRecord:
    """``record`` naming the key that signed ``artifact`` (None: unsigned)."""
    signer = artifact.signer
    return replace(
        record,
        signer=None if signer is None else signer.name,
        signer_key_id=None if signer is None else signer.key_id,
    )


def _record(
    artifact: Artifact, source_type: str, source: str, path: str | None
) -> ModelRecord:
    record = ModelRecord(
        model_id=artifact.model_id,
        sha256=artifact.sha256,
        source_type=source_type,
        source=source,
        path=path,
        signer=None,
        signer_key_id=None,
        loaded_at=dt_util.utcnow().isoformat(),
    )
    return _with_signer(record, artifact)


def parse_trusted_key(text: str) -> TrustedKey:
    """A key as written in the options: base64, optionally after a name.

    Raises ``SignatureError`` when it is not a 32-byte Ed25519 public key.
    """
    parts = text.split()
    if len(parts) == 1:
        raw = decode_key(parts[0])
        return TrustedKey(f"key-{key_id(raw)}", raw)
    if len(parts) == 2:
        return TrustedKey(parts[0], decode_key(parts[1]))
    raise SignatureError("a key is base64 text, optionally after a name and a space")


def load_trust_policy(options: Mapping[str, Any]) -> TrustPolicy:
    """The bundled keys, the keys trusted in the options, allow-unsigned.

    Blocking (reads the bundled keys): run it in an executor. A key in the
    options that does not decode (the options flow refuses those) is left
    out with a warning.
    """
    keys: dict[str, TrustedKey] = {}
    for text in options.get(CONF_TRUSTED_KEYS, []):
        try:
            key = parse_trusted_key(text)
        except SignatureError as err:
            LOGGER.warning("Ignoring a trusted key in the options: %s", err)
            continue
        keys[key.key_id] = key
    keys.update(load_trusted_keys(KEYS_DIR))
    return TrustPolicy(keys, allow_unsigned=bool(options.get(CONF_ALLOW_UNSIGNED)))


def verify_model(
    manifest: Path, policy: TrustPolicy, sha256: str | None = None
) -> Artifact:
    """Read a model with ``policy`` and replay its golden vectors if it has them.

    Blocking. The golden vectors, when present, must be reproduced bit for
    bit; ``sha256``, when given, must be the payload's (the model recorded
    when it was loaded). Raises ``ArtifactError`` naming the first failure.
    """
    artifact = read_artifact(manifest, policy)
    if sha256 is not None and artifact.sha256 != sha256:
        raise ArtifactError(
            f"its files changed since it was loaded (payload sha256 "
            f"{artifact.sha256[:12]}…, recorded {sha256[:12]}…)"
        )
    golden = golden_path(manifest)
    if golden.exists():
        try:
            result = replay_golden(artifact, golden)
        except GoldenError as err:
            raise ArtifactError(f"golden vectors: {err}") from err
        if not result.identical:
            raise ArtifactError(
                f"its predictions differ from its golden vectors by up to "
                f"{result.max_abs_diff:.3g} ({result.rows} rows)"
            )
    return artifact


def export_model(
    source: Path, target: Path, name: str, sha256: str, keys: Mapping[str, TrustedKey]
) -> list[str]:
    """Copy a model's files to ``target/<name>.*``, each written atomically.

    Blocking. The payload keeps its name (the manifest names it, and the
    signature covers the manifest). The copy is read back and must be the
    model in use (same payload sha256). Returns the names written.
    """
    manifest = source.read_bytes()
    if len(manifest) > MAX_MANIFEST_BYTES:
        raise ArtifactError(f"{source.name} is larger than {MAX_MANIFEST_BYTES} bytes")
    payload_name = str(json.loads(manifest)["payload"]["file"])
    payload = (source.parent / payload_name).read_bytes()
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ArtifactError(f"{payload_name} is larger than {MAX_PAYLOAD_BYTES} bytes")
    files = {payload_name: payload}
    for companion, written, limit in (
        (signature_path(source), f"{name}.sig", MAX_SIGNATURE_BYTES),
        (golden_path(source), f"{name}.golden.json", MAX_GOLDEN_BYTES),
    ):
        if companion.is_file() and companion.stat().st_size <= limit:
            files[written] = companion.read_bytes()
        else:
            # An older export of another model under this name must not
            # leave its signature or golden vectors behind.
            (target / written).unlink(missing_ok=True)
    files[f"{name}.json"] = manifest  # last: the manifest completes the set
    target.mkdir(parents=True, exist_ok=True)
    for file_name, data in files.items():
        atomic_write(target / file_name, data)
    exported = read_artifact(
        target / f"{name}.json", TrustPolicy(keys, allow_unsigned=True)
    )
    if exported.sha256 != sha256:
        raise ArtifactError("the exported files are not the model in use")
    return sorted(files)


def _prune(folder: Path, keep: set[str]) -> None:
    """Remove everything in an entry's model folder but the folders in ``keep``."""
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if child.name in keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _new_staging(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".staging-{uuid.uuid4().hex}"
    staging.mkdir()
    return staging


def _commit(staging: Path, config_dir: str) -> str:
    """Give a verified staging folder its final name (one atomic rename).

    Returns the manifest's path relative to the configuration folder.
    """
    final = staging.parent / uuid.uuid4().hex[:16]
    os.rename(staging, final)
    return os.path.relpath(final / MANIFEST_FILE, config_dir)


def _model_error(err: ArtifactError, source: str) -> ServiceValidationError:
    key = (
        "model_untrusted"
        if isinstance(err, UntrustedArtifactError)
        else "model_refused"
    )
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"source": source, "error": str(err)},
    )


def _source_error(err: ModelSourceError) -> HomeAssistantError:
    error_class = ServiceValidationError if err.user_error else HomeAssistantError
    return error_class(
        translation_domain=DOMAIN,
        translation_key=err.key,
        translation_placeholders=err.placeholders,
    )


def refused_issue_id(entry_id: str) -> str:
    """Repair issue raised when an entry's loaded model is refused at set-up."""
    return f"{ISSUE_MODEL_REFUSED}_{entry_id}"


class KilowiseModels:
    """The model of one entry: the one in use, the previous one, and changes.

    Changes (load, rollback, export) run one at a time per entry. A change
    verifies the new model completely before anything is replaced; then the
    files are moved into place with one rename, the record is saved, and
    the coordinator switches to the new model and refreshes.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: KilowiseConfigEntry,
        *,
        bundled: Path,
        policy: TrustPolicy,
        store: Store[dict[str, Any]],
        current: ActiveModel,
        previous: ModelRecord | None,
    ) -> None:
        """Hold the verified model in use; see ``async_setup``."""
        self.hass = hass
        self.entry = entry
        self.bundled = bundled
        self.policy = policy
        self.current = current
        self.previous = previous
        self._store = store
        self._lock = asyncio.Lock()

    @classmethod
    async def async_setup(
        cls, hass: HomeAssistant, entry: KilowiseConfigEntry, bundled: Path
    ) -> KilowiseModels:
        """Verify and load the model the entry used last (the bundled one at first).

        A loaded model that fails its checks now (its signer is no longer
        trusted, its files changed) is replaced by the bundled model, with a
        repair issue; it becomes the previous model, so that once the cause
        is fixed ``rollback_model`` brings it back. Raises ``ArtifactError``
        only when the bundled model itself cannot be used.
        """
        policy = await hass.async_add_executor_job(load_trust_policy, entry.options)
        store: Store[dict[str, Any]] = Store(
            hass,
            MODEL_STORAGE_VERSION,
            model_store_key(entry.entry_id),
            atomic_writes=True,
        )
        saved = await store.async_load() or {}
        record = ModelRecord.from_dict(saved.get("current"))
        previous = ModelRecord.from_dict(saved.get("previous"))
        active: ActiveModel | None = None
        if record is not None and record.path is not None:
            try:
                artifact = await hass.async_add_executor_job(
                    verify_model,
                    Path(hass.config.path(record.path)),
                    policy,
                    record.sha256,
                )
                active = ActiveModel(artifact, record)
            except ArtifactError as err:
                LOGGER.warning(
                    "The model %s (from %s) failed its checks and is not used; "
                    "using the bundled model: %s",
                    record.model_id,
                    record.source,
                    err,
                )
                ir.async_create_issue(
                    hass,
                    DOMAIN,
                    refused_issue_id(entry.entry_id),
                    is_fixable=False,
                    is_persistent=True,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key=ISSUE_MODEL_REFUSED,
                    translation_placeholders={
                        "title": entry.title,
                        "model_id": record.model_id,
                        "source": record.source,
                        "error": str(err),
                    },
                )
                previous, record = record, None
        if active is None:
            artifact = await hass.async_add_executor_job(read_artifact, bundled, policy)
            if (
                record is None
                or record.sha256 != artifact.sha256
                or record.model_id != artifact.model_id
            ):
                # First set-up, a refused model, or a Kilowise update that
                # brought another bundled model.
                record = _record(artifact, SOURCE_BUNDLED, SOURCE_BUNDLED, None)
            else:
                record = _with_signer(record, artifact)
            active = ActiveModel(artifact, record)
        models = cls(
            hass,
            entry,
            bundled=bundled,
            policy=policy,
            store=store,
            current=active,
            previous=previous,
        )
        if saved != models._stored():
            await store.async_save(models._stored())
        LOGGER.debug(
            "Entry %s uses model %s from %s (payload sha256 %s, signer %s)",
            entry.entry_id,
            active.record.model_id,
            active.record.source,
            active.record.sha256,
            active.record.signer or UNSIGNED,
        )
        return models

    @property
    def folder(self) -> Path:
        """Where this entry's loaded models live."""
        return Path(self.hass.config.path(MODELS_FOLDER, self.entry.entry_id))

    def _stored(self) -> dict[str, Any]:
        return {
            "current": self.current.record.as_dict(),
            "previous": None if self.previous is None else self.previous.as_dict(),
        }

    def response(self) -> dict[str, Any]:
        """The model in use and the previous one, for action responses."""
        return {
            "model": self.current.record.info(),
            "previous": None if self.previous is None else self.previous.info(),
        }

    # --- Changes ----------------------------------------------------------

    async def async_load_path(self, raw: str) -> dict[str, Any]:
        """Load a model from a path in the configuration or an allowed folder."""
        external = [
            str(folder) for folder in self.entry.options.get(CONF_ALLOWED_DIRS, [])
        ]
        async with self._lock:
            staging = await self.hass.async_add_executor_job(_new_staging, self.folder)
            try:
                source = await self.hass.async_add_executor_job(
                    stage_from_path,
                    raw,
                    self.hass.config.config_dir,
                    external,
                    self.hass.config.is_allowed_path,
                    staging,
                )
                await self._async_install(staging, SOURCE_FILE, source)
            except ModelSourceError as err:
                raise _source_error(err) from err
            finally:
                await self.hass.async_add_executor_job(shutil.rmtree, staging, True)
        return self.response()

    async def async_load_url(self, raw: str) -> dict[str, Any]:
        """Load a model from an https URL, with Home Assistant's HTTP session."""
        session = async_get_clientsession(self.hass)
        async with self._lock:
            try:
                source, files = await async_fetch_url(session, raw)
            except ModelSourceError as err:
                raise _source_error(err) from err
            staging = await self.hass.async_add_executor_job(_new_staging, self.folder)
            try:
                await self.hass.async_add_executor_job(write_staged, staging, files)
                await self._async_install(staging, SOURCE_URL, source)
            finally:
                await self.hass.async_add_executor_job(shutil.rmtree, staging, True)
        return self.response()

    async def _async_install(
        self, staging: Path, source_type: str, source: str
    ) -> None:
        """Verify staged files and, only if they pass, put them in use."""
        try:
            artifact = await self.hass.async_add_executor_job(
                verify_model, staging / MANIFEST_FILE, self.policy
            )
        except ArtifactError as err:
            LOGGER.warning("Refused the model from %s: %s", source, err)
            raise _model_error(err, source) from err
        path = await self.hass.async_add_executor_job(
            _commit, staging, self.hass.config.config_dir
        )
        record = _record(artifact, source_type, source, path)
        previous = self.current.record
        if previous.sha256 == artifact.sha256:
            # The same model again: keep the one before as the way back.
            previous = self.previous or previous
        await self._async_activate(ActiveModel(artifact, record), previous)

    async def async_rollback(self, target: str) -> dict[str, Any]:
        """Go back to the previous model, or to the bundled one."""
        async with self._lock:
            current = self.current.record
            if target == ROLLBACK_BUNDLED:
                if current.bundled:
                    return self.response()
                record: ModelRecord | None = None
            else:
                if self.previous is None:
                    raise ServiceValidationError(
                        translation_domain=DOMAIN,
                        translation_key="no_previous_model",
                        translation_placeholders={"title": self.entry.title},
                    )
                record = self.previous
            try:
                if record is None or record.path is None:
                    artifact = await self.hass.async_add_executor_job(
                        read_artifact, self.bundled, self.policy
                    )
                    new = _record(artifact, SOURCE_BUNDLED, SOURCE_BUNDLED, None)
                else:
                    artifact = await self.hass.async_add_executor_job(
                        verify_model,
                        Path(self.hass.config.path(record.path)),
                        self.policy,
                        record.sha256,
                    )
                    new = _with_signer(
                        replace(record, loaded_at=dt_util.utcnow().isoformat()),
                        artifact,
                    )
            except ArtifactError as err:
                shown = SOURCE_BUNDLED if record is None else record.source
                LOGGER.warning("Cannot roll back to the model from %s: %s", shown, err)
                raise _model_error(err, shown) from err
            await self._async_activate(ActiveModel(artifact, new), current)
        return self.response()

    async def _async_activate(self, model: ActiveModel, previous: ModelRecord) -> None:
        """Put a verified model in use, save the record, refresh the forecast."""
        self.current = model
        self.previous = previous
        await self._store.async_save(self._stored())
        runtime = self.entry.runtime_data
        runtime.artifact = model.artifact
        coordinator = runtime.coordinator
        coordinator.artifact = model.artifact
        registry = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(registry, self.entry.entry_id):
            registry.async_update_device(device.id, sw_version=model.artifact.model_id)
        ir.async_delete_issue(self.hass, DOMAIN, refused_issue_id(self.entry.entry_id))
        LOGGER.info(
            "%s now uses model %s from %s (signer %s)",
            self.entry.title,
            model.record.model_id,
            model.record.source,
            model.record.signer or UNSIGNED,
        )
        keep = {
            Path(record.path).parent.name
            for record in (model.record, previous)
            if record.path is not None
        }
        await self.hass.async_add_executor_job(_prune, self.folder, keep)
        await coordinator.async_refresh()
        coordinator.async_update_listeners()

    async def async_export(self, name: str | None) -> dict[str, Any]:
        """Write the model in use under ``<config>/kilowise/exports/<name>/``."""
        async with self._lock:
            record = self.current.record
            if name is None:
                name = re.sub(r"[^A-Za-z0-9._-]", "_", record.model_id).lstrip("._-")
            name = name.removesuffix(".json")
            if not EXPORT_NAME.fullmatch(name):
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="invalid_export_name",
                    translation_placeholders={"name": name},
                )
            source = (
                self.bundled
                if record.path is None
                else Path(self.hass.config.path(record.path))
            )
            target = Path(self.hass.config.path(EXPORTS_FOLDER, name))
            try:
                written = await self.hass.async_add_executor_job(
                    export_model, source, target, name, record.sha256, self.policy.keys
                )
            except (ArtifactError, OSError, ValueError, KeyError, TypeError) as err:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="export_failed",
                    translation_placeholders={"path": str(target), "error": str(err)},
                ) from err
        LOGGER.info("Exported model %s to %s", record.model_id, target)
        return {
            "path": str(target / f"{name}.json"),
            "files": written,
            "model_id": record.model_id,
            "sha256": record.sha256,
            "signed_by": record.signer or UNSIGNED,
        }


def model_store_key(entry_id: str) -> str:
    """Storage key of an entry's model record."""
    return f"{DOMAIN}.{entry_id}.model"


async def async_remove_models(hass: HomeAssistant, entry_id: str) -> None:
    """Forget an entry's models: its record, its files and its repair issue."""
    store: Store[dict[str, Any]] = Store(
        hass, MODEL_STORAGE_VERSION, model_store_key(entry_id)
    )
    await store.async_remove()
    folder = Path(hass.config.path(MODELS_FOLDER, entry_id))
    await hass.async_add_executor_job(shutil.rmtree, folder, True)
    ir.async_delete_issue(hass, DOMAIN, refused_issue_id(entry_id))
