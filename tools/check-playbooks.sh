#!/bin/bash
# Lint and syntax-check the Ansible content: ansible-lint and yamllint on
# playbooks/ and roles/, then ansible-playbook --syntax-check on every
# playbook.  Zuul's own zuul_return action plugin is put on the plugin
# path so that playbooks using it parse as they do on an executor.
set -eu
cd "$(dirname "$0")/.."

zuul_actions=$(python3 -c 'import os, zuul.ansible; print(os.path.join(
    os.path.dirname(zuul.ansible.__file__), "base", "action"))')
export ANSIBLE_ROLES_PATH=$PWD/roles
export ANSIBLE_ACTION_PLUGINS=$zuul_actions
export ANSIBLE_LOCALHOST_WARNING=false

yamllint -s playbooks roles
ansible-lint --offline playbooks roles

status=0
count=0
while IFS= read -r -d '' playbook; do
    count=$((count + 1))
    if ! out=$(ansible-playbook --syntax-check -i localhost, "$playbook" 2>&1); then
        echo "$out"
        echo "syntax-check failed: $playbook"
        status=1
    fi
done < <(find ./playbooks ./tests -path '*/playbooks/*' -name '*.yaml' -print0 | sort -z)
[ $status -eq 0 ] && echo "syntax-check passed on $count playbooks"
exit $status
