"""The front end's first load: `index.html` asks for every module the app imports at once
(`<link rel="modulepreload">`), so the browser does not discover them wave by wave (app.js,
then the pages, then what the pages import), each wave a round trip before the first rows."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from api.web import WEB_ROOT

IMPORT = re.compile(r"^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'", re.M | re.S)
PRELOAD = re.compile(r'<link rel="modulepreload" href="/([^"]+)">')


def imported_modules(entry: str = "js/app.js") -> set[str]:
    """Every module reachable from `entry` by static imports, as paths under web/."""
    found: set[str] = set()
    todo = [PurePosixPath(entry)]
    while todo:
        module = todo.pop()
        if str(module) in found:
            continue
        found.add(str(module))
        for spec in IMPORT.findall((WEB_ROOT / module).read_text()):
            parts: list[str] = []
            for part in (module.parent / spec).parts:
                if part == "..":
                    parts.pop()
                elif part != ".":
                    parts.append(part)
            todo.append(PurePosixPath(*parts))
    return found


def test_index_preloads_every_module_the_app_imports() -> None:
    preloaded = set(PRELOAD.findall((WEB_ROOT / "index.html").read_text()))
    wanted = imported_modules() - {"js/app.js"}
    assert "js/pages/worklist.js" in wanted and "vendor/htm-preact-3.1.1.module.js" in wanted
    assert preloaded == wanted, (
        f"missing: {sorted(wanted - preloaded)}; no longer imported: {sorted(preloaded - wanted)}"
    )
