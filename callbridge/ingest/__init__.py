"""Template uploads: refused early and cheaply when they break a rule, decoded only in a child process.

The order for an upload: `check_size` while receiving it, `sniff_file`, `check_template_name`,
`probe` (header caps and a face, in the child), `store_clip`, then `ingest` (the child tracks the
actor and caches the track), after which `TemplateLibrary.open(meta, clip, sha256)` loads it.
"""

from callbridge.ingest.caps import Caps, check_size
from callbridge.ingest.errors import UploadError
from callbridge.ingest.header import ClipHeader, check_header
from callbridge.ingest.runner import IngestResult, ingest, probe, run_child
from callbridge.ingest.sniff import sniff_container, sniff_file
from callbridge.ingest.store import check_template_name, discard_clip, resolve_inside, store_clip

__all__ = [
    "Caps",
    "ClipHeader",
    "IngestResult",
    "UploadError",
    "check_header",
    "check_size",
    "check_template_name",
    "discard_clip",
    "ingest",
    "probe",
    "resolve_inside",
    "run_child",
    "sniff_container",
    "sniff_file",
    "store_clip",
]
