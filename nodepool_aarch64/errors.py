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
        return one_line(f'{where}: {text}')


def one_line(text):
    """``text`` with every unprintable character escaped.

    Keys, names and file names come from the input: a "\r", a newline or
    a terminal escape sequence in one must neither break the promise of
    one line per message nor reach the terminal raw.
    """
    return ''.join(c if c.isprintable() else repr(c)[1:-1] for c in text)
