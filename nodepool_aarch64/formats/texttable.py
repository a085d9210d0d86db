"""Plain-text tables for the commands' output: columns padded to width."""


def lines(rows, indent=''):
    """Each row (a list of strings) as one line, columns aligned, with
    trailing spaces removed."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [(indent + '  '.join(cell.ljust(width)
                                for cell, width in zip(row, widths))).rstrip()
            for row in rows]
