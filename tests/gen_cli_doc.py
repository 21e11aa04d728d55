#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate the command reference of docs/cli.md from lib/ctl/vsw_cmd_list.h.

The command table is the one declaration of every command (the daemon's
dispatch and vswctl's help come from it), so the reference is generated
from it too.  `--check` exits 1 when docs/cli.md is out of date.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ROOT / "lib/ctl/vsw_cmd_list.h"
DOC = ROOT / "docs/cli.md"
BEGIN = "<!-- BEGIN GENERATED: tests/gen_cli_doc.py -->"
END = "<!-- END GENERATED -->"
FLAGS = {"VSW_CMD_RO": "read-only", "VSW_CMD_RW": "changes run-time state",
         "VSW_CMD_CONF": "changes configuration (saved)"}


def commands():
    text = HEADER.read_text()
    body = text[text.index("#define VSW_CMD_LIST(_)"):]
    body = body.replace("\\\n", " ")
    row = re.compile(r'_\(\s*(\w+),\s*"([^"]+)",\s*(\d+),\s*(\d+),\s*(\w+),\s*((?:"[^"]*"\s*)+),'
                     r'\s*((?:"[^"]*"\s*)+)\)')
    for m in row.finditer(body):
        usage = "".join(re.findall(r'"([^"]*)"', m.group(6)))
        help_ = "".join(re.findall(r'"([^"]*)"', m.group(7)))
        yield m.group(2), usage, FLAGS[m.group(5)], help_


def generated():
    out = [BEGIN, "", "| command | arguments | kind | what it does |", "| --- | --- | --- | --- |"]
    for name, usage, kind, help_ in commands():
        usage = usage.replace("|", "\\|")
        out.append(f"| `{name}` | `{usage}` | {kind} | {help_} |" if usage else
                   f"| `{name}` | | {kind} | {help_} |")
    out += ["", END]
    return "\n".join(out)


def main():
    doc = DOC.read_text()
    if BEGIN not in doc or END not in doc:
        print(f"{DOC}: generated block markers missing", file=sys.stderr)
        return 1
    new = doc[:doc.index(BEGIN)] + generated() + doc[doc.index(END) + len(END):]
    if "--check" in sys.argv:
        if new != doc:
            print(f"{DOC} is out of date: run tests/gen_cli_doc.py", file=sys.stderr)
            return 1
        print(f"{DOC}: command reference up to date ({len(list(commands()))} commands)")
        return 0
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
