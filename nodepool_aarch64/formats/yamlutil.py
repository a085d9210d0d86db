"""YAML reading that remembers where each value came from.

Every error the project reports names a file and a line, so documents are
loaded into dict and list subclasses that carry the line of each key and
item.  The loader also refuses what a config file should never contain:
binary data, huge files, and alias chains that expand to millions of nodes
(the "billion laughs" document).  Duplicate mapping keys are recorded
instead of silently dropped; callers decide whether they are fatal.

Zuul's own tags load the way Zuul's config loader takes them
(``zuul.lib.yamlutil.EncryptedLoader``): ``!encrypted/pkcs1-oaep`` on a
string or a list of strings, ``!override`` and ``!inherit`` on a mapping,
a list or a string.  Any other tag is refused, as Zuul refuses it.
"""

import base64
import binascii

import yaml

from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats.readfile import (MAX_FILE_BYTES, decode_utf8,
                                               read_bytes)

# Real project-config files expand to a few tens of thousands of nodes
# through their anchors; a million is far above that and far below what
# exhausts memory or time.
MAX_EXPANDED_NODES = 1_000_000


class Mapping(dict):
    """A dict that knows the line of itself and of each key (1-based).

    ``override`` is True or False under Zuul's !override or !inherit.
    """

    line = None
    key_lines = None
    override = None

    def line_of(self, key):
        return (self.key_lines or {}).get(key, self.line)


class Sequence(list):
    """A list that knows the line of itself and of each item (1-based)."""

    line = None
    item_lines = None
    override = None

    def line_of(self, index):
        lines = self.item_lines or []
        return lines[index] if 0 <= index < len(lines) else self.line


class Duplicate:
    """A mapping key that appeared more than once in one mapping.

    ``dropped`` is the value YAML throws away: the first one.
    """

    def __init__(self, key, line, first_line, dropped=None):
        self.key = key
        self.line = line
        self.first_line = first_line
        self.dropped = dropped

    def dropped_text(self):
        """What the first value held, in a few words, or ''."""
        value = self.dropped
        names = [x.get('name') for x in value
                 if isinstance(x, dict) and isinstance(x.get('name'), str)] \
            if isinstance(value, list) else []
        if names:
            return f'{self.key} {", ".join(names)}'
        if isinstance(value, dict) and isinstance(value.get('name'), str):
            return f'{self.key} {value["name"]}'
        if isinstance(value, dict) and value:
            return f'{self.key} with keys {", ".join(map(str, value))}'
        return ''


class Encrypted:
    """A Zuul secret's encrypted value: where it was written, never what.

    The ciphertext is checked to be base64, as Zuul decodes it, and then
    thrown away so that no report can ever print it.
    """

    tag = '!encrypted/pkcs1-oaep'

    def __init__(self, line, chunks):
        self.line = line
        self.chunks = chunks

    def __repr__(self):
        return f'<encrypted, {self.chunks} chunk(s)>'

    __str__ = __repr__


class OverrideStr(str):
    """A string under Zuul's !override or !inherit tag."""

    override = None


# The tags Zuul's config loader adds to YAML's safe ones, and whether
# each makes a value replace (True) or extend (False) the inherited one.
OVERRIDE_TAGS = {'!override': True, '!inherit': False}
ZUUL_TAGS = frozenset([Encrypted.tag, *OVERRIDE_TAGS])


# The C parser when PyYAML has it: an order of magnitude faster on the
# large files a hostile input may be, with the same Python constructors.
_BaseLoader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


class ForeignTag(InputError):
    """A YAML tag neither YAML nor Zuul defines (Ansible's !vault, JJB's
    !include-raw:): the file belongs to another application."""


class _ForeignTagError(yaml.constructor.ConstructorError):
    pass


