"""The capacity in force at an instant: static sizing plus active windows."""

from nodepool_aarch64.inventory import provider_sizing


def sizing(inv, provider, at=None):
    """The provider's sizing; the last matching window's cap wins."""
    cap = provider.max_servers
    for window in _windows(inv, at):
        cap = window.max_servers.get(provider.name, cap)
    return provider_sizing(inv, provider, cap=cap)


def max_servers(inv, provider, at=None):
    return sizing(inv, provider, at).max_servers


def min_ready(inv, label, at=None):
    value = label.min_ready
    for window in _windows(inv, at):
        value = window.min_ready.get(label.name, value)
    return value


def _windows(inv, at):
    return inv.active_windows(at) if at is not None else ()
