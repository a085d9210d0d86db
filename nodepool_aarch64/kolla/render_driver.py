"""Render one Kolla tree the way ``kolla-build --template-only`` does.

Run as a script, by the interpreter of this project, with the Kolla tree
of one revision first on ``sys.path``: every import of ``kolla`` then
resolves to that revision's own code, so its templates are rendered by
its own methods, filters and options.  It calls Kolla's ``run_build``
with ``--template-only`` and only watches: it records the worker that
``run_build`` builds, to write down what the renderer does not keep on
disk (each image's parent and its source archives), as JSON.

Usage: render_driver.py OUTPUT.json KOLLA_TREE [kolla-build args...]

It imports nothing of this project: it runs inside Kolla's world.
"""

import json
import os
import sys


def _by_name(settings):
    return json.dumps(settings, sort_keys=True)


def _matched(worker, status):
    for image in worker.images:
        if image.status != status:
            continue
        parent = image.parent.name if image.parent is not None else None
        yield image.name, {
            'path': os.path.relpath(image.path, worker.working_dir),
            'parent': parent,
            'parent_name': image.parent_name,
            # What kolla-build turns into *-archive files at build time.
            # Kolla finds plugins and additions by walking a set of config
            # sections: their order is the hash seed's, not Kolla's.
            'sources': {
                'source': image.source or {},
                'plugins': sorted(image.plugins, key=_by_name),
                'additions': sorted(image.additions, key=_by_name),
            },
        }


def main(argv):
    output, tree = argv[1], argv[2]
    # The script's own folder must not shadow anything of Kolla's.
    sys.path[:] = [tree] + [p for p in sys.path[1:] if p != tree]
    from kolla.image import build
    from kolla.image import kolla_worker
    from kolla.image.utils import Status

    workers = []
    filter_images = kolla_worker.KollaWorker.filter_images

    def recording_filter_images(self):
        filter_images(self)
        workers.append(self)

    kolla_worker.KollaWorker.filter_images = recording_filter_images
    sys.argv = ['kolla-build', '--template-only'] + argv[3:]
    build.run_build()
    worker = workers[0]
    result = {
        'images_dir': os.path.relpath(worker.images_dir, tree),
        'working_dir': worker.working_dir,
        'images': dict(_matched(worker, Status.MATCHED)),
    }
    with open(output + '.part', 'w') as f:
        json.dump(result, f, sort_keys=True)
    os.replace(output + '.part', output)


if __name__ == '__main__':
    main(sys.argv)
