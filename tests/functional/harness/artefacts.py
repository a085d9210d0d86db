"""Keep service logs and configs when a functional test fails.

On failure (not on skip) the files a test registered are copied to
``functional-logs/<test id>/`` under the directory the run started in
(the repository root under tox and stestr), and the tail of each log is
attached to the test result so the failure report shows it directly.
"""

import os
import shutil
import unittest

import testtools.content

ARTEFACT_ROOT = 'functional-logs'
TAIL_LINES = 60


def _tail(path, lines=TAIL_LINES):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        return '(unreadable: %s)' % e
    text = data.decode('utf-8', errors='replace')
    return '\n'.join(text.splitlines()[-lines:])


def keep_on_failure(test, files):
    """Register ``files`` (a callable returning paths) as ``test``'s
    artefacts; they are saved only if the test fails or errors.

    Returns the saving function, for a fixture to call itself when its
    own setUp fails: fixtures clean up (and delete their files) before
    the test hears of the exception.
    """
    saved = []

    def save(exc_info, tb_label='traceback'):
        if exc_info and issubclass(exc_info[0], unittest.SkipTest):
            return
        if saved:
            return
        saved.append(True)
        target = os.path.join(ARTEFACT_ROOT, test.id())
        os.makedirs(target, exist_ok=True)
        for path in files():
            if not path or not os.path.exists(path):
                continue
            name = os.path.basename(path)
            if os.path.isdir(path):
                shutil.copytree(path, os.path.join(target, name),
                                dirs_exist_ok=True)
                continue
            shutil.copy2(path, os.path.join(target, name))
            if name.endswith('.log'):
                test.addDetail(
                    'tail of %s' % name,
                    testtools.content.text_content(_tail(path)))
        test.addDetail('artefacts', testtools.content.text_content(
            os.path.abspath(target)))

    test.addOnException(save)
    return save
