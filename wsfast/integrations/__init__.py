"""Drop-in speedups for the WebSocket libraries people already run.

``wsfast.patch()`` swaps the masking / UTF-8 / parsing hot paths of
websockets, aiohttp, tornado, wsproto and autobahn for wsfast's kernels,
where each library binds them; ``wsfast.unpatch()`` puts the originals back
and ``wsfast.patched()`` says what is patched. Importing this package
imports none of those libraries: ``patch()`` does, one at a time.
"""
from wsfast.integrations._registry import (LIBRARIES, Mismatch, PatchWarning, bindings,
                                           changed_bindings, patch, patched, unpatch)

__all__ = ["LIBRARIES", "Mismatch", "PatchWarning", "bindings", "changed_bindings", "patch",
           "patched", "unpatch"]
