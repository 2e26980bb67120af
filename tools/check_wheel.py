"""Check a wheel of the addon built by whool: its name, version and Python
dependencies come from the manifest, and it holds the whole addon under
odoo/addons/l10n_fr_credit_collection (what Odoo's addons path needs).

    python3 tools/check_wheel.py dist/odoo_addon_l10n_fr_credit_collection-*.whl

Exits non-zero, naming the first problem, when the wheel is wrong.
"""

import ast
import pathlib
import sys
import zipfile
from email.parser import Parser

MODULE = "l10n_fr_credit_collection"
ROOT = pathlib.Path(__file__).resolve().parent.parent
# Files without which Odoo cannot install or run the addon.
REQUIRED = (
    "__init__.py",
    "__manifest__.py",
    "hooks.py",
    "engine/penalties.py",
    "engine/deadlines.py",
    "models/__init__.py",
    "security/ir.model.access.csv",
    "i18n/fr.po",
    "i18n/l10n_fr_credit_collection.pot",
)


def check(wheel_path):
    manifest = ast.literal_eval((ROOT / "__manifest__.py").read_text())
    prefix = f"odoo/addons/{MODULE}/"
    with zipfile.ZipFile(wheel_path) as wheel:
        names = set(wheel.namelist())
        metadata_name = next(
            (name for name in names if name.endswith(".dist-info/METADATA")), None
        )
        if metadata_name is None:
            return "no METADATA in the wheel"
        metadata = Parser().parsestr(wheel.read(metadata_name).decode())
    problems = []
    expected_name = f"odoo-addon-{MODULE}".replace("_", "-")
    if metadata["Name"].replace("_", "-") != expected_name:
        problems.append(f"name {metadata['Name']!r}, expected {expected_name!r}")
    if not metadata["Version"].startswith(manifest["version"]):
        problems.append(
            f"version {metadata['Version']!r} is not the manifest's "
            f"{manifest['version']!r}"
        )
    requires = {
        req.split(";")[0].replace(" ", "") for req in metadata.get_all("Requires-Dist")
    }
    expected = {"odoo==18.0.*"} | set(manifest["external_dependencies"]["python"])
    if requires != expected:
        problems.append(f"dependencies {sorted(requires)}, expected {sorted(expected)}")
    problems += [
        f"{prefix}{path} is missing" for path in REQUIRED if prefix + path not in names
    ]
    for path in manifest["data"] + manifest.get("demo", []):
        if prefix + path not in names:
            problems.append(f"{prefix}{path} (a manifest data file) is missing")
    outside = sorted(
        name
        for name in names
        if not name.startswith(prefix) and ".dist-info/" not in name
    )
    if outside:
        problems.append(f"files outside {prefix}: {outside[:5]}")
    return "; ".join(problems)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    problem = check(sys.argv[1])
    if problem:
        sys.exit(f"wheel check failed: {problem}")
    print(f"wheel ok: {pathlib.Path(sys.argv[1]).name}")


if __name__ == "__main__":
    main()
