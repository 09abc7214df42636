"""The one error an upload or a clip is refused with."""

from __future__ import annotations

TOO_BIG = 413
NOT_A_VIDEO = 415
BREAKS_RULE = 422
CRASHED = 500
NEEDS_MEMORY = "the clip needs more memory than ingest allows"


class UploadError(ValueError):
    """An upload or a clip that is refused; `status` is the HTTP status to answer with
    (413 too big, 415 not an allowed container, 422 breaks a rule, 500 ingest itself failed)
    and the message says why in one line."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
