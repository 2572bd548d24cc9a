"""syncstate: declarative synced state on Jupyter comms.

Subclass `Model`, tag traits `sync=True`, give it an ES-module view in `_esm`; every change in
either direction travels as a JSON Patch. See README.md and docs/.
"""

from .commands import command
from .esm import hot_reload
from .model import Model
from .protocol import PROTOCOL, Limits, ProtocolError, SyncError, limits
from .serialize import array_serialization

__version__ = "0.1.0"
__all__ = [
    "PROTOCOL",
    "Limits",
    "Model",
    "ProtocolError",
    "SyncError",
    "__version__",
    "array_serialization",
    "command",
    "hot_reload",
    "limits",
]
