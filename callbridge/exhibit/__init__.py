"""Exhibition mode (`serve --exhibit DIR`): recorded calls played in a loop into a room, as participants."""

from callbridge.exhibit.exhibition import EXHIBIT_ROOM, Exhibition
from callbridge.exhibit.playlist import Act, ExhibitError, load_playlist

__all__ = ["EXHIBIT_ROOM", "Act", "ExhibitError", "Exhibition", "load_playlist"]
