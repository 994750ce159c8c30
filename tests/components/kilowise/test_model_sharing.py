"""Sharing models: export, load from a path or a URL, trust, roll back, restart.

Every model here is the bundled one or a variant of it made by these tests
(its leaf values scaled, so that it forecasts differently), signed with a key
made for the test. Forecasts come from the real house of the fixtures.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
from functools import partial
import hashlib
import io
import json
from pathlib import Path
import pickle
import re
from typing import Any

import aiohttp
from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.matchers import path_type
import yaml

from custom_components.kilowise.const import (
    BUNDLED_MODEL,
    CONF_ALLOW_UNSIGNED,
    CONF_ALLOWED_DIRS,
    CONF_SOURCE_ENTITY,
    CONF_TRUSTED_KEYS,
    DOMAIN,
    ISSUE_MODEL_REFUSED,
)
from custom_components.kilowise.engine.artifact import (
    MAX_MANIFEST_BYTES,
    MAX_PAYLOAD_BYTES,
    read_artifact,
    write_artifact,
)
from custom_components.kilowise.engine.golden import (
    golden_document,
    golden_path,
    replay_golden,
)
from custom_components.kilowise.engine.signing import (
    encode_key,
    generate_key_pair,
    key_id,
    sign_manifest,
    signature_path,
)
from custom_components.kilowise.model_manager import model_store_key
from tests.engine.test_artifact import huge_array_payload

from .conftest import (
    ENERGY_ATTRIBUTES,
    ENTRY_TITLE,
    SOURCE,
    async_import,
    meter_statistics,
)
from .translation_files import kw_translations

MODEL_SENSOR = "sensor.kilowise_home_energy_model_version"

SECOND_SOURCE = "sensor.second_home_energy"
VARIANT_ID = "kilowise-test-shared-20270101000000"
BASE_URL = "https://models.example.org/kilowise/"
RESPONSE_MATCHER = path_type(
    {
        # Payload hashes depend on the zlib that compressed the test's model,
        # paths on the test's temporary folder; both are checked by the tests.
        r"(.*\.)?sha256": (str,),
        r"(.*\.)?path": (str,),
        # The key made for the test is new in every run.
        r"model\.signer_key_id": (str,),
        # What the bundled model says of itself.
        r"previous\.model_id": (str,),
    },
    regex=True,
)


# --- Models made by the tests (blocking: run in the executor) ---------------


@dataclasses.dataclass(frozen=True)
class Signer:
    """A key pair made for one test, and how the options write its public key."""

    private: bytes
    public: bytes
    name: str = "friend"

    @property
    def option(self) -> str:
        """The trusted-key line of the options."""
        return f"{self.name} {encode_key(self.public)}"

    @property
    def key_id(self) -> str:
        """Id of the public key."""
        return key_id(self.public)


def make_model(
    folder: Path,
    *,
    stem: str = "shared",
    model_id: str = VARIANT_ID,
    scale: float = 1.25,
    signer: Signer | None = None,
    golden: bool = True,
) -> Path:
    """A model that forecasts ``scale`` times the bundled one's leaf values."""
    base = read_artifact(BUNDLED_MODEL)
    ensemble = dataclasses.replace(base.ensemble, value=base.ensemble.value * scale)
    fields = {k: v for k, v in base.manifest.items() if k not in ("payload", "trees")}
    fields["model_id"] = model_id
    manifest = folder / f"{stem}.json"
    write_artifact(manifest, fields, ensemble)
    if golden:
        document = json.loads(golden_path(BUNDLED_MODEL).read_bytes())
        rows = np.array(
            [[np.nan if v is None else v for v in row] for row in document["rows"]],
            dtype=np.float64,
        )
        golden_path(manifest).write_bytes(
            golden_document(model_id, rows, ensemble.predict(rows))
        )
    if signer is not None:
        sign(manifest, signer)
    return manifest


def sign(manifest: Path, signer: Signer) -> None:
    """(Re)sign a manifest's current bytes."""
    signature_path(manifest).write_bytes(
        sign_manifest(manifest.read_bytes(), signer.private)
    )


def payload_of(manifest: Path) -> Path:
    """The payload file a manifest names."""
    return manifest.parent / json.loads(manifest.read_text())["payload"]["file"]


def replace_payload(manifest: Path, data: bytes) -> None:
    """Another payload, with the manifest's hash and size made to match."""
    payload_of(manifest).write_bytes(data)
    content = json.loads(manifest.read_text())
    content["payload"]["sha256"] = hashlib.sha256(data).hexdigest()
    content["payload"]["bytes"] = len(data)
    manifest.write_text(json.dumps(content))


