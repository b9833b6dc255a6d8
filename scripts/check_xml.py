"""Fail when a tracked XML file of the project does not parse."""

import pathlib
import sys
import xml.etree.ElementTree as ET

SKIP = {".venv", ".git", ".tmp", "node_modules"}


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    errors, count = [], 0
    for path in sorted(root.rglob("*.xml")):
        if SKIP.intersection(part for part in path.relative_to(root).parts):
            continue
        count += 1
        try:
            ET.parse(path)
        except ET.ParseError as error:
            errors.append(f"{path.relative_to(root)}: {error}")
    for error in errors:
        print(error, file=sys.stderr)
    print(f"xml: {count} files, {len(errors)} not well-formed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
