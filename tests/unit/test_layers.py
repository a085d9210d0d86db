"""The walls between layers, checked on the package's source.

doc/source/architecture.rst draws the floors and names these walls.
The model imports nothing of the project but the leaf ``timeutil``;
``formats`` (every outside format: bounded reads, YAML in and out,
atomic writes, text tables, Zuul's builds, zuul-web, config sets and
findings) is a floor below every feature, importing only the leaves,
the engine wrappers and itself; ``check`` never imports ``render`` (a
check that trusted the renderer could not catch its mistakes); and
only command-line modules (``cli.py``, ``*_cli.py``, ``__main__`` and
``options``, the options they share) print, write to the terminal or
exit, so every library function can be called from another command or
a test.  Two
more keep those walls cheap to hold: no library module imports a
command-line module, and the wrappers around the engines (``engines/``)
import nothing of the project.
"""

import ast
import os

import testtools

import nodepool_aarch64

PACKAGE = os.path.dirname(nodepool_aarch64.__file__)
NAME = 'nodepool_aarch64'
# Modules that import nothing of the project; anything may import them.
LEAVES = ('nodepool_aarch64.errors', 'nodepool_aarch64.timeutil',
          'nodepool_aarch64.stats')
FLOOR = 'nodepool_aarch64.formats'
# The features, each a package above the floor.
FEATURES = ('render', 'check', 'capacity', 'readiness', 'imagecheck',
            'kolla')


def sources():
    """(module name, parsed tree) of every module in the package."""
    for directory, _, files in os.walk(PACKAGE):
        for name in sorted(files):
            if not name.endswith('.py'):
                continue
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, os.path.dirname(PACKAGE))[:-3]
            module = rel.replace(os.sep, '.').removesuffix('.__init__')
            with open(path, encoding='utf-8') as f:
                yield module, ast.parse(f.read(), path)


def project_imports(tree):
    """The project modules a tree imports, anywhere in it (imports
    inside functions count too)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f'{node.module}.{a.name}' for a in node.names)
    return {name for name in found
            if name == NAME or name.startswith(NAME + '.')}


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return '.'.join(reversed(parts))


def terminal_uses(tree):
    """Lines where a tree prints, writes to stdout/stderr or exits."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in ('print', 'exit', 'quit', 'sys.exit', 'os._exit') \
                    or name.startswith(('sys.stdout.', 'sys.stderr.')):
                lines.append((node.lineno, name))
        elif isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) \
                else node.exc
            if _dotted(exc) == 'SystemExit':
                lines.append((node.lineno, 'SystemExit'))
    return lines


def is_command_line(module):
    """``cli.py``, ``*_cli.py``, a package's ``__main__`` and the options
    every command shares."""
    last = module.rsplit('.', 1)[-1]
    return last in ('cli', '__main__') or last.endswith('_cli') or \
        module == NAME + '.options'


class TestDetectors(testtools.TestCase):
    """The checks below would see a breach: each finds one here."""

    def test_they_see_what_they_look_for(self):
        tree = ast.parse(
            'import nodepool_aarch64.render.zuul\n'
            'def f():\n'
            '    from nodepool_aarch64.render import nodepool\n'
            '    print(1)\n'
            '    sys.stderr.write("x")\n'
            '    raise SystemExit(2)\n')
        self.assertEqual({'nodepool_aarch64.render.zuul',
                          'nodepool_aarch64.render',
                          'nodepool_aarch64.render.nodepool'},
                         project_imports(tree))
        self.assertEqual([4, 5, 6],
                         sorted(line for line, _ in terminal_uses(tree)))
        self.assertTrue(is_command_line('nodepool_aarch64.capacity.cli'))
        self.assertTrue(is_command_line('nodepool_aarch64.kolla.__main__'))
        self.assertTrue(is_command_line(
            'nodepool_aarch64.capacity.zuul_launcher_cli'))
        self.assertTrue(is_command_line('nodepool_aarch64.options'))
        self.assertFalse(is_command_line('nodepool_aarch64.capacity.plan'))


class TestTheWallsAreStated(testtools.TestCase):

    def test_the_architecture_page_names_every_wall(self):
        path = os.path.join(os.path.dirname(PACKAGE), 'doc', 'source',
                            'architecture.rst')
        with open(path, encoding='utf-8') as f:
            page = f.read()
        walls = [name for name in dir(TestWalls)
                 if name.startswith('test_')
                 and name != 'test_the_package_is_read']
        self.assertGreaterEqual(len(walls), 8)
        for name in walls:
            self.assertIn(f'``{name}``', page)


class TestWalls(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.modules = dict(sources())

    def test_the_package_is_read(self):
        for module in ('nodepool_aarch64.model', 'nodepool_aarch64.cli',
                       'nodepool_aarch64.capacity.simulate'):
            self.assertIn(module, self.modules)

    def test_model_imports_only_the_leaf_timeutil(self):
        self.assertEqual(
            {'nodepool_aarch64', 'nodepool_aarch64.timeutil'},
            project_imports(self.modules['nodepool_aarch64.model']))
        self.assertEqual(
            set(), project_imports(self.modules['nodepool_aarch64.timeutil']))

    def test_leaves_import_nothing_of_the_project(self):
        for module in LEAVES:
            self.assertEqual(set(), project_imports(self.modules[module]),
                             module)

    def test_formats_is_a_floor(self):
        floor = [m for m in self.modules if m.startswith(FLOOR + '.')]
        self.assertIn(FLOOR + '.zuulweb', floor)
        allowed = (NAME, FLOOR, NAME + '.engines') + LEAVES
        for module in floor:
            above = {name for name in project_imports(self.modules[module])
                     if name not in allowed
                     and not name.startswith((FLOOR + '.',
                                              NAME + '.engines.'))
                     and name.rsplit('.', 1)[0] not in LEAVES}
            self.assertEqual(set(), above, module)

    def test_no_feature_holds_what_the_floor_reads(self):
        """A feature imports an outside format from the floor, never
        from another feature: the reader and writer are shared, the
        features stay apart where they need not meet."""
        floor = {m.rsplit('.', 1)[-1] for m in self.modules
                 if m.startswith(FLOOR + '.')}
        for module in self.modules:
            parts = module.split('.')
            if len(parts) > 2 and parts[1] in FEATURES:
                self.assertNotIn(parts[-1], floor - {'configset'}, module)

    def test_check_never_imports_render(self):
        for module, tree in self.modules.items():
            if module.startswith('nodepool_aarch64.check'):
                render = {name for name in project_imports(tree)
                          if name.startswith('nodepool_aarch64.render')}
                self.assertEqual(set(), render, module)

    def test_only_command_lines_print_or_exit(self):
        breaches = {module: terminal_uses(tree)
                    for module, tree in self.modules.items()
                    if not is_command_line(module) and terminal_uses(tree)}
        self.assertEqual({}, breaches)

    def test_no_library_module_imports_a_command_line(self):
        for module, tree in self.modules.items():
            if not is_command_line(module):
                commands = {name for name in project_imports(tree)
                            if name in self.modules
                            and is_command_line(name)}
                self.assertEqual(set(), commands, module)

    def test_engine_wrappers_stand_alone(self):
        engines = [m for m in self.modules
                   if m.startswith('nodepool_aarch64.engines.')]
        self.assertNotEqual([], engines)
        for module in engines:
            self.assertEqual(set(), project_imports(self.modules[module]),
                             module)
