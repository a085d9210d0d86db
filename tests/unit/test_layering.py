"""The walls between the package's layers, read from its source.

The model imports nothing of the project but the leaf timeutil; check
never imports render (it reads files back instead of trusting the
renderer); engine wrappers import nothing of the project; only CLI
modules print, and no library module imports a CLI module.
"""

import ast
import os

import testtools

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'nodepool_aarch64')


def modules():
    """{dotted name: parsed module} for every module of the package."""
    found = {}
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(root, name)
                rel = os.path.relpath(path, os.path.dirname(PACKAGE))
                dotted = rel[:-3].replace(os.sep, '.')
                with open(path) as f:
                    found[dotted.removesuffix('.__init__')] = ast.parse(
                        f.read(), path)
    return found


def project_imports(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f'{node.module}.{a.name}' for a in node.names}
    return {n for n in names if n.startswith('nodepool_aarch64')}


def is_cli(name):
    return name == 'nodepool_aarch64.cli' or name.endswith('cli')


class TestLayering(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.modules = modules()

    def test_model_imports_only_timeutil(self):
        model = self.modules['nodepool_aarch64.model']
        self.assertLessEqual(
            project_imports(model),
            {'nodepool_aarch64', 'nodepool_aarch64.timeutil'})

    def test_check_never_imports_render(self):
        for name, tree in self.modules.items():
            if name.startswith('nodepool_aarch64.check'):
                self.assertEqual(set(), {
                    n for n in project_imports(tree)
                    if n.startswith('nodepool_aarch64.render')}, name)

    def test_engine_wrappers_stand_alone(self):
        for name, tree in self.modules.items():
            if name.startswith('nodepool_aarch64.engines'):
                self.assertEqual(set(), project_imports(tree), name)

    def test_only_cli_modules_print(self):
        printing = sorted(
            name for name, tree in self.modules.items()
            if not is_cli(name) and any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                and n.func.id == 'print' for n in ast.walk(tree)))
        self.assertEqual([], printing)

    def test_no_library_module_imports_a_cli(self):
        for name, tree in self.modules.items():
            if not is_cli(name):
                self.assertEqual(set(), {
                    n for n in project_imports(tree)
                    if is_cli(n) and n in self.modules}, name)