def edit_manifest(manifest: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Change the manifest's content."""
    content = json.loads(manifest.read_text())
    edit(content)
    manifest.write_text(json.dumps(content))


def damage(manifest: Path, how: str, signer: Signer) -> None:
    """Damage a signed model in one way, re-signing so the damage is what fails."""
    payload = payload_of(manifest)
    if how == "truncated_manifest":
        manifest.write_bytes(manifest.read_bytes()[:200])
    elif how == "pickle_as_manifest":
        manifest.write_bytes(pickle.dumps({"model_id": "x", "payload": {}}))
    elif how == "flipped_byte":
        data = bytearray(payload.read_bytes())
        data[len(data) // 2] ^= 0x01
        payload.write_bytes(bytes(data))
    elif how == "truncated_payload":
        replace_payload(manifest, payload.read_bytes()[:1000])
    elif how == "wrong_dtype":
        arrays = dict(np.load(payload))
        arrays["threshold"] = arrays["threshold"].astype(np.float32)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        replace_payload(manifest, buffer.getvalue())
    elif how == "huge_array":
        replace_payload(manifest, huge_array_payload(payload))
    elif how == "pickle_as_payload":
        replace_payload(manifest, pickle.dumps({"feature": np.zeros(3)}))
    elif how == "unknown_field":
        edit_manifest(manifest, lambda m: m.update(comment="made by hand"))
    elif how == "missing_field":
        edit_manifest(manifest, lambda m: m.pop("metrics"))
    elif how == "format_version":
        edit_manifest(manifest, lambda m: m.update(format_version=99))
    elif how == "payload_escape":
        edit_manifest(manifest, lambda m: m["payload"].update(file="../escape.npz"))
    elif how == "golden_mismatch":
        document = json.loads(golden_path(manifest).read_bytes())
        document["expected"][3][1] += 1e-9
        golden_path(manifest).write_text(json.dumps(document))
    elif how == "golden_other_model":
        document = json.loads(golden_path(manifest).read_bytes())
        document["model_id"] = "someone-else"
        golden_path(manifest).write_text(json.dumps(document))
    else:
        raise AssertionError(how)
    sign(manifest, signer)


# --- Fixtures and helpers ---------------------------------------------------


@pytest.fixture(autouse=True)
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A configuration folder of the test's own (exports and models go there)."""
    config = tmp_path / "config"
    config.mkdir()
    hass.config.config_dir = str(config)
    hass.config.allowlist_external_dirs = set()
    return config


@pytest.fixture
def signer() -> Signer:
    """A friend's key pair."""
    private, public = generate_key_pair()
    return Signer(private, public)


@pytest.fixture
async def entry(
    hass: HomeAssistant, source_statistics: None, signer: Signer
) -> MockConfigEntry:
    """A loaded entry that trusts the friend's key."""
    return await setup_entry(
        hass, SOURCE, ENTRY_TITLE, {CONF_TRUSTED_KEYS: [signer.option]}
    )


async def setup_entry(
    hass: HomeAssistant, source: str, title: str, options: dict[str, Any]
) -> MockConfigEntry:
    """Add and set up an entry forecasting from ``source``."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title,
        data={CONF_SOURCE_ENTITY: source},
        unique_id=source,
        options=options,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def in_executor(
    hass: HomeAssistant, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Run blocking test set-up (engine file I/O) off the event loop."""
    return await hass.async_add_executor_job(partial(func, *args, **kwargs))


async def call(
    hass: HomeAssistant, service: str, context: Context | None = None, **data: Any
) -> dict[str, Any]:
    """Call a Kilowise action and return its response."""
    response = await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        return_response=True,
        context=context,
    )
    assert response is not None
    return dict(response)


def forecast_of(entry: MockConfigEntry) -> np.ndarray:
    """p10, p50 and p90 of the entry's latest forecast."""
    data = entry.runtime_data.coordinator.data
    assert data is not None
    fc = data.forecast
    return np.stack([fc.p10, fc.p50, fc.p90])


def in_use(entry: MockConfigEntry) -> dict[str, Any]:
    """What the entry says of the model it uses."""
    return entry.runtime_data.models.current.record.info()


def message(err: pytest.ExceptionInfo[HomeAssistantError]) -> str:
    """The translated message of an error, with every placeholder filled."""
    text = str(err.value)
    assert text != err.value.translation_key, "no translation for the error"
    assert "{" not in text, f"placeholder left in {text!r}"
    return text


def staged_leftovers(config: Path, entry: MockConfigEntry) -> list[str]:
    """Staging folders left in the entry's model folder (there should be none)."""
    folder = config / "kilowise" / "models" / entry.entry_id
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- The bundled model --------------------------------------------------------


async def test_bundled_model_is_verified_and_replays_its_golden_vectors(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Set-up checks the bundled model's signature; its golden vectors replay bit for bit."""
    info = in_use(entry)
    assert info["source_type"] == "bundled"
    assert info["source"] == "bundled"
    assert info["signer"] == "kilowise-project"
    assert info["signer_key_id"] is not None
    assert info["sha256"] == entry.runtime_data.artifact.sha256
    # The artifact the integration forecasts with, not a fresh read.
    result = await in_executor(
        hass, replay_golden, entry.runtime_data.artifact, golden_path(BUNDLED_MODEL)
    )
    assert result.rows > 100
    assert result.identical
    assert result.max_abs_diff == 0.0


async def test_bundled_model_is_refused_without_its_signature(
    hass: HomeAssistant,
    source_statistics: None,
    mock_config_entry: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """A bundled model whose signature is gone fails set-up unless unsigned is allowed."""
    folder = tmp_path / "bundled"
    folder.mkdir()
    manifest = await in_executor(hass, make_model, folder)
    mock_config_entry.add_to_hass(hass)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("custom_components.kilowise.BUNDLED_MODEL", manifest)
        assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
        issue = ir.async_get(hass).async_get_issue(DOMAIN, "model_unusable")
        assert issue is not None
        assert issue.translation_placeholders is not None
        assert "not signed" in issue.translation_placeholders["error"]

        hass.config_entries.async_update_entry(
            mock_config_entry, options={CONF_ALLOW_UNSIGNED: True}
        )
        assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        assert mock_config_entry.state is ConfigEntryState.LOADED
        assert in_use(mock_config_entry)["signer"] == "unsigned"
        assert in_use(mock_config_entry)["model_id"] == VARIANT_ID


# --- Export, and load into another home ----------------------------------------


async def test_export_then_load_into_a_second_entry(
    hass: HomeAssistant,
    *,
    entry: MockConfigEntry,
    config_dir: Path,
    household: np.ndarray,
    signer: Signer,
    snapshot: SnapshotAssertion,
) -> None:
    """A model exported from one home forecasts the same in another."""
    bundled_forecast = forecast_of(entry)
    imports = config_dir / "kilowise" / "imports"
    imports.mkdir(parents=True)
    await in_executor(hass, make_model, imports, stem="shared", signer=signer)
    loaded = await call(
        hass,
        "load_model",
        config_entry_id=entry.entry_id,
        path="kilowise/imports/shared.json",
    )
    assert loaded["model"]["model_id"] == VARIANT_ID
    assert loaded["model"]["source"] == str(imports / "shared.json")
    assert not np.array_equal(forecast_of(entry), bundled_forecast)

    exported = await call(
        hass, "export_model", config_entry_id=entry.entry_id, filename="for_friend"
    )
    assert exported == snapshot(matcher=RESPONSE_MATCHER)
    folder = config_dir / "kilowise" / "exports" / "for_friend"
    assert exported["path"] == str(folder / "for_friend.json")
    assert exported["sha256"] == entry.runtime_data.artifact.sha256
    assert sorted(p.name for p in folder.iterdir()) == [
        "for_friend.golden.json",
        "for_friend.json",
        "for_friend.sig",
        "shared.npz",
    ]
    # Written atomically: no temporary file is left behind.
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]

    # The second home: another sensor with the same history.
    await async_import(hass, SECOND_SOURCE, "kWh", meter_statistics(household))
    hass.states.async_set(SECOND_SOURCE, "12345.6", ENERGY_ATTRIBUTES)
    second = await setup_entry(
        hass,
        SECOND_SOURCE,
        "Kilowise Second home",
        {CONF_TRUSTED_KEYS: [signer.option]},
    )
    np.testing.assert_array_equal(forecast_of(second), bundled_forecast)
    response = await call(
        hass, "load_model", config_entry_id=second.entry_id, path=exported["path"]
    )
    assert response["model"]["model_id"] == VARIANT_ID
    assert response["model"]["signer"] == "friend"
    assert response["model"]["sha256"] == exported["sha256"]
    np.testing.assert_array_equal(forecast_of(second), forecast_of(entry))


async def test_export_of_the_bundled_model(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path
) -> None:
    """Without a name the export is named after the model; it verifies like the original."""
    exported = await call(hass, "export_model", config_entry_id=entry.entry_id)
    model_id = entry.runtime_data.artifact.model_id
    assert exported["model_id"] == model_id
    assert exported["signed_by"] == "kilowise-project"
    path = Path(exported["path"])
    assert path == config_dir / "kilowise" / "exports" / model_id / f"{model_id}.json"
    for name in ("json", "sig", "golden.json"):
        original = BUNDLED_MODEL.with_name(f"{BUNDLED_MODEL.stem}.{name}")
        copy = path.with_name(f"{model_id}.{name}")
        assert await in_executor(hass, copy.read_bytes) == await in_executor(
            hass, original.read_bytes
        )

    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "export_model", config_entry_id=entry.entry_id, filename="../up"
        )
    assert err.value.translation_key == "invalid_export_name"
    assert "../up" in message(err)


# --- Paths --------------------------------------------------------------------


async def test_path_outside_the_allowed_folders_is_refused(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    tmp_path: Path,
    signer: Signer,
) -> None:
    """Outside the configuration folder only allowed, allowlisted folders are read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    manifest = await in_executor(hass, make_model, outside, signer=signer)
    before = forecast_of(entry)

    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "load_model", config_entry_id=entry.entry_id, path=str(manifest)
        )
    assert err.value.translation_key == "path_not_allowed"
    assert str(manifest) in message(err)
    np.testing.assert_array_equal(forecast_of(entry), before)

    # In the options but not in Home Assistant's allowlist_external_dirs: refused.
    hass.config_entries.async_update_entry(
        entry,
        options={
            CONF_TRUSTED_KEYS: [signer.option],
            CONF_ALLOWED_DIRS: [str(outside)],
        },
    )
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "load_model", config_entry_id=entry.entry_id, path=str(manifest)
        )
    assert err.value.translation_key == "path_not_allowed"

    hass.config.allowlist_external_dirs = {str(outside)}
    response = await call(
        hass, "load_model", config_entry_id=entry.entry_id, path=str(manifest)
    )
    assert response["model"]["model_id"] == VARIANT_ID
    assert response["model"]["source_type"] == "file"


async def test_parent_reference_is_refused(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path, signer: Signer
) -> None:
    """``..`` is refused, even where it would stay inside the configuration folder."""
    await in_executor(hass, make_model, config_dir, signer=signer)
    for path in ("../config/shared.json", f"{config_dir}/kilowise/../shared.json"):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, "load_model", config_entry_id=entry.entry_id, path=path)
        assert err.value.translation_key == "path_parent"
        assert path in message(err)
    assert in_use(entry)["source_type"] == "bundled"


async def test_symlink_escapes_are_refused(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    config_dir: Path,
    tmp_path: Path,
    signer: Signer,
) -> None:
    """A symlink inside the configuration folder pointing outside is not followed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    manifest = await in_executor(hass, make_model, outside, signer=signer)
    link = config_dir / "linked.json"
    link.symlink_to(manifest)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "load_model", config_entry_id=entry.entry_id, path="linked.json"
        )
    assert err.value.translation_key == "path_not_allowed"

    # The manifest inside, its payload a symlink to a file outside.
    inside = config_dir / "half"
    inside.mkdir()
    (inside / "shared.json").write_bytes(manifest.read_bytes())
    (inside / "shared.sig").write_bytes(signature_path(manifest).read_bytes())
    (inside / "shared.npz").symlink_to(outside / "shared.npz")
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "load_model", config_entry_id=entry.entry_id, path="half/shared.json"
        )
    assert err.value.translation_key == "path_not_allowed"
    assert "shared.npz" in message(err)

    # A folder linked from inside to outside: the same.
    (config_dir / "linked_dir").symlink_to(outside)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "load_model",
            config_entry_id=entry.entry_id,
            path="linked_dir/shared.json",
        )
    assert err.value.translation_key == "path_not_allowed"
    assert in_use(entry)["source_type"] == "bundled"
    assert staged_leftovers(config_dir, entry) == []


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("nothing_here.json", "path_not_found"),
        ("shared.npz", "path_not_manifest"),
        ("some folder/my model.json", "path_not_manifest"),
    ],
)
async def test_bad_paths(
    hass: HomeAssistant, entry: MockConfigEntry, path: str, key: str
) -> None:
    """Paths that name no manifest get a message that says so."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "load_model", config_entry_id=entry.entry_id, path=path)
    assert err.value.translation_key == key
    assert path in message(err)


# --- Damaged models -------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "key", "reason"),
    [
        ("truncated_manifest", "model_refused", "manifest is not valid JSON"),
        ("pickle_as_manifest", "model_refused", "manifest is not valid JSON"),
        ("flipped_byte", "model_refused", "does not match the manifest"),
        ("truncated_payload", "model_refused", "not a valid array archive"),
        ("wrong_dtype", "model_refused", "array threshold is float32"),
        ("huge_array", "model_refused", "array value declares 1099511627776 elements"),
        ("pickle_as_payload", "model_refused", "not a valid array archive"),
        ("unknown_field", "model_refused", "manifest has unknown fields comment"),
        ("missing_field", "model_refused", "manifest lacks metrics"),
        (
            "format_version",
            "model_refused",
            "format version 99 is not supported; this version of Kilowise reads "
            "format version 1 and older",
        ),
        ("payload_escape", "model_refused", "is not a plain .npz file name"),
        ("golden_mismatch", "model_refused", "differ from its golden vectors"),
        ("golden_other_model", "model_refused", "belongs to someone-else"),
    ],
)
async def test_damaged_model_is_refused_and_the_current_one_kept(
    hass: HomeAssistant,
    *,
    entry: MockConfigEntry,
    config_dir: Path,
    signer: Signer,
    how: str,
    key: str,
    reason: str,
) -> None:
    """Each kind of damage is named in a translated error; nothing changes."""
    folder = config_dir / "incoming"
    folder.mkdir()
    manifest = await in_executor(hass, make_model, folder, signer=signer)
    await in_executor(hass, damage, manifest, how, signer)
    before, record = forecast_of(entry), in_use(entry)

    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "load_model", config_entry_id=entry.entry_id, path=str(manifest)
        )
    assert err.value.translation_key == key
    text = message(err)
    assert reason in text
    assert str(manifest) in text
    assert "the current model stays in use" in text

    assert in_use(entry) == record
    assert entry.runtime_data.models.previous is None
    np.testing.assert_array_equal(forecast_of(entry), before)
    assert staged_leftovers(config_dir, entry) == []


async def test_oversized_file_is_refused(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path, signer: Signer
) -> None:
    """A payload over the cap is not even read."""
    manifest = await in_executor(hass, make_model, config_dir, signer=signer)
    with (config_dir / "shared.npz").open("r+b") as handle:
        handle.truncate(MAX_PAYLOAD_BYTES + 1)  # sparse
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "load_model", config_entry_id=entry.entry_id, path=str(manifest)
        )
    assert err.value.translation_key == "file_too_large"
    assert str(MAX_PAYLOAD_BYTES) in message(err)


# --- Trust ------------------------------------------------------------------------


async def test_unsigned_model_needs_the_option(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path, signer: Signer
) -> None:
    """An unsigned model is refused, and accepted once unsigned models are allowed."""
    manifest = await in_executor(hass, make_model, config_dir)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "load_model", config_entry_id=entry.entry_id, path=str(manifest)
        )
    assert err.value.translation_key == "model_untrusted"
    assert "model is not signed" in message(err)
    assert "trust its signer's public key" in message(err)

    hass.config_entries.async_update_entry(
        entry,
        options={CONF_TRUSTED_KEYS: [signer.option], CONF_ALLOW_UNSIGNED: True},
    )
    await hass.async_block_till_done()
    response = await call(
        hass, "load_model", config_entry_id=entry.entry_id, path=str(manifest)
    )
    assert response["model"]["signer"] == "unsigned"
    assert response["model"]["signer_key_id"] is None
    assert hass.states.get(MODEL_SENSOR).attributes["signer"] == "unsigned"


async def test_unknown_key_then_trusted(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path
) -> None:
    """A signature by an unknown key is refused until the key is trusted."""
    stranger = Signer(*generate_key_pair(), name="stranger")
    manifest = await in_executor(hass, make_model, config_dir, signer=stranger)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "load_model", config_entry_id=entry.entry_id, path=str(manifest)
        )
    assert err.value.translation_key == "model_untrusted"
    assert f"signed by key {stranger.key_id}, which is not a trusted key" in message(
        err
    )

    hass.config_entries.async_update_entry(
        entry, options={CONF_TRUSTED_KEYS: [stranger.option]}
    )
    await hass.async_block_till_done()
    response = await call(
        hass, "load_model", config_entry_id=entry.entry_id, path=str(manifest)
    )
    assert response["model"]["signer"] == "stranger"
    assert response["model"]["signer_key_id"] == stranger.key_id


# --- URLs -------------------------------------------------------------------------


def serve(
    aioclient_mock: AiohttpClientMocker,
    manifest: Path,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Answer GETs of a model's files beside ``BASE_URL`` (404 for absent ones).

    ``overrides`` gives other answers by file name (a status, a body, an error).
    """
    overrides = overrides or {}
    stem = manifest.stem
    names = [
        manifest.name,
        payload_of(manifest).name,
        f"{stem}.sig",
        f"{stem}.golden.json",
    ]
    for name in names:
        url = BASE_URL + name
        if name in overrides:
            aioclient_mock.get(url, **overrides[name])
        elif not (manifest.parent / name).exists():
            aioclient_mock.get(url, status=404)
        else:
            aioclient_mock.get(url, content=(manifest.parent / name).read_bytes())


