"""Bring a shared model's files into a staging folder, from a path or a URL.

Nothing here decides whether a model is good: the files are only gathered,
within strict limits (allowed folders, no symlink escapes, size caps, https,
a time limit), and ``model_manager`` then verifies them with the trust policy.
Staged files always get the same names (``model.json``, ``model.sig``,
``model.golden.json``); the payload keeps the name its manifest gives it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
import json
import os
from pathlib import Path
import re

import aiohttp
from yarl import URL

from .const import DOWNLOAD_TIMEOUT_SECONDS
from .engine.artifact import MAX_MANIFEST_BYTES, MAX_PAYLOAD_BYTES
from .engine.golden import MAX_GOLDEN_BYTES
from .engine.signing import MAX_SIGNATURE_BYTES

MANIFEST_FILE = "model.json"
SIGNATURE_FILE = "model.sig"
GOLDEN_FILE = "model.golden.json"

SAFE_PAYLOAD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.npz")
"""A payload file name that load_model accepts: plain, no folders, ``.npz``."""
SAFE_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
CHUNK_BYTES = 64 * 1024


class ModelSourceError(Exception):
    """The files of a model could not be gathered.

    ``key`` is the translation key of the exception, ``placeholders`` its
    values; ``user_error`` tells a wrong action argument (a path outside the
    allowed folders) from a failure elsewhere (the server answered 500).
    """

    def __init__(
        self, key: str, placeholders: dict[str, str], *, user_error: bool = True
    ) -> None:
        """Keep what the translated message needs."""
        super().__init__(f"{key}: {placeholders}")
        self.key = key
        self.placeholders = placeholders
        self.user_error = user_error


def payload_file_name(manifest: bytes, source: str) -> str | None:
    """The payload file named by a manifest, if the manifest can tell.

    None when the manifest is not a JSON object with ``payload.file`` (the
    artifact check then names what is wrong). A payload name that is not a
    plain ``.npz`` file name is refused here, before anything is fetched.
    """
    try:
        document = json.loads(manifest)
    except ValueError:
        return None
    payload = document.get("payload") if isinstance(document, dict) else None
    name = payload.get("file") if isinstance(payload, dict) else None
    if not isinstance(name, str):
        return None
    if not SAFE_PAYLOAD_NAME.fullmatch(name):
        raise ModelSourceError(
            "model_refused",
            {
                "source": source,
                "error": f"payload file name {name!r} is not a plain .npz file name",
            },
        )
    return name


def write_staged(staging: Path, files: dict[str, bytes]) -> None:
    """Write gathered files into the staging folder. Blocking I/O."""
    for name, data in files.items():
        (staging / name).write_bytes(data)


# --- From a path -------------------------------------------------------------


def _allowed_roots(
    config_dir: str, external_dirs: Iterable[str]
) -> list[tuple[Path, bool]]:
    """Real paths of the folders a model may come from; True for external ones."""
    roots = [(Path(os.path.realpath(config_dir)), False)]
    roots.extend((Path(os.path.realpath(folder)), True) for folder in external_dirs)
    return roots


def _real_inside(
    path: Path,
    roots: list[tuple[Path, bool]],
    is_allowed_path: Callable[[str], bool],
    shown: str,
) -> Path:
    """The real path of ``path`` (symlinks followed), if it is in an allowed folder.

    A file outside the configuration folder must also be allowed by Home
    Assistant's ``allowlist_external_dirs``, like any file an integration
    reads from outside its configuration.
    """
    real = Path(os.path.realpath(path))
    for root, external in roots:
        if real.is_relative_to(root) and (not external or is_allowed_path(str(real))):
            return real
    raise ModelSourceError(
        "path_not_allowed",
        {"path": shown, "allowed": ", ".join(str(root) for root, _ in roots)},
    )


def _read_capped(real: Path, limit: int, shown: str) -> bytes:
    try:
        with real.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as err:
        raise ModelSourceError(
            "path_unreadable", {"path": shown, "error": err.strerror or str(err)}
        ) from err
    if len(data) > limit:
        raise ModelSourceError("file_too_large", {"file": shown, "limit": str(limit)})
    return data


def stage_from_path(
    raw: str,
    config_dir: str,
    external_dirs: Iterable[str],
    is_allowed_path: Callable[[str], bool],
    staging: Path,
) -> str:
    """Copy a model's files from ``raw`` into ``staging``. Blocking I/O.

    ``raw`` is the manifest's path, absolute or relative to the configuration
    folder. It may not contain ``..``; it and every file beside it that is
    copied must really (symlinks followed) lie in the configuration folder or
    in one of ``external_dirs``. Returns the manifest's absolute path.
    """
    given = Path(raw.strip())
    if ".." in given.parts:
        raise ModelSourceError("path_parent", {"path": raw})
    if not given.is_absolute():
        given = Path(config_dir) / given
    shown = str(given)
    if given.suffix != ".json" or not SAFE_STEM.fullmatch(given.stem):
        raise ModelSourceError("path_not_manifest", {"path": shown})
    roots = _allowed_roots(config_dir, external_dirs)
    real = _real_inside(given, roots, is_allowed_path, shown)
    if not real.is_file():
        raise ModelSourceError("path_not_found", {"path": shown})
    manifest = _read_capped(real, MAX_MANIFEST_BYTES, shown)
    files = {MANIFEST_FILE: manifest}
    companions: list[tuple[str, str, int]] = [
        (f"{given.stem}.sig", SIGNATURE_FILE, MAX_SIGNATURE_BYTES),
        (f"{given.stem}.golden.json", GOLDEN_FILE, MAX_GOLDEN_BYTES),
    ]
    if payload := payload_file_name(manifest, shown):
        companions.insert(0, (payload, payload, MAX_PAYLOAD_BYTES))
    for name, staged_name, limit in companions:
        path = given.parent / name
        if not os.path.lexists(path):
            continue  # the artifact check names a missing payload
        files[staged_name] = _read_capped(
            _real_inside(path, roots, is_allowed_path, str(path)), limit, str(path)
        )
    write_staged(staging, files)
    return shown


# --- From a URL --------------------------------------------------------------


def shown_url(url: URL) -> str:
    """A URL as recorded and shown: without user, password, query or fragment."""
    return str(url.with_user(None).with_query(None).with_fragment(None))


def manifest_url(raw: str) -> URL:
    """Check that ``raw`` is an https URL of a ``.json`` manifest."""
    try:
        url = URL(raw.strip())
    except (TypeError, ValueError) as err:
        raise ModelSourceError("url_not_https", {"url": raw}) from err
    if url.scheme != "https" or not url.host:
        raise ModelSourceError("url_not_https", {"url": raw})
    name = url.name
    if not name.endswith(".json") or not SAFE_STEM.fullmatch(name[: -len(".json")]):
        raise ModelSourceError("url_not_manifest", {"url": shown_url(url)})
    return url


async def _async_download(
    session: aiohttp.ClientSession, url: URL, limit: int, *, optional: bool
) -> bytes | None:
    """The body of ``url``, at most ``limit`` bytes; None for an optional 404."""
    shown = shown_url(url)
    try:
        async with session.get(
            url, timeout=aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT_SECONDS)
        ) as response:
            if response.status == 404 and optional:
                return None
            if response.status != 200:
                raise ModelSourceError(
                    "download_status",
                    {"url": shown, "status": str(response.status)},
                    user_error=False,
                )
            declared = response.headers.get(aiohttp.hdrs.CONTENT_LENGTH)
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise ModelSourceError(
                    "download_too_large",
                    {"url": shown, "limit": str(limit)},
                    user_error=False,
                )
            body = bytearray()
            async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                body += chunk
                if len(body) > limit:
                    # Leaving the context closes the connection: the rest of
                    # the body is never read.
                    raise ModelSourceError(
                        "download_too_large",
                        {"url": shown, "limit": str(limit)},
                        user_error=False,
                    )
            return bytes(body)
    except TimeoutError:
        raise
    except aiohttp.ClientError as err:
        raise ModelSourceError(
            "download_failed",
            {"url": shown, "error": str(err) or type(err).__name__},
            user_error=False,
        ) from err


async def async_fetch_url(
    session: aiohttp.ClientSession, raw: str
) -> tuple[str, dict[str, bytes]]:
    """Download a model's files: the manifest at ``raw``, the rest beside it.

    The payload is the file the manifest names; the signature and golden
    vectors are ``<stem>.sig`` and ``<stem>.golden.json`` beside the manifest
    and may be absent (404). Every file has a size cap and the whole download
    a time limit. Returns the URL as shown and the files by staged name.
    """
    url = manifest_url(raw)
    shown = shown_url(url)
    stem = url.name[: -len(".json")]
    files: dict[str, bytes] = {}
    try:
        async with asyncio.timeout(DOWNLOAD_TIMEOUT_SECONDS):
            manifest = await _async_download(
                session, url, MAX_MANIFEST_BYTES, optional=False
            )
            assert manifest is not None
            files[MANIFEST_FILE] = manifest
            companions: list[tuple[str, str, int, bool]] = [
                (f"{stem}.sig", SIGNATURE_FILE, MAX_SIGNATURE_BYTES, True),
                (f"{stem}.golden.json", GOLDEN_FILE, MAX_GOLDEN_BYTES, True),
            ]
            if payload := payload_file_name(manifest, shown):
                companions.insert(0, (payload, payload, MAX_PAYLOAD_BYTES, False))
            for name, staged_name, limit, optional in companions:
                data = await _async_download(
                    session, url.join(URL(name)), limit, optional=optional
                )
                if data is not None:
                    files[staged_name] = data
    except TimeoutError as err:
        raise ModelSourceError(
            "download_timeout",
            {"url": shown, "seconds": str(DOWNLOAD_TIMEOUT_SECONDS)},
            user_error=False,
        ) from err
    return shown, files
