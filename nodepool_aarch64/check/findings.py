"""The one result type every validator and rule produces."""

import dataclasses

ERROR = 'error'
WARNING = 'warning'
SEVERITIES = (ERROR, WARNING)


@dataclasses.dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    col: int
    code: str
    severity: str
    message: str

    def __str__(self):
        return (f'{self.path}:{self.line}:{self.col}: {self.code} '
                f'{self.severity}: {self.message}')

    def as_dict(self):
        return dataclasses.asdict(self)