async def test_load_from_url(
    hass: HomeAssistant,
    *,
    entry: MockConfigEntry,
    config_dir: Path,
    tmp_path: Path,
    signer: Signer,
    aioclient_mock: AiohttpClientMocker,
    snapshot: SnapshotAssertion,
) -> None:
    """A signed model from an https URL: fetched, verified, stored, used."""
    manifest = await in_executor(hass, make_model, tmp_path, signer=signer)
    await in_executor(hass, serve, aioclient_mock, manifest)
    before = forecast_of(entry)
    response = await call(
        hass,
        "load_model",
        config_entry_id=entry.entry_id,
        url=BASE_URL + "shared.json?token=secret",
    )
    assert response == snapshot(matcher=RESPONSE_MATCHER)
    # The query (which may hold a token) is neither kept nor shown.
    assert response["model"]["source"] == BASE_URL + "shared.json"
    assert [str(url) for _, url, _, _ in aioclient_mock.mock_calls] == [
        BASE_URL + "shared.json?token=secret",
        BASE_URL + "shared.npz",
        BASE_URL + "shared.sig",
        BASE_URL + "shared.golden.json",
    ]
    assert not np.array_equal(forecast_of(entry), before)
    stored = config_dir / entry.runtime_data.models.current.record.path
    assert sorted(p.name for p in stored.parent.iterdir()) == [
        "model.golden.json",
        "model.json",
        "model.sig",
        "shared.npz",
    ]
    registry = dr.async_get(hass)
    (device,) = dr.async_entries_for_config_entry(registry, entry.entry_id)
    assert (DOMAIN, entry.entry_id) in device.identifiers
    assert device.sw_version == VARIANT_ID
    state = hass.states.get(MODEL_SENSOR)
    assert state is not None
    assert state.state == VARIANT_ID
    assert state.attributes["source"] == BASE_URL + "shared.json"
    assert state.attributes["source_type"] == "url"
    assert state.attributes["signer"] == "friend"
    assert state.attributes["loaded_at"] == response["model"]["loaded_at"]


