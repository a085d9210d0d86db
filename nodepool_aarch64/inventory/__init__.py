"""The declarative inventory: its schema and its loader."""

from nodepool_aarch64.inventory.load import (  # noqa: F401
    DEFAULT_INVENTORY, load_inventory)
