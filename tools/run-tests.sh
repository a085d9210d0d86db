#!/bin/bash
# Run the whole test suite the way CI does: Debian packages, a virtualenv
# with tox, then every tox environment.  Ends with one summary line,
# "N passed, N failed, N skipped", counting each lint and docs run as one
# test.
set -u
cd "$(dirname "$0")/.."

tools/test-setup.sh || { echo "0 passed, 1 failed"; exit 1; }

if [ ! -x .venv/bin/tox ]; then
    python3 -m venv .venv && .venv/bin/pip install -q --upgrade pip 'tox>=4' \
        || { echo "0 passed, 1 failed"; exit 1; }
fi

logdir=$(mktemp -d)
envs=${NODEPOOL_AARCH64_TOX_ENVS:-py3 functional pep8 docs}
status=0
for env in $envs; do
    echo "=== tox -e $env"
    .venv/bin/tox -e "$env" 2>&1 | tee "$logdir/$env.log"
    rc=${PIPESTATUS[0]}
    echo "$rc" > "$logdir/$env.rc"
    [ "$rc" -eq 0 ] || status=1
done

.venv/bin/python3 tools/summarize.py "$logdir" $envs || status=1
exit $status
