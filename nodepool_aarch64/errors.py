"""The one error type for unusable input, and how it is shown."""


class InputError(Exception):
    """Input the tool cannot use: shown as one line, exit code 2.

    ``path`` and ``line`` locate the problem, ``key`` is the dotted key
    path inside the document (empty for whole-file problems).
    """

    def __init__(self, path, line, key, message):
        super().__init__(message)
        self.path = str(path)
        self.line = line
        self.key = key
        self.message = message

    def __str__(self):
        where = self.path if self.line is None else f'{self.path}:{self.line}'
        text = ' '.join(str(self.message).split())
        if self.key:
            text = f'{self.key}: {text}'
        return _one_line(f'{where}: {text}')


def _one_line(text):
    # Keys and file names come from the input: a key such as "\r" must
    # not break the promise of one line.
    return ''.join(c if c.isprintable() else repr(c)[1:-1] for c in text)
