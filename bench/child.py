"""Work that needs Django, run in a child process configured for one benchmark database.

``python -m bench.child TASK SCALE`` with ``TRUSTDESK_DATABASE_URL`` set; the last stdout line
is ``RESULT <json>``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trustdesk.settings")
    import django

    django.setup()
    from bench.config import BASELINE, SCALES

    task, scale_name = argv[0], argv[1]
    scale = BASELINE if scale_name == BASELINE.name else SCALES[scale_name]
    result: Any
    if task == "seed":
        from bench.seed import seed

        result = seed(scale, force="--force" in argv)
    elif task == "token":
        result = _token()
    elif task == "search":
        from bench.search import search_measure

        result = search_measure(scale)
    elif task == "import":
        from bench.imports import import_measure

        result = import_measure(scale)
    else:
        raise SystemExit(f"unknown task {task!r}")
    print("RESULT " + json.dumps(result, default=str), flush=True)


def _token() -> str:
    from bench.config import BENCH_AGENT
    from trustdesk.accounts.models import Agent
    from trustdesk.accounts.services import token_create

    return token_create(agent=Agent.objects.get(email=BENCH_AGENT), name="bench")


if __name__ == "__main__":
    main(sys.argv[1:])
