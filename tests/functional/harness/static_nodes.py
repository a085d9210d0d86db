"""Point a rendered Nodepool launcher config at test nodes that exist.

The fake cloud (fake_cloud) hands out nodes nobody can log in to; a job
path needs nodes an executor can reach.  Nodepool's ``static`` driver
hands out hosts that already run, so the harness copy of the rendered
config switches each provider that has test nodes to it:

- the provider keeps its name, so Zuul's ``nodepool.provider`` host
  variable is the one production nodes carry;
- each pool keeps its name, ``max-servers`` and ``node-attributes``
  (``executor-zone``), and every label it serves, under its published
  name, is served by each of the provider's nodes;
- each node is reached as its ``username`` on 127.0.0.1 and its port,
  with its host key given, as an operator lists a static host;
- providers without test nodes are left out (a fake-cloud node could be
  handed to a job and never answer).

Nodepool's liveness probe (``host-key-checking``) is off: with it, a
node whose sshd is down is deregistered and the request waits for a node
forever, while a test wants the executor to meet the dead node and the
build to end.  Zuul still checks the node's host key when it connects.
"""

import copy

_POOL_KEYS_KEPT = ('name', 'max-servers', 'node-attributes', 'priority')


def _static_node(node, labels):
    return {
        'name': node.host,
        'labels': sorted(labels),
        'username': node.username,
        'connection-port': node.port,
        'connection-type': 'ssh',
        'host-key': node.host_key,
        'host-key-checking': False,
        'python-path': '/usr/bin/python3',
        # A node may take more than one job at once (a VM node holds a
        # paused buildset registry job while the build job uses it).
        'max-parallel-jobs': getattr(node, 'max_parallel_jobs', 1),
    }


def _static_provider(provider, nodes):
    static = {'name': provider['name'], 'driver': 'static', 'pools': []}
    for pool in provider.get('pools', []):
        labels = [label['name'] for label in pool.get('labels', [])]
        new = {k: copy.deepcopy(pool[k]) for k in _POOL_KEYS_KEPT
               if k in pool}
        new['nodes'] = [_static_node(node, labels) for node in nodes]
        static['pools'].append(new)
    return static


def static_launcher_config(config, zookeeper, nodes):
    """A copy of launcher ``config`` whose providers serve ``nodes``.

    ``nodes`` maps a provider name to its test nodes (objects with
    ``host``, ``port``, ``username`` and ``host_key``, such as
    arm64node.Arm64Node); ``zookeeper`` is a TLSZooKeeper fixture.
    """
    unknown = set(nodes) - {p['name'] for p in config.get('providers', [])}
    if unknown:
        raise ValueError('no rendered provider named %s' % sorted(unknown))
    config = copy.deepcopy(config)
    config.pop('webapp', None)
    config.pop('diskimages', None)
    config.update(zookeeper.nodepool_config())
    config['providers'] = [
        _static_provider(p, nodes[p['name']])
        for p in config.get('providers', []) if nodes.get(p['name'])]
    return config


def clouds_yaml():
    """Static providers name no cloud: an empty clouds.yaml is enough."""
    return {'clouds': {}}
