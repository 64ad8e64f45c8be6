"""`motionworld weights migrate`: bring an older export's manifest up to date."""
from __future__ import annotations

from pathlib import Path


def add(sub) -> None:
    w = sub.add_parser("weights", help="weights folders: bring an older export's manifest up to date")
    wsub = w.add_subparsers(dest="weights_command", required=True)
    wm = wsub.add_parser("migrate", help="add config_sha256 to the entries of a manifest written before configs "
                                         "were hashed (where each file's own sha256 still matches)")
    wm.add_argument("folder", type=Path)
    wm.set_defaults(handler=_migrate)


def _migrate(args) -> int:
    from ..model.weights import add_config_hashes

    added = add_config_hashes(args.folder)
    print(f"{args.folder / 'MANIFEST.json'}: " + (f"added config_sha256 to {', '.join(added)}" if added
                                                 else "every entry already has its config_sha256; nothing to do"))
    return 0
