"""Import the package's modules under their one import name (``twostage.*``), never by file path.

pytest's own ``--doctest-modules`` (and ``pytest theory/claims.py``) import ``verify/verdict.py`` as
``verify.verdict`` beside the package's ``twostage.verify.verdict``: two module objects, two ``Status``
classes. Here every source module is imported by the name :func:`twostage.layout.module_name` gives it (the
package-dir map of ``pyproject.toml``), both for its doctests and when a source file is named on the command
line.
"""

import importlib

import pytest
from _pytest.doctest import DoctestModule

from twostage.layout import module_name


class _ByImportName:
    import_name = ""

    def _getobj(self):
        return importlib.import_module(self.import_name)


class PackageDoctests(_ByImportName, DoctestModule):
    """Doctests of one package module."""


class PackageModule(_ByImportName, pytest.Module):
    """A package module named on the command line (pytest would otherwise import it by path)."""


def _make(cls, file_path, parent):
    if file_path.suffix != ".py" or file_path.name in ("conftest.py", "__main__.py"):
        return None
    name = module_name(file_path)
    if name is None:
        return None
    item = cls.from_parent(parent, path=file_path)
    item.import_name = name
    return item


def pytest_collect_file(file_path, parent):
    return _make(PackageDoctests, file_path, parent)


def pytest_pycollect_makemodule(module_path, parent):
    return _make(PackageModule, module_path, parent)
