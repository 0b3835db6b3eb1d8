"""massage_core: the engine of an at-home massage marketplace.

Embed it with ``Platform.in_memory()`` or ``Platform.from_url(url, keyring=...)``.
"""

from typing import TYPE_CHECKING, Any

__all__ = ["Platform", "__version__"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from massage_core.bootstrap import Platform


def __getattr__(name: str) -> Any:
    if name == "Platform":
        from massage_core.bootstrap import Platform

        return Platform
    raise AttributeError(name)
