"""Builds from a live zuul-web, page by page.

zuul-web serves builds newest first and has no time filter, so pages are
fetched with ``skip``/``limit`` until one ends before the window starts
(or comes back short).  New builds that arrive between two pages shift
the offsets; duplicates are dropped by uuid.  Every request has a
timeout, and the whole fetch is bounded in pages, so a zuul-web that
hangs or never stops paging ends in one line, not a stuck cron job.
"""

import time

import requests
import urllib3

from nodepool_aarch64 import zuulbuilds
from nodepool_aarch64.errors import InputError

PAGE = 500
MAX_PAGES = 1000
TIMEOUT = 30.0


def builds_url(api, tenant):
    return f'{api.rstrip("/")}/tenant/{tenant}/builds'


def _get(session, url, params, timeout):
    where = f'{url}?skip={params["skip"]}'
    try:
        response = session.get(url, params=params, timeout=timeout,
                               stream=True)
    except requests.Timeout:
        raise InputError(where, None, '', f'no answer within {timeout:g} s')
    except requests.RequestException as e:
        reason = type(e).__name__
        raise InputError(where, None, '', f'cannot connect ({reason})')
    with response:
        if response.status_code != 200:
            raise InputError(where, None, '',
                             f'HTTP {response.status_code} '
                             f'{response.reason or ""}'.strip())
        raw = bytearray()
        # The timeout bounds each read; a server that trickles bytes
        # would still never end without a deadline for the whole page.
        deadline = time.monotonic() + timeout
        try:
            for chunk in _chunks(response):
                raw += chunk
                if len(raw) > zuulbuilds.MAX_BYTES:
                    raise InputError(where, None, '', 'answer too large')
                if time.monotonic() > deadline:
                    raise InputError(where, None, '', 'answer not complete '
                                     f'within {timeout:g} s')
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            raise InputError(where, None, '',
                             f'no answer within {timeout:g} s')
        except (requests.RequestException, urllib3.exceptions.HTTPError) as e:
            raise InputError(where, None, '',
                             f'answer cut short ({type(e).__name__})')
    text = zuulbuilds.decode(bytes(raw), where)
    return zuulbuilds.parse(zuulbuilds.check_list(text, where), where)


def _chunks(response):
    """The body as it arrives: urllib3's read1 returns whatever came,
    where a sized read waits until that much did."""
    read1 = getattr(response.raw, 'read1', None)
    if read1 is None:
        yield from response.iter_content(1 << 16)
        return
    while True:
        data = read1(1 << 16, decode_content=True)
        if not data:
            return
        yield data


def fetch(api, tenant, since, projects=(), jobs=(), timeout=TIMEOUT,
          page=PAGE, max_pages=MAX_PAGES, session=None):
    """Builds of ``tenant`` that started or were enqueued after ``since``.

    One query per (project, job) combination asked for; none of either
    means all of them.
    """
    session = session or requests.Session()
    url = builds_url(api, tenant)
    return list(zuulbuilds.unique(
        build for params in _queries(page, projects, jobs)
        for build in _pages(session, url, params, since, timeout,
                            max_pages)))


def _queries(page, projects, jobs):
    """The builds API's query parameters for each project and job asked."""
    for project in projects or (None,):
        for job in jobs or (None,):
            params = {'limit': page, 'skip': 0}
            if project:
                params['project'] = project
            if job:
                params['job_name'] = job
            yield params


def _pages(session, url, params, since, timeout, max_pages):
    for number in range(max_pages):
        params['skip'] = number * params['limit']
        batch = _get(session, url, params, timeout)
        yield from batch
        older = [b.when for b in batch if b.when is not None]
        if len(batch) < params['limit'] or (older and max(older) < since):
            return
    raise InputError(url, None, '', f'still paging after {max_pages} pages '
                     f'of {params["limit"]}; narrow --since, --project or '
                     '--job')
