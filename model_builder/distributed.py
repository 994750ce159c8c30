"""Run a function over many homes, here or on a Dask cluster.

Without a scheduler address the homes run one after another in this process;
with one, they run as Dask tasks on the cluster's workers (``dask.distributed``).
Results come back in the order of the inputs either way, so both paths write
the same report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tqdm import tqdm

from .series import DataError


def map_homes[T, R](
    function: Callable[..., R],
    items: Sequence[T],
    *,
    scheduler: str | None = None,
    progress: bool = True,
    description: str = "homes",
    **kwargs: Any,
) -> list[R]:
    """``[function(item, **kwargs) for item in items]``, possibly on a cluster."""
    if scheduler is None:
        return [
            function(item, **kwargs)
            for item in tqdm(items, desc=description, disable=not progress)
        ]
    try:
        from distributed import Client, as_completed  # noqa: PLC0415
    except ImportError as err:
        raise DataError(
            "--scheduler needs dask.distributed: pip install -r requirements/fleet.txt"
        ) from err
    try:
        client = Client(scheduler, timeout="30s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as err:
        raise DataError(
            f"cannot reach the Dask scheduler at {scheduler}: {err}"
        ) from err
    with client:
        futures = client.map(function, items, pure=False, **kwargs)
        bar = tqdm(
            total=len(futures),
            desc=f"{description} on {scheduler}",
            disable=not progress,
        )
        for _ in as_completed(futures):  # type: ignore[no-untyped-call]
            bar.update()
        bar.close()
        return list(client.gather(futures))  # type: ignore[no-untyped-call]
