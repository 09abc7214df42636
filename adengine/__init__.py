"""Faces -> personalised ad. Knows nothing about audio, WebRTC or ASR.

The public API: track faces in video (`MediapipeFaceTracker`), keep a person's
best faces in RAM (`FaceBank`, wiped with `wipe`), load ad templates
(`TemplateLibrary`), render a template with a face (`AdRenderer`, through a
swap backend from `make_swapper`), and label every synthetic frame
(`DisclosureLabel`). Media files are read with `adengine.media` and written with `adengine.encode`.
"""

from adengine.encode import encode_webm, resample_audio, write_mp4
from adengine.face import FaceError
from adengine.facebank import FaceBank, FaceCrop, assess_image, wipe
from adengine.label import DisclosureLabel
from adengine.media import Clip, ClipError, decode_image, iter_frames, probe, read_audio, read_clip, read_image
from adengine.renderer import BETTER_BY, AdRenderer, RenderedAd
from adengine.swapper import make_swapper
from adengine.template import AdTemplate, TemplateError, TemplateLibrary, TemplateMeta
from adengine.track import TrackError
from adengine.tracker import MediapipeFaceTracker

__all__ = [
    "BETTER_BY",
    "AdRenderer",
    "AdTemplate",
    "Clip",
    "ClipError",
    "DisclosureLabel",
    "FaceBank",
    "FaceCrop",
    "FaceError",
    "MediapipeFaceTracker",
    "RenderedAd",
    "TemplateError",
    "TemplateLibrary",
    "TemplateMeta",
    "TrackError",
    "assess_image",
    "iter_frames",
    "make_swapper",
    "probe",
    "read_clip",
    "read_image",
    "wipe",
    "write_mp4",
    "encode_webm",
    "decode_image",
    "read_audio",
    "resample_audio",
]