@pytest.mark.parametrize(
    ("overrides", "key", "reason"),
    [
        ({"shared.json": {"status": 404}}, "download_status", "answered 404"),
        ({"shared.npz": {"status": 500}}, "download_status", "answered 500"),
        ({"shared.sig": {"status": 503}}, "download_status", "answered 503"),
        (
            {"shared.json": {"content": b" " * (MAX_MANIFEST_BYTES + 1)}},
            "download_too_large",
            f"larger than the {MAX_MANIFEST_BYTES} bytes",
        ),
        (
            {
                "shared.npz": {
                    "content": b"PK",
                    "headers": {"Content-Length": str(MAX_PAYLOAD_BYTES + 1)},
                }
            },
            "download_too_large",
            f"larger than the {MAX_PAYLOAD_BYTES} bytes",
        ),
        ({"shared.npz": {"exc": TimeoutError()}}, "download_timeout", "longer than"),
        (
            {"shared.json": {"exc": aiohttp.ClientConnectionError("refused")}},
            "download_failed",
            "refused",
        ),
    ],
    ids=[
        "manifest_404",
        "payload_500",
        "signature_503",
        "huge_body",
        "huge_declared_length",
        "timeout",
        "connection_error",
    ],
)
async def test_url_failures_keep_the_current_model(
    hass: HomeAssistant,
    *,
    entry: MockConfigEntry,
    config_dir: Path,
    tmp_path: Path,
    signer: Signer,
    aioclient_mock: AiohttpClientMocker,
    overrides: dict[str, dict[str, Any]],
    key: str,
    reason: str,
) -> None:
    """Network failures are errors naming the URL; the model in use stays."""
    manifest = await in_executor(hass, make_model, tmp_path, signer=signer)
    await in_executor(hass, serve, aioclient_mock, manifest, overrides)
    before, record = forecast_of(entry), in_use(entry)
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            "load_model",
            config_entry_id=entry.entry_id,
            url=BASE_URL + "shared.json",
        )
    assert err.value.translation_key == key
    text = message(err)
    assert reason in text
    assert BASE_URL in text
    assert in_use(entry) == record
    np.testing.assert_array_equal(forecast_of(entry), before)
    assert staged_leftovers(config_dir, entry) == []


