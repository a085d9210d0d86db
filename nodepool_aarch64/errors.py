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
            return f'{where}: {self.key}: {text}'
        return f'{where}: {text}'
