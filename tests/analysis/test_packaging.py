"""analysis/pyproject.toml declares what the package imports (no undeclared dependency such as
contourpy), and its console script resolves to the command-line module."""
import ast
import importlib
import os
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.join(HERE, "..", "..", "analysis")
# import name -> distribution name, where they differ
DIST = {"yaml": "pyyaml"}


def _imports():
    names = set()
    src = os.path.join(PKG, "iclsweep")
    for f in os.listdir(src):
        if f.endswith(".py"):
            tree = ast.parse(open(os.path.join(src, f)).read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "iclsweep"}


def test_every_import_is_declared_and_the_entry_point_resolves():
    project = tomllib.load(open(os.path.join(PKG, "pyproject.toml"), "rb"))["project"]
    declared = {d.split(">")[0].split("=")[0].split("<")[0].strip().lower()
                for d in project["dependencies"]}
    missing = {DIST.get(n, n) for n in _imports()} - declared
    assert not missing, f"imported but not in pyproject's dependencies: {sorted(missing)}"
    module, func = project["scripts"]["iclsweep-analyze"].split(":")
    assert module == "iclsweep.cli" and callable(getattr(importlib.import_module(module), func))