class _Loader(_BaseLoader):
    def construct_undefined(self, node):
        raise _ForeignTagError(
            None, None, f'unknown YAML tag {node.tag}', node.start_mark)

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates = []

    def construct_object(self, node, deep=False):
        # PyYAML's constructors raise plain Python errors for values that
        # parse but cannot be built: 2026-02-30, "!!int abc", an integer
        # longer than Python converts, an empty "!!int ''" (IndexError).
        # Give them the node's line.
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                OverflowError) as e:
            # The value itself is not repeated: it may be a secret.
            raise yaml.constructor.ConstructorError(
                None, None,
                f'cannot read the value at column {node.start_mark.column + 1}'
                f' as {node.tag.rsplit(":", 1)[-1]} ({type(e).__name__})',
                node.start_mark)

    def flatten_mapping(self, node):
        # flatten_mapping() copies keys from "<<: *anchor" ahead of the
        # mapping's own keys; overriding a merged key is normal YAML, not
        # a duplicate.  Remember which key nodes the mapping wrote itself
        # (a merge source's keys are its own when it is built, too).
        if not hasattr(node, 'own_keys'):
            node.own_keys = {id(k) for k, _ in node.value
                             if k.tag != 'tag:yaml.org,2002:merge'}
        super().flatten_mapping(node)

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, 'expected a mapping', node.start_mark)
        self.flatten_mapping(node)
        result = Mapping()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        own_keys = set()
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    'while constructing a mapping', node.start_mark,
                    'found an unhashable key', key_node.start_mark)
            line = key_node.start_mark.line + 1
            if id(key_node) in node.own_keys:
                if key in own_keys:
                    self.duplicates.append(
                        Duplicate(key, line, result.key_lines[key],
                                  result[key]))
                own_keys.add(key)
            result[key] = self.construct_object(value_node, deep=deep)
            result.key_lines[key] = line
        return result

    def construct_sequence(self, node, deep=False):
        result = Sequence(
            self.construct_object(child, deep=deep) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


def _construct_encrypted(_loader, node):
    # PyYAML passes every constructor its loader; a secret needs only
    # the node, whose text is checked and never kept.
    if isinstance(node, yaml.ScalarNode):
        chunks = [node]
    elif isinstance(node, yaml.SequenceNode) and all(
            isinstance(x, yaml.ScalarNode) for x in node.value):
        chunks = node.value
    else:
        raise yaml.constructor.ConstructorError(
            None, None, f'{Encrypted.tag} takes a string or a list of '
            'strings', node.start_mark)
    for chunk in chunks:
        try:
            base64.b64decode(chunk.value, validate=False)
        except (binascii.Error, ValueError):
            # The payload is never quoted: only where it is.
            raise yaml.constructor.ConstructorError(
                None, None, f'{Encrypted.tag} value is not base64',
                chunk.start_mark)
    return Encrypted(node.start_mark.line + 1, len(chunks))


def _construct_override(loader, node):
    override = OVERRIDE_TAGS[node.tag]
    if isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        # As Zuul does: the scalar's plain type decides; only a string
        # can be overridden.
        tag = loader.resolve(yaml.ScalarNode, node.value, (True, False))
        raw = loader.construct_object(
            yaml.ScalarNode(tag, node.value, node.start_mark, node.end_mark))
        if not isinstance(raw, str):
            raise yaml.constructor.ConstructorError(
                None, None, f'{node.tag} on a {type(raw).__name__} value; '
                'Zuul takes it only on a mapping, a list or a string',
                node.start_mark)
        value = OverrideStr(raw)
    value.override = override
    return value


_Loader.add_constructor('tag:yaml.org,2002:map', _Loader.construct_mapping)
_Loader.add_constructor('tag:yaml.org,2002:seq', _Loader.construct_sequence)
_Loader.add_constructor(Encrypted.tag, _construct_encrypted)
_Loader.add_constructor(None, _Loader.construct_undefined)
for _tag in OVERRIDE_TAGS:
    _Loader.add_constructor(_tag, _construct_override)


def _expanded_size(node, budget, memo):
    """Count nodes as a consumer walking the data would see them."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a recursive alias counts once; the walk stays finite
    size = 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            size += (_expanded_size(k, budget, memo)
                     + _expanded_size(v, budget, memo))
            if size > budget:
                break
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            size += _expanded_size(v, budget, memo)
            if size > budget:
                break
    memo[key] = size
    return size


BOM = '\ufeff'


def read_text(path):
    """Read a config file as UTF-8 text, refusing binary and huge files.

    A leading byte-order mark is not returned: it marks the encoding and
    is not text, and libyaml skips it without counting it, so offsets
    and columns agree only on the text without it.
    """
    return read_text_and_bom(path)[1]


def read_text_and_bom(path):
    """(byte-order mark or '', text): for a writer that puts it back."""
    raw = read_bytes(path, MAX_FILE_BYTES)
    if b'\0' in raw:
        raise InputError(path, None, '', 'binary file, expected YAML text')
    text = decode_utf8(raw, path)
    if text.startswith(BOM):
        return BOM, text[len(BOM):]
    return '', text


def load_documents(path, text=None):
    """Load every YAML document of a file.

    Returns ``(documents, duplicates)``.  Raises InputError for anything
    that is not well-formed, bounded YAML.
    """
    if text is None:
        text = read_text(path)
    loader = _Loader(text)
    documents = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if _expanded_size(node, MAX_EXPANDED_NODES, {}) \
                    > MAX_EXPANDED_NODES:
                raise InputError(
                    path, node.start_mark.line + 1, '',
                    f'document has more than {MAX_EXPANDED_NODES} nodes '
                    '(counting each alias as a copy)')
            documents.append(loader.construct_document(node))
    except _ForeignTagError as e:
        error = ForeignTag(path, e.problem_mark.line + 1, '',
                           f'invalid YAML: {e.problem}')
        error.tag = e.problem.rsplit(' ', 1)[-1]
        raise error
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = e.problem or e.context or 'invalid YAML'
        raise InputError(path, line, '', f'invalid YAML: {problem}')
    except yaml.YAMLError as e:
        raise InputError(path, None, '', f'invalid YAML: {e}')
    except RecursionError:
        raise InputError(path, None, '', 'YAML nested too deeply')
    finally:
        loader.dispose()
    return documents, loader.duplicates


def load_single(path, text=None):
    """Load a file that must hold exactly one YAML document."""
    documents, duplicates = load_documents(path, text)
    if len(documents) != 1:
        raise InputError(path, None, '',
                         f'expected one YAML document, found '
                         f'{len(documents)}')
    return documents[0], duplicates


def load_strict(path):
    """One YAML document in which no mapping repeats a key.

    For the project's own formats (inventory, cloud facts): a repeated
    key there is a mistake whichever copy a reader would take.
    """
    data, duplicates = load_single(path)
    if duplicates:
        dup = duplicates[0]
        raise InputError(path, dup.line, str(dup.key),
                         f'duplicate key (first at line {dup.first_line})')
    return data


def line_of(data, keypath):
    """Best line for a key path such as ('labels', 2, 'flavor')."""
    line = getattr(data, 'line', None)
    node = data
    for part in keypath:
        if isinstance(node, Mapping) and part in node:
            line = node.line_of(part)
            node = node[part]
        elif isinstance(node, Sequence) and isinstance(part, int) \
                and 0 <= part < len(node):
            line = node.line_of(part)
            node = node[part]
        else:
            break
    return line


def dotted(keypath):
    """('labels', 2, 'flavor') -> 'labels[2].flavor'."""
    text = ''
    for part in keypath:
        if isinstance(part, int):
            text += f'[{part}]'
        else:
            text += ('.' if text else '') + str(part)
    return text
