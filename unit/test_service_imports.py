"""The service never imports the development tooling (zaqar_swift.testing):
a deployment need not ship it, and test helpers cannot leak into requests."""
from __future__ import annotations

import ast
import pathlib

import zaqar_swift

PACKAGE = pathlib.Path(zaqar_swift.__file__).parent
TESTING = 'zaqar_swift.testing'


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imported(path: pathlib.Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved."""
    name = module_name(path)
    package = name if path.name == '__init__.py' else name.rpartition('.')[0]
    return imports_of(path.read_text(), package)


def imports_of(source: str, package: str) -> set[str]:
    """Modules (and ``module.name`` for ``from module import name``) that
    ``source``, a module of ``package``, imports."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = package.split('.')
                anchor = anchor[:len(anchor) - node.level + 1]
                base = '.'.join(anchor + ([base] if base else []))
            found.add(base)
            found.update('%s.%s' % (base, alias.name) for alias in node.names)
    return found


def service_modules() -> list[pathlib.Path]:
    testing = PACKAGE / 'testing'
    return [p for p in sorted(PACKAGE.rglob('*.py')) if testing not in p.parents]


def test_service_code_never_imports_the_testing_package():
    offenders = {module_name(p): sorted(m for m in imported(p)
                                        if m == TESTING or m.startswith(TESTING + '.'))
                 for p in service_modules()}
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, offenders


def test_the_check_walks_every_service_module():
    modules = service_modules()
    assert len(modules) > 20 and PACKAGE / 'service.py' in modules
    assert not any('testing' in p.relative_to(PACKAGE).parts for p in modules)


def test_the_check_sees_absolute_and_relative_imports():
    source = ('import zaqar_swift.testing.api\n'
              'from ..testing import saio\n'
              'from . import render\n'
              'def f():\n    from zaqar_swift.testing.saio import faults\n')
    found = imports_of(source, 'zaqar_swift.transport.wsgi')
    assert {'zaqar_swift.testing.api', 'zaqar_swift.transport.testing',
            'zaqar_swift.transport.testing.saio', 'zaqar_swift.transport.wsgi.render',
            'zaqar_swift.testing.saio.faults'} <= found
    assert 'zaqar_swift.testing' in imports_of('from .. import testing', 'zaqar_swift.cmd')
