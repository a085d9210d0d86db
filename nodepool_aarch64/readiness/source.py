"""Builds from a live zuul-web, page by page.

zuul-web serves builds newest first and has no time filter, so pages are
fetched with ``skip``/``limit`` until one ends before the window starts
(or comes back short).  New builds that arrive between two pages shift
the offsets; duplicates are dropped by uuid.  The whole fetch has one
deadline and a bound in pages, so a zuul-web that hangs, trickles or
never stops paging ends in one line, not a stuck cron job.
"""

import urllib.parse

from nodepool_aarch64.errors import InputError
from nodepool_aarch64.formats import zuulbuilds
from nodepool_aarch64.formats import zuulweb

PAGE = 500
MAX_PAGES = 1000
# A window of two weeks is a few pages; each takes zuul-web a second or
# two of SQL.
TIMEOUT = 300.0


def builds_path(tenant):
    return '/tenant/%s/builds' % urllib.parse.quote(tenant, safe='')


def _get(client, path, params):
    body, where = client.get(path, params, max_bytes=zuulbuilds.MAX_BYTES)
    text = zuulbuilds.decode(body, where)
    return zuulbuilds.parse(zuulbuilds.check_list(text, where), where)


def fetch(api, tenant, since, projects=(), jobs=(), timeout=TIMEOUT,
          page=PAGE, max_pages=MAX_PAGES, client=None):
    """Builds of ``tenant`` that started or were enqueued after ``since``,
    all fetched within ``timeout`` seconds.

    One query per (project, job) combination asked for; none of either
    means all of them.
    """
    client = client or zuulweb.Client(
        api, total=timeout, read_timeout=min(timeout, zuulweb.READ_TIMEOUT))
    path = builds_path(tenant)
    return list(zuulbuilds.unique(
        build for params in _queries(page, projects, jobs)
        for build in _pages(client, path, params, since, max_pages)))


def _queries(page, projects, jobs):
    """The builds API's query parameters for each project and job asked."""
    for project in projects or (None,):
        for job in jobs or (None,):
            params = {}
            if project:
                params['project'] = project
            if job:
                params['job_name'] = job
            params.update(limit=page, skip=0)
            yield params


def _pages(client, path, params, since, max_pages):
    for number in range(max_pages):
        params['skip'] = number * params['limit']
        batch = _get(client, path, params)
        yield from batch
        older = [b.when for b in batch if b.when is not None]
        if len(batch) < params['limit'] or (older and max(older) < since):
            return
    raise InputError(client.site.api_shown + path, None, '',
                     f'still paging after {max_pages} pages of '
                     f'{params["limit"]}; narrow --since, --project or '
                     '--job')