async def test_huge_streamed_body_is_cut_off(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    tmp_path: Path,
    signer: Signer,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A payload without a length that streams past the cap is stopped."""
    manifest = await in_executor(hass, make_model, tmp_path, signer=signer)
    huge = b"\0" * (MAX_PAYLOAD_BYTES + 65536)
    await in_executor(
        hass, serve, aioclient_mock, manifest, {"shared.npz": {"content": huge}}
    )
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            "load_model",
            config_entry_id=entry.entry_id,
            url=BASE_URL + "shared.json",
        )
    assert err.value.translation_key == "download_too_large"
    assert in_use(entry)["source_type"] == "bundled"


async def test_url_tampered_and_unsigned(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    tmp_path: Path,
    signer: Signer,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A tampered model is refused even with unsigned models allowed; an unsigned one only without."""
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    manifest = await in_executor(hass, make_model, tampered, signer=signer)
    # Changed after signing: the signature no longer matches.
    await in_executor(
        hass, edit_manifest, manifest, lambda m: m["metrics"].update(bragging=True)
    )
    unsigned = tmp_path / "unsigned"
    unsigned.mkdir()
    unsigned_manifest = await in_executor(hass, make_model, unsigned)

    for allow_unsigned in (False, True):
        hass.config_entries.async_update_entry(
            entry,
            options={
                CONF_TRUSTED_KEYS: [signer.option],
                CONF_ALLOW_UNSIGNED: allow_unsigned,
            },
        )
        await hass.async_block_till_done()
        aioclient_mock.clear_requests()
        await in_executor(hass, serve, aioclient_mock, manifest)
        with pytest.raises(ServiceValidationError) as err:
            await call(
                hass,
                "load_model",
                config_entry_id=entry.entry_id,
                url=BASE_URL + "shared.json",
            )
        assert err.value.translation_key == "model_untrusted"
        assert "signature does not match the manifest" in message(err)
        assert in_use(entry)["source_type"] == "bundled"

        aioclient_mock.clear_requests()
        await in_executor(hass, serve, aioclient_mock, unsigned_manifest)
        if not allow_unsigned:
            with pytest.raises(ServiceValidationError) as err:
                await call(
                    hass,
                    "load_model",
                    config_entry_id=entry.entry_id,
                    url=BASE_URL + "shared.json",
                )
            assert err.value.translation_key == "model_untrusted"
            assert "model is not signed" in message(err)
            assert in_use(entry)["source_type"] == "bundled"
        else:
            response = await call(
                hass,
                "load_model",
                config_entry_id=entry.entry_id,
                url=BASE_URL + "shared.json",
            )
            assert response["model"]["signer"] == "unsigned"
            assert response["model"]["source_type"] == "url"


async def test_url_by_an_unknown_key_then_trusted(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    tmp_path: Path,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Refused while its signer is unknown; loaded once the key is trusted."""
    stranger = Signer(*generate_key_pair(), name="stranger")
    manifest = await in_executor(hass, make_model, tmp_path, signer=stranger)
    await in_executor(hass, serve, aioclient_mock, manifest)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "load_model",
            config_entry_id=entry.entry_id,
            url=BASE_URL + "shared.json",
        )
    assert err.value.translation_key == "model_untrusted"
    assert stranger.key_id in message(err)

    hass.config_entries.async_update_entry(
        entry, options={CONF_TRUSTED_KEYS: [stranger.option]}
    )
    await hass.async_block_till_done()
    response = await call(
        hass, "load_model", config_entry_id=entry.entry_id, url=BASE_URL + "shared.json"
    )
    assert response["model"]["signer"] == "stranger"


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://models.example.org/shared.json", "url_not_https"),
        ("ftp://models.example.org/shared.json", "url_not_https"),
        ("not a url", "url_not_https"),
        ("https://models.example.org/shared.npz", "url_not_manifest"),
        ("https://models.example.org/", "url_not_manifest"),
    ],
)
async def test_bad_urls(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    url: str,
    key: str,
) -> None:
    """Only https URLs of a manifest are fetched."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "load_model", config_entry_id=entry.entry_id, url=url)
    assert err.value.translation_key == key
    message(err)
    assert aioclient_mock.call_count == 0


# --- Rollback and restarts --------------------------------------------------------


async def test_rollback_to_previous_and_to_bundled(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path, signer: Signer
) -> None:
    """Rollback goes back one model (and forth again), or to the bundled model."""
    bundled_forecast = forecast_of(entry)
    first = config_dir / "first"
    second = config_dir / "second"
    for folder in (first, second):
        folder.mkdir()
    await in_executor(hass, make_model, first, signer=signer, model_id="first")
    await in_executor(
        hass, make_model, second, signer=signer, model_id="second", scale=0.8
    )

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "rollback_model", config_entry_id=entry.entry_id)
    assert err.value.translation_key == "no_previous_model"
    message(err)

    await call(
        hass, "load_model", config_entry_id=entry.entry_id, path="first/shared.json"
    )
    first_forecast = forecast_of(entry)
    response = await call(
        hass, "load_model", config_entry_id=entry.entry_id, path="second/shared.json"
    )
    assert response["model"]["model_id"] == "second"
    assert response["previous"]["model_id"] == "first"

    response = await call(hass, "rollback_model", config_entry_id=entry.entry_id)
    assert response["model"]["model_id"] == "first"
    assert response["previous"]["model_id"] == "second"
    np.testing.assert_array_equal(forecast_of(entry), first_forecast)
    # Only the model in use and the previous one are kept on disk.
    kept = sorted(
        p.name for p in (config_dir / "kilowise" / "models" / entry.entry_id).iterdir()
    )
    assert len(kept) == 2

    response = await call(
        hass, "rollback_model", config_entry_id=entry.entry_id, to="bundled"
    )
    assert response["model"]["source_type"] == "bundled"
    assert response["model"]["signer"] == "kilowise-project"
    assert response["previous"]["model_id"] == "first"
    np.testing.assert_array_equal(forecast_of(entry), bundled_forecast)

    # Already on the bundled model: nothing changes.
    assert (
        await call(hass, "rollback_model", config_entry_id=entry.entry_id, to="bundled")
        == response
    )
    response = await call(hass, "rollback_model", config_entry_id=entry.entry_id)
    assert response["model"]["model_id"] == "first"
    np.testing.assert_array_equal(forecast_of(entry), first_forecast)


async def test_loaded_model_survives_a_restart(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    config_dir: Path,
    signer: Signer,
    hass_storage: dict[str, Any],
) -> None:
    """Unload and set up again: the loaded model, its record and forecast stay."""
    await in_executor(hass, make_model, config_dir, signer=signer)
    loaded = await call(
        hass, "load_model", config_entry_id=entry.entry_id, path="shared.json"
    )
    forecast = forecast_of(entry)
    stored = hass_storage[model_store_key(entry.entry_id)]["data"]
    assert stored["current"]["model_id"] == VARIANT_ID
    assert stored["current"]["path"].startswith(f"kilowise/models/{entry.entry_id}/")
    assert stored["previous"]["source_type"] == "bundled"

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.models.response() == loaded
    np.testing.assert_array_equal(forecast_of(entry), forecast)
    assert (
        ir.async_get(hass).async_get_issue(
            DOMAIN, f"{ISSUE_MODEL_REFUSED}_{entry.entry_id}"
        )
        is None
    )


async def test_stored_model_refused_at_start_falls_back_to_bundled(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path, signer: Signer
) -> None:
    """The user stops trusting the signer: the bundled model, a repair issue, a way back."""
    bundled_forecast = forecast_of(entry)
    await in_executor(hass, make_model, config_dir, signer=signer)
    await call(hass, "load_model", config_entry_id=entry.entry_id, path="shared.json")
    loaded_forecast = forecast_of(entry)

    # Changing the options reloads the entry with the new trust policy.
    hass.config_entries.async_update_entry(entry, options={CONF_TRUSTED_KEYS: []})
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert in_use(entry)["source_type"] == "bundled"
    np.testing.assert_array_equal(forecast_of(entry), bundled_forecast)
    issue_id = f"{ISSUE_MODEL_REFUSED}_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == ISSUE_MODEL_REFUSED
    assert issue.is_persistent
    assert issue.translation_placeholders == {
        "title": entry.title,
        "model_id": VARIANT_ID,
        "source": str(config_dir / "shared.json"),
        "error": f"signed by key {signer.key_id}, which is not a trusted key",
    }
    assert entry.runtime_data.models.previous is not None
    assert entry.runtime_data.models.previous.model_id == VARIANT_ID

    # Trusted again, the model comes back with a rollback; the issue goes.
    hass.config_entries.async_update_entry(
        entry, options={CONF_TRUSTED_KEYS: [signer.option]}
    )
    await hass.async_block_till_done()
    assert in_use(entry)["source_type"] == "bundled"
    response = await call(hass, "rollback_model", config_entry_id=entry.entry_id)
    assert response["model"]["model_id"] == VARIANT_ID
    np.testing.assert_array_equal(forecast_of(entry), loaded_forecast)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_stored_files_changed_on_disk(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path, signer: Signer
) -> None:
    """A stored model whose files were edited is refused at start-up."""
    await in_executor(hass, make_model, config_dir, signer=signer)
    await call(hass, "load_model", config_entry_id=entry.entry_id, path="shared.json")
    stored = config_dir / entry.runtime_data.models.current.record.path
    (stored.parent / "shared.npz").write_bytes(b"nothing useful")

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert in_use(entry)["source_type"] == "bundled"
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"{ISSUE_MODEL_REFUSED}_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert "does not match the manifest" in issue.translation_placeholders["error"]

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "rollback_model", config_entry_id=entry.entry_id)
    assert err.value.translation_key == "model_refused"
    assert in_use(entry)["source_type"] == "bundled"


