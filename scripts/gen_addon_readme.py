"""Write each addon's README.rst from its readme/*.md fragments (OCA layout).

Usage: python scripts/gen_addon_readme.py [--check]
With --check, exit 1 when a README.rst is not what the fragments give.
"""

import ast
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SECTIONS = (
    ("DESCRIPTION.md", None),
    ("INSTALL.md", "Installation"),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("CONTRIBUTORS.md", "Contributors"),
)
UNDERLINE = {1: "=", 2: "~", 3: "-", 4: "^"}


def markdown_to_rst(text):
    """Just what the fragments use: headings, bullets, bold, italics, code."""
    out = []
    for line in text.splitlines():
        heading = re.match(r"^(#+)\s+(.*)$", line)
        if heading:
            title = _inline(heading.group(2))
            level = min(len(heading.group(1)) + 1, 4)
            out += [title, UNDERLINE[level] * len(title), ""]
            continue
        out.append(_inline(line))
    return "\n".join(out).strip() + "\n"


def _inline(line):
    return re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", line)


def render(addon):
    manifest = ast.literal_eval((addon / "__manifest__.py").read_text())
    title = manifest["name"]
    parts = ["=" * len(title), title, "=" * len(title), ""]
    parts += [
        f"*{manifest['summary']}*",
        "",
        f"Version {manifest['version']}, license {manifest['license']}.",
        "",
    ]
    for fragment, heading in SECTIONS:
        path = addon / "readme" / fragment
        if not path.exists():
            continue
        if heading:
            parts += [heading, "=" * len(heading), ""]
        parts += [markdown_to_rst(path.read_text()), ""]
    return "\n".join(parts).rstrip() + "\n"


def main(argv):
    check = "--check" in argv
    stale = []
    for manifest in sorted(ROOT.glob("prepaid_energy*/__manifest__.py")):
        addon = manifest.parent
        readme = addon / "README.rst"
        text = render(addon)
        if check:
            if not readme.exists() or readme.read_text() != text:
                stale.append(str(readme.relative_to(ROOT)))
        else:
            readme.write_text(text)
    for path in stale:
        print(f"{path} is stale: run python scripts/gen_addon_readme.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
