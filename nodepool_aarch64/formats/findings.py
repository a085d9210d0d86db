"""The one result type every validator and rule produces."""

import dataclasses

from nodepool_aarch64.errors import one_line

ERROR = 'error'
WARNING = 'warning'


@dataclasses.dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    col: int
    code: str
    severity: str
    message: str

    def __str__(self):
        # Names in messages come from the files checked: a name holding
        # a newline must not print a second, forged finding.
        return one_line(f'{self.path}:{self.line}:{self.col}: {self.code} '
                        f'{self.severity}: {self.message}')

    def as_dict(self):
        return dataclasses.asdict(self)