async def test_removing_the_entry_forgets_its_models(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    config_dir: Path,
    signer: Signer,
    hass_storage: dict[str, Any],
) -> None:
    """Deleting the entry removes its model files and record."""
    await in_executor(hass, make_model, config_dir, signer=signer)
    await call(hass, "load_model", config_entry_id=entry.entry_id, path="shared.json")
    folder = config_dir / "kilowise" / "models" / entry.entry_id
    assert folder.is_dir()
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not folder.exists()
    assert model_store_key(entry.entry_id) not in hass_storage


# --- The actions themselves --------------------------------------------------------


async def test_action_arguments_and_entries(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Path and URL are exclusive; the entry must exist and be loaded."""
    for data in ({}, {"path": "a.json", "url": "https://x.org/a.json"}):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, "load_model", config_entry_id=entry.entry_id, **data)
        assert err.value.translation_key == "path_or_url"
        message(err)

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "export_model", config_entry_id="no_such_entry")
    assert err.value.translation_key == "entry_not_found"
    assert "no_such_entry" in message(err)

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "rollback_model", config_entry_id=entry.entry_id)
    assert err.value.translation_key == "entry_not_loaded"
    assert entry.title in message(err)


async def test_actions_are_for_administrators(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_read_only_user: User,
    hass_admin_user: User,
) -> None:
    """A user who is not an administrator cannot change or write models."""
    for service, data in (
        ("export_model", {}),
        ("load_model", {"path": "x.json"}),
        ("rollback_model", {}),
    ):
        with pytest.raises(Unauthorized):
            await call(
                hass,
                service,
                context=Context(user_id=hass_read_only_user.id),
                config_entry_id=entry.entry_id,
                **data,
            )
    exported = await call(
        hass,
        "export_model",
        context=Context(user_id=hass_admin_user.id),
        config_entry_id=entry.entry_id,
    )
    assert exported["signed_by"] == "kilowise-project"


async def test_diagnostics_show_the_model_in_use(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path, signer: Signer
) -> None:
    """Diagnostics name the model in use, its source, signer and when it was loaded."""
    from custom_components.kilowise.diagnostics import (  # noqa: PLC0415
        async_get_config_entry_diagnostics,
    )

    await in_executor(hass, make_model, config_dir, signer=signer)
    loaded = await call(
        hass, "load_model", config_entry_id=entry.entry_id, path="shared.json"
    )
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["model_in_use"] == loaded["model"]
    assert diagnostics["model_in_use"]["signer"] == "friend"
    assert diagnostics["model_in_use"]["source"] == str(config_dir / "shared.json")
    assert diagnostics["previous_model"]["source"] == "bundled"
    assert diagnostics["model"]["model_id"] == VARIANT_ID


# --- Options ------------------------------------------------------------------------


async def test_options_validate_keys_and_folders(
    hass: HomeAssistant, entry: MockConfigEntry, tmp_path: Path, signer: Signer
) -> None:
    """Keys must be Ed25519 public keys; folders absolute, existing, allowlisted."""
    external = tmp_path / "shared_models"
    external.mkdir()

    async def submit(**changes: Any) -> dict[str, Any]:
        flow = await hass.config_entries.options.async_init(entry.entry_id)
        user_input = {
            "forecast_hours": 48,
            CONF_ALLOW_UNSIGNED: False,
            CONF_TRUSTED_KEYS: [],
            CONF_ALLOWED_DIRS: [],
            **changes,
        }
        return dict(
            await hass.config_entries.options.async_configure(
                flow["flow_id"], user_input
            )
        )

    for keys in (["not base64!"], [encode_key(b"short")], ["a b c"]):
        result = await submit(**{CONF_TRUSTED_KEYS: keys})
        assert result["errors"] == {CONF_TRUSTED_KEYS: "invalid_public_key"}
        assert result["description_placeholders"] == {"value": keys[0]}
    for folders, error in (
        (["relative/folder"], "dir_not_absolute"),
        ([str(tmp_path / "missing")], "dir_not_found"),
        ([str(external)], "dir_not_allowlisted"),
    ):
        result = await submit(**{CONF_ALLOWED_DIRS: folders})
        assert result["errors"] == {CONF_ALLOWED_DIRS: error}

    hass.config.allowlist_external_dirs = {str(tmp_path)}
    result = await submit(
        **{
            CONF_TRUSTED_KEYS: [f"  {signer.option}  ", "", signer.option],
            CONF_ALLOWED_DIRS: [str(external)],
            CONF_ALLOW_UNSIGNED: True,
        }
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.options[CONF_TRUSTED_KEYS] == [signer.option]
    assert entry.options[CONF_ALLOWED_DIRS] == [str(external)]
    assert entry.runtime_data.models.policy.allow_unsigned
    assert signer.key_id in entry.runtime_data.models.policy.keys


async def test_unreadable_payload_and_failed_export(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path, signer: Signer
) -> None:
    """A payload that cannot be read, and an export whose source files are gone."""
    folder = config_dir / "odd"
    folder.mkdir()
    manifest = await in_executor(hass, make_model, folder, signer=signer)
    payload = folder / "shared.npz"
    payload.unlink()
    payload.mkdir()  # a folder where the payload should be
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "load_model", config_entry_id=entry.entry_id, path=str(manifest)
        )
    assert err.value.translation_key == "path_unreadable"
    assert str(payload) in message(err)

    payload.rmdir()
    await in_executor(hass, make_model, folder, signer=signer)
    await call(hass, "load_model", config_entry_id=entry.entry_id, path=str(manifest))
    stored = config_dir / entry.runtime_data.models.current.record.path
    (stored.parent / "shared.npz").unlink()
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "export_model", config_entry_id=entry.entry_id, filename="x")
    assert err.value.translation_key == "export_failed"
    assert "shared.npz" in message(err)


# --- Strings ------------------------------------------------------------------


async def test_every_action_field_and_error_is_translated() -> None:
    """services.yaml, strings.json, translations/en.json and icons.json agree."""
    package = BUNDLED_MODEL.parent.parent
    strings = json.loads((package / "strings.json").read_text())
    # en.json is strings.json with its [%key:...%] references resolved.
    strings = kw_translations.resolve(strings)
    assert json.loads((package / "translations" / "en.json").read_text()) == strings
    services = yaml.safe_load((package / "services.yaml").read_text())
    icons = json.loads((package / "icons.json").read_text())
    assert set(services) == set(strings["services"]) == set(icons["services"])
    for name, service in services.items():
        assert set(service["fields"]) == set(strings["services"][name]["fields"])
        for field in strings["services"][name]["fields"].values():
            assert field["name"]
            assert field["description"]
    assert set(strings["selector"]["rollback_target"]["options"]) == set(
        services["rollback_model"]["fields"]["to"]["selector"]["select"]["options"]
    )

    code = "\n".join(
        (package / name).read_text()
        for name in ("services.py", "model_manager.py", "model_fetch.py")
    )
    used = set(re.findall(r'translation_key="(\w+)"', code))
    used |= set(re.findall(r'ModelSourceError\(\s*"(\w+)"', code))
    used |= {"model_refused", "model_untrusted"}
    assert len(used) >= 20
    assert used <= set(strings["exceptions"])
    flow = (package / "config_flow.py").read_text()
    option_errors = set(re.findall(r'return "(\w+)", ', flow))
    # Price options are checked by the engine's price reader.
    prices = (package / "engine" / "prices.py").read_text()
    option_errors |= set(re.findall(r'PriceError\(\s*"(\w+)"', prices))
    assert option_errors == set(strings["options"]["error"])
    assert ISSUE_MODEL_REFUSED in strings["issues"]
