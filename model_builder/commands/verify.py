"""``verify`` and ``inspect``: check an artifact, tersely or in full."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..engine import BUNDLED_KEYS, artifact, golden, signing
from ..report import table

HELP = "check an artifact; exit 0 only if it is valid"
INSPECT_HELP = "show an artifact's manifest and the result of every check"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="the artifact's manifest (.json)")
    parser.add_argument(
        "--keys",
        type=Path,
        default=BUNDLED_KEYS,
        help="folder of trusted *.pub keys (default: the bundled keys)",
    )
    parser.add_argument(
        "--allow-unsigned",
        action="store_true",
        help="accept a model without a trusted signature",
    )
    parser.add_argument(
        "--golden",
        action="store_true",
        help="also replay the golden vectors (must be identical)",
    )


def _check(
    args: argparse.Namespace,
) -> tuple[artifact.Artifact | None, list[tuple[str, str]]]:
    """Run every check; return the artifact (if it loads) and (check, result) lines."""
    results: list[tuple[str, str]] = []
    try:
        keys = signing.load_trusted_keys(args.keys)
    except (OSError, signing.SignatureError) as err:
        return None, [("trusted keys", f"FAILED: {args.keys}: {err}")]
    policy = artifact.TrustPolicy(keys, allow_unsigned=args.allow_unsigned)
    try:
        model = artifact.read_artifact(args.model, policy)
    except artifact.ArtifactError as err:
        return None, [("artifact", f"FAILED: {err}")]
    results.append(("format, arrays, sha256", "ok"))
    if model.signer is not None:
        results.append(
            ("signature", f"ok, {model.signer.name} ({model.signer.key_id})")
        )
    else:
        results.append(
            ("signature", "not signed by a trusted key (allowed by --allow-unsigned)")
        )
    if args.golden:
        try:
            replay = golden.replay_golden(model, golden.golden_path(args.model))
        except golden.GoldenError as err:
            results.append(("golden vectors", f"FAILED: {err}"))
        else:
            verdict = (
                "ok, identical"
                if replay.identical
                else f"FAILED: differ by up to {replay.max_abs_diff:.3g}"
            )
            results.append(("golden vectors", f"{verdict} ({replay.rows} rows)"))
    return model, results


def run(args: argparse.Namespace) -> int:
    _, results = _check(args)
    for name, result in results:
        print(f"{name}: {result}")
    return 1 if any("FAILED" in result for _, result in results) else 0


def run_inspect(args: argparse.Namespace) -> int:
    args.golden = args.golden or golden.golden_path(args.model).exists()
    model, results = _check(args)
    if model is not None:
        _describe(model.manifest)
    print("\nChecks")
    print(table(["check", "result"], results))
    return 1 if any("FAILED" in result for _, result in results) else 0


def _describe(manifest: dict[str, Any]) -> None:
    payload, trees = manifest["payload"], manifest["trees"]
    print(
        table(
            ["field", "value"],
            [
                ["model id", manifest["model_id"]],
                ["created", manifest["created"]],
                ["format version", manifest["format_version"]],
                [
                    "features",
                    f"spec {manifest['features']['spec_version']}: {', '.join(manifest['features']['names'])}",
                ],
                ["horizons", f"{manifest['horizons']} hours"],
                ["quantiles", ", ".join(str(q) for q in manifest["quantiles"])],
                [
                    "trees",
                    f"{trees['per_quantile']} per quantile, depth {trees['depth']}, {trees['nodes']} nodes",
                ],
                [
                    "payload",
                    f"{payload['file']}, {payload['bytes']} bytes, sha256 {payload['sha256']}",
                ],
                [
                    "libraries",
                    ", ".join(
                        f"{k} {v}"
                        for k, v in manifest["libraries"].items()
                        if isinstance(v, str)
                    ),
                ],
            ],
        )
    )
    sources = manifest["training"].get("sources", [])
    if sources:
        print("\nTraining sources")
        print(
            table(
                ["home", "role", "start", "end", "valid hours", "trained until"],
                [
                    [
                        s["name"],
                        s["role"],
                        s["start"][:10],
                        s["end"][:10],
                        s["valid_hours"],
                        s.get("trained_until", "")[:10],
                    ]
                    for s in sources
                ],
            )
        )
    if manifest["metrics"]:
        print("\nMetrics (day-ahead walk-forward)")
        print(
            table(
                ["home/split", "hours", "MAE kWh", "MASE", "p10-p90"],
                [
                    [
                        name,
                        m["hours_scored"],
                        m["model"]["mae_kwh"],
                        m["model"]["mase_weekly"],
                        m["coverage_p10_p90"],
                    ]
                    for name, m in manifest["metrics"].items()
                ],
            )
        )
